// Package signagent keeps LINE's signing module loaded between linectl runs.
//
// Loading the module costs a fresh process tens of milliseconds (decoding
// 2 MB of WebAssembly and mapping its compiled code); a cron job that sends
// one message pays that every time. The agent is a linectl process that
// holds the loaded module and answers signature requests on a Unix socket,
// as ssh-agent does for keys: a run that finds it signs in well under a
// millisecond, a run that does not loads the module itself.
//
// Only the user who owns the agent can reach it: the socket lives in a 0700
// directory owned by that user (checked by both sides before use), and on
// Linux both sides also check the peer's uid. Requests carry the access
// token, which the agent keeps only as the key of its cache of derived keys.
//
// How the agent lives — its socket directory and path, one agent per socket,
// serving until idle or stopped, started detached — is internal/agent's,
// shared with the gateway agent; this package is what it serves.
//
// Wire format: one JSON object per line each way.
//
//	→ {"op":"sign","path":"/api/…","body":"[2]","accessToken":"…","version":"3.7.2"}
//	← {"xHmac":"…"}              or {"error":"…"}
//	→ {"op":"ping"}              ← {"status":{…}}
//	→ {"op":"stop"}              ← {"status":{…}}, then the agent exits
package signagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// Supported reports whether agents work on this system.
const Supported = agent.Supported

// ErrRunning is agent.Listen's error when another agent holds the socket.
var ErrRunning = agent.ErrRunning

// request is one line from a client.
type request struct {
	Op string `json:"op"` // sign (default) | ping | stop
	lineapi.SignRequest
}

// response is one line to a client.
type response struct {
	HMAC   string  `json:"xHmac,omitempty"`
	Error  string  `json:"error,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// Server answers signature requests with Signer.
type Server struct {
	Signer lineapi.Signer
	Status Status
	// Idle ends the agent after this long without requests (0: never).
	Idle time.Duration
	// Watch is called every Poll; returning false ends the agent (the
	// import it serves has changed or gone).
	Watch func() bool
	Poll  time.Duration

	loop  *agent.Loop
	count atomic.Int64
}

// Status describes a running agent.
type Status struct {
	PID        int       `json:"pid"`
	Module     string    `json:"module"` // the module's sha256
	Version    string    `json:"version"`
	Since      time.Time `json:"since"`
	Signatures int64     `json:"signatures"`
	Idle       string    `json:"idle,omitempty"` // exits after this long without requests
}

// WithIdle returns a copy of st that reports the idle limit.
func (st Status) WithIdle(d time.Duration) *Status {
	if d > 0 {
		st.Idle = d.String()
	}
	return &st
}

// ErrUnavailable wraps every failure to reach or talk to an agent (as
// opposed to the agent's signer refusing a request): the caller can sign
// by itself instead.
var ErrUnavailable = errors.New("signer agent unavailable")

// parseRequest decodes one request line.
func parseRequest(line []byte) (request, error) {
	var q request
	if err := json.Unmarshal(line, &q); err != nil {
		return q, fmt.Errorf("bad request: %v", err)
	}
	switch q.Op {
	case "", "sign", "ping", "stop":
		return q, nil
	}
	return q, fmt.Errorf("bad request: unknown op %q", q.Op)
}

// SocketPath is where the agent for the given identity listens. The
// identity names the module, its token and version and the signer
// directory, so an agent never signs for a different import.
func SocketPath(identity string) (string, error) {
	return agent.SocketPath("signer-"+identity+".sock", true)
}
