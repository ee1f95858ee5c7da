package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// testPNG is a real PNG of w×h pixels.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: uint8(128 + x%128)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mediaMessages returns the simulator's image and file messages.
func mediaMessages(e *env) []simgw.Message {
	var out []simgw.Message
	for _, m := range e.sim.Messages() {
		if m.ContentType == 1 || m.ContentType == 14 {
			out = append(out, m)
		}
	}
	return out
}

// Plain chats: the message is sent once, then the bytes are uploaded to it;
// the recipient gets exactly the file, with a preview for an image.
func TestMediaPlain(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	pic := testPNG(t, 1600, 900)
	img := writeFile(t, "load.jpg", pic) // named .jpg, a PNG by content
	doc := writeFile(t, "report.csv", []byte("host,load\nweb1,0.42\n"))
	s := e.must("", "send", "--to", simgw.FamilyMID, "--image", img).first(t, "sent")
	if s["contentType"] != 1.0 || s["e2ee"] != false || s["fileName"] != "load.png" || s["fileSize"] != float64(len(pic)) {
		t.Fatalf("sent %v", s)
	}
	s = e.must("", "send", "--to", simgw.AliceMID, "--file", doc).first(t, "sent")
	if s["contentType"] != 14.0 || s["fileName"] != "report.csv" {
		t.Fatalf("sent %v", s)
	}
	e.must("fake tar bytes", "send", "--to", simgw.FamilyMID, "--file", "-", "--name", "backup.tar")
	m := mediaMessages(e)
	if len(m) != 3 {
		t.Fatalf("%d media messages", len(m))
	}
	// As the extension's plain flow (eE, Rb): MEDIA_CONTENT_INFO only, no preview upload.
	if !bytes.Equal(m[0].Media, pic) || m[0].MediaName != "load.png" || len(m[0].Preview) != 0 || len(m[0].Metadata) != 1 ||
		m[0].Metadata["MEDIA_CONTENT_INFO"] != fmt.Sprintf(`{"category":"original","extension":"png","fileSize":%d}`, len(pic)) {
		t.Fatalf("image stored %q %d bytes preview %d md %v", m[0].MediaName, len(m[0].Media), len(m[0].Preview), m[0].Metadata)
	}
	if string(m[1].Media) != "host,load\nweb1,0.42\n" || string(m[2].Media) != "fake tar bytes" || m[2].MediaName != "backup.tar" {
		t.Fatalf("files stored %+v / %+v", m[1], m[2])
	}
	for _, x := range m {
		if x.Metadata["ENC_KM"] != "" || len(x.Chunks) != 0 {
			t.Fatalf("plain media carries %v", x.Metadata)
		}
	}
}

// Sealed chats (a user and a group): the file is encrypted with a fresh key,
// uploaded, and the key goes in the sealed message; the simulator decrypts
// it as the recipient's phone would, and never sees the key in clear.
func TestMediaSealed(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	pic := testPNG(t, 300, 200)
	img := writeFile(t, "graph.png", pic)
	doc := writeFile(t, "notes.txt", []byte("sealed notes ✓"))
	for _, to := range []string{daveMID, sealedMID} {
		s := e.must("", "send", "--e2ee", "require", "--to", to, "--image", img).first(t, "sent")
		if s["e2ee"] != true || s["contentType"] != 1.0 || !strings.HasPrefix(s["object"].(string), "/r/talk/emi/") {
			t.Fatalf("sent %v", s)
		}
		r := e.must("", "--debug", "send", "--to", to, "--file", doc)
		assertNoSecrets(t, e.secrets(), r.stdout, r.stderr)
	}
	m := mediaMessages(e)
	if len(m) != 4 {
		t.Fatalf("%d media messages", len(m))
	}
	for i, x := range m {
		want := pic
		if i%2 == 1 {
			want = []byte("sealed notes ✓")
		}
		if x.MediaErr != "" || !bytes.Equal(x.Media, want) || len(x.Chunks) != 5 || x.Metadata["ENC_KM"] != "" || x.Metadata["OID"] == "" {
			t.Fatalf("message %d to %s: err %q, %d bytes, md %v", i, x.To, x.MediaErr, len(x.Media), x.Metadata)
		}
	}
	if len(m[0].Preview) == 0 {
		t.Fatal("sealed image without preview")
	}
}

// receive shows media messages; download fetches (and for sealed chats
// decrypts) them.
func TestMediaReceiveAndDownload(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	pic := testPNG(t, 64, 64)
	rev := strconv.FormatInt(e.sim.Revision(), 10)
	if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: daveMID, To: simgw.BobMID, ContentType: 1, Name: "cat.png", Data: pic, Sealed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: daveMID, To: sealedMID, ContentType: 14, Name: "../../etc/passwd", Data: []byte("group file")}); err != nil {
		t.Fatal(err)
	}
	ops := e.must("", "receive", "--from-revision", rev, "--wait", "300ms")
	dir := t.TempDir()
	r := e.must(ops.stdout, "download", "--dir", dir)
	got := r.lines(t)
	if len(got) != 2 || got[0]["e2ee"] != true || got[1]["e2ee"] != false {
		t.Fatalf("downloaded %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cat.png")); !bytes.Equal(b, pic) {
		t.Fatal("sealed image not decrypted to cat.png")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "passwd")); string(b) != "group file" {
		t.Fatalf("plain file: %v", got[1])
	}
	if st, _ := os.Stat(filepath.Join(dir, "cat.png")); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	// Again: no overwrite, a new name with the message id.
	again := e.must(ops.stdout, "download", "--dir", dir).lines(t)
	if again[0]["file"] == got[0]["file"] {
		t.Fatalf("overwrote %v", again[0])
	}
	// The text-only form names the message for scripts.
	tx := e.must("", "receive", "--text-only", "--from-revision", rev, "--wait", "300ms").lines(t)
	if tx[0]["contentType"] != 1.0 || tx[0]["messageId"] == "" || tx[0]["fileName"] != "cat.png" {
		t.Fatalf("text-only %v", tx)
	}
}

// Bad input: nothing is uploaded or sent, exit 2.
func TestMediaBadInput(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	txt := writeFile(t, "x.png", []byte("not an image at all"))
	empty := writeFile(t, "e.bin", nil)
	for _, args := range [][]string{
		{"--image", txt},
		{"--image", "/nonexistent.png"},
		{"--file", empty},
		{"--file", t.TempDir()},
		{"--file", "-"},
		{"--image", txt, "--file", txt},
		{"--file", txt, "caption"},
		{"--name", "x"},
		{"--file", txt, "--name", "a/b"},
	} {
		r := e.run("", append([]string{"send", "--to", simgw.FamilyMID}, args...)...)
		wantExit(t, r, 2, "usage")
	}
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages sent", n)
	}
	for _, c := range e.sim.Calls() {
		if strings.HasPrefix(c.Method, "obs") || c.Method == "sendMessage" {
			t.Fatalf("called %s", c.Method)
		}
	}
}

// An upload is not a send: a failed upload is tried again (same path), the
// message is never sent twice; a plain message whose upload never succeeds
// exits 7 with its id; a sealed one whose upload fails sends nothing (5).
func TestMediaUploadFaults(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	doc := writeFile(t, "a.txt", []byte("retry me"))
	e.sim.Fail("obs-upload", simgw.Fault503, 1)
	e.sim.Fail("obs-upload", simgw.FaultDropAfter, 1)
	e.must("", "send", "--to", simgw.FamilyMID, "--file", doc)
	if m := mediaMessages(e); len(m) != 1 || string(m[0].Media) != "retry me" {
		t.Fatalf("stored %+v", m)
	}
	e.sim.Fail("obs-upload", simgw.Fault503, 3) // every attempt of the send
	r := e.run("", "send", "--to", simgw.FamilyMID, "--file", doc)
	wantExit(t, r, 7, "upload_failed")
	f := r.first(t, "failed")
	if m := mediaMessages(e); len(m) != 2 || f["messageId"] != m[1].ID || m[1].Media != nil {
		t.Fatalf("failed %v, stored %d", f, len(m))
	}
	// Later, the upload is done again to the delivered message: no new message.
	u := e.must("", "upload", "--message-id", f["messageId"].(string), "--file", doc).first(t, "uploaded")
	if m := mediaMessages(e); len(m) != 2 || string(m[1].Media) != "retry me" || u["fileSize"] != 8.0 {
		t.Fatalf("uploaded %v; stored %d", u, len(m))
	}
}

func TestMediaSealedUploadFaults(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	doc := writeFile(t, "a.txt", []byte("sealed retry"))
	e.sim.Fail("obs-upload", simgw.FaultDropAfter, 1)
	e.must("", "send", "--to", daveMID, "--file", doc)
	e.sim.Fail("obs-upload", simgw.Fault503, 10)
	wantExit(t, e.run("", "send", "--to", daveMID, "--file", doc), 5, "temporary")
	m := mediaMessages(e)
	if len(m) != 1 || string(m[0].Media) != "sealed retry" || m[0].MediaErr != "" {
		t.Fatalf("stored %+v", m)
	}
}

// The media flow is remembered with the probes: a warm image send asks no
// determineMediaMessageFlow; when the chat changed (the peer turned Letter
// Sealing on), LINE refuses the plain message (nothing processed), the flow
// is asked again and the image goes sealed — one message.
func TestMediaFlowCache(t *testing.T) {
	e := newSandboxEnv(t, func(o *simgw.Options) { o.ManualScan = true })
	e.loginQRWithKeys()
	img := writeFile(t, "g.png", testPNG(t, 8, 8))
	e.must("", "send", "--to", simgw.CarolMID, "--image", img)
	n := len(e.sim.CallNames())
	e.must("", "send", "--to", simgw.CarolMID, "--image", img)
	if calls := strings.Join(e.callsSince(n), " "); strings.Contains(calls, "determineMediaMessageFlow") {
		t.Fatalf("warm media send asked the flow: %s", calls)
	}
	e.sim.SetLetterSealing(simgw.CarolMID, true)
	s := e.must("", "send", "--to", simgw.CarolMID, "--image", img).first(t, "sent")
	m := mediaMessages(e)
	if s["e2ee"] != true || len(m) != 3 || len(m[2].Chunks) != 5 || m[2].MediaErr != "" {
		t.Fatalf("sent %v; %d media messages", s, len(m))
	}
}

// A warm media send asks the gateway nothing but the send: the
// object-storage token is kept between runs (obs-token.json, 0600) for its
// lifetime, tied to the access token it was issued under. A token OBS
// refuses is replaced once; after a token refresh the kept one is not used;
// logout removes it.
func TestOBSTokenKeptBetweenRuns(t *testing.T) {
	e := newSandboxEnv(t, func(o *simgw.Options) { o.ManualScan = true })
	e.loginQRWithKeys()
	img := writeFile(t, "k.png", testPNG(t, 8, 8))
	count := func(calls []string, name string) int {
		n := 0
		for _, c := range calls {
			if c == name {
				n++
			}
		}
		return n
	}
	send := func() []string {
		n := len(e.sim.CallNames())
		e.must("", "send", "--to", simgw.CarolMID, "--image", img)
		return e.callsSince(n)
	}
	if calls := send(); count(calls, "acquireEncryptedAccessToken") != 1 {
		t.Fatalf("cold media send: %v", calls)
	}
	path := filepath.Join(filepath.Dir(e.config), "obs-token.json")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("obs-token.json: %v %v", st, err)
	}
	b, _ := os.ReadFile(path)
	for _, secret := range e.secrets() {
		if secret != "" && strings.Contains(string(b), secret) {
			t.Fatal("obs-token.json holds the access token")
		}
	}
	calls := send()
	if count(calls, "acquireEncryptedAccessToken") != 0 || count(calls, "determineMediaMessageFlow") != 0 || count(calls, "sendMessage") != 1 {
		t.Fatalf("warm media send: %v", calls)
	}
	e.sim.ExpireOBSTokens() // OBS refuses the kept token: replaced once, sent once
	if calls := send(); count(calls, "acquireEncryptedAccessToken") != 1 || count(calls, "sendMessage") != 1 {
		t.Fatalf("after OBS refused the token: %v", calls)
	}
	e.sim.ExpireTokens() // a token refresh: the kept OBS token belongs to the old access token
	if calls := send(); count(calls, "acquireEncryptedAccessToken") != 1 {
		t.Fatalf("after a token refresh: %v", calls)
	}
	if n := len(mediaMessages(e)); n != 4 {
		t.Fatalf("%d media messages, want 4", n)
	}
	e.must("", "logout")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("logout left obs-token.json: %v", err)
	}
}
