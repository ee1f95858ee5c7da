package e2e

import (
	"strings"
	"testing"
)

// --quiet leaves stderr to warnings and errors; stdout's JSON lines are the
// same with or without it.
func TestQuietLoginLogout(t *testing.T) {
	e := newEnv(t)
	r := e.must("", "--quiet", "login", "qr")
	if r.first(t, "login")["mid"] == "" || strings.Contains(r.stderr, "Logged in") || strings.Contains(r.stderr, "Scan this") {
		t.Fatalf("login --quiet:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	r = e.must("", "logout", "-q")
	if r.first(t, "logout")["remote"] != true || strings.TrimSpace(r.stderr) != "" {
		t.Fatalf("logout -q: stderr %q", r.stderr)
	}
	r = e.must("", "login", "qr")
	if !strings.Contains(r.stderr, "Logged in as") {
		t.Fatalf("login without --quiet: stderr %q", r.stderr)
	}
}
