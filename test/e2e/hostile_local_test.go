//go:build !windows

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// Hostile local machine, flags and input (issue 18): state files that are
// links, FIFOs or devices, open directories, a leaky environment, and input
// that is empty to a person. Each case must end quickly with exit 2 and
// send nothing.

// runWithin runs linectl like e.run, killing it after limit (a hang fails the test).
func (e *env) runWithin(limit time.Duration, stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("linectl %s: still running after %v\nstderr:\n%s", strings.Join(args, " "), limit, errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func noSendMessage(t *testing.T, e *env) {
	t.Helper()
	for _, c := range e.sim.CallNames() {
		if c == "sendMessage" {
			t.Fatalf("bad input reached sendMessage: %v", e.sim.CallNames())
		}
	}
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestHostileLockSymlinks(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Dir(e.config)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.Symlink(victim, e.config+".lock"); err != nil {
		t.Fatal(err)
	}
	r := e.runWithin(20*time.Second, "", "login", "qr")
	wantExit(t, r, 2, "config")
	if !strings.Contains(r.stderr, "symbolic link") {
		t.Fatalf("stderr does not say why: %s", r.stderr)
	}
	if _, err := os.Lstat(victim); err == nil {
		t.Fatal("a file was created at the lock link's target")
	}
	if err := os.Remove(e.config + ".lock"); err != nil {
		t.Fatal(err)
	}
	e.loginQR()
	if err := os.Symlink(victim, filepath.Join(dir, "receive.lock")); err != nil {
		t.Fatal(err)
	}
	wantExit(t, e.runWithin(20*time.Second, "", "receive"), 2, "config")
	if _, err := os.Lstat(victim); err == nil {
		t.Fatal("a file was created at receive.lock's target")
	}
}

func TestHostileSymlinkedConfigWrittenThrough(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	target := filepath.Join(t.TempDir(), "real-config.yaml")
	if err := os.Rename(e.config, target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, e.config); err != nil {
		t.Fatal(err)
	}
	e.must("", "whoami")
	e.must("", "logout")
	if st, err := os.Lstat(e.config); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the config link was replaced by a file: %v", err)
	}
	b, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "accessToken") {
		t.Fatalf("the link target still holds the revoked token:\n%s", b)
	}
	// A link to nowhere: nothing is created through it.
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	if err := os.Remove(e.config); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(missing, e.config); err != nil {
		t.Fatal(err)
	}
	calls := len(e.sim.CallNames())
	wantExit(t, e.run("", "login", "qr"), 2, "config")
	if _, err := os.Lstat(missing); err == nil {
		t.Fatal("a config was created through a dangling link")
	}
	// Refused before LINE was asked anything: no QR to scan, no PIN to
	// confirm for a session that could not be saved.
	if after := e.sim.CallNames(); len(after) != calls {
		t.Fatalf("login contacted LINE before refusing the config: %v", after[calls:])
	}
	wantExit(t, e.run("secret\n", "login", "password", "--email", "alice@example.com", "--password-stdin"), 2, "config")
	if after := e.sim.CallNames(); len(after) != calls {
		t.Fatalf("password login contacted LINE before refusing the config: %v", after[calls:])
	}
}

func TestHostileOpenConfigDirectory(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o755} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			e := newEnv(t)
			e.extra = append(e.extra, "HOME="+t.TempDir()) // the harness's HOME is the config directory, which is never changed
			e.loginQR()
			dir := filepath.Dir(e.config)
			if err := os.Chmod(dir, mode); err != nil {
				t.Fatal(err)
			}
			r := e.must("", "session", "refresh")
			if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
				t.Fatalf("config directory left at %04o", st.Mode().Perm())
			}
			if n := strings.Count(r.stderr, "changed it to 0700"); n != 1 {
				t.Fatalf("the fix was reported %d times on stderr:\n%s", n, r.stderr)
			}
			if r := e.must("", "whoami"); strings.Contains(r.stderr, "0700") {
				t.Fatalf("reported again: %s", r.stderr)
			}
		})
	}
}

func TestHostileConfigFIFOAndDevZero(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Dir(e.config)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(e.config, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	for _, args := range [][]string{{"whoami"}, {"login", "qr"}, {"send", "--to", simgw.FamilyMID, "hi"}} {
		r := e.runWithin(10*time.Second, "", args...)
		wantExit(t, r, 2, "config")
		if !strings.Contains(r.stderr, "FIFO") {
			t.Fatalf("stderr does not name the problem: %s", r.stderr)
		}
	}
	if err := os.Remove(e.config); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", e.config); err != nil {
		t.Fatal(err)
	}
	wantExit(t, e.runWithin(10*time.Second, "", "whoami"), 2, "config")
	if err := os.Remove(e.config); err != nil {
		t.Fatal(err)
	}
	big := append([]byte("gateway: "+e.url+"\n#"), bytes.Repeat([]byte("x"), 2<<20)...)
	if err := os.WriteFile(e.config, big, 0o600); err != nil {
		t.Fatal(err)
	}
	wantExit(t, e.runWithin(10*time.Second, "", "whoami"), 2, "config")
	noSendMessage(t, e)
}

func TestHostileSignerEnvironment(t *testing.T) {
	e := newEnv(t)
	dump := filepath.Join(t.TempDir(), "signer-env")
	script := filepath.Join(t.TempDir(), "signer.sh")
	body := fmt.Sprintf("#!/bin/sh\nenv > '%s'\nexec '%s' sandbox signer --key '%s'\n", dump, binary, testKey)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	e.extra = append(e.extra, "LINECTL_SIGNER_COMMAND="+script, "LINECTL_PASSWORD="+simgw.DemoPassword, "LANG=C.UTF-8")
	e.must("", "login", "password", "--email", simgw.BobEmail, "--no-e2ee")
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatalf("the signer did not run: %v", err)
	}
	env := string(b)
	if strings.Contains(env, simgw.DemoPassword) || strings.Contains(env, "LINECTL_") {
		t.Fatalf("the signer's environment holds linectl's variables:\n%s", env)
	}
	if !strings.Contains(env, "PATH=") || !strings.Contains(env, "HOME=") || !strings.Contains(env, "LANG=C.UTF-8") {
		t.Fatalf("the signer's environment lost PATH, HOME or LANG:\n%s", env)
	}
}

func TestHostileEmptyNames(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	for _, name := range []string{"", "   ", "\u200b", "\t"} {
		r := e.run("", "send", "--to-name", name, "hi")
		wantExit(t, r, 2, "usage")
	}
	wantExit(t, e.run("", "probe-e2ee", "--name", ""), 2, "")
	noSendMessage(t, e)
}

func TestHostileNumericFlags(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	bad := [][]string{
		{"--rate", "NaN"}, {"--rate", "+Inf"}, {"--rate", "-Inf"}, {"--rate", "1e-300"}, {"--rate", "-1"},
		{"--rate", "0.001"}, {"--rate", "1001"}, {"--rate", "1e308"},
		{"--confirm-timeout", "-1s"}, {"--confirm-timeout", "0s"}, {"--confirm-timeout", "1000h"},
	}
	for _, flag := range bad {
		args := append([]string{"send", "--to", simgw.FamilyMID}, flag...)
		r := e.runWithin(10*time.Second, "", append(args, "hi")...)
		wantExit(t, r, 2, "usage")
	}
	noSendMessage(t, e)
	// Every other duration flag has a range too.
	for _, args := range [][]string{
		{"--timeout", "-1s", "whoami"}, {"--timeout", "0", "whoami"}, {"--timeout", "1000h", "whoami"},
		{"receive", "--wait", "-5s"}, {"receive", "--wait", "0"}, {"receive", "--wait", "10000h"},
		{"login", "qr", "--wait", "0"}, {"login", "qr", "--wait", "-1m"},
		{"login", "password", "--email", "a@example.com", "--wait", "-1s"},
		{"sandbox", "--phone-delay", "-1s"}, {"sandbox", "--phone-delay", "1000h"},
		{"receive", "--from-revision", "-3"},
	} {
		wantExit(t, e.runWithin(10*time.Second, "", args...), 2, "usage")
	}
	for _, rate := range []string{"0", "0.01", "1000", "2.5"} {
		e.must("", "send", "--rate", rate, "--to", simgw.FamilyMID, "rate "+rate)
	}
}

func TestHostileInvisibleTexts(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	texts := []string{
		"\u200b", "\ufeff", "\u200b\u200c\u200d\u2060", " \u200b\n\ufeff ", "\u2800", "\u3164", "\u00ad", "\u202e",
		"\x00", "hi\x00there", "\ufe0f",
	}
	for _, text := range texts {
		wantExit(t, e.run(text, "send", "--to", simgw.FamilyMID), 2, "usage") // stdin
		if !strings.Contains(text, "\x00") {
			wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, text), 2, "usage") // argument
		}
	}
	noSendMessage(t, e)
	// --jsonl: each bad line gets its own failed line; the good one is sent.
	var in strings.Builder
	for _, text := range texts {
		fmt.Fprintf(&in, "{\"to\":%q,\"text\":%q}\n", simgw.FamilyMID, text)
	}
	fmt.Fprintf(&in, "{\"to\":%q,\"text\":%q}\n", simgw.FamilyMID, "visible \u200b text")
	r := e.run(in.String(), "send", "--jsonl")
	if r.code != 0 { // refused lines beside a sent one: exit 2 means nothing was sent
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := r.lines(t)
	if len(lines) != len(texts)+1 {
		t.Fatalf("%d lines for %d inputs:\n%s", len(lines), len(texts)+1, r.stdout)
	}
	for i, l := range lines[:len(texts)] {
		if l["type"] != "failed" || l["line"] != float64(i+1) || l["exitCode"] != 2.0 {
			t.Fatalf("line %d: %v", i+1, l)
		}
	}
	if l := lines[len(texts)]; l["type"] != "sent" {
		t.Fatalf("good line: %v", l)
	}
	if msgs := e.sim.Messages(); len(msgs) != 1 || msgs[0].Text != "visible \u200b text" {
		t.Fatalf("stored %+v", msgs)
	}
}

// State files beside the config (receive position, name cache, key store)
// that are FIFOs never hang a run: the position and the key store are
// refused, the name cache is rebuilt.
func TestHostileStateFilesAsFIFOs(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	dir := filepath.Dir(e.config)
	for _, name := range []string{"receive-state.json", "directory-cache.json", "e2ee-keys.json"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Skip("mkfifo:", err)
		}
	}
	wantExit(t, e.runWithin(10*time.Second, "", "receive", "--wait", "100ms"), 2, "config")
	wantExit(t, e.runWithin(10*time.Second, "", "send", "--to-name", "Family", "hi"), 2, "config") // the key store
	os.Remove(filepath.Join(dir, "e2ee-keys.json"))
	r := e.runWithin(10*time.Second, "", "send", "--to-name", "Family", "hi")
	if r.code != 0 {
		t.Fatalf("send with a FIFO name cache: %d %s", r.code, r.stderr)
	}
}

// A mistyped command gets the nearest name as a one-line usage error, and
// --version prints the version line.
func TestMistypedCommandAndVersionFlag(t *testing.T) {
	e := newEnv(t)
	r := e.run("", "sned", "--to", simgw.FamilyMID, "hi")
	wantExit(t, r, 2, "usage")
	if !strings.Contains(r.stderr, `unknown command "sned" for "linectl"; did you mean "send"?`) {
		t.Fatalf("stderr: %s", r.stderr)
	}
	if l := e.must("", "--version").first(t, "version"); l["version"] == "" || l["extensionVersion"] != "3.7.2" {
		t.Fatalf("--version: %v", l)
	}
}

// A saved receive position of max int64 (every later operation would be
// dropped as old) or a negative one is refused: exit 2, naming the file and
// how to reset it; --from-revision past LINE's newest too.
func TestHostileSavedPosition(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "receive", "--wait", "200ms")
	state := filepath.Join(filepath.Dir(e.config), "receive-state.json")
	for _, rev := range []string{"9223372036854775807", "-5"} {
		if err := os.WriteFile(state, []byte(`{"mid":"`+simgw.AliceMID+`","revision":"`+rev+`"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "hello")
		r := e.runWithin(20*time.Second, "", "receive", "--wait", "300ms")
		wantExit(t, r, 2, "config")
		if !strings.Contains(r.stderr, state) || !strings.Contains(r.stderr, "remove") || r.stdout != "" {
			t.Fatalf("revision %s: stdout %q stderr %s", rev, r.stdout, r.stderr)
		}
	}
	// Reset as the message says: remove the file.
	os.Remove(state)
	e.must("", "receive", "--wait", "200ms")
	wantExit(t, e.run("", "receive", "--wait", "300ms", "--from-revision", "9223372036854775807"), 2, "usage")
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "after the reset")
	if r := e.must("", "receive", "--wait", "300ms"); !strings.Contains(r.stdout, "after the reset") {
		t.Fatalf("stdout %s", r.stdout)
	}
}
