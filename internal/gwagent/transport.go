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
)

// Transport is an http.RoundTripper that hands unary gateway calls (POSTs
// under /api/ without a long-poll window) to the agent at Socket and sends
// everything else — the operation stream, long polls, other hosts — with
// Direct.
//
// It keeps the client's exactly-once contract: a request is reported as
// written (the httptrace WroteRequest hook of its context is called) when
// the agent says it may have reached the gateway, or when that cannot be
// known (the agent vanished after it started sending, or the caller's
// deadline passed). A request the agent could not send — no agent, an agent
// that refuses it, fails to connect or vanishes before it began — goes out
// through Direct instead, and so does every later request of this
// Transport: nothing is lost and nothing is sent twice.
type Transport struct {
	// Gateway is the base URL the agent serves; requests for another
	// scheme or host go directly.
	Gateway string
	// Socket is the agent's socket (SocketPath).
	Socket string
	// Direct sends what does not go through the agent.
	Direct http.RoundTripper
	// Log, if set, is told which way each call went (never headers or bodies).
	Log func(format string, a ...any)

	down atomic.Bool // the agent failed once: send everything directly
}

// graceAfterDeadline lets the agent's own answer to an expired request
// arrive before the connection is given up.
const graceAfterDeadline = 2 * time.Second

func (t *Transport) forwardable(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("x-lst") != "" {
		return false
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api/operation/") {
		return false
	}
	u, err := url.Parse(t.Gateway)
	return err == nil && r.URL.Scheme == u.Scheme && r.URL.Host == u.Host
}

func (t *Transport) logf(format string, a ...any) {
	if t.Log != nil {
		t.Log(format, a...)
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.down.Load() || !t.forwardable(req) {
		return t.Direct.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body) // built in memory by the client already
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	if len(body) <= maxBody { // the agent takes no more; larger goes directly
		resp, sent, err := t.forward(req, body)
		if sent {
			t.logf("gateway agent: %s %s via the agent", req.Method, req.URL.Path)
			return resp, err
		}
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr // nothing was sent; the caller gave up
		}
		t.down.Store(true)
		t.logf("gateway agent: %v; sending directly", err)
	}
	direct := req.Clone(req.Context())
	direct.Body = io.NopCloser(bytes.NewReader(body))
	direct.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	direct.ContentLength = int64(len(body))
	return t.Direct.RoundTrip(direct)
}

// CloseIdleConnections closes Direct's idle connections.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.Direct.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// forward hands req to the agent. sent is false only when the request
// certainly did not leave through the agent.
func (t *Transport) forward(req *http.Request, body []byte) (resp *http.Response, sent bool, err error) {
	ctx := req.Context()
	c, err := agent.DialSocket(t.Socket)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer c.Close()
	q := request{Op: "forward", Method: req.Method, Path: req.URL.RequestURI(), Header: req.Header, Body: body}
	if dl, ok := ctx.Deadline(); ok {
		q.TimeoutMS = max(1, (time.Until(dl) + time.Millisecond - 1).Milliseconds()) // never before ours
		_ = c.SetDeadline(dl.Add(graceAfterDeadline))
	} else {
		_ = c.SetDeadline(time.Now().Add(maxTimeout + graceAfterDeadline))
	}
	// Cancelling the call unblocks the reads below and hangs up, which
	// makes the agent cancel its request too.
	defer context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })()
	line, err := json.Marshal(q)
	if err != nil {
		return nil, false, err
	}
	// The agent acts only on a whole line: a failed write sent nothing.
	if _, err := c.Write(append(line, '\n')); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	first, err := readResponse(r)
	if err != nil {
		var ne net.Error
		if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
			// The agent may have begun before we gave up waiting.
			wrote(req)
			return nil, true, unknown(ctx, err)
		}
		return nil, false, fmt.Errorf("%w: %v", ErrUnavailable, err) // gone before it began
	}
	if !first.Sending {
		return nil, false, fmt.Errorf("%w: %s", ErrUnavailable, first.Error) // refused
	}
	final, err := readResponse(r)
	if err != nil {
		wrote(req)
		return nil, true, unknown(ctx, err)
	}
	if final.Error != "" {
		if !final.Written && !final.Timeout {
			return nil, false, fmt.Errorf("%w: %s", ErrUnavailable, final.Error)
		}
		if final.Timeout {
			// Our deadline, which the agent kept: whether the request left
			// or not, the call is over (and not sent again directly).
			if final.Written {
				wrote(req)
			}
			return nil, true, context.DeadlineExceeded
		}
		wrote(req)
		if ctx.Err() != nil {
			return nil, true, ctx.Err()
		}
		return nil, true, fmt.Errorf("through the gateway agent: %s", final.Error)
	}
	wrote(req)
	h := final.Header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", final.Status, http.StatusText(final.Status)), StatusCode: final.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: io.NopCloser(bytes.NewReader(final.Body)), ContentLength: int64(len(final.Body)), Request: req,
	}, true, nil
}

// unknown is the error of a request whose fate the agent did not report.
func unknown(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("gateway agent: connection lost after it began sending: %w", err)
}

// wrote tells the caller's trace that req may have reached the gateway.
func wrote(req *http.Request) {
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
}
