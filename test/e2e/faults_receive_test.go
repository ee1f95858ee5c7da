package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// kill9 ends a follower with SIGKILL: nothing is finished, nothing saved at exit.
func (fw *follower) kill9(t *testing.T) {
	t.Helper()
	fw.cmd.Process.Kill()
	<-fw.done
	fw.cmd.Wait()
}

// startPosition runs receive once so a position is saved before messages arrive.
func (e *env) startPosition(t *testing.T) {
	t.Helper()
	wantExit(t, e.run("", "receive", "--wait", "200ms"), 0, "")
}

// texts of the message lines of a run.
func messageTexts(t *testing.T, r result) []string {
	t.Helper()
	var out []string
	for _, l := range r.lines(t) {
		if l["type"] == "message" {
			out = append(out, fmt.Sprint(l["text"]))
		}
	}
	return out
}

func injectN(e *env, prefix string, from, n int) {
	for i := from; i < from+n; i++ {
		e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, fmt.Sprintf("%s%02d", prefix, i))
	}
}

// expectTexts reads the next len(want) lines of fw and then checks that no
// other line arrives for quiet.
func (fw *follower) expectTexts(t *testing.T, want []string, quiet time.Duration) {
	t.Helper()
	for i, w := range want {
		if l := fw.next(t); l["text"] != w {
			t.Fatalf("line %d = %v, want %q", i, l, w)
		}
	}
	select {
	case l := <-fw.lines:
		t.Fatalf("extra line %v", l)
	case <-time.After(quiet):
	}
}

func names(prefix string, from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("%s%02d", prefix, i))
	}
	return out
}

// #17.5: a burst followed by silence is saved; kill -9 repeats nothing.
func TestFaultReceiveKillAfterBurstRepeatsNothing(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.startPosition(t)
	for run, burst := range []int{12, 1, 30, 3, 7} {
		before := count(e.sim.CallNames(), "receive")
		fw := e.follow(t, "--text-only")
		waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > before })
		prefix := fmt.Sprintf("r%d-", run)
		injectN(e, prefix, 0, burst)
		fw.expectTexts(t, names(prefix, 0, burst), 0)
		time.Sleep(time.Second) // idle: nothing more arrives, no later event to piggy-back a save on
		fw.kill9(t)
		if got := messageTexts(t, e.must("", "receive", "--wait", "300ms", "--text-only")); len(got) != 0 {
			t.Fatalf("run %d: after kill -9 following a burst and an idle second, %d repeated: %v", run, len(got), got)
		}
	}
}

// #17.6: a stream that goes silent (no event, no ping) is left and resumed.
func TestFaultReceiveStalledStreamResumes(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.PingInterval = 100 * time.Millisecond })
	e.loginQR()
	e.startPosition(t)
	fw := e.follow(t, "--text-only", "--stall-timeout", "1s")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 1 })
	injectN(e, "a", 0, 2)
	fw.expectTexts(t, names("a", 0, 2), 0)
	time.Sleep(1500 * time.Millisecond) // pings keep a healthy connection alive past the bound
	if n := count(e.sim.CallNames(), "receive"); n != 2 {
		t.Fatalf("%d connections: a pinging stream was taken for a stalled one", n)
	}
	e.sim.StallStreams()      // the open connection goes silent
	e.sim.StallNextStreams(1) // and the next one answers, then says nothing
	injectN(e, "b", 0, 3)
	start := time.Now()
	fw.expectTexts(t, names("b", 0, 3), 300*time.Millisecond)
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("resumed after %v; two stalls of a 1s bound should take about 2s", el)
	}
	if code := fw.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if s := fw.err.String(); strings.Count(s, "stalled") < 2 {
		t.Fatalf("stalls not reported on stderr:\n%s", s)
	}
}

// #17.6: drops every 3 events after progress: everything arrives quickly, once.
func TestFaultReceiveFollowDropsEvery3Quick(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.startPosition(t)
	e.sim.DropStreamEvery(3)
	injectN(e, "m", 0, 90)
	start := time.Now()
	fw := e.follow(t, "--text-only")
	fw.expectTexts(t, names("m", 0, 90), 500*time.Millisecond)
	if el := time.Since(start) - 500*time.Millisecond; el > 3*time.Second {
		t.Fatalf("90 operations with a drop every 3 took %v: reconnects after progress must not back off", el)
	}
	fw.stop(t)
	if got := messageTexts(t, e.must("", "receive", "--wait", "300ms", "--text-only")); len(got) != 0 {
		t.Fatalf("repeated after restart: %v", got)
	}
}

// #17.6: while reconnecting fails, every failure says so with the next delay.
func TestFaultReceiveFollowReportsEachFailedReconnect(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.startPosition(t)
	fw := e.follow(t, "--text-only")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 1 })
	e.sim.StreamDownAfter(0)
	e.sim.Stop() // the open connection ends; the listener is gone
	time.Sleep(1200 * time.Millisecond)
	if err := e.sim.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	e.sim.StreamDownAfter(-1)
	injectN(e, "x", 0, 2)
	fw.next(t) // arrives within next's 10s, after a backoff of a few seconds at most
	fw.stop(t)
	if n := strings.Count(fw.err.String(), "reconnecting in"); n < 3 {
		t.Fatalf("%d failed reconnects reported with their delay, want every one (≥3):\n%s", n, fw.err.String())
	}
}

// #16: without --follow, dropped connections are reconnected until caught up.
func TestFaultReceiveCatchUpThroughDrops(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.startPosition(t)
	e.sim.DropStreamEvery(4)
	injectN(e, "m", 0, 30)
	r := e.run("", "receive", "--wait", "300ms", "--text-only")
	wantExit(t, r, 0, "")
	if got, want := strings.Join(messageTexts(t, r), ","), strings.Join(names("m", 0, 30), ","); got != want {
		t.Fatalf("printed %s\nwant %s\nstderr:\n%s", got, want, r.stderr)
	}
	if got := messageTexts(t, e.must("", "receive", "--wait", "300ms", "--text-only")); len(got) != 0 {
		t.Fatalf("repeated: %v", got)
	}
}

// #16: the gateway goes down during a catch-up: exit 5, position saved; the next run prints the rest once.
func TestFaultReceiveCatchUpGatewayDown(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.startPosition(t)
	e.sim.DropStreamEvery(5)
	e.sim.StreamDownAfter(2) // two connections of 5 operations each, then the stream is down
	injectN(e, "m", 0, 30)
	start := time.Now()
	r := e.run("", "--timeout", "2s", "receive", "--wait", "300ms", "--text-only")
	wantExit(t, r, 5, "network")
	if el := time.Since(start); el > 8*time.Second {
		t.Fatalf("gave up after %v with --timeout 2s", el)
	}
	first := messageTexts(t, r)
	if strings.Join(first, ",") != strings.Join(names("m", 0, 10), ",") {
		t.Fatalf("first run printed %v\nstderr:\n%s", first, r.stderr)
	}
	if !strings.Contains(r.stderr, "reconnecting in") || !strings.Contains(r.stderr, "run again") {
		t.Fatalf("stderr does not tell what happened:\n%s", r.stderr)
	}
	e.sim.StreamDownAfter(-1)
	r2 := e.must("", "receive", "--wait", "300ms", "--text-only")
	if got, want := strings.Join(messageTexts(t, r2), ","), strings.Join(names("m", 10, 20), ","); got != want {
		t.Fatalf("second run printed %s\nwant %s", got, want)
	}
}

// #17.5: a full disk: the failed save is reported and retried; once there is
// room again the position is saved without any new event, and kill -9
// repeats nothing.
func TestFaultReceiveFullDiskSaveRetried(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	e := newEnv(t)
	e.config = filepath.Join(dir, "linectl", "config.yaml")
	e.loginQR()
	e.startPosition(t)
	fw := e.follow(t, "--text-only")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 1 })
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	injectN(e, "d", 0, 5)
	fw.expectTexts(t, names("d", 0, 5), 0)
	waitFor(t, func() bool { return strings.Contains(fw.err.String(), "position not saved") })
	os.Remove(filler)
	waitFor(t, func() bool { return strings.Contains(fw.err.String(), "position saved again") })
	fw.kill9(t)
	if got := messageTexts(t, e.must("", "receive", "--wait", "300ms", "--text-only")); len(got) != 0 {
		t.Fatalf("repeated after the disk had room again: %v", got)
	}
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}
