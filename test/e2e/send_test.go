package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// probeAndSend returns the calls from the first probe call on, without the
// revision lookup linectl adds for exactly-once delivery.
func probeAndSend(e *env) []string {
	var out []string
	for _, c := range e.sim.CallNames() {
		switch c {
		case "negotiateE2EEPublicKey", "getLastE2EEGroupSharedKey", "getLastE2EEPublicKeys", "sendMessage":
			out = append(out, c)
		}
	}
	return out
}

func loginBob(e *env) {
	e.t.Helper()
	e.must(simgw.DemoPassword+"\n", "login", "password", "--email", simgw.BobEmail, "--password-stdin", "--no-e2ee")
}

// Seed trace 1: a Letter Sealing off account posts into a group.
func TestSeedTraceLetterSealingOffToGroup(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	r := e.must("", "send", "--to", simgw.FamilyMID, "テスト")
	s := r.first(t, "sent")
	if s["to"] != simgw.FamilyMID || s["toType"] != 2.0 || s["e2ee"] != false || s["messageId"] == "" {
		t.Fatalf("sent %v", s)
	}
	msgs := e.sim.Messages()
	if len(msgs) != 1 || msgs[0].Text != "テスト" || fmt.Sprint(msgs[0].ReqSeq) != fmt.Sprint(int64(s["reqSeq"].(float64))) {
		t.Fatalf("stored %+v", msgs)
	}
	want := "getLastE2EEGroupSharedKey getLastE2EEPublicKeys sendMessage"
	if got := strings.Join(probeAndSend(e), " "); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

// Seed trace 2: a Letter Sealing on account sends to a Letter Sealing off
// user, then to a mixed group; both go plain after the extension's probes.
func TestSeedTraceLetterSealingOnToOff(t *testing.T) {
	e := newEnv(t)
	loginBob(e)
	e.must("", "send", "--to", simgw.CarolMID, "テスト")
	e.must("", "send", "--to", simgw.FamilyMID, "テスト")
	want := "negotiateE2EEPublicKey sendMessage getLastE2EEGroupSharedKey getLastE2EEPublicKeys sendMessage"
	if got := strings.Join(probeAndSend(e), " "); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if n := len(e.sim.Messages()); n != 2 {
		t.Fatalf("%d messages stored", n)
	}
	r := e.must("", "probe-e2ee", simgw.CarolMID, simgw.FamilyMID)
	lines := r.lines(t)
	if lines[0]["usable"] != false || lines[0]["reason"] != "peer has Letter Sealing off" ||
		lines[1]["usable"] != false || lines[1]["reason"] != "member settings off" {
		t.Fatalf("probe %v", lines)
	}
}

func TestMultiTargetStdinJSONLConfirm(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	r := e.must("line one\n  indented \"quoted\" 😀\n", "send", "--to", simgw.FamilyMID, "--to", simgw.BobMID)
	lines := r.lines(t)
	if len(lines) != 2 || lines[0]["to"] != simgw.FamilyMID || lines[1]["to"] != simgw.BobMID {
		t.Fatalf("lines %v", lines)
	}
	for _, m := range e.sim.Messages() {
		if m.Text != "line one\n  indented \"quoted\" 😀" {
			t.Fatalf("text %q", m.Text)
		}
	}
	in := fmt.Sprintf("{\"to\":%q,\"text\":\"a\"}\nnot json\n{\"to\":%q,\"text\":\"b\"}\n", simgw.FamilyMID, simgw.OpsMID)
	r = e.run(in, "send", "--jsonl")
	if r.code != 0 { // a refused line beside sent ones: exit 2 means nothing was sent
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines = r.lines(t)
	if len(lines) != 3 || lines[0]["type"] != "sent" || lines[1]["type"] != "failed" || lines[1]["line"] != 2.0 || lines[2]["type"] != "sent" {
		t.Fatalf("jsonl lines %v", lines)
	}
	r = e.must("", "send", "--confirm", "--to", simgw.FamilyMID, "confirm me")
	if s := r.first(t, "sent"); s["confirmed"] != true {
		t.Fatalf("confirm %v", s)
	}
	if n := len(e.sim.Messages()); n != 5 {
		t.Fatalf("%d messages, want 5", n)
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	long := strings.Repeat("あ", 5001)
	cases := [][]string{
		{"send", "--to", "x123", "hi"},
		{"send", "hi"},
		{"send", "--to", simgw.FamilyMID, "   "},
		{"send", "--to", simgw.FamilyMID, "\xff\xfe"},
		{"send", "--to", simgw.FamilyMID, long},
		{"send", "--to", simgw.FamilyMID, "--e2ee", "maybe", "hi"},
		{"send", "--to", simgw.FamilyMID, "--bogus", "hi"},
	}
	for _, args := range cases {
		wantExit(t, e.run("", args...), 2, "usage")
	}
	wantExit(t, e.run("", "send", "--to", simgw.FamilyMID), 2, "usage") // empty stdin
	for _, c := range e.sim.CallNames() {
		if c == "sendMessage" || c == "getLastE2EEGroupSharedKey" {
			t.Fatalf("bad input reached the gateway: %v", e.sim.CallNames())
		}
	}
}

// A chat where everyone has Letter Sealing on: never a silent plain send.
func TestSealedChatIsNeverSentPlain(t *testing.T) {
	e := newEnv(t)
	dave := "u0da7e000000000000000000000000da7"
	e.sim.AddAccount(simgw.Account{MID: dave, Email: "dave@example.com", Password: "p", DisplayName: "Dave", LetterSealing: true})
	sealed := "c5ea1ed000000000000000000000005ea"
	e.sim.AddChat(simgw.Chat{MID: sealed, Name: "Sealed", Members: []string{simgw.BobMID, dave}})
	loginBob(e)
	wantExit(t, e.run("", "send", "--to", sealed, "hi"), 4, "e2ee_required")
	wantExit(t, e.run("", "send", "--to", dave, "hi"), 4, "e2ee_required")
	r := e.run("", "send", "--e2ee", "off", "--to", sealed, "hi")
	wantExit(t, r, 4, "e2ee_required")
	if f := r.first(t, "failed"); f["code"] != 82.0 {
		t.Fatalf("failed line %v", f)
	}
	wantExit(t, e.run("", "send", "--e2ee", "require", "--to", simgw.CarolMID, "hi"), 4, "e2ee_required")
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestRejectedAndWorstExitCode(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	notMine := "c0000000000000000000000000000dead"
	e.sim.AddChat(simgw.Chat{MID: notMine, Name: "Other", Members: []string{simgw.BobMID}})
	r := e.run("", "send", "--to", simgw.FamilyMID, "--to", notMine, "hi")
	wantExit(t, r, 4, "rejected")
	lines := r.lines(t)
	if lines[0]["type"] != "sent" || lines[1]["type"] != "failed" || lines[1]["code"] != 10.0 || lines[1]["reason"] != "not a member" {
		t.Fatalf("lines %v", lines)
	}
	// The human line names the chat, not the Letter Sealing probe that LINE refused first.
	r = e.run("", "send", "--to", notMine, "hi")
	wantExit(t, r, 4, "rejected")
	if human := strings.SplitN(r.stderr, "\n", 2)[0]; human != "linectl: not a member of "+notMine+": this account is not in that chat (nothing was sent)" {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, `"code":10`) || !strings.Contains(r.stderr, "TalkException 10") {
		t.Fatalf("the JSON error line lost LINE's code: %s", r.stderr)
	}
	r = e.run("", "send", "--debug", "--to", notMine, "hi")
	if !strings.Contains(r.stderr, "linectl: not a member of "+notMine+": this account is not in that chat (nothing was sent) (Letter Sealing probe") {
		t.Fatalf("--debug shows both: %s", r.stderr)
	}
}

func TestFaultsExactlyOnce(t *testing.T) {
	t.Run("503 then success", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.sim.Fail("sendMessage", simgw.Fault503, 1)
		e.must("", "send", "--to", simgw.FamilyMID, "hi")
		if n := len(e.sim.Messages()); n != 1 {
			t.Fatalf("%d messages", n)
		}
	})
	t.Run("dropped after commit: found on the stream, not resent", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.sim.Fail("sendMessage", simgw.FaultDropAfter, 1)
		r := e.must("", "send", "--confirm-timeout", "3s", "--to", simgw.FamilyMID, "once")
		if s := r.first(t, "sent"); s["confirmed"] != true {
			t.Fatalf("sent %v", s)
		}
		if n := len(e.sim.Messages()); n != 1 {
			t.Fatalf("%d messages, want exactly 1", n)
		}
	})
	// A request that was written may still be committed by LINE at any time:
	// absence from the stream proves nothing, so it is never sent again.
	t.Run("dropped before commit: exit 6, never sent again", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.sim.Fail("sendMessage", simgw.FaultDropBefore, 5)
		r := e.run("", "send", "--confirm-timeout", "300ms", "--to", simgw.FamilyMID, "x")
		wantExit(t, r, 6, "outcome_unknown")
		if n := count(e.sim.CallNames(), "sendMessage"); n != 1 || len(e.sim.Messages()) != 0 {
			t.Fatalf("%d sendMessage calls, %d stored", n, len(e.sim.Messages()))
		}
	})
	t.Run("gateway slower than --timeout and --confirm-timeout: exit 6, one message", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.sim.Delay("sendMessage", 2500*time.Millisecond)
		r := e.run("", "--timeout", "1s", "send", "--confirm-timeout", "500ms", "--to", simgw.FamilyMID, "late")
		wantExit(t, r, 6, "outcome_unknown")
		waitFor(t, func() bool { return len(e.sim.Messages()) == 1 }) // LINE commits it late
		time.Sleep(300 * time.Millisecond)
		if n := count(e.sim.CallNames(), "sendMessage"); n != 1 || len(e.sim.Messages()) != 1 {
			t.Fatalf("%d sendMessage calls, %d stored: a late commit must not meet a resend", n, len(e.sim.Messages()))
		}
	})
	t.Run("rate limited until the budget is spent: exit 5", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.sim.Fail("sendMessage", simgw.Fault429, 10)
		wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, "x"), 5, "rate_limited")
		if len(e.sim.Messages()) != 0 {
			t.Fatal("stored")
		}
	})
}

func TestConcurrentSendsShareOneConfig(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	var wg sync.WaitGroup
	results := make([]result, 10)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.run("", "send", "--to", simgw.FamilyMID, fmt.Sprintf("msg %d", i))
		}()
	}
	wg.Wait()
	for _, r := range results {
		wantExit(t, r, 0, "")
	}
	if n := len(e.sim.Messages()); n != 10 {
		t.Fatalf("%d messages", n)
	}
}
