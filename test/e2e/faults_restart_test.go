package e2e

import (
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// The gateway restarts while a send is in flight: LINE committed the
// message, the answer is lost, and the stream cannot be searched while the
// gateway is down. linectl must neither send it again nor claim that nothing
// was sent (exit 5): exit 6, one message.
func TestGatewayRestartDuringSend(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.Delay("sendMessage", 700*time.Millisecond)
	done := make(chan result, 1)
	go func() {
		done <- e.run("", "send", "--confirm-timeout", "1s", "--to", simgw.FamilyMID, "in flight during a restart")
	}()
	waitFor(t, func() bool { return count(e.sim.CallNames(), "sendMessage") == 1 })
	if err := e.sim.Stop(); err != nil {
		t.Fatal(err)
	}
	r := <-done // the search window ends while the gateway is still down
	wantExit(t, r, 6, "outcome_unknown")
	if err := e.sim.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(e.sim.Messages()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n, m := count(e.sim.CallNames(), "sendMessage"), len(e.sim.Messages()); n != 1 || m != 1 {
		t.Fatalf("%d sendMessage calls, %d messages: want exactly one of each", n, m)
	}
}

// The gateway comes back within the search window: the stream shows the
// message was delivered, so it is reported sent (and confirmed), once.
func TestGatewayBackWithinTheSearchWindow(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.Delay("sendMessage", 500*time.Millisecond)
	done := make(chan result, 1)
	go func() {
		done <- e.run("", "send", "--confirm-timeout", "20s", "--to", simgw.FamilyMID, "settled after the restart")
	}()
	waitFor(t, func() bool { return count(e.sim.CallNames(), "sendMessage") == 1 })
	if err := e.sim.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	e.sim.Delay("sendMessage", 0)
	if err := e.sim.Resume(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if s := r.first(t, "sent"); s["confirmed"] != true {
		t.Fatalf("sent %v", s)
	}
	if n, m := count(e.sim.CallNames(), "sendMessage"), len(e.sim.Messages()); n != 1 || m != 1 {
		t.Fatalf("%d sendMessage calls, %d messages", n, m)
	}
}
