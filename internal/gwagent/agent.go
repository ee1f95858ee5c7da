// Package gwagent keeps a warm connection to LINE's gateway between linectl
// runs.
//
// A process that starts, opens TCP and TLS and then sends pays three round
// trips before the gateway answers. The gateway agent is a linectl process
// that holds keep-alive connections to one gateway and forwards requests that
// other runs of the same user have already built and signed, over a private
// Unix socket (the signer agent's directory and checks, see signagent): a run
// that finds it pays one round trip, a run that does not sends directly.
//
// The agent is not a proxy: it sends only POSTs under /api/ to the gateway it
// was started for, keeps nothing, and logs nothing (requests carry the access
// token). Streams and long polls never go through it.
//
// Wire format: one connection per request, one JSON object per line.
//
//	→ {"op":"forward","method":"POST","path":"/api/…","header":{…},"body":"<base64>","timeoutMs":30000}
//	← {"sending":true}            the agent is about to send (nothing was sent before this line)
//	← {"status":200,"header":{…},"body":"<base64>","written":true}
//	  or {"error":"…","written":false|true,"timeout":true|false}
//	→ {"op":"ping"}   ← {"agent":{…}}
//	→ {"op":"stop"}   ← {"agent":{…}}, then the agent exits
//
// "written" is true when the request may have reached the gateway (the
// agent's transport wrote it). A caller that loses the connection after
// {"sending":true} cannot know and must treat the request as written.
package gwagent

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/linectl/linectl/internal/agent"
)

// maxBody bounds a forwarded request or response body (the client's limit).
const maxBody = 16 << 20

// maxTimeout caps how long the agent works on one request.
const maxTimeout = 10 * time.Minute

// Supported reports whether agents work on this system.
const Supported = agent.Supported

// ErrUnavailable wraps every failure to reach or talk to an agent.
var ErrUnavailable = errors.New("gateway agent unavailable")

// request is the one line a client sends.
type request struct {
	Op        string      `json:"op"` // forward | ping | stop
	Method    string      `json:"method,omitempty"`
	Path      string      `json:"path,omitempty"`
	Header    http.Header `json:"header,omitempty"`
	Body      []byte      `json:"body,omitempty"`
	TimeoutMS int64       `json:"timeoutMs,omitempty"`
}

// response is one line the agent sends.
type response struct {
	Sending bool        `json:"sending,omitempty"`
	Status  int         `json:"status,omitempty"`
	Header  http.Header `json:"header,omitempty"`
	Body    []byte      `json:"body,omitempty"`
	Written bool        `json:"written,omitempty"`
	Error   string      `json:"error,omitempty"`
	Timeout bool        `json:"timeout,omitempty"` // the caller's deadline passed
	Agent   *Status     `json:"agent,omitempty"`
}

// Status describes a running agent.
type Status struct {
	PID      int       `json:"pid"`
	Gateway  string    `json:"gateway"`
	Since    time.Time `json:"since"`
	Requests int64     `json:"requests"`       // requests forwarded
	Idle     string    `json:"idle,omitempty"` // exits after this long without requests
}

// SocketPath is where the agent for gateway listens: the signer agent's
// private directory, a name derived from the user and the gateway URL, so
// that each gateway has its own agent.
func SocketPath(gateway string) (string, error) {
	return agent.SocketPath(socketName(gateway), true)
}

// existingSocketPath is SocketPath for a caller looking for a running agent:
// it creates nothing and fails when the directory is missing or not private.
func existingSocketPath(gateway string) (string, error) {
	return agent.SocketPath(socketName(gateway), false)
}

func socketName(gateway string) string {
	h := sha256.Sum256([]byte(strconv.Itoa(os.Getuid()) + "\x00" + strings.TrimRight(gateway, "/")))
	return "gateway-" + hex.EncodeToString(h[:8]) + ".sock"
}

// Stop asks the agent at socket to exit and returns its last status.
func Stop(ctx context.Context, socket string) (Status, error) { return statusOp(ctx, socket, "stop") }

func statusOp(ctx context.Context, socket, op string) (Status, error) {
	var resp response
	if err := agent.Ask(ctx, socket, request{Op: op}, &resp); err != nil {
		return Status{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.Agent == nil {
		return Status{}, fmt.Errorf("%w: no status in the answer", ErrUnavailable)
	}
	return *resp.Agent, nil
}

func readResponse(r *bufio.Reader) (response, error) {
	var resp response
	line, err := agent.ReadLine(r)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return resp, fmt.Errorf("bad answer from the gateway agent: %v", err)
	}
	return resp, nil
}

// hopHeaders are not passed on in either direction (RFC 9110 §7.6.1), nor
// are the framing headers the transports set themselves.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length"}

func cleanHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	return out
}
