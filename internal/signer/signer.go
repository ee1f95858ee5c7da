// Package signer chooses and opens the x-hmac signer a run uses, from the
// config: none, an external command, or LINE's module (wasm) — signed by the
// signer agent when one answers, else loaded in this process, starting an
// agent for the next runs when runs come often enough (signer.agent: auto).
// cmd only wires it: the factory calls Open once per run and closes it.
package signer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// Kinds of Error, the exit kinds cmd gives them (exit 2 either way).
const (
	KindNoSigner = "no_signer" // nothing that can sign is set up
	KindConfig   = "config"    // the signer settings are wrong
)

// Error is a signer that cannot be opened; its text is Err's.
type Error struct {
	Kind string // KindNoSigner or KindConfig
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func noSigner(err error) error { return &Error{Kind: KindNoSigner, Err: err} }

// Options say where the config is and how to start an agent.
type Options struct {
	// ConfigPath is the config file: signer.dir is relative to its directory
	// (default: signer/ beside it).
	ConfigPath string
	// StartAgent starts a signer agent for later runs (cmd: a detached
	// 'linectl signer agent --idle <idle>'); nil: never.
	StartAgent func(idle time.Duration)
}

// Opened is the run's signer and what it holds open.
type Opened struct {
	lineapi.Signer
	// Version is the imported module's extension version (x-line-chrome-version), "" but for wasm.
	Version string

	mu      sync.Mutex
	closers []func() error
}

// Close releases what Open started (a signer co-process, the module).
func (o *Opened) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.closers {
		_ = c()
	}
	o.closers = nil
	return nil
}

func (o *Opened) onClose(c func() error) {
	o.mu.Lock()
	o.closers = append(o.closers, c)
	o.mu.Unlock()
}

// Open chooses and opens the signer c names (config.Resolve has checked it).
// Errors are *Error.
func Open(c *config.Config, opts Options) (*Opened, error) {
	o := &Opened{}
	switch c.Signer.Kind {
	case config.SignerNone:
		o.Signer = lineapi.NoneSigner{}
	case config.SignerCommand:
		if c.Signer.Command == "" {
			return nil, &Error{KindConfig, errors.New("signer.kind is command but no signer.command (or LINECTL_SIGNER_COMMAND) is set")}
		}
		s, err := lineapi.NewCommandSigner(c.Signer.Command)
		if err != nil {
			return nil, &Error{KindConfig, err}
		}
		o.Signer = s
		o.onClose(s.Close)
	case config.SignerWasm:
		if err := o.openWasm(c, opts); err != nil {
			o.Close()
			return nil, err
		}
	case "":
		if c.Gateway != lineapi.DefaultBaseURL && IsLoopbackURL(c.Gateway) {
			o.Signer = lineapi.NoneSigner{} // a local simulator
			break
		}
		return nil, noSigner(errors.New(
			"no x-hmac signer configured: LINE's gateway rejects unsigned requests. " +
				"Run 'linectl signer import --auto' (uses your installed LINE Chrome extension), " +
				"or set signer.kind: command with signer.command (see docs/signer.md)"))
	default:
		return nil, &Error{KindConfig, fmt.Errorf("unknown signer.kind %q (want wasm, command or none)", c.Signer.Kind)}
	}
	return o, nil
}

// openWasm opens an imported LINE module: the signer agent when one answers
// (a cron run then skips loading the module), else the module loaded in
// this process — starting an agent for the next runs when signer.agent is
// auto.
func (o *Opened) openWasm(c *config.Config, opts Options) error {
	dir := Dir(c, opts.ConfigPath)
	info, err := wasmsign.ReadInfo(dir)
	if err != nil {
		return noSigner(err)
	}
	o.Version = info.Version
	local := func() (lineapi.Signer, error) {
		s, err := OpenModule(dir, info)
		if err != nil {
			return nil, err
		}
		o.onClose(s.Close)
		return s, nil
	}
	if AgentMode(c) == config.AgentAuto && signagent.Supported {
		idle := c.Signer.AgentIdleDuration()
		if path, err := signagent.SocketPath(AgentIdentity(dir, info)); err == nil {
			if cl, err := signagent.Dial(path); err == nil {
				o.onClose(cl.Close)
				o.Signer = &agentSigner{agent: cl, local: local}
				return nil
			}
			if recentLoad(path+".last", idle) && opts.StartAgent != nil {
				opts.StartAgent(idle)
			}
		}
	}
	s, err := local()
	if err != nil {
		return err
	}
	o.Signer = s
	return nil
}

// PingAgent returns the status of the agent s signs through, if it does.
func PingAgent(ctx context.Context, s lineapi.Signer) (signagent.Status, bool) {
	if o, ok := s.(*Opened); ok {
		s = o.Signer
	}
	a, ok := s.(*agentSigner)
	if !ok {
		return signagent.Status{}, false
	}
	st, err := a.agent.Ping(ctx)
	return st, err == nil
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

// OpenModule loads the module in this process, with wazero's compiled code
// cached in the user cache directory. The caller closes it.
func OpenModule(dir string, info wasmsign.Info) (*wasmsign.Signer, error) {
	var cache wazero.CompilationCache
	if cd, err := os.UserCacheDir(); err == nil {
		if cc, err := wazero.NewCompilationCacheWithDir(filepath.Join(cd, "linectl", "wazero")); err == nil {
			cache = cc
		}
	}
	s, err := wasmsign.OpenFile(context.Background(), filepath.Join(dir, "ltsm.wasm"), wasmsign.Options{Token: info.Token, Version: info.Version, Cache: cache,
		AllowUnknownBuild: true, StateDir: dir, SHA256: info.WasmSHA256})
	if err != nil {
		return nil, noSigner(fmt.Errorf("load the signing module: %w", err))
	}
	return s, nil
}

// Dir is the imported module's directory: signer.dir (relative to the
// config file's directory), else signer/ beside the config file; absolute,
// since it also names the signer agent.
func Dir(c *config.Config, configPath string) string {
	dir := state.Open(configPath, nil).SignerDir()
	if c.Signer.Dir != "" {
		dir = c.Signer.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(configPath), dir)
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// AgentMode is signer.agent: off, else auto (config.Resolve has checked it).
func AgentMode(c *config.Config) string {
	if c.Signer.Agent == config.AgentOff {
		return config.AgentOff
	}
	return config.AgentAuto
}

// AgentIdentity names the import an agent serves: its (absolute) directory,
// module, token and version. A new import gets a new agent.
func AgentIdentity(dir string, info wasmsign.Info) string {
	h := sha256.Sum256([]byte(dir + "\x00" + info.WasmSHA256 + "\x00" + info.Token + "\x00" + info.Version))
	return hex.EncodeToString(h[:8])
}

// IsLoopbackURL reports whether raw is a gateway on this machine (the
// sandbox), which needs no signature.
func IsLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
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
