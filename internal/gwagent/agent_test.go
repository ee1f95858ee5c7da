package gwagent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/simgw"
	"github.com/linectl/linectl/pkg/lineapi"
)

// world is one user's machine: a simulator, a private socket directory, a
// logged-in token.
type world struct {
	sim    *simgw.Server
	url    string
	socket string
	token  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if !Supported {
		t.Skip("agents need a Unix system")
	}
	rt, err := os.MkdirTemp("", "gw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rt) })
	t.Setenv("XDG_RUNTIME_DIR", rt)
	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	socket, err := SocketPath(url)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := lineapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := anon.LoginWithPassword(context.Background(), lineapi.PasswordLogin{Email: simgw.CarolEmail, Password: simgw.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	return &world{sim: sim, url: url, socket: socket, token: s.Tokens.AccessToken}
}

// startAgent serves an agent for gateway on w.socket until the test ends.
func (w *world) startAgent(t *testing.T, gateway string) *Server {
	t.Helper()
	ln, closeFn, err := agent.Listen(w.socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Gateway: gateway, Status: Status{PID: os.Getpid(), Gateway: gateway}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; closeFn() })
	return srv
}

// client is a gateway client whose unary calls go through the agent at w.socket.
func (w *world) client(t *testing.T) (*lineapi.Client, *Transport) {
	t.Helper()
	tr := &Transport{Gateway: w.url, Socket: w.socket, Direct: lineapi.NewTransport()}
	cl, err := lineapi.New(w.url, lineapi.WithHTTPClient(&http.Client{Transport: tr}),
		lineapi.WithTokenSource(lineapi.StaticToken(w.token)), lineapi.WithSleep(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	return cl, tr
}

func (w *world) send(cl *lineapi.Client, seq int64, text string) error {
	_, err := cl.SendMessage(context.Background(), seq, lineapi.OutgoingMessage{From: simgw.CarolMID, To: simgw.RoomMID, ToType: lineapi.ToRoom, Text: text})
	return err
}

func (w *world) sendCalls() int {
	n := 0
	for _, c := range w.sim.CallNames() {
		if c == "sendMessage" {
			n++
		}
	}
	return n
}

func TestForwardThroughAgent(t *testing.T) {
	w := newWorld(t)
	w.startAgent(t, w.url)
	cl, tr := w.client(t)
	if err := w.send(cl, 1, "via the agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetProfile(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The stream is never forwarded.
	rc, err := cl.OpenOperationStream(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	st, err := ping(context.Background(), w.socket)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 2 || tr.down.Load() {
		t.Fatalf("agent forwarded %d requests (down %v), want 2", st.Requests, tr.down.Load())
	}
	if m := w.sim.Messages(); len(m) != 1 || m[0].Text != "via the agent" {
		t.Fatalf("messages %v", m)
	}
}

func TestNoAgentSendsDirectly(t *testing.T) {
	w := newWorld(t)
	cl, tr := w.client(t)
	for i := int64(1); i <= 2; i++ {
		if err := w.send(cl, i, "direct"); err != nil {
			t.Fatal(err)
		}
	}
	if !tr.down.Load() || len(w.sim.Messages()) != 2 || w.sendCalls() != 2 {
		t.Fatalf("down %v, %d messages, %d calls", tr.down.Load(), len(w.sim.Messages()), w.sendCalls())
	}
}

// fakeAgent accepts connections on w.socket and treats each with fn.
func (w *world) fakeAgent(t *testing.T, fn func(c net.Conn, r *bufio.Reader)) *atomic.Int32 {
	t.Helper()
	ln, closeFn, err := agent.Listen(w.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	n := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			r := bufio.NewReader(c)
			if _, err := r.ReadString('\n'); err == nil {
				fn(c, r)
			}
			c.Close()
		}
	}()
	return n
}

// An agent that dies after it began sending leaves the outcome unknown: the
// client reports the request as written and does not send it again.
func TestAgentDiesAfterItBegan(t *testing.T) {
	w := newWorld(t)
	conns := w.fakeAgent(t, func(c net.Conn, _ *bufio.Reader) { c.Write([]byte("{\"sending\":true}\n")) })
	cl, _ := w.client(t)
	err := w.send(cl, 1, "lost")
	var te *lineapi.TransportError
	if !errors.As(err, &te) || !te.Written || lineapi.NotProcessed(err) {
		t.Fatalf("err %v, want a written TransportError", err)
	}
	if conns.Load() != 1 || w.sendCalls() != 0 {
		t.Fatalf("%d agent requests, %d direct sends; want 1 and 0 (never sent twice)", conns.Load(), w.sendCalls())
	}
}

// An agent that hangs up before it began, or says it could not send, sent
// nothing: the request goes directly, once.
func TestAgentFailsBeforeSendingFallsBack(t *testing.T) {
	for name, fn := range map[string]func(net.Conn, *bufio.Reader){
		"hangs up": func(net.Conn, *bufio.Reader) {},
		"not written": func(c net.Conn, _ *bufio.Reader) {
			c.Write([]byte("{\"sending\":true}\n{\"error\":\"dial tcp: refused\"}\n"))
		},
		"refuses":      func(c net.Conn, _ *bufio.Reader) { c.Write([]byte("{\"error\":\"refused: no\"}\n")) },
		"garbage line": func(c net.Conn, _ *bufio.Reader) { c.Write([]byte("nonsense\n")) },
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			conns := w.fakeAgent(t, fn)
			cl, tr := w.client(t)
			if err := w.send(cl, 1, "once"); err != nil {
				t.Fatal(err)
			}
			if err := w.send(cl, 2, "twice"); err != nil {
				t.Fatal(err)
			}
			if conns.Load() != 1 || !tr.down.Load() || len(w.sim.Messages()) != 2 || w.sendCalls() != 2 {
				t.Fatalf("%d agent requests, down %v, %d messages, %d sends", conns.Load(), tr.down.Load(), len(w.sim.Messages()), w.sendCalls())
			}
		})
	}
}

// A real agent that cannot reach its gateway answers written:false; the
// client then sends directly.
func TestAgentCannotConnectFallsBack(t *testing.T) {
	w := newWorld(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	w.startAgent(t, dead)
	cl, tr := w.client(t)
	if err := w.send(cl, 1, "direct after all"); err != nil {
		t.Fatal(err)
	}
	if !tr.down.Load() || len(w.sim.Messages()) != 1 {
		t.Fatalf("down %v, %d messages", tr.down.Load(), len(w.sim.Messages()))
	}
}

// The caller's deadline reaches the agent: a slow answer ends the call at
// the deadline, as written (the gateway may still act on it).
func TestDeadlinePassesThrough(t *testing.T) {
	w := newWorld(t)
	w.startAgent(t, w.url)
	w.sim.Delay("sendMessage", 3*time.Second)
	cl, _ := w.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cl.SendMessage(ctx, 1, lineapi.OutgoingMessage{From: simgw.CarolMID, To: simgw.RoomMID, ToType: lineapi.ToRoom, Text: "slow"})
	var te *lineapi.TransportError
	if !errors.As(err, &te) || !te.Written || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	if w.sendCalls() != 1 {
		t.Fatalf("%d sends", w.sendCalls())
	}
}

// raw sends one request line to the agent and returns its answers.
func raw(t *testing.T, socket string, q request) []response {
	t.Helper()
	c, err := agent.DialSocket(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	b, _ := json.Marshal(q)
	if _, err := c.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
	var out []response
	r := bufio.NewReader(c)
	for {
		resp, err := readResponse(r)
		if err != nil {
			return out
		}
		out = append(out, resp)
	}
}

// The agent is no open proxy: only POSTs under /api/ of its own gateway,
// no stream, bounded bodies.
func TestAgentRefuses(t *testing.T) {
	w := newWorld(t)
	w.startAgent(t, w.url)
	before := len(w.sim.CallNames())
	for _, q := range []request{
		{Op: "forward", Method: "POST", Path: "/_sandbox/state"},
		{Op: "forward", Method: "POST", Path: "/api/../_sandbox/state"},
		{Op: "forward", Method: "POST", Path: "/api/operation/receive"},
		{Op: "forward", Method: "POST", Path: "/api//x"},
		{Op: "forward", Method: "POST", Path: "/api/x@evil.example/"},
		{Op: "forward", Method: "POST", Path: "/api/talk thrift"},
		{Op: "forward", Method: "GET", Path: "/api/talk/thrift/Talk/TalkService/getProfile"},
		{Op: "forward", Method: "POST", Path: "/api/talk/thrift/Talk/TalkService/getProfile", Body: make([]byte, maxBody+1)},
		{Op: "connect", Path: "evil.example:443"},
	} {
		resp := raw(t, w.socket, q)
		if len(resp) != 1 || resp[0].Sending || resp[0].Written || resp[0].Error == "" {
			t.Errorf("%s %s: answered %+v", q.Method, q.Path, resp)
		}
	}
	if n := len(w.sim.CallNames()); n != before {
		t.Fatalf("the gateway got %d requests", n-before)
	}
}

// Both sides refuse a socket directory that others can enter.
func TestPrivateDirectory(t *testing.T) {
	w := newWorld(t)
	w.startAgent(t, w.url)
	dir := filepath.Dir(w.socket)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if _, err := SocketPath(w.url); err == nil {
		t.Fatal("SocketPath accepted a 0755 directory")
	}
	if _, err := ping(context.Background(), w.socket); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ping through a 0755 directory: %v", err)
	}
	cl, tr := w.client(t)
	if err := w.send(cl, 1, "direct"); err != nil {
		t.Fatal(err)
	}
	if !tr.down.Load() {
		t.Fatal("the transport used an agent in an open directory")
	}
}

// Different gateways get different agents.
func TestSocketPerGateway(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	a, err := SocketPath("https://line-chrome-gw.line-apps.com")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SocketPath("http://127.0.0.1:8080")
	c, _ := SocketPath("https://line-chrome-gw.line-apps.com/")
	if a == b || a != c || !strings.HasPrefix(filepath.Base(a), "gateway-") {
		t.Fatalf("%s %s %s", a, b, c)
	}
}

// Stop ends the agent and reports what it forwarded.
func TestStop(t *testing.T) {
	w := newWorld(t)
	ln, closeFn, err := agent.Listen(w.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	srv := &Server{Gateway: w.url, Idle: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	waitPing(t, w.socket)
	st, err := Stop(context.Background(), w.socket)
	if err != nil || st.Idle != "1m0s" {
		t.Fatalf("%+v %v", st, err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not stop")
	}
}

func waitPing(t *testing.T, socket string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if _, err := ping(context.Background(), socket); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("agent does not answer")
}

// Looking for an agent creates no directory.
func TestExistingSocketPathCreatesNothing(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	if _, err := existingSocketPath("https://line-chrome-gw.line-apps.com"); err == nil {
		t.Fatal("found a socket directory that does not exist")
	}
	if _, err := os.Stat(filepath.Join(rt, "linectl")); !os.IsNotExist(err) {
		t.Fatalf("the directory was created: %v", err)
	}
	a, err := SocketPath("https://line-chrome-gw.line-apps.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := existingSocketPath("https://line-chrome-gw.line-apps.com")
	if err != nil || a != b {
		t.Fatalf("%s %s %v", a, b, err)
	}
}

// ping returns the status of the agent at socket.
func ping(ctx context.Context, socket string) (Status, error) { return statusOp(ctx, socket, "ping") }
