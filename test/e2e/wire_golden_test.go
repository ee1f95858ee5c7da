package e2e

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

var updateWire = flag.Bool("update-wire", false, "rewrite test/e2e/testdata/wire/*.json from the simulator's recorded requests")

// wireRow is one row of docs/protocol.md §10 ("What linectl sends"): the
// request that pins it, picked from the simulator's recorded requests.
type wireRow struct {
	id   string
	pick func(c simgw.Call) bool
}

func method(name string) func(simgw.Call) bool {
	return func(c simgw.Call) bool { return c.Method == name }
}

// sendOf picks a sendMessage of content type ct, sealed or not.
func sendOf(ct int, sealed bool) func(simgw.Call) bool {
	return func(c simgw.Call) bool {
		if c.Method != "sendMessage" {
			return false
		}
		var args []json.RawMessage
		var m struct {
			ContentType int      `json:"contentType"`
			Chunks      []string `json:"chunks"`
		}
		if json.Unmarshal([]byte(c.Body), &args) != nil || len(args) != 2 || json.Unmarshal(args[1], &m) != nil {
			return false
		}
		return m.ContentType == ct && (len(m.Chunks) > 0) == sealed
	}
}

func obsCall(name, pathPrefix, pathSuffix string) func(simgw.Call) bool {
	return func(c simgw.Call) bool {
		p, _, _ := strings.Cut(c.Path, "?")
		return c.Method == name && strings.HasPrefix(p, pathPrefix) && strings.HasSuffix(p, pathSuffix)
	}
}

// TestWireGolden runs what a user runs — QR and password logins, texts,
// a sticker, images and files plain and sealed, downloads — against the
// simulator, and compares every request linectl wrote for a row of
// docs/protocol.md §10 with its golden file (test/e2e/testdata/wire/<row>.json):
// method, path, the headers that matter and the body, with volatile values
// (reqSeq, times, tokens, keys, chunks, ids) replaced by placeholders. A
// changed request breaks the row's subtest. Rewrite with -update-wire.
func TestWireGolden(t *testing.T) {
	var calls []simgw.Call

	// A plain account (Alice without Letter Sealing): QR login, plain sends,
	// plain media and its download.
	e := newEnv(t)
	e.loginQR()
	img := writeFile(t, "chart.png", testPNG(t, 40, 30))
	doc := writeFile(t, "report.csv", []byte("host,load\nweb1,0.42\n"))
	e.must("", "send", "--to", simgw.FamilyMID, "backup finished")
	e.must("", "send", "--to", simgw.FamilyMID, "--sticker", "446/1988", "--sticker-text", "[OK]")
	e.must("", "send", "--to", simgw.FamilyMID, "--image", img)
	e.must("", "send", "--to", simgw.FamilyMID, "--file", doc)
	rev := strconv.FormatInt(e.sim.Revision(), 10)
	if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: simgw.CarolMID, To: simgw.FamilyMID, ContentType: 1, Name: "x.png",
		Data: testPNG(t, 8, 8), Metadata: map[string]string{"OBS_POP": "jp1"}}); err != nil {
		t.Fatal(err)
	}
	ops := e.must("", "receive", "--from-revision", rev, "--wait", "300ms")
	e.must(ops.stdout, "download", "--dir", t.TempDir())
	calls = append(calls, e.sim.Calls()...)

	// Letter Sealing on both sides: a QR login with keys, sealed text, image
	// and file to a user and a group, a group without a key yet, a download.
	s := sealedEnv(t)
	s.loginQRWithKeys()
	s.must("", "send", "--to", daveMID, "sealed hello")
	s.must("", "send", "--to", sealedMID, "--image", writeFile(t, "graph.png", testPNG(t, 30, 20)))
	s.must("", "send", "--to", daveMID, "--file", writeFile(t, "notes.txt", []byte("sealed notes")))
	s.must("", "send", "--to", freshMID, "first in a fresh group")
	srev := strconv.FormatInt(s.sim.Revision(), 10)
	if _, err := s.sim.InjectMedia(simgw.MediaInjection{From: daveMID, To: simgw.BobMID, ContentType: 14, Name: "r.pdf",
		Data: []byte("sealed pdf"), Sealed: true}); err != nil {
		t.Fatal(err)
	}
	sops := s.must("", "receive", "--from-revision", srev, "--wait", "300ms")
	s.must(sops.stdout, "download", "--dir", t.TempDir())
	calls = append(calls, s.sim.Calls()...)

	// A password login (no Letter Sealing): RSA key, loginV2, the PIN wait.
	p := newEnv(t)
	p.extra = append(p.extra, "LINECTL_PASSWORD="+simgw.DemoPassword)
	p.must("", "login", "password", "--email", simgw.BobEmail, "--no-e2ee")
	calls = append(calls, p.sim.Calls()...)

	rows := []wireRow{
		{"L-QR-1", method("createSession")},
		{"L-QR-2", method("createQrCode")},
		{"L-QR-3", method("checkQrCodeVerified")},
		{"L-QR-4", method("verifyCertificate")},
		{"L-QR-5", method("createPinCode")},
		{"L-QR-6", method("checkPinCodeVerified")},
		{"L-QR-7", method("qrCodeLoginV2")},
		{"L-PW-1", method("getRSAKeyInfo")},
		{"L-PW-2", func(c simgw.Call) bool { return c.Method == "loginV2" && !strings.Contains(c.Body, `"type":1`) }},
		{"L-PW-3", method("long-polling/JQ")},
		{"L-PW-4", func(c simgw.Call) bool { return c.Method == "loginV2" && strings.Contains(c.Body, `"type":1`) }},
		{"E-1", method("negotiateE2EEPublicKey")},
		{"E-2", method("getLastE2EEGroupSharedKey")},
		{"E-3", method("getLastE2EEPublicKeys")},
		{"E-4", method("registerE2EEGroupKey")},
		{"M-1", method("determineMediaMessageFlow")},
		{"M-2", method("acquireEncryptedAccessToken")},
		{"S-TEXT-P", sendOf(0, false)},
		{"S-TEXT-E", sendOf(0, true)},
		{"S-STK", sendOf(7, false)},
		{"S-IMG-P", sendOf(1, false)},
		{"S-FILE-P", sendOf(14, false)},
		{"S-IMG-E", sendOf(1, true)},
		{"S-FILE-E", sendOf(14, true)},
		{"U-IMG-P", func(c simgw.Call) bool {
			return obsCall("obs-upload", "/r/talk/m/", "")(c) && strings.Contains(obsParamsOf(c), `"image"`)
		}},
		{"U-FILE-P", func(c simgw.Call) bool {
			return obsCall("obs-upload", "/r/talk/m/", "")(c) && strings.Contains(obsParamsOf(c), `"file"`)
		}},
		{"U-IMG-E", obsCall("obs-upload", "/r/talk/emi/reqid-", "")},
		{"U-PRV-E", obsCall("obs-upload", "/r/talk/emi/", "__ud-preview")},
		{"U-FILE-E", obsCall("obs-upload", "/r/talk/emf/reqid-", "")},
		{"D-P", obsCall("obs-download", "/r/talk/m/", "")},
		{"D-E", obsCall("obs-download", "/r/talk/emf/", "")},
	}
	for _, r := range rows {
		t.Run(r.id, func(t *testing.T) {
			var got *simgw.Call
			for i := range calls {
				if r.pick(calls[i]) {
					got = &calls[i]
					break
				}
			}
			if got == nil {
				t.Fatalf("no recorded request for row %s", r.id)
			}
			b, _ := json.MarshalIndent(normaliseCall(t, *got), "", "  ")
			b = append(b, '\n')
			file := filepath.Join("testdata", "wire", r.id+".json")
			if *updateWire {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./test/e2e -run TestWireGolden -update-wire)", err)
			}
			if string(want) != string(b) {
				t.Fatalf("row %s: the request changed:\n%s\nwant (%s):\n%s", r.id, b, file, want)
			}
		})
	}
}

func obsParamsOf(c simgw.Call) string {
	d, _ := base64.StdEncoding.DecodeString(c.Header.Get("x-obs-params"))
	return string(d)
}

var (
	rxDigits   = regexp.MustCompile(`^[0-9]+$`)
	rxOpaque   = regexp.MustCompile(`^[A-Za-z0-9+/=_.\-]{24,}$`)
	rxMID      = regexp.MustCompile(`^[ucrUCR][0-9a-z]{32}$`)
	rxMsgPath  = regexp.MustCompile(`/r/talk/m/[0-9]+`)
	rxReqID    = regexp.MustCompile(`reqid-[0-9a-f-]{36}`)
	rxOIDPath  = regexp.MustCompile(`/r/talk/(em[a-z])/[0-9a-f]{32}`)
	rxLocalSeq = regexp.MustCompile(`^local-[0-9]+$`)
)

// volatileKeys hold values that differ on every run.
var volatileKeys = map[string]string{
	"createdTime": "<ms>", "authSessionId": "<authSessionId>", "verifier": "<verifier>", "password": "<rsa-hex>",
	"identifier": "<keynm>", "certificate": "<certificate>", "secret": "<secret>", "OID": "<oid>",
}

// normaliseCall is a recorded request with its volatile values replaced.
func normaliseCall(t *testing.T, c simgw.Call) map[string]any {
	out := map[string]any{"method": c.Method}
	path := rxMsgPath.ReplaceAllString(c.Path, "/r/talk/m/<messageId>")
	path = rxReqID.ReplaceAllString(path, "reqid-<uuid>")
	out["path"] = rxOIDPath.ReplaceAllString(path, "/r/talk/$1/<oid>")
	h := map[string]string{}
	for k, vs := range c.Header {
		k = strings.ToLower(k)
		v := strings.Join(vs, ",")
		switch k {
		case "content-type", "accept", "x-line-chrome-version", "x-lal", "origin", "x-line-application", "x-lst", "range":
			h[k] = v
		case "x-hmac", "x-line-access", "x-line-session-id", "user-agent", "cookie", "x-talk-meta":
			h[k] = "<" + k + ">"
		case "x-obs-params":
			var p map[string]any
			if err := json.Unmarshal([]byte(obsParamsOf(c)), &p); err != nil {
				t.Fatalf("x-obs-params %q: %v", v, err)
			}
			if n, ok := p["name"].(string); ok && rxDigits.MatchString(n) && len(n) >= 13 {
				p["name"] = "<String(Date.now())>"
			}
			b, _ := json.Marshal(p)
			h[k] = "base64(" + string(b) + ")"
		}
	}
	out["headers"] = h
	switch {
	case c.Method == "obs-upload":
		out["bodySize"] = len(c.Body)
	case c.Body != "":
		var body any
		if err := json.Unmarshal([]byte(c.Body), &body); err != nil {
			t.Fatalf("%s body %q: %v", c.Method, c.Body, err)
		}
		if a, ok := body.([]any); ok && c.Method == "sendMessage" && len(a) == 2 {
			a[0] = "<reqSeq>"
		}
		out["body"] = normaliseJSON("", body)
	}
	return out
}

func normaliseJSON(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x[k] = normaliseJSON(k, x[k])
		}
		return x
	case []any:
		for i := range x {
			if key == "chunks" {
				x[i] = "<chunk>"
				continue
			}
			x[i] = normaliseJSON("", x[i])
		}
		return x
	case string:
		switch {
		case volatileKeys[key] != "" && x != "":
			return volatileKeys[key]
		case key == "id" && rxLocalSeq.MatchString(x):
			return "local-<reqSeq>"
		case key == "FILE_SIZE" || rxMID.MatchString(x):
			return x
		case rxOpaque.MatchString(x):
			return "<opaque>"
		}
	}
	return v
}
