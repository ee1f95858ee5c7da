package e2e

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// dialNotify opens a raw connection to a notify server.
func dialNotify(t *testing.T, ns *notifyServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ns.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A token holder trickling a body is cut off after --body-timeout (not the
// minute a whole-request timeout allowed), and no more than
// --max-connections are open: idle connections cannot pile up.
func TestNotifyServeConnectionBounds(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	ns := e.startNotify("--body-timeout", "1s", "--header-timeout", "1m", "--max-connections", "2")

	// A body announced as 100 bytes, never sent: the connection ends
	// (answer or close) well before the 30 s this test allows.
	c := dialNotify(t, ns)
	_, _ = io.WriteString(c, "POST /api/notify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nmessage=tri")
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("a trickled body held its connection for 30 s")
	}
	c.Close()
	if n := len(storedTexts(e)); n != 0 {
		t.Fatalf("%d messages sent from a body never completed", n)
	}

	// Two idle connections hold both slots: a third is not served…
	idle1, idle2 := dialNotify(t, ns), dialNotify(t, ns)
	_, _ = io.WriteString(idle1, "GET /api/status HTTP/1.1\r\nHost: x\r\n") // headers never finished
	_, _ = io.WriteString(idle2, "GET /api/status HTTP/1.1\r\nHost: x\r\n")
	third := dialNotify(t, ns)
	_, _ = io.WriteString(third, "GET /api/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+"\r\n\r\n")
	_ = third.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection was served past --max-connections 2 (%v)", err)
	}
	// …until one of them closes.
	idle1.Close()
	_ = third.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("third connection after a slot freed: %v %v", resp, err)
	}
}
