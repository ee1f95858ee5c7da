package e2e

import (
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// callsSince returns the gateway methods called after the first n calls.
func (e *env) callsSince(n int) []string { return e.sim.CallNames()[n:] }

// A warm send (the same chat as a run before) is one gateway call: the
// probe comes from the cache, the search revision from the earlier run.
func TestWarmSendIsOneCall(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "send", "--to", simgw.FamilyMID, "cold")
	n := len(e.sim.CallNames())
	e.must("", "send", "--to", simgw.FamilyMID, "warm")
	if calls := e.callsSince(n); len(calls) != 1 || calls[0] != "sendMessage" {
		t.Fatalf("warm send made %v", calls)
	}
	// An unknown outcome is still settled from the saved revision: exactly one message.
	e.sim.Fail("sendMessage", simgw.FaultDropAfter, 1)
	n = len(e.sim.CallNames())
	r := e.must("", "send", "--confirm-timeout", "5s", "--to", simgw.FamilyMID, "dropped answer")
	if s := r.first(t, "sent"); s["confirmed"] != true {
		t.Fatalf("sent %v", s)
	}
	if calls := strings.Join(e.callsSince(n), " "); strings.Contains(calls, "getLastOpRevision") {
		t.Fatalf("calls %s", calls)
	}
	if m := e.sim.Messages(); len(m) != 3 || m[2].Text != "dropped answer" {
		t.Fatalf("%d messages", len(m))
	}
}

// Each refusal a stale cached probe causes is answered by a fresh probe
// and one more send with the same reqSeq; never a wrong or double send.
func TestStaleProbeCache(t *testing.T) {
	t.Run("82: the peer turned Letter Sealing on", func(t *testing.T) {
		e := newSandboxEnv(t, func(o *simgw.Options) { o.ManualScan = true })
		e.loginQRWithKeys()
		e.must("", "send", "--to", simgw.CarolMID, "plain to Carol")
		e.sim.SetLetterSealing(simgw.CarolMID, true)
		n := len(e.sim.CallNames())
		r := e.must("", "send", "--to", simgw.CarolMID, "now sealed")
		wantSentOnce(t, e, r, "now sealed", true, n)
	})
	t.Run("84: the peer's key changed", func(t *testing.T) {
		e := sealedEnv(t)
		e.loginQRWithKeys()
		e.must("", "send", "--to", daveMID, "first")
		if _, err := e.sim.RotateKey(daveMID); err != nil {
			t.Fatal(err)
		}
		n := len(e.sim.CallNames())
		r := e.must("", "send", "--to", daveMID, "after Dave's new key")
		wantSentOnce(t, e, r, "after Dave's new key", true, n)
	})
	t.Run("99: the group key was replaced", func(t *testing.T) {
		e := sealedEnv(t)
		e.loginQRWithKeys()
		e.must("", "send", "--to", sealedMID, "first")
		if err := e.sim.SetGroupKey(sealedMID, daveMID); err != nil {
			t.Fatal(err)
		}
		n := len(e.sim.CallNames())
		r := e.must("", "send", "--to", sealedMID, "after a new group key")
		wantSentOnce(t, e, r, "after a new group key", true, n)
	})
	t.Run("not a member any more", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.must("", "send", "--to", simgw.OpsMID, "first")
		e.sim.RemoveMember(simgw.OpsMID, simgw.AliceMID)
		n := len(e.sim.CallNames())
		wantExit(t, e.run("", "send", "--to", simgw.OpsMID, "x"), 4, "rejected")
		if c := e.callsSince(n); count(c, "sendMessage") != 1 || len(e.sim.Messages()) != 1 {
			t.Fatalf("calls %v", c)
		}
	})
}

// wantSentOnce checks the last run sent text once, sealed as said, after a
// fresh probe and a second sendMessage with the same reqSeq.
func wantSentOnce(t *testing.T, e *env, r result, text string, sealed bool, since int) {
	t.Helper()
	if c := e.callsSince(since); count(c, "sendMessage") != 2 {
		t.Fatalf("the cached probe was not refused and retried: %v", c)
	}
	s := r.first(t, "sent")
	if s["e2ee"] != sealed {
		t.Fatalf("sent %v", s)
	}
	n := 0
	for _, m := range e.sim.Messages() {
		if m.Text == text {
			n++
			if float64(m.ReqSeq) != s["reqSeq"] {
				t.Fatalf("stored reqSeq %d, sent line %v", m.ReqSeq, s["reqSeq"])
			}
		}
	}
	if n != 1 {
		t.Fatalf("%q stored %d times", text, n)
	}
}

// Several --to: the probes of all chats run before the first send, side by
// side, instead of one round trip per chat between sends.
func TestSeveralDestinationsProbedTogether(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	n := len(e.sim.CallNames())
	e.must("", "send", "--to", simgw.FamilyMID, "--to", simgw.OpsMID, "--to", simgw.CarolMID, "hi all")
	calls := e.callsSince(n)
	first := len(calls)
	for i, c := range calls {
		if c == "sendMessage" {
			first = i
			break
		}
	}
	probes := 0
	for _, c := range calls[:first] {
		if c == "negotiateE2EEPublicKey" || c == "getLastE2EEGroupSharedKey" {
			probes++
		}
	}
	if probes != 3 || count(calls, "sendMessage") != 3 {
		t.Fatalf("calls %v", calls)
	}
}
