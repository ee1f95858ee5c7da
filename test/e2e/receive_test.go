package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

var texts = []string{"テスト", "emoji 😀👍", `quotes "x" and \ backslash`, "multi\nline\ttab", "<&> plain"}

// follower runs `receive --follow` and hands its stdout lines to the test.
type follower struct {
	cmd   *exec.Cmd
	lines chan map[string]any
	done  chan struct{}
	err   syncBuffer // stderr, read while the process runs
}

func (e *env) follow(t *testing.T, args ...string) *follower {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"receive", "--follow"}, args...)...)
	cmd.Env = e.environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	fw := &follower{cmd: cmd, lines: make(chan map[string]any, 1000), done: make(chan struct{})}
	cmd.Stderr = &fw.err
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(fw.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fw.lines <- decode(t, sc.Text())
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return fw
}

func (fw *follower) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case l := <-fw.lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatalf("no line within 10s; stderr:\n%s", fw.err.String())
		return nil
	}
}

func (fw *follower) stop(t *testing.T) int {
	t.Helper()
	fw.cmd.Process.Signal(syscall.SIGTERM)
	<-fw.done
	err := fw.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

func decode(t *testing.T, s string) map[string]any {
	var m map[string]any
	if err := jsonUnmarshal([]byte(s), &m); err != nil {
		t.Errorf("not JSON: %q", s)
	}
	return m
}

func TestFollowPrintsEachMessageOnceInOrder(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	fw := e.follow(t, "--text-only")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 0 })
	for _, tx := range texts {
		e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, tx)
	}
	for _, tx := range texts {
		l := fw.next(t)
		if l["type"] != "message" || l["text"] != tx || l["chat"] != simgw.FamilyMID || l["from"] != simgw.BobMID {
			t.Fatalf("line %v, want text %q", l, tx)
		}
	}
	if code := fw.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0", code)
	}
	// Restart: resumes after the saved revision, repeating nothing.
	e.sim.InjectMessage(simgw.BobMID, simgw.AliceMID, "after restart")
	r := e.must("", "receive", "--wait", "300ms", "--text-only")
	lines := r.lines(t)
	if len(lines) != 1 || lines[0]["text"] != "after restart" || lines[0]["chat"] != simgw.BobMID {
		t.Fatalf("after restart: %v", lines)
	}
}

func TestDroppedConnectionsLoseAndRepeatNothing(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.DropStreamEvery(3)
	start := e.run("", "receive", "--wait", "200ms") // saves the starting revision
	wantExit(t, start, 0, "")
	for i := 0; i < 20; i++ {
		e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, fmt.Sprintf("m%02d", i))
	}
	fw := e.follow(t, "--text-only")
	for i := 0; i < 20; i++ {
		if l := fw.next(t); l["text"] != fmt.Sprintf("m%02d", i) {
			t.Fatalf("line %d = %v", i, l)
		}
	}
	select {
	case l := <-fw.lines:
		t.Fatalf("extra line %v", l)
	case <-time.After(300 * time.Millisecond):
	}
	fw.stop(t)
	if n := count(e.sim.CallNames(), "receive"); n < 7 {
		t.Fatalf("only %d connections: the drops did not happen", n)
	}
}

func TestStreamClosedByServerThenMore(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.CloseStreamWhenIdle(true)
	fw := e.follow(t, "--text-only")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 0 })
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "one")
	if l := fw.next(t); l["text"] != "one" {
		t.Fatal(l)
	}
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "two")
	if l := fw.next(t); l["text"] != "two" {
		t.Fatal(l)
	}
	fw.stop(t)
}

func TestFullSyncBadDataAndExpiredToken(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "receive", "--wait", "200ms")
	e.sim.InjectEvent(simgw.AliceMID, "", "{not json")
	e.sim.InjectEvent(simgw.AliceMID, "mystery", "{}")
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "before sync")
	next := e.sim.Revision() + 100
	e.sim.InjectEvent(simgw.AliceMID, "fullSync", fmt.Sprintf(`{"reasons":[1],"nextRevision":"%d"}`, next))
	r := e.must("", "receive", "--wait", "300ms")
	var types []string
	for _, l := range r.lines(t) {
		types = append(types, fmt.Sprint(l["type"], ":", l["opName"], l["event"]))
	}
	if got := strings.Join(types, " "); got != "operation:RECEIVE_MESSAGE<nil> notice:<nil>fullSync" {
		t.Fatalf("lines %s\nstderr %s", got, r.stderr)
	}
	if !strings.Contains(r.stderr, "unknown event") || !strings.Contains(r.stderr, "badData") {
		t.Fatalf("bad data not reported: %s", r.stderr)
	}
	// The token expires while following: refreshed, nothing lost.
	fw := e.follow(t, "--text-only")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 1 })
	e.sim.ExpireTokens()
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "after expiry")
	if l := fw.next(t); l["text"] != "after expiry" {
		t.Fatal(l)
	}
	fw.stop(t)
}

func TestOnlyOneReceivePerConfig(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	fw := e.follow(t)
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 0 })
	wantExit(t, e.run("", "receive", "--follow"), 5, "already_running")
	fw.stop(t)
}
