package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// A server without Chrome: import on the "desktop", export a bundle, import
// it into a second config; both sign alike.
func TestSignerExportImportOnASecondConfig(t *testing.T) {
	desk := newEnv(t)
	desk.extra = []string{"LINECTL_SIGNER_COMMAND=", "LINECTL_GATEWAY=https://line-chrome-gw.line-apps.com", "LINECTL_SIGNER_AGENT=off",
		"XDG_CACHE_HOME=" + filepath.Join(filepath.Dir(desk.config), "cache")}
	desk.must("", "signer", "import", "../../testdata/ltsm/testmodule.wasm", "--allow-unknown-build")
	bundle := filepath.Join(t.TempDir(), "linectl-signer.zip")
	l := desk.must("", "signer", "export", bundle).first(t, "signer-export")
	if l["file"] != bundle || l["wasmSha256"] == "" {
		t.Fatalf("export line %v", l)
	}
	if st, err := os.Stat(bundle); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("bundle %v %v", st, err)
	}
	wantExit(t, desk.run("", "signer", "export", bundle), 2, "usage") // never overwritten

	server := newEnv(t)
	server.extra = []string{"LINECTL_SIGNER_COMMAND=", "LINECTL_GATEWAY=https://line-chrome-gw.line-apps.com", "LINECTL_SIGNER_AGENT=off",
		"XDG_CACHE_HOME=" + filepath.Join(filepath.Dir(server.config), "cache")}
	wantExit(t, server.run("", "signer", "import", bundle), 2, "no_signer") // not a build linectl knows
	imp := server.must("", "signer", "import", bundle, "--allow-unknown-build").first(t, "signer-import")
	if imp["wasmSha256"] != l["wasmSha256"] {
		t.Fatalf("imported %v, exported %v", imp, l)
	}
	if a, b := desk.sign(""), server.sign(""); a != b || a == "" {
		t.Fatalf("signatures differ: %q vs %q", a, b)
	}
}
