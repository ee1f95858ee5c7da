package e2e

import (
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// The sandbox's fault controls from the command line, as a script author
// testing exit-code handling uses them.
func TestSandboxFaultCLI(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	if l := e.must("", "sandbox", "fault", "talk", "--code", "82", "--reason", "can not send using plain mode").first(t, "sandbox-fault"); l["kind"] != "talk" || l["method"] != "sendMessage" {
		t.Fatalf("fault line %v", l)
	}
	r := e.run("", "send", "--e2ee", "off", "--to", simgw.FamilyMID, "x")
	wantExit(t, r, 4, "e2ee_required")
	e.must("", "sandbox", "fault", "not-json")
	wantExit(t, e.run("", "send", "--confirm-timeout", "300ms", "--to", simgw.FamilyMID, "x"), 6, "outcome_unknown")
	e.must("", "sandbox", "fault", "503", "--count", "10")
	wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, "x"), 5, "temporary")
	wantExit(t, e.run("", "sandbox", "fault", "bogus"), 2, "usage")
	wantExit(t, e.run("", "sandbox", "fault", "503", "--count", "0"), 2, "usage")
	st := e.must("", "sandbox", "do", "state").first(t, "sandbox-state")
	if _, ok := st["messages"].([]any); !ok {
		t.Fatalf("state %v", st)
	}
	e.must("", "sandbox", "do", "kick", simgw.AliceMID)
	wantExit(t, e.run("", "whoami"), 3, "session_ended")
}
