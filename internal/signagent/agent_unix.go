//go:build linux || darwin || freebsd

package signagent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// Serve accepts connections until idle, Watch says stop, a stop request
// arrives, or ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.loop = agent.NewLoop(s.Idle, s.Watch, s.Poll)
	return s.loop.Serve(ctx, ln, s.handle)
}

func (s *Server) status() *Status {
	st := s.Status
	st.Signatures = s.count.Load()
	return st.WithIdle(s.Idle)
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	if !agent.PeerIsUs(c) {
		return
	}
	r := bufio.NewReaderSize(c, 64<<10)
	enc := json.NewEncoder(c)
	for {
		line, err := agent.ReadLine(r)
		if err != nil {
			if errors.Is(err, agent.ErrLineTooLong) {
				_ = enc.Encode(response{Error: "request too long"})
			}
			return
		}
		s.loop.Touch()
		q, err := parseRequest(line)
		var resp response
		switch {
		case err != nil:
			resp.Error = err.Error()
		case q.Op == "ping":
			resp.Status = s.status()
		case q.Op == "stop":
			resp.Status = s.status()
			_ = enc.Encode(resp)
			s.loop.Stop()
			return
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			resp.HMAC, err = s.Signer.Sign(ctx, q.SignRequest)
			cancel()
			if err != nil {
				resp.Error = err.Error()
			} else {
				s.count.Add(1)
			}
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

// Client talks to an agent. It is safe for concurrent use (requests are
// serialised on one connection).
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	dead error
}

// Dial connects to the agent at path after checking that its directory is
// private and (on Linux) that the process listening is ours. Errors wrap
// ErrUnavailable.
func Dial(path string) (*Client, error) {
	c, err := agent.DialSocket(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return &Client{conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

func (c *Client) roundTrip(ctx context.Context, q request) (response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var resp response
	if c.dead != nil {
		return resp, c.dead
	}
	line, err := json.Marshal(q)
	if err != nil {
		return resp, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = c.conn.SetDeadline(deadline)
	fail := func(err error) (response, error) {
		c.dead = fmt.Errorf("%w: %v", ErrUnavailable, err)
		c.conn.Close()
		return resp, c.dead
	}
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		return fail(err)
	}
	b, err := agent.ReadLine(c.r)
	if err != nil {
		return fail(err)
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fail(fmt.Errorf("bad answer: %v", err))
	}
	return resp, nil
}

// Sign asks the agent for one signature.
func (c *Client) Sign(ctx context.Context, r lineapi.SignRequest) (string, error) {
	resp, err := c.roundTrip(ctx, request{Op: "sign", SignRequest: r})
	if err != nil {
		return "", err
	}
	if resp.Error != "" {
		return "", fmt.Errorf("signer agent: %s", resp.Error)
	}
	if resp.HMAC == "" {
		return "", fmt.Errorf("%w: empty answer", ErrUnavailable)
	}
	return resp.HMAC, nil
}

// Ping returns the agent's status.
func (c *Client) Ping(ctx context.Context) (Status, error) {
	return c.statusOp(ctx, "ping")
}

// Stop asks the agent to exit and returns its last status.
func (c *Client) Stop(ctx context.Context) (Status, error) {
	return c.statusOp(ctx, "stop")
}

func (c *Client) statusOp(ctx context.Context, op string) (Status, error) {
	resp, err := c.roundTrip(ctx, request{Op: op})
	if err != nil {
		return Status{}, err
	}
	if resp.Status == nil {
		return Status{}, fmt.Errorf("%w: no status in the answer", ErrUnavailable)
	}
	return *resp.Status, nil
}

// Close hangs up.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead == nil {
		c.dead = fmt.Errorf("%w: closed", ErrUnavailable)
	}
	return c.conn.Close()
}
