// Package agent is the lifecycle linectl's agents share — the signer agent
// (internal/signagent: LINE's module kept loaded) and the gateway agent
// (internal/gwagent: a warm gateway connection). Each is a linectl process
// serving other runs of the same user over a Unix socket; what they serve
// differs, how they live does not:
//
//   - where the socket is: a private directory (socketDir), checked by both
//     sides, one socket per agent identity (SocketPath);
//   - one agent per socket: Listen takes a lock beside it, and a second
//     agent finds the first running (ErrRunning, state "already-running");
//   - started detached by a run that wants one for the runs after it
//     (StartDetached);
//   - serving until idle, told to stop, its Watch says so, or the run's
//     context ends (Loop);
//   - stopped or pinged by another run (Ask), and the command's states
//     running | already-running | stopped | not-running (Lifecycle).
//
// Wire format: one JSON object per line (ReadLine bounds a line); the
// requests and answers are each agent's own.
package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// systemRuntimeDir holds the per-user runtime directories systemd-logind makes.
var systemRuntimeDir = "/run/user"

// MaxLine bounds one request or response line (a request body is at most 16 MiB).
const MaxLine = 34 << 20

// dialTimeout bounds connecting to an agent.
const dialTimeout = 250 * time.Millisecond

// ErrLineTooLong is ReadLine's error for a line over MaxLine.
var ErrLineTooLong = errors.New("line too long")

// ReadLine reads one line of at most MaxLine bytes (without the newline).
func ReadLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLine {
			return nil, ErrLineTooLong
		}
		if err == nil {
			return line[:len(line)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// socketDir returns (creating it if create) the private directory for
// agent sockets: $XDG_RUNTIME_DIR/linectl; else /run/user/<uid>/linectl when
// that runtime directory exists and is private (cron jobs have no
// XDG_RUNTIME_DIR, yet must find an agent run as a systemd user service);
// else <tmp>/linectl-<uid>. It refuses a directory that another user owns or
// others can enter. A caller that only looks for an agent (!create) creates
// nothing, and fails when there is no directory.
func socketDir(create bool) (string, error) {
	dir := filepath.Join(os.TempDir(), "linectl-"+strconv.Itoa(os.Getuid()))
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		dir = filepath.Join(rt, "linectl")
	} else if rt := filepath.Join(systemRuntimeDir, strconv.Itoa(os.Getuid())); checkPrivate(rt) == nil {
		dir = filepath.Join(rt, "linectl")
	}
	if create {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	if err := checkPrivate(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// SocketPath is the socket called name in socketDir (create, or !create:
// looking for an agent creates nothing).
func SocketPath(name string, create bool) (string, error) {
	dir, err := socketDir(create)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// Ask sends the one request line q to the agent at socket on a connection
// of its own and decodes the one answer line into a (a ping, a stop). The
// deadline is ctx's, else 5 seconds.
func Ask(ctx context.Context, socket string, q, a any) error {
	c, err := DialSocket(socket)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	_ = c.SetDeadline(deadline)
	line, err := json.Marshal(q)
	if err != nil {
		return err
	}
	if _, err := c.Write(append(line, '\n')); err != nil {
		return err
	}
	b, err := ReadLine(bufio.NewReader(c))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, a); err != nil {
		return fmt.Errorf("bad answer from the agent: %v", err)
	}
	return nil
}
