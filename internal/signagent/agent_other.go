//go:build !(linux || darwin || freebsd)

package signagent

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Supported reports whether agents work on this system.
const Supported = false

var errNotHere = errors.New("the signer agent needs a Unix system")

// ErrRunning is returned by Listen when another agent holds the socket.
var ErrRunning = errors.New("a signer agent is already running for this module")

func checkPrivate(string) error { return errNotHere }

// Listen is not available here.
func Listen(string) (net.Listener, func(), error) { return nil, nil, errNotHere }

// Serve is not available here.
func (s *Server) Serve(context.Context, net.Listener) error { return errNotHere }

// Client is not available here.
type Client struct{}

// DialTimeout bounds connecting to an agent.
const DialTimeout = 250 * time.Millisecond

// DialSocket is not available here.
func DialSocket(string) (net.Conn, error) { return nil, ErrUnavailable }

// PeerIsUs is false here.
func PeerIsUs(net.Conn) bool { return false }

// Dial is not available here.
func Dial(string) (*Client, error) { return nil, ErrUnavailable }

// Sign is not available here.
func (*Client) Sign(context.Context, lineapi.SignRequest) (string, error) { return "", ErrUnavailable }

// Ping is not available here.
func (*Client) Ping(context.Context) (Status, error) { return Status{}, ErrUnavailable }

// Stop is not available here.
func (*Client) Stop(context.Context) (Status, error) { return Status{}, ErrUnavailable }

// Close does nothing here.
func (*Client) Close() error { return nil }
