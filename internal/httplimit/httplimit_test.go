package httplimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

func serve(t *testing.T, h http.Handler, conns int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: BodyTimeout(h, 200*time.Millisecond), ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(LimitListener(l, conns)) }()
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

func dial(t *testing.T, addr, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if req != "" {
		_, _ = io.WriteString(c, req)
	}
	return c
}

// A body that never arrives ends the request (the handler's read fails);
// a body that arrived lifts the bound, so a slow answer after it, and a
// request without a body (an event stream), are not cut.
func TestBodyTimeout(t *testing.T) {
	read := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		read <- err
		if err == nil {
			select {
			case <-r.Context().Done():
				return // cut: the test sees no answer
			case <-time.After(time.Second): // longer than the body's bound
			}
		}
		_, _ = io.WriteString(w, "done")
	}), 10)
	dial(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("a body never finished was read")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a trickled body was never cut off")
	}
	for _, req := range []string{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"} {
		c := dial(t, addr, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%q: %v %v", req, resp, err)
		}
		if b, _ := io.ReadAll(io.LimitReader(resp.Body, 4)); string(b) != "done" {
			t.Fatalf("%q: answer %q", req, b)
		}
		<-read
	}
}

// Past the cap, a connection waits to be accepted until one closes.
func TestLimitListener(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), 2)
	held1 := dial(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n") // headers never finished
	dial(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n")
	third := dial(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = third.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("served past the cap: %v", err)
	}
	held1.Close()
	_ = third.SetReadDeadline(time.Now().Add(20 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(third), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a slot freed: %v %v", resp, err)
	}
}
