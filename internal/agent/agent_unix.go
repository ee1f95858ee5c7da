//go:build linux || darwin || freebsd

package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Supported reports whether agents work on this system.
const Supported = true

// ErrRunning is returned by Listen when another agent holds the socket.
var ErrRunning = errors.New("an agent is already running on this socket")

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

// DialSocket connects to the Unix socket at path after checking that its
// directory is private and (on Linux) that the process listening runs as
// this user.
func DialSocket(path string) (net.Conn, error) {
	if err := checkPrivate(filepath.Dir(path)); err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("unix", path, dialTimeout)
	if err != nil {
		return nil, err
	}
	if !peerIsUs(c) {
		c.Close()
		return nil, fmt.Errorf("the process at %s is not running as this user", path)
	}
	return c, nil
}

// PeerIsUs reports whether the other end of an accepted connection runs as
// this user (SO_PEERCRED on Linux; elsewhere the private directory is the check).
func PeerIsUs(c net.Conn) bool { return peerIsUs(c) }

// StartDetached starts 'linectl <args> --config <config>' (this executable)
// in the background, detached from this run (own session, no stdio, in /),
// so that later runs find the agent it becomes. Failure only means later
// runs do without it.
func StartDetached(config string, args ...string) {
	exe, err := os.Executable()
	if err != nil || config == "" {
		return
	}
	cfg, err := filepath.Abs(config)
	if err != nil {
		return
	}
	cmd := exec.Command(exe, append(args, "--config", cfg)...)
	cmd.Dir = "/" // keep no directory of the caller busy
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		_ = cmd.Process.Release()
	}
}
