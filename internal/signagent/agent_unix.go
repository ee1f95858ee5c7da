//go:build linux || darwin || freebsd

package signagent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Supported reports whether agents work on this system.
const Supported = true

// ErrRunning is returned by Listen when another agent holds the socket.
var ErrRunning = errors.New("a signer agent is already running for this module")

// checkPrivate refuses a directory that is a symlink, is not ours, or that
// others can enter.
func checkPrivate(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || !ok {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is open to other users (mode %v; want 0700)", dir, st.Mode().Perm())
	}
	return nil
}

// Listen takes the agent lock for path and binds the socket (0600). It
// returns ErrRunning when another agent holds the lock. close unbinds and
// releases.
func Listen(path string) (ln net.Listener, closeFn func(), err error) {
	// Never through a symlink (the directory is ours and 0700, but a link
	// planted there must not make us create or lock a file elsewhere).
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, ErrRunning
		}
		return nil, nil, err
	}
	_ = os.Remove(path) // a socket left by an agent that died: the lock says nobody serves it
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	st, _ := os.Stat(path)
	return l, func() {
		l.Close()
		if now, err := os.Stat(path); err == nil && st != nil && os.SameFile(now, st) {
			os.Remove(path)
		}
		lock.Close()
	}, nil
}

// Serve accepts connections until idle, Watch says stop, a stop request
// arrives, or ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.stop = make(chan struct{})
	s.last.Store(time.Now().UnixNano())
	if s.Poll == 0 {
		s.Poll = 2 * time.Second
	}
	return ServeConns(ctx, ln, s.Poll, s.stop, func() bool {
		if s.Watch != nil && !s.Watch() {
			return false
		}
		return s.Idle <= 0 || time.Since(time.Unix(0, s.last.Load())) <= s.Idle
	}, s.handle)
}

func (s *Server) status() *Status {
	st := s.Status
	st.Signatures = s.count.Load()
	return st.WithIdle(s.Idle)
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	if !peerIsUs(c) {
		return
	}
	r := bufio.NewReaderSize(c, 64<<10)
	enc := json.NewEncoder(c)
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, errTooLong) {
				_ = enc.Encode(response{Error: "request too long"})
			}
			return
		}
		s.last.Store(time.Now().UnixNano())
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
			s.once.Do(func() { close(s.stop) })
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

// DialTimeout bounds connecting to an agent.
const DialTimeout = 250 * time.Millisecond

// Dial connects to the agent at path after checking that its directory is
// private and (on Linux) that the process listening is ours.
func Dial(path string) (*Client, error) {
	c, err := DialSocket(path)
	if err != nil {
		return nil, err
	}
	return &Client{conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

// DialSocket connects to the Unix socket at path with the checks Dial makes
// (a private directory; on Linux, a peer running as this user), for agents
// that speak their own protocol. Errors wrap ErrUnavailable.
func DialSocket(path string) (net.Conn, error) {
	if err := checkPrivate(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	c, err := net.DialTimeout("unix", path, DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if !peerIsUs(c) {
		c.Close()
		return nil, fmt.Errorf("%w: the process at %s is not running as this user", ErrUnavailable, path)
	}
	return c, nil
}

// PeerIsUs reports whether the other end of an accepted connection runs as
// this user (SO_PEERCRED on Linux; elsewhere the private directory is the check).
func PeerIsUs(c net.Conn) bool { return peerIsUs(c) }

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
	b, err := readLine(c.r)
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
