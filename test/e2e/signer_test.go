package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignerImportAndSign(t *testing.T) {
	e := newEnv(t)
	e.extra = []string{"LINECTL_SIGNER_COMMAND=", "LINECTL_GATEWAY=https://line-chrome-gw.line-apps.com"}
	wasm, err := os.ReadFile("../../testdata/ltsm/testmodule.wasm")
	if err != nil {
		t.Fatal(err)
	}
	// No signer against the real gateway: refuse before sending anything.
	r := e.run("", "login", "qr")
	wantExit(t, r, 2, "no_signer")
	if !strings.Contains(r.stderr, "signer import") {
		t.Fatalf("stderr %s", r.stderr)
	}
	// signer status is a health check: not ready → exit 2, the line still on stdout.
	r = e.run("", "signer", "status")
	wantExit(t, r, 2, "no_signer")
	if l := r.first(t, "signer"); l["ready"] != false || l["problem"] == "" {
		t.Fatalf("status %v", l)
	}
	// A fake Chrome profile holding the extension.
	home := filepath.Dir(e.config)
	ext := filepath.Join(home, ".config", "google-chrome", "Default", "Extensions", "ophjlpahpchlmihnnnihgmmeilfjmjjc", "3.7.2_0")
	os.MkdirAll(filepath.Join(ext, "ltsm"), 0o755)
	os.WriteFile(filepath.Join(ext, "manifest.json"), []byte(`{"version":"3.7.2"}`), 0o644)
	os.WriteFile(filepath.Join(ext, "ltsm", "ltsm.wasm"), wasm, 0o644)
	os.WriteFile(filepath.Join(ext, "ltsm", "ltsmSandbox.js"), []byte(`x={"chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc":"test-token-test-token-1234"}`), 0o644)

	r = e.run("", "signer", "import", "--auto")
	wantExit(t, r, 2, "no_signer") // not a known build of LINE's module
	r = e.must("", "signer", "import", "--auto", "--allow-unknown-build")
	if l := r.first(t, "signer-import"); l["version"] != "3.7.2" {
		t.Fatalf("import %v", l)
	}
	if st, err := os.Stat(filepath.Join(home, "signer", "ltsm.wasm")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("imported module: %v %v", st, err)
	}
	if !strings.Contains(e.configText(), "kind: wasm") {
		t.Fatalf("config:\n%s", e.configText())
	}
	r = e.must("", "signer", "status")
	if l := r.first(t, "signer"); l["ready"] != true || l["kind"] != "wasm" {
		t.Fatalf("status %v", l)
	}
	r = e.must("", "signer", "sign", "--path", "/api/talk/thrift/Talk/TalkService/getProfile", "--body", "[2]")
	if got := r.first(t, "signature")["xHmac"]; got == "" {
		t.Fatal("no signature")
	}
	r2 := e.must("tok\n", "signer", "sign", "--path", "/api/talk/thrift/Talk/TalkService/getProfile", "--body", "[2]", "--access-token-stdin")
	if r2.first(t, "signature")["xHmac"] == r.first(t, "signature")["xHmac"] {
		t.Fatal("the access token did not change the signature")
	}
}
