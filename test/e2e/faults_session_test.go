package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// sessDisk is the config directory on a small tmpfs of its own, so a test
// can fill it or make it read-only.
type sessDisk struct {
	t      *testing.T
	dir    string
	filler string
}

// mountConfigDisk mounts a tmpfs over e's config directory (before login);
// the test is skipped where mounting is not allowed (not root, no
// CAP_SYS_ADMIN).
func mountConfigDisk(t *testing.T, e *env) *sessDisk {
	t.Helper()
	dir := filepath.Dir(e.config)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return &sessDisk{t: t, dir: dir, filler: filepath.Join(dir, "filler")}
}

// fill takes every free byte of the tmpfs.
func (d *sessDisk) fill() {
	d.t.Helper()
	f, err := os.OpenFile(d.filler, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space") {
				d.t.Fatal(err)
			}
			break
		}
	}
	// Small writes too, until not one byte fits.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	_ = f.Sync()
}

// free gives the space back.
func (d *sessDisk) free() {
	d.t.Helper()
	if err := os.Remove(d.filler); err != nil && !os.IsNotExist(err) {
		d.t.Fatal(err)
	}
}

// readOnly remounts the tmpfs read-only (on) or read-write.
func (d *sessDisk) readOnly(on bool) {
	d.t.Helper()
	opt := "remount,rw"
	if on {
		opt = "remount,ro"
	}
	if out, err := exec.Command("mount", "-o", opt, d.dir).CombinedOutput(); err != nil {
		d.t.Fatalf("mount -o %s: %v: %s", opt, err, out)
	}
}

// A full or read-only config disk: the name cache cannot be written, so
// send --to-name warns and sends.
func TestFaultSessionToNameWithBrokenDisk(t *testing.T) {
	for _, mode := range []string{"full", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			d := mountConfigDisk(t, e)
			e.loginQR()
			if mode == "full" {
				d.fill()
			} else {
				d.readOnly(true)
				defer d.readOnly(false)
			}
			r := e.must("", "send", "--to-name", "Family", "cache or not")
			t.Logf("stderr:\n%s", r.stderr)
			if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "directory-cache.json") {
				t.Fatalf("no warning about the cache on stderr:\n%s", r.stderr)
			}
			if n := len(e.sim.Messages()); n != 1 {
				t.Fatalf("%d messages sent, want 1", n)
			}
			r.first(t, "sent")
		})
	}
}

// A refresh that falls due while the config disk is full or read-only: the
// run goes on with the current token (nothing is asked of LINE, so nothing
// is lost), and once the disk is usable again a later run refreshes.
func TestFaultSessionDueRefreshWithBrokenDisk(t *testing.T) {
	for _, mode := range []string{"full", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, func(o *simgw.Options) { o.RefreshAfter = time.Second })
			d := mountConfigDisk(t, e)
			e.loginQR()
			before := e.accessToken()
			time.Sleep(1100 * time.Millisecond) // the refresh falls due by the client's clock
			if mode == "full" {
				d.fill()
			} else {
				d.readOnly(true)
			}
			r := e.must("", "send", "--to", simgw.FamilyMID, "due but no disk")
			t.Logf("stderr:\n%s", r.stderr)
			if !strings.Contains(r.stderr, "due for refresh") || !strings.Contains(r.stderr, e.config) {
				t.Fatalf("stderr does not explain the skipped refresh:\n%s", r.stderr)
			}
			if n := count(e.sim.CallNames(), "tokenRefresh"); n != 0 {
				t.Fatalf("%d refreshes with no room to save them", n)
			}
			if mode == "full" {
				d.free()
			} else {
				d.readOnly(false)
			}
			e.must("", "send", "--to", simgw.FamilyMID, "disk back")
			if n := count(e.sim.CallNames(), "tokenRefresh"); n != 1 {
				t.Fatalf("%d refreshes once the disk is back, want 1", n)
			}
			if after := e.accessToken(); after == before || after == "" {
				t.Fatal("the new token was not saved")
			}
			e.must("", "whoami")
			if n := len(e.sim.Messages()); n != 2 {
				t.Fatalf("%d messages, want 2", n)
			}
		})
	}
}

// The token expired at LINE (119) while the config disk is full or
// read-only: the refresh cannot be saved, so it is not made: exit 5 kind
// "disk" naming the config, nothing sent, and the session survives.
func TestFaultSessionExpiredTokenWithBrokenDisk(t *testing.T) {
	for _, mode := range []string{"full", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			d := mountConfigDisk(t, e)
			e.loginQR()
			e.sim.ExpireTokens()
			if mode == "full" {
				d.fill()
			} else {
				d.readOnly(true)
			}
			r := e.run("", "send", "--to", simgw.FamilyMID, "expired, no disk")
			wantExit(t, r, 5, "disk")
			t.Logf("stderr:\n%s", r.stderr)
			if !strings.Contains(r.stderr, e.config) {
				t.Fatalf("the error does not name the config:\n%s", r.stderr)
			}
			if len(e.sim.Messages()) != 0 || count(e.sim.CallNames(), "tokenRefresh") != 0 {
				t.Fatalf("calls %v, messages %d", e.sim.CallNames(), len(e.sim.Messages()))
			}
			if mode == "full" {
				d.free()
			} else {
				d.readOnly(false)
			}
			e.must("", "send", "--to", simgw.FamilyMID, "disk back")
			e.must("", "whoami")
		})
	}
}

// The refresh is done at LINE but its answer is lost (the connection is cut
// after processing): linectl retries with the same refresh token, per the
// retry policy, and the session lives on.
func TestFaultSessionDroppedRefreshAnswer(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.ExpireTokens()
	e.sim.DropRefreshAnswers(2)
	e.must("", "send", "--to", simgw.FamilyMID, "after a lost refresh")
	if n := count(e.sim.CallNames(), "tokenRefresh"); n != 3 {
		t.Fatalf("%d tokenRefresh calls, want 3 (two answers lost)", n)
	}
	e.must("", "whoami")
	e.must("", "session", "refresh")
	e.must("", "send", "--to", simgw.FamilyMID, "later")
	if n := len(e.sim.Messages()); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}

// Every answer lost, past the retry policy: the run fails as temporary
// (5), the tokens stay, and the next run refreshes with them.
func TestFaultSessionAllRefreshAnswersLost(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.ExpireTokens()
	e.sim.DropRefreshAnswers(100)
	r := e.run("", "whoami")
	wantExit(t, r, 5, "")
	if !strings.Contains(e.configText(), "refreshToken:") {
		t.Fatal("tokens removed after lost answers")
	}
	e.sim.DropRefreshAnswers(0)
	e.must("", "whoami")
	e.must("", "send", "--to", simgw.FamilyMID, "still here")
}

// A refresh slower than --timeout: linectl gives up on the answer and asks
// again with the same refresh token; the slow one still commits at LINE.
func TestFaultSessionRefreshTimeout(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.ExpireTokens()
	e.sim.SlowRefreshes(1500 * time.Millisecond)
	done := make(chan result, 1)
	go func() { done <- e.run("", "--timeout", "1s", "send", "--to", simgw.FamilyMID, "slow refresh") }()
	waitCalls(t, e, "tokenRefresh", 1)
	e.sim.SlowRefreshes(0) // the retry is answered at once
	r := <-done
	wantExit(t, r, 0, "")
	if n := count(e.sim.CallNames(), "tokenRefresh"); n < 2 {
		t.Fatalf("%d tokenRefresh calls, want a retry", n)
	}
	time.Sleep(600 * time.Millisecond) // the slow request commits late: harmless
	e.must("", "whoami")
	e.must("", "send", "--to", simgw.FamilyMID, "later")
}

// kill -9 while the refresh is at LINE: LINE issues new tokens no one
// saved; the next run refreshes again with the same refresh token.
func TestFaultSessionKilledMidRefresh(t *testing.T) {
	for _, due := range []bool{false, true} {
		name := "expired"
		if due {
			name = "due"
		}
		t.Run(name, func(t *testing.T) {
			var opts []func(*simgw.Options)
			if due {
				opts = append(opts, func(o *simgw.Options) { o.RefreshAfter = time.Second })
			}
			e := newEnv(t, opts...)
			e.loginQR()
			if due {
				time.Sleep(1100 * time.Millisecond)
			} else {
				e.sim.ExpireTokens()
			}
			e.sim.SlowRefreshes(700 * time.Millisecond)
			cmd := exec.Command(binary, "send", "--to", simgw.FamilyMID, "killed")
			cmd.Env = e.environ()
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitCalls(t, e, "tokenRefresh", 1)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			time.Sleep(900 * time.Millisecond) // LINE finishes the refresh for no one
			e.sim.SlowRefreshes(0)
			if len(e.sim.Messages()) != 0 {
				t.Fatal("a message went out before the refresh")
			}
			e.must("", "send", "--to", simgw.FamilyMID, "after the kill")
			e.must("", "whoami")
			if n := len(e.sim.Messages()); n != 1 {
				t.Fatalf("%d messages, want 1", n)
			}
		})
	}
}

// With a gateway that refuses a retired refresh token at once, a lost
// answer does end the session — truthfully, with exit 3 and a message.
func TestFaultSessionLostAnswerStrictRotation(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.StrictRefreshRotation(true)
	e.sim.ExpireTokens()
	e.sim.DropRefreshAnswers(1)
	r := e.run("", "send", "--to", simgw.FamilyMID, "x")
	wantExit(t, r, 3, "session_ended")
	if len(e.sim.Messages()) != 0 {
		t.Fatal("sent")
	}
}

// waitCalls waits until the simulator has seen n calls of method.
func waitCalls(t *testing.T, e *env, method string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for count(e.sim.CallNames(), method) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %s call after 10s: %v", method, e.sim.CallNames())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
