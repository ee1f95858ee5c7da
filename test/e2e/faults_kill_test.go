package e2e

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kill -9 at random points of `send --jsonl --confirm`, run after run: a
// killed run cannot report, but no message is ever delivered twice, every
// `sent` line a run did print is a stored message, and the next run (a new
// batch) is not disturbed by what the killed one left behind.
func TestFaultKillSendAtRandomPoints(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	e := newEnv(t)
	e.loginQR()
	e.sim.Delay("sendMessage", 40*time.Millisecond)
	for run := 0; run < 8; run++ {
		prefix := "kill" + string(rune('a'+run))
		cmd := exec.Command(binary, "send", "--jsonl", "--confirm", "--confirm-timeout", "2s", "--rate", "0")
		cmd.Env = e.environ()
		cmd.Stdin = strings.NewReader(jsonlBatch(prefix, 20))
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		time.Sleep(100 * time.Millisecond) // a request in flight still commits
		stored := map[string]int{}
		ids := map[string]bool{}
		for _, m := range e.sim.Messages() {
			if strings.HasPrefix(m.Text, prefix+"-") {
				stored[m.Text]++
				ids[m.ID] = true
			}
		}
		for text, n := range stored {
			if n != 1 {
				t.Fatalf("run %d: %q delivered %d times", run, text, n)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if line == "" {
				continue
			}
			l := decode(t, line)
			if l["type"] == "sent" && !ids[l["messageId"].(string)] {
				t.Fatalf("run %d: a sent line for a message that was not stored: %v", run, l)
			}
		}
	}
	// After all that, a normal run sends and confirms as usual.
	e.sim.Delay("sendMessage", 0)
	r := e.must(jsonlBatch("after", 3), "send", "--jsonl", "--confirm")
	if n := len(r.lines(t)); n != 3 {
		t.Fatalf("%d lines", n)
	}
	for _, l := range r.lines(t) {
		if l["type"] != "sent" || l["confirmed"] != true {
			t.Fatalf("line %v", l)
		}
	}
}
