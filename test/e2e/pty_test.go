package e2e

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A person runs `linectl login qr` in a terminal: the QR code is drawn with
// half-block characters on the terminal, and the login completes.
func TestQRLoginInARealTerminal(t *testing.T) {
	e := newEnv(t)
	cmd := exec.Command(binary, "login", "qr")
	cmd.Env = append(e.environ(), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 60, Cols: 120})
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer tty.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, tty); close(done) }()
	werr := make(chan error, 1)
	go func() { werr <- cmd.Wait() }()
	select {
	case err := <-werr:
		if err != nil {
			t.Fatalf("login qr in a terminal: %v\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("timed out:\n%s", out.String())
	}
	tty.Close()
	<-done
	s := out.String()
	if !strings.ContainsAny(s, "▀▄█") {
		t.Fatalf("no half-block QR code drawn on the terminal:\n%s", s)
	}
	for _, want := range []string{`"type":"qr"`, `"type":"pin"`, `"type":"login"`, "Scan this QR code"} {
		if !strings.Contains(s, want) {
			t.Fatalf("terminal output lacks %q:\n%s", want, s)
		}
	}
}
