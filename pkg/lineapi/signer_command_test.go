//go:build !windows

package lineapi

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The signer program gets a scrubbed environment: no LINECTL_PASSWORD, no
// other LINECTL_* variable; PATH, HOME and LANG pass through.
func TestCommandSignerEnvironmentScrubbed(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "env")
	script := filepath.Join(dir, "signer.sh")
	body := "#!/bin/sh\nenv > '" + dump + "'\nwhile read -r line; do echo c2lnbmF0dXJl; done\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LINECTL_PASSWORD", "hunter2-secret")
	t.Setenv("LINECTL_SIGNER_COMMAND", script)
	t.Setenv("linectl_password", "lower-case-secret")
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("HOME", dir)
	s, err := NewCommandSigner(script)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sig, err := s.Sign(context.Background(), SignRequest{Path: "/x", Body: "{}"}); err != nil || sig != "c2lnbmF0dXJl" {
		t.Fatalf("Sign = %q, %v", sig, err)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	env := string(b)
	for _, bad := range []string{"hunter2-secret", "lower-case-secret", "LINECTL_"} {
		if strings.Contains(strings.ToUpper(env), strings.ToUpper(bad)) {
			t.Errorf("signer environment holds %q:\n%s", bad, env)
		}
	}
	for _, keep := range []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8"} {
		if !strings.Contains(env, keep+"\n") {
			t.Errorf("signer environment lacks %q", keep)
		}
	}
}
