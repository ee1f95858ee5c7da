package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// LINE's extension 3.7.2 never reads x-obs-oid on a plain upload
// (/r/talk/m/<id>, eE): an OBS that does not send it there stores the
// object all the same, and linectl must call that a success (issue 24.1).
func TestMediaPlainUploadWithoutOID(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.PlainUploadNoOID = true })
	e.loginQR()
	pic := testPNG(t, 40, 30)
	img := writeFile(t, "chart.png", pic)
	doc := writeFile(t, "report.csv", []byte("a,b\n"))
	e.must("", "send", "--to", simgw.FamilyMID, "--image", img)
	e.must("", "send", "--to", simgw.AliceMID, "--file", doc)
	m := mediaMessages(e)
	if len(m) != 2 || !bytes.Equal(m[0].Media, pic) || string(m[1].Media) != "a,b\n" {
		t.Fatalf("stored %d media messages", len(m))
	}
	for _, c := range e.sim.Calls() {
		if c.Method == "obs-upload" && len(c.Body) == 0 {
			t.Fatalf("upload %s recorded without its body", c.Path)
		}
	}
}

// The sealed upload (reqid-…, nE) still needs x-obs-oid: the message must
// name the object. Without it nothing is sent.
func TestMediaSealedUploadNeedsOID(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	doc := writeFile(t, "a.txt", []byte("sealed"))
	e.sim.FailReply("obs-upload", simgw.Reply{Status: 201, ContentType: "text/plain", Process: true}, 1)
	r := e.run("", "send", "--to", daveMID, "--file", doc)
	if r.code == 0 {
		t.Fatalf("sent without an OID: %s", r.stdout)
	}
	if m := mediaMessages(e); len(m) != 0 {
		t.Fatalf("%d media messages sent", len(m))
	}
	wantExit(t, r, 4, "rejected")
}

// A sealed file's name reaches LINE only inside the sealed chunks (issue
// 24.2/24.3): not in the clear metadata (the extension deletes FILE_NAME
// after sealing and writes no contentType key), not as X-Obs-Params.name of
// the upload or its preview (String(Date.now()), nE), not in any path or
// header. Every request the simulator recorded is searched.
func TestSealedMediaNameNeverInClear(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	pic := testPNG(t, 50, 40)
	img := writeFile(t, "holiday-xyzzy-photo.png", pic)
	doc := writeFile(t, "quarterly-plugh-plan.txt", []byte("the plan"))
	for _, to := range []string{daveMID, sealedMID} {
		e.must("", "send", "--e2ee", "require", "--to", to, "--image", img)
		e.must("", "send", "--e2ee", "require", "--to", to, "--file", doc)
	}
	m := mediaMessages(e)
	if len(m) != 4 {
		t.Fatalf("%d media messages", len(m))
	}
	for i, x := range m {
		want := map[string]bool{"SID": true, "OID": true, "FILE_SIZE": true, "e2eeVersion": true}
		size := len(pic)
		if x.ContentType == 1 {
			want["MEDIA_CONTENT_INFO"], want["MEDIA_THUMB_INFO"] = true, true
		} else {
			size = len("the plan")
		}
		if len(x.Metadata) != len(want) || x.Metadata["FILE_SIZE"] != strconv.Itoa(size) {
			t.Errorf("message %d: clear metadata %v, want keys %v and the plain size %d", i, x.Metadata, want, size)
		}
		for k := range x.Metadata {
			if !want[k] {
				t.Errorf("message %d: clear metadata key %s", i, k)
			}
		}
		if x.MediaName != map[int]string{1: "holiday-xyzzy-photo.png", 14: "quarterly-plugh-plan.txt"}[x.ContentType] {
			t.Errorf("message %d: the recipient reads the name %q", i, x.MediaName)
		}
	}
	uploads := 0
	for _, c := range e.sim.Calls() {
		body := c.Body
		if c.Method == "sendMessage" {
			body = withoutChunks(t, body)
		}
		if c.Method == "obs-upload" {
			uploads++
		}
		all := c.Path + "\n" + body
		for k, vs := range c.Header {
			all += "\n" + k + ": " + strings.Join(vs, ",")
			if strings.EqualFold(k, "x-obs-params") {
				for _, v := range vs {
					if d, err := base64.StdEncoding.DecodeString(v); err == nil {
						all += "\n" + string(d)
					}
				}
			}
		}
		for _, secret := range []string{"xyzzy", "plugh"} {
			if strings.Contains(all, secret) {
				t.Errorf("%s %s carries the sealed file's name outside the chunks", c.Method, c.Path)
			}
		}
	}
	if uploads < 6 { // 4 objects, 2 previews
		t.Fatalf("only %d uploads recorded", uploads)
	}
}

// withoutChunks is a sendMessage body without its Message's chunks.
func withoutChunks(t *testing.T, body string) string {
	t.Helper()
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(body), &args); err != nil || len(args) != 2 {
		t.Fatalf("sendMessage body %q", body)
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(args[1], &msg); err != nil {
		t.Fatal(err)
	}
	delete(msg, "chunks")
	b, _ := json.Marshal(msg)
	return string(b)
}

// allowedTypes decides for media too (issue 24.4): where the probe's
// allowedTypes is [0, 15] — text sealed, images and files not — the
// extension sends an image or a file plain although the chat's flowMap says
// sealed (encryptMessage); so does linectl, and --e2ee require refuses.
func TestMediaAllowedTypesWithoutMedia(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.sim.SetAllowedTypes(daveMID, []int{0, 15})
	e.sim.SetChatAllowedTypes(sealedMID, []int{0, 15})
	pic := testPNG(t, 30, 20)
	img := writeFile(t, "p.png", pic)
	doc := writeFile(t, "d.txt", []byte("plain here"))
	for _, to := range []string{daveMID, sealedMID} {
		s := e.must("", "send", "--to", to, "--image", img).first(t, "sent")
		if s["e2ee"] != false {
			t.Fatalf("image to %s: %v", to, s)
		}
		if s = e.must("", "send", "--to", to, "--file", doc).first(t, "sent"); s["e2ee"] != false {
			t.Fatalf("file to %s: %v", to, s)
		}
		if s = e.must("", "send", "--to", to, "hello").first(t, "sent"); s["e2ee"] != true {
			t.Fatalf("text to %s not sealed: %v", to, s)
		}
		wantExit(t, e.run("", "send", "--e2ee", "require", "--to", to, "--file", doc), 4, "e2ee_required")
	}
	m := mediaMessages(e)
	if len(m) != 4 {
		t.Fatalf("%d media messages", len(m))
	}
	for i, x := range m {
		if len(x.Chunks) != 0 || x.Metadata["SID"] != "" || x.Media == nil {
			t.Fatalf("message %d sent sealed or not uploaded: %+v", i, x.Metadata)
		}
	}
	if !bytes.Equal(m[0].Media, pic) || string(m[3].Media) != "plain here" {
		t.Fatal("objects differ")
	}
}

// Downloads ask what the extension asks (yb, vb; issue 24.6): a plain
// original image at /r/talk/m/<id>/original, ?p=<OBS_POP> when the message
// carries it, and X-Talk-Meta only for a sealed object.
func TestDownloadPathsAsExtension(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	pic := testPNG(t, 16, 16)
	rev := strconv.FormatInt(e.sim.Revision(), 10)
	img, err := e.sim.InjectMedia(simgw.MediaInjection{From: daveMID, To: simgw.BobMID, ContentType: 1, Name: "a.png", Data: pic,
		Metadata: map[string]string{"OBS_POP": "jp1"}})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := e.sim.InjectMedia(simgw.MediaInjection{From: daveMID, To: simgw.BobMID, ContentType: 14, Name: "b.txt", Data: []byte("b")})
	sealed, _ := e.sim.InjectMedia(simgw.MediaInjection{From: daveMID, To: simgw.BobMID, ContentType: 14, Name: "c.txt", Data: []byte("c"),
		Sealed: true, Metadata: map[string]string{"OBS_POP": "th2"}})
	ops := e.must("", "receive", "--from-revision", rev, "--wait", "300ms")
	n := len(e.sim.Calls())
	if got := e.must(ops.stdout, "download", "--dir", t.TempDir()).lines(t); len(got) != 3 {
		t.Fatalf("downloaded %v", got)
	}
	want := []string{"/r/talk/m/" + img.ID + "/original?p=jp1", "/r/talk/m/" + doc.ID, "/r/talk/emf/" + sealed.Metadata["OID"] + "?p=th2"}
	var got []string
	for _, c := range e.sim.Calls()[n:] {
		if c.Method != "obs-download" {
			continue
		}
		got = append(got, c.Path)
		if meta := c.Header.Get("x-talk-meta") != ""; meta != strings.Contains(c.Path, "/emf/") {
			t.Errorf("%s: X-Talk-Meta sent %v", c.Path, meta)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("downloads asked\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The sandbox sets both from the command line: allowedTypes without media
// for a user (images go plain), and plain uploads without x-obs-oid.
func TestSandboxAllowedTypesAndNoOID(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.must("", "sandbox", "do", "allowed-types", "--to", daveMID, "0,15")
	e.must("", "sandbox", "do", "plain-upload-oid", "off")
	wantExit(t, e.run("", "sandbox", "do", "allowed-types", "--to", daveMID, "0,x"), 2, "usage")
	img := writeFile(t, "p.png", testPNG(t, 10, 10))
	if s := e.must("", "send", "--to", daveMID, "--image", img).first(t, "sent"); s["e2ee"] != false {
		t.Fatalf("sent %v", s)
	}
	e.must("", "sandbox", "do", "allowed-types", "--to", daveMID, "")
	if s := e.must("", "send", "--to", daveMID, "--image", img).first(t, "sent"); s["e2ee"] != true {
		t.Fatalf("default allowedTypes: sent %v", s)
	}
	if m := mediaMessages(e); len(m) != 2 || m[0].Media == nil || m[1].MediaErr != "" {
		t.Fatalf("stored %+v", m)
	}
}
