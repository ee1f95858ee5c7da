// Package e2e runs the built linectl binary as a user would, against the
// project's gateway simulator (in this test process, on a loopback port).
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

var binary string

// parallel records the tests already marked parallel (a test may make two envs).
var parallel sync.Map

// coverDir, when set (LINECTL_E2E_COVERDIR, by make cover), is where the
// binary built with -cover writes its coverage (GOCOVERDIR).
var coverDir = os.Getenv("LINECTL_E2E_COVERDIR")

func TestMain(m *testing.M) {
	if rssHelper() { // this binary re-run to measure a linectl's memory (hostile_media_test.go)
		return
	}
	dir, err := os.MkdirTemp("", "linectl-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "linectl")
	args := []string{"build", "-o", binary}
	if coverDir != "" {
		// make cover: the binary records which statements the tests ran.
		args = append(args, "-cover", "-coverpkg=github.com/linectl/linectl/...")
	}
	build := exec.Command("go", append(args, "../..")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build failed:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testKey = "e2e-signing-key"

// env is one user's machine: a simulator, a config directory, the binary.
type env struct {
	t      *testing.T
	sim    *simgw.Server
	url    string
	config string
	extra  []string
	// runtime is XDG_RUNTIME_DIR (signer agent sockets; a short path, as socket paths are limited).
	runtime string
}

// newEnv is the sandbox with Alice's Letter Sealing off: the tests of
// plain sends, receive and sessions. newSandboxEnv keeps it as shipped.
func newEnv(t *testing.T, opts ...func(*simgw.Options)) *env {
	t.Helper()
	e := newSandboxEnv(t, opts...)
	e.sim.SetLetterSealing(simgw.AliceMID, false)
	return e
}

// newSandboxEnv is the sandbox exactly as `linectl sandbox` runs it.
//
// Each env is isolated (its own simulator, config directory and runtime
// directory), so the test runs in parallel with the others.
func newSandboxEnv(t *testing.T, opts ...func(*simgw.Options)) *env {
	t.Helper()
	if _, again := parallel.LoadOrStore(t, true); !again {
		t.Parallel()
	}
	o := simgw.Options{SigningKey: []byte(testKey), PhoneDelay: 30 * time.Millisecond, MaxPollWait: 2 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	sim := simgw.NewSandbox(o)
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	rt, err := os.MkdirTemp("", "lc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rt) })
	return &env{t: t, sim: sim, url: url, config: filepath.Join(t.TempDir(), "linectl", "config.yaml"), runtime: rt}
}

// result is one run of the binary.
type result struct {
	code   int
	stdout string
	stderr string
}

// lines decodes stdout's JSON lines; a line that is not JSON fails the test.
func (r result) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		if _, ok := m["type"]; !ok {
			t.Fatalf("stdout line without type: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// first returns the first line of a type.
func (r result) first(t *testing.T, typ string) map[string]any {
	t.Helper()
	for _, l := range r.lines(t) {
		if l["type"] == typ {
			return l
		}
	}
	t.Fatalf("no %q line in stdout:\n%s\nstderr:\n%s", typ, r.stdout, r.stderr)
	return nil
}

func (e *env) environ() []string {
	envv := []string{
		"HOME=" + filepath.Dir(e.config), "PATH=" + os.Getenv("PATH"),
		"LINECTL_CONFIG=" + e.config, "LINECTL_GATEWAY=" + e.url,
		"LINECTL_SIGNER_COMMAND=" + binary + " sandbox signer --key " + testKey,
		"LINECTL_SIGNER_AGENT=off", "XDG_RUNTIME_DIR=" + e.runtime,
	}
	if coverDir != "" {
		envv = append(envv, "GOCOVERDIR="+coverDir)
	}
	return append(envv, e.extra...)
}

// run runs linectl with args and stdin.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// must runs linectl and fails the test unless it exits 0.
func (e *env) must(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("linectl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantExit checks the exit code and the stderr error line's kind.
func wantExit(t *testing.T, r result, code int, kind string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	if code == 0 {
		return
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	var el map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &el); err != nil || el["type"] != "error" {
		t.Fatalf("last stderr line is not an error line: %q", lines[len(lines)-1])
	}
	if int(el["exitCode"].(float64)) != code || (kind != "" && el["kind"] != kind) {
		t.Fatalf("error line %v, want exit %d kind %q", el, code, kind)
	}
}

func (e *env) loginQR() {
	e.t.Helper()
	e.must("", "login", "qr")
}

// configText returns the config file's contents.
func (e *env) configText() string {
	b, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// secrets returns the token and certificate values saved in the config.
func (e *env) secrets() []string {
	var out []string
	for _, line := range strings.Split(e.configText(), "\n") {
		for _, k := range []string{"accessToken:", "refreshToken:", "certificate:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), k); ok && strings.TrimSpace(v) != "" {
				out = append(out, strings.Trim(strings.TrimSpace(v), `"`))
			}
		}
	}
	return out
}

func assertNoSecrets(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("no secrets found in the config to look for")
	}
	for _, s := range secrets {
		for _, o := range outputs {
			if strings.Contains(o, s) {
				t.Fatalf("secret %q… leaked into output", s[:8])
			}
		}
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 10s")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// accessToken returns the access token saved in the config.
func (e *env) accessToken() string {
	for _, line := range strings.Split(e.configText(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "accessToken:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// syncBuffer is a strings.Builder that a process writes to while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
