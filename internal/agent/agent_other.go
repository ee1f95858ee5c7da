//go:build !(linux || darwin || freebsd)

package agent

import (
	"errors"
	"net"
)

// Supported reports whether agents work on this system.
const Supported = false

var errNotHere = errors.New("agents need a Unix system")

// ErrRunning is returned by Listen when another agent holds the socket.
var ErrRunning = errors.New("an agent is already running on this socket")

func checkPrivate(string) error { return errNotHere }

// Listen is not available here.
func Listen(string) (net.Listener, func(), error) { return nil, nil, errNotHere }

// DialSocket is not available here.
func DialSocket(string) (net.Conn, error) { return nil, errNotHere }

// PeerIsUs is false here.
func PeerIsUs(net.Conn) bool { return false }

// StartDetached does nothing here.
func StartDetached(string, ...string) {}
