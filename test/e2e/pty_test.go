package e2e

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/linectl/linectl/internal/simgw"
)

// A person runs `linectl login qr` in a terminal: the QR code is drawn with
// half-block characters on the terminal, and the login completes.
func TestQRLoginInARealTerminal(t *testing.T) {
	e := newEnv(t)
	s, code := e.runInTerminal(t, false, "login", "qr")
	if code != 0 {
		t.Fatalf("login qr in a terminal: exit %d\n%s", code, s)
	}
	if !strings.ContainsAny(s, "▀▄█") {
		t.Fatalf("no half-block QR code drawn on the terminal:\n%s", s)
	}
	for _, want := range []string{`"type":"qr"`, `"type":"pin"`, `"type":"login"`, "Scan this QR code"} {
		if !strings.Contains(s, want) {
			t.Fatalf("terminal output lacks %q:\n%s", want, s)
		}
	}
}

// runInTerminal runs linectl with stdin, stdout and stderr on a pseudo-
// terminal; interrupt, when set, is sent after a pause. It returns what the
// terminal showed and the exit code.
func (e *env) runInTerminal(t *testing.T, interrupt bool, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(e.environ(), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 60, Cols: 200})
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer tty.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, tty); close(done) }()
	if interrupt {
		time.Sleep(700 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
	}
	werr := make(chan error, 1)
	go func() { werr <- cmd.Wait() }()
	var code int
	select {
	case err := <-werr:
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("timed out:\n%s", out.String())
	}
	// The child has exited: the reader gets what it wrote, then EIO. Closing
	// the terminal before that would lose the end of the output.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	tty.Close()
	<-done
	return out.String(), code
}

// On a terminal an error is one line for a person (the JSON error line is
// for scripts), and Ctrl-C ending receive --follow is no error at all.
func TestErrorsOnATerminal(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	s, code := e.runInTerminal(t, false, "send", "--to", "not-a-mid", "hi")
	if code != 2 || !strings.Contains(s, "linectl: ") || strings.Contains(s, `"type":"error"`) {
		t.Fatalf("exit %d, terminal:\n%s", code, s)
	}
	s, code = e.runInTerminal(t, true, "receive", "--follow")
	if code != 130 || strings.Contains(s, "linectl: ") || strings.Contains(s, `"type":"error"`) {
		t.Fatalf("Ctrl-C on receive --follow: exit %d, terminal:\n%s", code, s)
	}
}

// send with no text on a terminal says so at once instead of waiting on
// stdin; with "-" it prompts, and Ctrl-C ends it with 130.
func TestSendWithoutTextOnATerminal(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	s, code := e.runInTerminal(t, false, "send", "--to", simgw.FamilyMID)
	if code != 2 || !strings.Contains(s, "no text") {
		t.Fatalf("exit %d, terminal:\n%s", code, s)
	}
	s, code = e.runInTerminal(t, true, "send", "--to", simgw.FamilyMID, "-")
	if code != 130 || !strings.Contains(s, "Ctrl-D") {
		t.Fatalf("Ctrl-C while typing: exit %d, terminal:\n%s", code, s)
	}
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages sent", n)
	}
}
