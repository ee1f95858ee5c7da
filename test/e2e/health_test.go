package e2e

import (
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// The health checks docs/cookbook.md offers for monitoring answer with their
// documented exit codes: whoami and session refresh 0 while the session is
// alive and 3 when it is gone; signer status 0 when requests can be signed.
func TestHealthChecks(t *testing.T) {
	e := newEnv(t)
	e.must("", "signer", "status")
	wantExit(t, e.run("", "whoami"), 3, "login_required")
	wantExit(t, e.run("", "session", "refresh"), 3, "login_required")
	e.loginQR()
	e.must("", "whoami")
	e.must("", "session", "refresh")
	e.sim.Kick(simgw.AliceMID)
	wantExit(t, e.run("", "whoami"), 3, "session_ended")
	wantExit(t, e.run("", "session", "refresh"), 3, "")
}
