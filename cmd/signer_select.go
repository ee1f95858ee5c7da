package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// defaultAgentIdle is how long an automatically started agent stays.
const defaultAgentIdle = config.DefaultAgentIdle

// wasmSigner returns the signer for an imported LINE module: the signer
// agent when one answers (a cron run then skips loading the module), else
// the module loaded in this process — starting an agent for the next runs
// when signer.agent is auto.
func (f *factory) wasmSigner(c *config.Config) (lineapi.Signer, error) {
	dir := signerDir(f, c)
	info, err := wasmsign.ReadInfo(dir)
	if err != nil {
		return nil, withExit(ExitUsage, kindNoSigner, err)
	}
	f.signerVersion = info.Version
	mode, err := agentMode(c)
	if err != nil {
		return nil, err
	}
	idle, err := agentIdle(c)
	if err != nil {
		return nil, err
	}
	if mode == config.AgentAuto && signagent.Supported {
		if path, err := signagent.SocketPath(agentIdentity(dir, info)); err == nil {
			if cl, err := signagent.Dial(path); err == nil {
				f.closers = append(f.closers, cl.Close)
				return &agentSigner{agent: cl, local: func() (lineapi.Signer, error) { return f.openWasm(dir, info) }}, nil
			}
			if recentLoad(path+".last", idle) {
				f.startAgent(idle)
			}
		}
	}
	s, err := f.openWasm(dir, info)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// recentLoad records that this run loads the module and reports whether
// another run did so within signer.agentIdle: an agent is started only when
// runs come often enough to use it (an hourly cron job leaves nothing behind).
func recentLoad(stamp string, idle time.Duration) bool {
	if idle == 0 {
		return false
	}
	st, err := os.Stat(stamp)
	recent := err == nil && time.Since(st.ModTime()) < idle
	if f, err := os.OpenFile(stamp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
		f.Close()
		now := time.Now()
		_ = os.Chtimes(stamp, now, now)
	}
	return recent
}

// openWasm loads the module in this process, with wazero's compiled code
// cached in the user cache directory.
func (f *factory) openWasm(dir string, info wasmsign.Info) (*wasmsign.Signer, error) {
	var cache wazero.CompilationCache
	if cd, err := os.UserCacheDir(); err == nil {
		if cc, err := wazero.NewCompilationCacheWithDir(filepath.Join(cd, "linectl", "wazero")); err == nil {
			cache = cc
		}
	}
	s, err := wasmsign.OpenFile(context.Background(), filepath.Join(dir, "ltsm.wasm"), wasmsign.Options{Token: info.Token, Version: info.Version, Cache: cache,
		AllowUnknownBuild: true, StateDir: dir, SHA256: info.WasmSHA256})
	if err != nil {
		return nil, withExit(ExitUsage, kindNoSigner, fmt.Errorf("load the signing module: %w", err))
	}
	f.closers = append(f.closers, s.Close)
	return s, nil
}

// signerDir is the imported module's directory: signer.dir (relative to the
// config file's directory), else signer/ beside the config file; absolute,
// since it also names the signer agent.
func signerDir(f *factory, c *config.Config) string {
	dir := f.store.Beside(config.DirSigner)
	if c.Signer.Dir != "" {
		dir = c.Signer.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(f.store.Path), dir)
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// agentMode is signer.agent (config.Validate has checked it).
func agentMode(c *config.Config) (string, error) {
	if c.Signer.Agent == config.AgentOff {
		return config.AgentOff, nil
	}
	return config.AgentAuto, nil
}

// agentIdle is signer.agentIdle (config.Validate has checked it).
func agentIdle(c *config.Config) (time.Duration, error) {
	return c.Signer.AgentIdleDuration(), nil
}

// agentIdentity names the import an agent serves: its (absolute) directory,
// module, token and version. A new import gets a new agent.
func agentIdentity(dir string, info wasmsign.Info) string {
	h := sha256.Sum256([]byte(dir + "\x00" + info.WasmSHA256 + "\x00" + info.Token + "\x00" + info.Version))
	return hex.EncodeToString(h[:8])
}

// agentSigner signs through the agent and, if the agent goes away, with the
// module loaded here (a signature is a pure function of the request, so
// asking again elsewhere is safe; nothing has been sent yet).
type agentSigner struct {
	agent *signagent.Client
	local func() (lineapi.Signer, error)

	mu  sync.Mutex
	own lineapi.Signer
}

func (s *agentSigner) Sign(ctx context.Context, r lineapi.SignRequest) (string, error) {
	s.mu.Lock()
	own := s.own
	s.mu.Unlock()
	if own == nil {
		sig, err := s.agent.Sign(ctx, r)
		if !errors.Is(err, signagent.ErrUnavailable) {
			return sig, err
		}
		s.mu.Lock()
		if s.own == nil {
			l, err := s.local()
			if err != nil {
				s.mu.Unlock()
				return "", err
			}
			s.own = l
		}
		own = s.own
		s.mu.Unlock()
	}
	return own.Sign(ctx, r)
}
