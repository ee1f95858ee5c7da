//go:build linux || darwin || freebsd

package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentEnv imports the project's test module (the wasm signer against the
// real gateway's URL; nothing is sent) with the signer agent in auto mode.
func agentEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.extra = []string{"LINECTL_SIGNER_COMMAND=", "LINECTL_GATEWAY=https://line-chrome-gw.line-apps.com", "XDG_CACHE_HOME=" + filepath.Join(filepath.Dir(e.config), "cache")}
	e.must("", "signer", "import", "../../testdata/ltsm/testmodule.wasm", "--allow-unknown-build")
	e.extra = append(e.extra, "LINECTL_SIGNER_AGENT=auto")
	t.Cleanup(func() { e.run("", "signer", "agent", "--stop") })
	return e
}

func (e *env) sign(stdin string) string {
	e.t.Helper()
	args := []string{"signer", "sign", "--path", "/api/talk/thrift/Talk/TalkService/sendMessage", "--body", `[1,{"text":"hi"}]`}
	if stdin != "" {
		args = append(args, "--access-token-stdin")
	}
	return e.must(stdin, args...).first(e.t, "signature")["xHmac"].(string)
}

// agentPID returns the running agent's pid from signer status (0: none).
func (e *env) agentPID() int {
	e.t.Helper()
	l := e.must("", "signer", "status").first(e.t, "signer")
	a, ok := l["agent"].(map[string]any)
	if !ok {
		return 0
	}
	return int(a["pid"].(float64))
}

// agentSocket reports whether an agent socket exists (without running linectl).
func (e *env) agentSocket() bool {
	matches, _ := filepath.Glob(filepath.Join(e.runtime, "linectl", "*.sock"))
	return len(matches) > 0
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func TestSignerAgentStartsAndSignsTheSame(t *testing.T) {
	e := agentEnv(t)
	off := append([]string(nil), e.extra...)
	e.extra = append(e.extra, "LINECTL_SIGNER_AGENT=off")
	want, wantTok := e.sign(""), e.sign("access-token\n")
	if e.agentSocket() {
		t.Fatal("signer.agent off started an agent")
	}
	e.extra = off

	// A run that loads the module within signer.agentIdle of another starts
	// an agent for the runs that follow (the runs above, with the agent off,
	// do not count: they leave nothing behind). An hourly job never starts one.
	if got := e.sign(""); got != want {
		t.Fatalf("in-process with auto: %s, want %s", got, want)
	}
	time.Sleep(300 * time.Millisecond)
	if e.agentSocket() {
		t.Fatal("the first run started an agent")
	}
	if got := e.sign(""); got != want {
		t.Fatalf("second in-process run: %s, want %s", got, want)
	}
	var pid int
	waitFor(t, func() bool { pid = e.agentPID(); return pid != 0 })
	st, err := os.Stat(filepath.Join(e.runtime, "linectl"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v %v", st, err)
	}
	for i := 0; i < 3; i++ {
		if got := e.sign(""); got != want {
			t.Fatalf("through the agent: %s, want %s", got, want)
		}
	}
	if got := e.sign("access-token\n"); got != wantTok {
		t.Fatalf("through the agent with a token: %s, want %s", got, wantTok)
	}
	l := e.must("", "signer", "status").first(t, "signer")
	if a := l["agent"].(map[string]any); a["signatures"].(float64) < 4 || l["agentMode"] != "auto" {
		t.Fatalf("status %v", l)
	}
	// Only one agent: another start finds it running.
	r := e.must("", "signer", "agent")
	if r.first(t, "signer-agent")["state"] != "already-running" {
		t.Fatalf("second agent: %s", r.stdout)
	}

	// An agent killed hard leaves a socket nobody answers: runs sign by
	// themselves and a new agent takes over.
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, func() bool { return !alive(pid) })
	if got := e.sign(""); got != want {
		t.Fatalf("after the agent died: %s", got)
	}
	var pid2 int
	waitFor(t, func() bool { pid2 = e.agentPID(); return pid2 != 0 && pid2 != pid })

	// --stop ends it; a second --stop says nothing runs.
	r = e.must("", "signer", "agent", "--stop")
	if l := r.first(t, "signer-agent"); l["state"] != "stopped" {
		t.Fatalf("stop: %s", r.stdout)
	}
	waitFor(t, func() bool { return !alive(pid2) })
	if r := e.must("", "signer", "agent", "--stop"); r.first(t, "signer-agent")["state"] != "not-running" {
		t.Fatalf("second stop: %s", r.stdout)
	}
}

func TestSignerAgentEndsWithItsImport(t *testing.T) {
	e := agentEnv(t)
	e.sign("")
	var pid int
	waitFor(t, func() bool { pid = e.agentPID(); return pid != 0 })
	// A new import (here the same file again) retires the agent serving the old one.
	e.must("", "signer", "import", "../../testdata/ltsm/testmodule.wasm", "--allow-unknown-build")
	waitFor(t, func() bool { return !alive(pid) })

	e.sign("")
	waitFor(t, func() bool { pid = e.agentPID(); return pid != 0 })
	// Removing the configuration (uninstall, or a test's temporary directory) ends it too.
	if err := os.RemoveAll(filepath.Join(filepath.Dir(e.config), "signer")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !alive(pid) })
}

func TestSignerAgentForegroundIdle(t *testing.T) {
	e := agentEnv(t)
	cmd := exec.Command(binary, "signer", "agent", "--idle", "1s")
	cmd.Env = e.environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, err := bufio.NewReader(stdout).ReadBytes('\n')
	var l map[string]any
	if err != nil || json.Unmarshal(first, &l) != nil || l["type"] != "signer-agent" || l["state"] != "running" {
		t.Fatalf("agent line %q: %v", first, err)
	}
	go io.Copy(io.Discard, stdout)
	if e.agentPID() != cmd.Process.Pid {
		t.Fatal("runs do not use the foreground agent")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("idle agent exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("agent did not idle out")
	}
	// A group- or world-accessible socket directory is refused: runs sign by themselves.
	os.Chmod(filepath.Join(e.runtime, "linectl"), 0o755)
	r := e.run("", "signer", "sign", "--path", "/x", "--body", "")
	if r.code != 0 {
		t.Fatalf("sign with an open socket directory: %d %s", r.code, r.stderr)
	}
	if r := e.run("", "signer", "agent"); r.code != 2 || !strings.Contains(r.stderr, "open to other users") {
		t.Fatalf("agent with an open socket directory: %d %s", r.code, r.stderr)
	}
}

// Twenty runs at once with no agent up and a recent run behind them: every
// one signs correctly, each may try to start an agent, and one agent remains.
func TestSignerAgentManyRunsAtOnce(t *testing.T) {
	e := agentEnv(t)
	want := e.sign("") // also the recent run that makes the next ones start an agent
	type res struct {
		sig  string
		code int
		err  string
	}
	out := make(chan res, 20)
	for i := 0; i < 20; i++ {
		go func() {
			cmd := exec.Command(binary, "signer", "sign", "--path", "/api/talk/thrift/Talk/TalkService/sendMessage", "--body", `[1,{"text":"hi"}]`)
			cmd.Env = e.environ()
			var so, se strings.Builder
			cmd.Stdout, cmd.Stderr = &so, &se
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			var l map[string]any
			json.Unmarshal([]byte(so.String()), &l)
			sig, _ := l["xHmac"].(string)
			out <- res{sig, code, se.String()}
		}()
	}
	for i := 0; i < 20; i++ {
		r := <-out
		if r.code != 0 || r.sig != want {
			t.Fatalf("run %d: exit %d sig %q (want %q): %s", i, r.code, r.sig, want, r.err)
		}
	}
	var pid int
	waitFor(t, func() bool { pid = e.agentPID(); return pid != 0 })
	time.Sleep(500 * time.Millisecond) // let any losing agents see the lock and leave
	if runtime.GOOS == "linux" {
		if n := agentsFor(e.config); n != 1 {
			t.Fatalf("%d agents running, want 1", n)
		}
	}
}

// agentsFor counts the signer agents serving a config (Linux: /proc).
func agentsFor(config string) int {
	n := 0
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "signer\x00agent") && strings.Contains(string(b), config) {
			n++
		}
	}
	return n
}
