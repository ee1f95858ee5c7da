//go:build linux || darwin || freebsd

package signagent

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// start serves a fake signer on a fresh socket and returns its path and a
// channel that gets Serve's result.
func start(t *testing.T, s *Server) (string, chan error) {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", shortTemp(t))
	path, err := SocketPath("test")
	if err != nil {
		t.Fatal(err)
	}
	ln, closeFn, err := agent.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Signer == nil {
		s.Signer = lineapi.SignerFunc(func(_ context.Context, r lineapi.SignRequest) (string, error) {
			if r.Path == "/fail" {
				return "", errors.New("module refused")
			}
			return "sig:" + r.Path + ":" + r.AccessToken, nil
		})
	}
	done := make(chan error, 1)
	go func() { err := s.Serve(context.Background(), ln); closeFn(); done <- err }()
	t.Cleanup(func() {
		if c, err := Dial(path); err == nil {
			c.Stop(context.Background())
			c.Close()
		}
	})
	return path, done
}

// shortTemp is a temporary directory with a short path (socket paths are
// limited to about 100 bytes).
func shortTemp(t *testing.T) string {
	d, err := os.MkdirTemp("", "sa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestSignPingStop(t *testing.T) {
	path, done := start(t, &Server{Status: Status{PID: 42, Module: "abc", Version: "3.7.2"}})
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v %v", st, err)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir mode %v", st.Mode().Perm())
	}
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		sig, err := c.Sign(context.Background(), lineapi.SignRequest{Path: "/p", AccessToken: "tok"})
		if err != nil || sig != "sig:/p:tok" {
			t.Fatalf("sign: %q %v", sig, err)
		}
	}
	// A refusal by the signer is an error, but not "agent unavailable".
	if _, err := c.Sign(context.Background(), lineapi.SignRequest{Path: "/fail"}); err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "module refused") {
		t.Fatalf("refusal: %v", err)
	}
	st, err := c.Ping(context.Background())
	if err != nil || st.PID != 42 || st.Signatures != 3 || st.Version != "3.7.2" {
		t.Fatalf("ping %+v %v", st, err)
	}
	if _, err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not stop")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	// The connection is gone: the client says so with ErrUnavailable.
	if _, err := c.Sign(context.Background(), lineapi.SignRequest{Path: "/p"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after stop: %v", err)
	}
	if _, err := Dial(path); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("dial after stop: %v", err)
	}
}

func TestOneAgentPerSocketAndStaleSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", shortTemp(t))
	path, err := SocketPath("x")
	if err != nil {
		t.Fatal(err)
	}
	// A socket file left by an agent that was killed.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, closeFn, err := agent.Listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	if _, _, err := agent.Listen(path); !errors.Is(err, ErrRunning) {
		t.Fatalf("second agent: %v", err)
	}
	_ = ln
	closeFn()
	ln2, closeFn2, err := agent.Listen(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	ln2.Close()
	closeFn2()
}

func TestIdleAndWatchEndTheAgent(t *testing.T) {
	_, done := start(t, &Server{Idle: 50 * time.Millisecond, Poll: 10 * time.Millisecond})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("idle agent did not exit")
	}
	var gone atomic.Bool
	_, done = start(t, &Server{Poll: 10 * time.Millisecond, Watch: func() bool { return !gone.Load() }})
	gone.Store(true)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not notice its import went away")
	}
}

func TestBadRequests(t *testing.T) {
	path, _ := start(t, &Server{})
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, line := range []string{"not json", `{"op":"launch"}`, `[1,2]`, `{"op":"sign","path":7}`} {
		c.Write([]byte(line + "\n"))
		answer, err := r.ReadString('\n')
		if err != nil || !strings.Contains(answer, `"error":"bad request`) {
			t.Fatalf("%s: %q %v", line, answer, err)
		}
	}
	// A line over the limit is refused and the connection closed.
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = 'a'
	}
	go func() {
		for i := 0; i <= agent.MaxLine/len(big); i++ {
			if _, err := c.Write(big); err != nil {
				return
			}
		}
	}()
	answer, _ := r.ReadString('\n')
	if !strings.Contains(answer, "too long") {
		t.Fatalf("long line: %q", answer)
	}
}

func TestRefusesOpenDirectories(t *testing.T) {
	rt := shortTemp(t)
	t.Setenv("XDG_RUNTIME_DIR", rt)
	if err := os.Mkdir(filepath.Join(rt, "linectl"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(rt, "linectl"), 0o755)
	if _, err := SocketPath("x"); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Fatalf("SocketPath: %v", err)
	}
	if _, err := Dial(filepath.Join(rt, "linectl", "signer-x.sock")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Dial: %v", err)
	}
	// A symlink in place of the directory is refused too.
	os.Remove(filepath.Join(rt, "linectl"))
	os.Symlink(shortTemp(t), filepath.Join(rt, "linectl"))
	if _, err := SocketPath("x"); err == nil {
		t.Fatal("symlinked socket directory accepted")
	}
}

func FuzzRequestLine(f *testing.F) {
	for _, s := range []string{`{"op":"sign","path":"/a","body":"[2]","accessToken":"t","version":"3.7.2"}`, `{"op":"ping"}`, `{}`, "", "\n\n", `{"path":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReaderSize(strings.NewReader(string(b)), 16)
		for {
			line, err := agent.ReadLine(r)
			if err != nil {
				return
			}
			_, _ = parseRequest(line)
		}
	})
}
