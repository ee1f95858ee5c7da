package lineapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// CommandSigner gets signatures from an external program run as a
// co-process: for each request it writes one JSON line
// {"path","body","accessToken","version"} to the program's stdin and reads
// one line back, the standard-base64 signature. The program is started on
// the first signature and stays running until Close. Its stderr is passed
// through. The command line is split on spaces (no shell); it must not hold
// secrets, since argv is visible to other users. The program's environment
// is linectl's without the LINECTL_* variables (no LINECTL_PASSWORD).
type CommandSigner struct {
	argv []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	dead error
}

// NewCommandSigner returns a signer running the command line.
func NewCommandSigner(command string) (*CommandSigner, error) {
	argv := strings.Fields(command)
	if len(argv) == 0 {
		return nil, errors.New("signer command is empty")
	}
	return &CommandSigner{argv: argv}, nil
}

func (s *CommandSigner) start() error {
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = signerEnv(os.Environ())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start signer command %q: %w", s.argv[0], err)
	}
	s.cmd, s.in, s.out = cmd, in, bufio.NewReader(out)
	return nil
}

// signerEnv is the environment the signer program gets: linectl's own,
// without any LINECTL_* variable (LINECTL_PASSWORD and whatever else
// linectl is configured with: the program is given all it needs on stdin).
// PATH, HOME, LANG and the rest pass through.
func signerEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(strings.ToUpper(name), "LINECTL_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Sign sends one request line and reads one signature line.
func (s *CommandSigner) Sign(ctx context.Context, r SignRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead != nil {
		return "", s.dead
	}
	if s.cmd == nil {
		if err := s.start(); err != nil {
			s.dead = err
			return "", err
		}
	}
	line, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	type result struct {
		sig string
		err error
	}
	done := make(chan result, 1)
	go func() {
		if _, err := s.in.Write(append(line, '\n')); err != nil {
			done <- result{err: err}
			return
		}
		sig, err := s.out.ReadString('\n')
		done <- result{strings.TrimSpace(sig), err}
	}()
	select {
	case <-ctx.Done():
		s.dead = fmt.Errorf("signer command %q did not answer: %w", s.argv[0], ctx.Err())
		s.kill()
		return "", s.dead
	case res := <-done:
		if res.err != nil {
			s.dead = fmt.Errorf("signer command %q failed: %w", s.argv[0], res.err)
			s.kill()
			return "", s.dead
		}
		if b, err := base64.StdEncoding.DecodeString(res.sig); err != nil || len(b) == 0 {
			return "", fmt.Errorf("signer command %q answered something that is not a base64 signature", s.argv[0])
		}
		return res.sig, nil
	}
}

func (s *CommandSigner) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Close ends the co-process.
func (s *CommandSigner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	_ = s.in.Close()
	err := s.cmd.Wait()
	s.cmd = nil
	if s.dead == nil {
		s.dead = errors.New("signer closed")
	}
	return err
}
