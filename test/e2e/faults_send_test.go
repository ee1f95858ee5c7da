package e2e

// Fault injection around `send`: signals at random points of a --jsonl
// batch, and input lines the reader must refuse without ending the batch.
// Every delivery the simulator stored is counted against the lines printed.

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// jsonlBatch is n --jsonl lines to the Family group, texts prefix-0 … prefix-(n-1).
func jsonlBatch(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"to\":%q,\"text\":\"%s-%d\"}\n", simgw.FamilyMID, prefix, i)
	}
	return b.String()
}

// countCalls counts the simulator's calls of method.
func countCalls(e *env, method string) int {
	n := 0
	for _, m := range e.sim.CallNames() {
		if m == method {
			n++
		}
	}
	return n
}

// runSignalled starts linectl, calls trigger until it says so, sends sig and
// waits (at most 30s) for the exit.
func runSignalled(t *testing.T, e *env, stdin io.Reader, sig os.Signal, trigger func() bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e.environ()
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for !trigger() {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("the point to signal at was never reached\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("linectl did not exit within 30s of %v\nstdout:\n%s\nstderr:\n%s", sig, out.String(), errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// checkOwedLines checks a --jsonl batch of texts prefix-0 … against what the
// simulator stored: no text stored twice, the stored texts are the first
// lines of the input, and each stored message has exactly one `sent` line
// (same reqSeq and message id), in input order, and no other line. With
// confirm every sent line says whether it was confirmed. It returns how many
// were delivered.
func checkOwedLines(t *testing.T, e *env, r result, prefix string, confirm bool) int {
	t.Helper()
	var stored []simgw.Message
	seen := map[string]bool{}
	for _, m := range e.sim.Messages() {
		if !strings.HasPrefix(m.Text, prefix+"-") {
			continue
		}
		if seen[m.Text] {
			t.Fatalf("%q stored twice", m.Text)
		}
		seen[m.Text] = true
		stored = append(stored, m)
	}
	for i, m := range stored {
		if want := fmt.Sprintf("%s-%d", prefix, i); m.Text != want {
			t.Fatalf("message %d is %q, want %q: input was skipped", i, m.Text, want)
		}
	}
	lines := r.lines(t)
	if len(lines) != len(stored) {
		t.Fatalf("%d messages delivered, %d lines printed\nstdout:\n%s\nstderr:\n%s", len(stored), len(lines), r.stdout, r.stderr)
	}
	for i, l := range lines {
		m := stored[i]
		if l["type"] != "sent" || l["reqSeq"] != float64(m.ReqSeq) || l["messageId"] != m.ID {
			t.Fatalf("line %d %v for message %+v\nstderr:\n%s", i+1, l, m, r.stderr)
		}
		if c, ok := l["confirmed"]; confirm && c != true {
			// The simulator's stream has every operation at once: seen within the wait after a signal.
			t.Fatalf("line %d: confirmed %v, want true", i+1, c)
		} else if !confirm && ok && c != true { // true without --confirm: settled on the stream
			t.Fatalf("line %d: confirmed %v without --confirm", i+1, c)
		}
	}
	return len(stored)
}

// A SIGTERM or SIGINT at a random point of a --jsonl batch, with every
// sendMessage answer taking 150ms: the message in flight is finished, every
// delivered message gets its one sent line (with --confirm too), unread input
// is not sent, exit 130.
func TestFaultSendSignalMidBatch(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	cases := []struct {
		name    string
		sig     os.Signal
		confirm bool
		runs    int
	}{
		{"SIGTERM", syscall.SIGTERM, false, 4},
		{"SIGTERM confirm", syscall.SIGTERM, true, 4},
		{"SIGINT", os.Interrupt, false, 3},
		{"SIGINT confirm", os.Interrupt, true, 3},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(17+i))) // one per subtest: they run in parallel
			e := newEnv(t)
			e.loginQR()
			e.sim.Delay("sendMessage", 150*time.Millisecond)
			args := []string{"send", "--jsonl", "--rate", "20"}
			if tc.confirm {
				args = append(args, "--confirm")
			}
			total := 0
			for run := range tc.runs {
				prefix := fmt.Sprintf("run%d", run)
				before := countCalls(e, "sendMessage")
				k := 1 + rng.IntN(8)                                     // signal during or after the k-th sendMessage
				extra := time.Duration(rng.IntN(200)) * time.Millisecond // … this long after it began
				var at time.Time
				r := runSignalled(t, e, strings.NewReader(jsonlBatch(prefix, 50)), tc.sig, func() bool {
					if at.IsZero() && countCalls(e, "sendMessage")-before >= k {
						at = time.Now().Add(extra)
					}
					return !at.IsZero() && time.Now().After(at)
				}, args...)
				wantExit(t, r, 130, "interrupted")
				n := checkOwedLines(t, e, r, prefix, tc.confirm)
				if n < k || n >= 50 {
					t.Fatalf("run %d: %d delivered after a signal at sendMessage %d", run, n, k)
				}
				total += n
			}
			t.Logf("%d runs, %d messages delivered and reported", tc.runs, total)
		})
	}
}

// A signal while linectl waits for more input (stdin open, nothing to read)
// ends the run at once; what was sent is reported.
func TestFaultSendSignalWaitingForInput(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	pr, pw, err := os.Pipe() // a file: linectl reads it directly, and it is never closed
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close(); pw.Close() })
	if _, err := io.WriteString(pw, jsonlBatch("idle", 3)); err != nil {
		t.Fatal(err)
	}
	start := time.Time{}
	r := runSignalled(t, e, pr, syscall.SIGTERM, func() bool {
		if len(e.sim.Messages()) < 3 {
			return false
		}
		if start.IsZero() {
			start = time.Now()
		}
		return time.Since(start) > 100*time.Millisecond
	}, "send", "--jsonl")
	wantExit(t, r, 130, "interrupted")
	if n := checkOwedLines(t, e, r, "idle", false); n != 3 {
		t.Fatalf("%d delivered, want 3", n)
	}
}

// A signal while the answer to a sendMessage that LINE stored is being lost:
// the outcome is settled on the operation stream after the signal, and
// reported as sent (confirmed), not dropped or sent again.
func TestFaultSendSignalSettlesLostAnswer(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.Delay("sendMessage", 300*time.Millisecond)
	armed := false
	r := runSignalled(t, e, strings.NewReader(jsonlBatch("lost", 20)), syscall.SIGTERM, func() bool {
		n := countCalls(e, "sendMessage")
		if !armed && n >= 2 {
			e.sim.Fail("sendMessage", simgw.FaultDropAfter, 1) // the 3rd is stored, its answer lost
			armed = true
		}
		return armed && n >= 3
	}, "send", "--jsonl", "--rate", "0")
	wantExit(t, r, 130, "interrupted")
	if n := checkOwedLines(t, e, r, "lost", false); n != 3 {
		t.Fatalf("%d delivered, want 3", n)
	}
	if l := r.lines(t)[2]; l["confirmed"] != true {
		t.Fatalf("the settled send: %v", l)
	}
}

// A --jsonl line over 1 MiB is refused with its own failed line and the
// batch goes on; a line of exactly 1 MiB is read. Exit 0: messages were sent,
// and only refused input failed (see docs/exit-codes.md).
func TestFaultSendJSONLOversizedLine(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	const mib = 1 << 20
	good := func(text string) string { return fmt.Sprintf("{\"to\":%q,\"text\":%q}", simgw.FamilyMID, text) }
	huge := fmt.Sprintf("{\"to\":%q,\"text\":\"%s\"}", simgw.FamilyMID, strings.Repeat("x", 2*mib))
	exact := good("exactly one MiB")
	exact += strings.Repeat(" ", mib-len(exact))
	in := strings.Join([]string{
		good("first"),              // 1: sent
		huge,                       // 2: refused, too long
		good("third"),              // 3: sent
		"",                         // 4: blank, no line
		strings.Repeat("a", mib+1), // 5: refused, too long by one byte
		exact,                      // 6: sent
		good("seventh"),            // 7: sent
		huge,                       // 8: refused, last line, no newline
	}, "\n")
	r := e.run(in, "send", "--jsonl")
	wantExit(t, r, 0, "")
	lines := r.lines(t)
	want := []string{"sent", "failed 2", "sent", "failed 5", "sent", "sent", "failed 8"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), r.stdout)
	}
	for i, l := range lines {
		got := l["type"].(string)
		if got == "failed" {
			got = fmt.Sprintf("failed %v", l["line"])
			if l["exitCode"] != 2.0 || l["kind"] != "usage" || !strings.Contains(l["message"].(string), "is longer than") {
				t.Fatalf("line %d: %v", i+1, l)
			}
		}
		if got != want[i] {
			t.Fatalf("output line %d is %q, want %q:\n%s", i+1, got, want[i], r.stdout)
		}
	}
	var texts []string
	for _, m := range e.sim.Messages() {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, "|") != "first|third|exactly one MiB|seventh" {
		t.Fatalf("stored %q", texts)
	}
	if !strings.Contains(r.stderr, "refused") {
		t.Fatalf("no warning about the refused lines on stderr:\n%s", r.stderr)
	}
}

// The exit code of a --jsonl batch: 2 only when nothing was sent; refused
// input beside sent messages is 0 (the failed lines say which); any other
// failure is ranked as documented.
func TestFaultSendMixedBatchExit(t *testing.T) {
	good := func(text string) string { return fmt.Sprintf("{\"to\":%q,\"text\":%q}\n", simgw.FamilyMID, text) }
	bad := "not json\n"
	cases := []struct {
		name      string
		in        string
		rejectOne bool // the first sendMessage answers TalkException 10
		code      int
		kind      string
		sent      int
	}{
		{"only bad lines", bad + bad, false, 2, "usage", 0},
		{"bad and sent", good("a") + bad + good("b"), false, 0, "", 2},
		{"bad, rejected and sent", good("a") + bad + good("b"), true, 4, "rejected", 1},
		{"rejected only", good("a"), true, 4, "rejected", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.loginQR()
			if tc.rejectOne {
				e.sim.FailTalk("sendMessage", simgw.FaultTalk, 10, "not a member", 1)
			}
			r := e.run(tc.in, "send", "--jsonl")
			wantExit(t, r, tc.code, tc.kind)
			if n := len(e.sim.Messages()); n != tc.sent {
				t.Fatalf("%d stored, want %d", n, tc.sent)
			}
			if n := strings.Count(tc.in, "\n"); len(r.lines(t)) != n {
				t.Fatalf("%d lines for %d inputs:\n%s", len(r.lines(t)), n, r.stdout)
			}
		})
	}
}

// Ctrl-C while a send waits for LINE's answer: stderr says at once what it
// waits for and how long at most, while it still waits; the message is
// then reported, exit 130.
func TestFaultSendSignalSaysWhatItWaitsFor(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.Delay("sendMessage", 4*time.Second)
	cmd := exec.Command(binary, "send", "--to", simgw.FamilyMID, "slow answer")
	cmd.Env = e.environ()
	var out bytes.Buffer
	var errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, func() bool { return countCalls(e, "sendMessage") == 1 })
	_ = cmd.Process.Signal(os.Interrupt)
	waitFor(t, func() bool { return strings.Contains(errb.String(), "settling the message in flight") })
	select {
	case <-done:
		t.Fatalf("exited before its message was settled:\n%s", errb.String())
	default:
	}
	if !strings.Contains(errb.String(), "at most 45s") {
		t.Fatalf("no bound said:\n%s", errb.String())
	}
	err := <-done
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 || !strings.Contains(out.String(), `"type":"sent"`) {
		t.Fatalf("exit %v, stdout %s\nstderr:\n%s", err, out.String(), errb.String())
	}
}
