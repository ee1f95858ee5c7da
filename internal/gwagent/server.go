package gwagent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// Server forwards requests to one gateway over long-lived connections.
type Server struct {
	// Gateway is the base URL every request goes to (scheme://host[:port]).
	Gateway string
	// Transport sends the requests (default: lineapi.NewTransport with
	// IdleConnTimeout raised to IdleConn).
	Transport http.RoundTripper
	Status    Status
	// Idle ends the agent after this long without requests (0: never).
	Idle time.Duration
	// IdleConn is how long an unused gateway connection is kept (default
	// 15 minutes; the gateway may close it sooner, then the next request
	// opens a new one).
	IdleConn time.Duration
	Poll     time.Duration

	base  *url.URL
	loop  *agent.Loop
	count atomic.Int64
}

// Serve accepts connections until idle, a stop request arrives, or ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := lineapi.CheckBaseURL(s.Gateway); err != nil {
		return err
	}
	s.Gateway = strings.TrimRight(s.Gateway, "/")
	s.base, _ = url.Parse(s.Gateway)
	if s.Transport == nil {
		tr := lineapi.NewTransport()
		tr.IdleConnTimeout = s.IdleConn
		if tr.IdleConnTimeout == 0 {
			tr.IdleConnTimeout = 15 * time.Minute
		}
		s.Transport = tr
	}
	s.loop = agent.NewLoop(s.Idle, nil, s.Poll)
	return s.loop.Serve(ctx, ln, s.handle)
}

func (s *Server) status() *Status {
	st := s.Status
	st.Requests = s.count.Load()
	if s.Idle > 0 {
		st.Idle = s.Idle.String()
	}
	return &st
}

// handle answers the one request of a connection.
func (s *Server) handle(c net.Conn) {
	defer c.Close()
	if !agent.PeerIsUs(c) {
		return
	}
	enc := json.NewEncoder(c)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second)) // the request comes at once
	r := bufio.NewReaderSize(c, 64<<10)
	line, err := agent.ReadLine(r)
	if err != nil {
		return // gone, silent or too long
	}
	_ = c.SetReadDeadline(time.Time{})
	s.loop.Touch()
	var q request
	if err := json.Unmarshal(line, &q); err != nil {
		_ = enc.Encode(response{Error: "bad request: not JSON"})
		return
	}
	switch q.Op {
	case "ping":
		_ = enc.Encode(response{Agent: s.status()})
	case "stop":
		_ = enc.Encode(response{Agent: s.status()})
		s.loop.Stop()
	case "forward":
		s.forward(c, r, enc, q)
	default:
		_ = enc.Encode(response{Error: fmt.Sprintf("bad request: unknown op %q", q.Op)})
	}
}

// forward sends q to the gateway and answers with the outcome.
func (s *Server) forward(c net.Conn, r *bufio.Reader, enc *json.Encoder, q request) {
	target, err := s.target(q)
	if err != nil {
		_ = enc.Encode(response{Error: err.Error()})
		return
	}
	timeout := time.Duration(q.TimeoutMS) * time.Millisecond
	if timeout <= 0 || timeout > maxTimeout {
		timeout = maxTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The caller hanging up (cancelled, or gone) cancels the request.
	go func() {
		_, _ = r.ReadByte()
		cancel()
	}()
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { written.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, q.Method, target, bytes.NewReader(q.Body))
	if err != nil {
		_ = enc.Encode(response{Error: "bad request"})
		return
	}
	req.Header = cleanHeader(q.Header)
	// Nothing has been sent before this line reaches the caller: a caller
	// that loses the connection before it can send directly instead.
	if err := enc.Encode(response{Sending: true}); err != nil {
		return
	}
	s.count.Add(1)
	resp, err := s.Transport.RoundTrip(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // no URL in the answer
		}
		_ = enc.Encode(response{Error: err.Error(), Written: written.Load(), Timeout: errors.Is(err, context.DeadlineExceeded)})
		return
	}
	defer resp.Body.Close()
	// One byte over the limit tells the caller the answer was too large.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		_ = enc.Encode(response{Error: "read the answer: " + err.Error(), Written: true, Timeout: errors.Is(err, context.DeadlineExceeded)})
		return
	}
	_ = enc.Encode(response{Status: resp.StatusCode, Header: cleanHeader(resp.Header), Body: body, Written: true})
}

// target checks that q is a gateway call this agent may send and returns
// its URL: a POST to a path under /api/ of the agent's own gateway, not the
// operation stream (the agent answers only whole bodies).
func (s *Server) target(q request) (string, error) {
	if q.Method != http.MethodPost {
		return "", fmt.Errorf("refused: only POST requests are forwarded")
	}
	p := q.Path
	if !strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api/operation/") {
		return "", fmt.Errorf("refused: only gateway calls under /api/ are forwarded")
	}
	if strings.Contains(p, "..") || strings.Contains(p, "//") || strings.ContainsAny(p, "\\#@") ||
		strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("refused: malformed path")
	}
	if len(q.Body) > maxBody {
		return "", fmt.Errorf("refused: body larger than %d bytes", maxBody)
	}
	u, err := url.Parse(s.Gateway + p)
	if err != nil || u.Scheme != s.base.Scheme || u.Host != s.base.Host || u.User != nil {
		return "", fmt.Errorf("refused: not this agent's gateway")
	}
	return s.Gateway + p, nil
}
