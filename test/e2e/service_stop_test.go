//go:build linux || darwin || freebsd

package e2e

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A service stopped by SIGTERM (systemd's stop) shuts down cleanly and exits
// 0: no error line, no "context canceled". Ctrl-C (SIGINT) keeps 130.
func TestServicesStopCleanlyOnSIGTERM(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   func(*testing.T) *env // nil: a logged-in simulator account
		args  []string
		ready string // the stdout line type that says it is running ("" = the receive stream is open)
		sig   syscall.Signal
		want  int
	}{
		{"receive --follow", nil, []string{"receive", "--follow"}, "", syscall.SIGTERM, 0},
		{"notify serve", nil, []string{"notify", "serve", "--listen", "127.0.0.1:0"}, "notify-serve", syscall.SIGTERM, 0},
		{"gateway-agent", nil, []string{"gateway-agent", "--idle", "0"}, "gateway-agent", syscall.SIGTERM, 0},
		{"signer agent", agentEnv, []string{"signer", "agent", "--idle", "0"}, "signer-agent", syscall.SIGTERM, 0},
		{"sandbox", nil, []string{"sandbox", "--addr", "127.0.0.1:0"}, "sandbox", syscall.SIGTERM, 0},
		{"receive --follow, Ctrl-C", nil, []string{"receive", "--follow"}, "", syscall.SIGINT, 130},
		{"notify serve, Ctrl-C", nil, []string{"notify", "serve", "--listen", "127.0.0.1:0"}, "notify-serve", syscall.SIGINT, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			if tc.env != nil {
				e = tc.env(t)
			} else {
				e = newEnv(t)
				e.loginQR()
			}
			cmd := exec.Command(binary, tc.args...)
			cmd.Env = e.environ()
			var stderr syncBuffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			ready := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					var l map[string]any
					if json.Unmarshal(sc.Bytes(), &l) == nil && tc.ready != "" && l["type"] == tc.ready {
						close(ready)
					}
				}
			}()
			if tc.ready == "" {
				waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 0 })
			} else {
				select {
				case <-ready:
				case <-time.After(15 * time.Second):
					t.Fatalf("%s did not start; stderr:\n%s", tc.name, stderr.String())
				}
			}
			_ = cmd.Process.Signal(tc.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var code int
			select {
			case err := <-done:
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s did not stop within 30s of %v", tc.name, tc.sig)
			}
			s := stderr.String()
			if code != tc.want {
				t.Fatalf("exit %d after %v, want %d; stderr:\n%s", code, tc.sig, tc.want, s)
			}
			if strings.Contains(s, "context canceled") {
				t.Fatalf("stderr speaks Go, not words:\n%s", s)
			}
			if tc.want == 0 && (strings.Contains(s, `"type":"error"`) || !strings.Contains(s, "stopped (SIGTERM)")) {
				t.Fatalf("a clean stop has no error line and says it stopped:\n%s", s)
			}
			if tc.want == 130 && !strings.Contains(s, "interrupted by SIGINT") {
				t.Fatalf("stderr does not say what interrupted it:\n%s", s)
			}
		})
	}
}
