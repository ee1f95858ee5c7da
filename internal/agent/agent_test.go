//go:build linux || darwin || freebsd

package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// shortTemp is a temporary directory with a short path (socket paths are
// limited to about 100 bytes).
func shortTemp(t *testing.T) string {
	d, err := os.MkdirTemp("", "ag")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Without XDG_RUNTIME_DIR (cron), a private /run/user/<uid> is used, so a
// cron job finds an agent run as a systemd user service; otherwise <tmp>.
func TestSocketDirWithoutXDGRuntimeDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	tmp := shortTemp(t)
	t.Setenv("TMPDIR", tmp)
	run := shortTemp(t)
	saved := systemRuntimeDir
	systemRuntimeDir = run
	defer func() { systemRuntimeDir = saved }()
	dir, err := socketDir(true)
	if err != nil || dir != filepath.Join(tmp, "linectl-"+strconv.Itoa(os.Getuid())) {
		t.Fatalf("no runtime dir: %q %v", dir, err)
	}
	user := filepath.Join(run, strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(user, 0o700); err != nil {
		t.Fatal(err)
	}
	if dir, err := socketDir(true); err != nil || dir != filepath.Join(user, "linectl") {
		t.Fatalf("with /run/user/<uid>: %q %v", dir, err)
	}
	os.Chmod(user, 0o755) // not private: not used
	if dir, err := socketDir(true); err != nil || dir != filepath.Join(tmp, "linectl-"+strconv.Itoa(os.Getuid())) {
		t.Fatalf("open runtime dir: %q %v", dir, err)
	}
}

type status struct{ N int }

// echo is a minimal agent: ping answers its status, stop ends it.
func echo(loop *Loop, st status) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		line, err := ReadLine(bufio.NewReader(c))
		if err != nil {
			return
		}
		loop.Touch()
		var q struct{ Op string }
		_ = json.Unmarshal(line, &q)
		_ = json.NewEncoder(c).Encode(st)
		if q.Op == "stop" {
			loop.Stop()
		}
	}
}

// One lifecycle for every agent: the first run serves, a second finds it
// running, --stop stops it, and a --stop with none finds none.
func TestLifecycle(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", shortTemp(t))
	sock, err := SocketPath("test.sock", true)
	if err != nil {
		t.Fatal(err)
	}
	var states []State
	life := Lifecycle[status]{
		Socket: sock,
		Stop: func(ctx context.Context) (status, bool, error) {
			var st status
			if err := Ask(ctx, sock, map[string]string{"op": "stop"}, &st); err != nil {
				return st, false, nil
			}
			return st, true, nil
		},
		Report: func(s State, st *status) error {
			if (st != nil) != (s == Running || s == Stopped) {
				t.Errorf("%s with status %v", s, st)
			}
			states = append(states, s)
			return nil
		},
	}
	running := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- life.Run(context.Background(), func() (status, func(context.Context, net.Listener) error, error) {
			loop := NewLoop(0, nil, 10*time.Millisecond)
			return status{7}, func(ctx context.Context, ln net.Listener) error {
				close(running)
				return loop.Serve(ctx, ln, echo(loop, status{7}))
			}, nil
		})
	}()
	<-running
	if err := life.Run(context.Background(), func() (status, func(context.Context, net.Listener) error, error) {
		t.Fatal("a second agent opened")
		return status{}, nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	var st status
	if err := Ask(context.Background(), sock, map[string]string{"op": "ping"}, &st); err != nil || st.N != 7 {
		t.Fatalf("ping: %v %v", st, err)
	}
	if err := life.StopRunning(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := life.StopRunning(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []State{Running, AlreadyRunning, Stopped, NotRunning}
	if len(states) != len(want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states %v, want %v", states, want)
		}
	}
	// open's error is the run's; the socket is free again after.
	bad := errors.New("module missing")
	if err := life.Run(context.Background(), func() (status, func(context.Context, net.Listener) error, error) {
		return status{}, nil, bad
	}); err != bad {
		t.Fatalf("open error: %v", err)
	}
	ln, closeFn, err := Listen(sock)
	if err != nil {
		t.Fatalf("socket kept after a failed open: %v", err)
	}
	ln.Close()
	closeFn()
}

// A socket that cannot be taken is a *SocketError.
func TestLifecycleSocketError(t *testing.T) {
	life := Lifecycle[status]{Socket: filepath.Join(shortTemp(t), "missing", "x.sock")}
	err := life.Run(context.Background(), nil)
	var se *SocketError
	if !errors.As(err, &se) {
		t.Fatalf("%T %v", err, err)
	}
}

// The loop ends when idle, and when Watch says so.
func TestLoopEnds(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", shortTemp(t))
	for name, loop := range map[string]*Loop{
		"idle":  NewLoop(time.Nanosecond, nil, time.Millisecond),
		"watch": NewLoop(0, func() bool { return false }, time.Millisecond),
	} {
		sock, _ := SocketPath(name+".sock", true)
		ln, closeFn, err := Listen(sock)
		if err != nil {
			t.Fatal(err)
		}
		if err := loop.Serve(context.Background(), ln, func(c net.Conn) { c.Close() }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		closeFn()
	}
}
