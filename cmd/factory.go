package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/internal/signer"
	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
)

// iostreams are the process's standard streams, swappable in tests.
type iostreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY / ErrTTY say whether stdin / stderr are terminals.
	InTTY, ErrTTY bool
	// inFd is stdin's descriptor when it is a terminal (for no-echo prompts).
	inFd int
}

func systemStreams() *iostreams {
	return &iostreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		inFd:   int(os.Stdin.Fd()),
	}
}

// factory builds each command's dependencies lazily, so a command pays only
// for what it uses and a test swaps one field.
type factory struct {
	IO  *iostreams
	Now func() time.Time
	// Flags shared by every command.
	ConfigPath string
	Gateway    string
	Debug      bool
	Quiet      bool // --quiet: no chatter on stderr (warnings and errors still)
	Timeout    time.Duration
	// HTTPSleep is the client's retry sleep (tests make it instant).
	HTTPSleep func(context.Context, time.Duration) error

	// flags are the running command's flags (set before it runs), which
	// config.Resolve lays over the environment and the file.
	flags *pflag.FlagSet

	out     *printer
	store   *config.Store
	state   *state.Dir
	cfg     *config.Config
	source  *session.Source
	closers []func() error
	// signerVersion is the extension version of the wasm signer (x-line-chrome-version).
	signerVersion string
	clients       map[bool]*lineapi.Client // by auth: built once per run
	signerBuilt   lineapi.Signer           // the run's signer, built once
	// service is set by a command that runs until it is stopped (receive
	// --follow, notify serve, the agents, the sandbox): SIGTERM ends it with
	// exit 0, as systemd expects of a service it stops. serviceName names it
	// on stderr.
	service     bool
	serviceName string
	// sessionUsed is set once a command used the saved session, so Main
	// knows whether an ended session must be cleared from the config.
	sessionUsed bool
}

// runsAsService marks the run as a service's (see factory.service).
func (f *factory) runsAsService(name string) { f.service, f.serviceName = true, name }

func newFactory(io *iostreams) *factory {
	return &factory{IO: io, Now: time.Now, Timeout: 30 * time.Second}
}

// Out returns the JSON-lines printer for stdout.
func (f *factory) Out() *printer {
	if f.out == nil {
		f.out = newPrinter(f.IO.Out)
	}
	return f.out
}

// progress writes human text to stderr: warnings and what a person must
// see. Chatter that --quiet silences goes through info.
func (f *factory) progress(format string, a ...any) {
	fmt.Fprintf(f.IO.ErrOut, format+"\n", a...)
}

// info writes chatter to stderr ("Logged in as …", "Waiting for …"), unless
// --quiet. What scripts need is in the JSON lines on stdout either way.
func (f *factory) info(format string, a ...any) {
	if !f.Quiet {
		f.progress(format, a...)
	}
}

// Store returns the config store at --config / LINECTL_CONFIG / the default path.
func (f *factory) Store() (*config.Store, error) {
	if f.store != nil {
		return f.store, nil
	}
	p, err := config.Path(f.settingFlags())
	if err != nil {
		return nil, withExit(ExitUsage, kindConfig, err)
	}
	f.store = &config.Store{Path: p, Warn: f.progress}
	return f.store, nil
}

// State returns the files beside the config (internal/state): the key
// store, send's and receive's state, the names cache, the object-storage
// token.
func (f *factory) State() (*state.Dir, error) {
	if f.state != nil {
		return f.state, nil
	}
	s, err := f.Store()
	if err != nil {
		return nil, err
	}
	f.state = state.Open(s.Path, func() time.Time { return f.Now() })
	return f.state, nil
}

// Config reads the config file with the environment and the command's flags
// laid over it, defaults filled in (config.Resolve: one table of keys, viper
// decides what wins).
func (f *factory) Config() (*config.Config, error) {
	if f.cfg != nil {
		return f.cfg, nil
	}
	s, err := f.Store()
	if err != nil {
		return nil, err
	}
	file, err := s.Load()
	if err != nil {
		return nil, err
	}
	c, err := config.Resolve(file, f.settingFlags())
	if err != nil {
		return nil, err
	}
	if err := lineapi.CheckBaseURL(c.Gateway); err != nil {
		return nil, withExit(ExitUsage, kindUsage, err)
	}
	f.cfg = c
	return c, nil
}

// settingFlags are the flags config.Keys binds: the running command's (set
// by the root's PersistentPreRunE), else — a test that built the factory
// without running a command — its ConfigPath and Gateway fields as flags.
func (f *factory) settingFlags() *pflag.FlagSet {
	if f.flags != nil {
		return f.flags
	}
	fs := pflag.NewFlagSet("factory", pflag.ContinueOnError)
	fs.StringVar(&f.ConfigPath, "config", f.ConfigPath, "")
	fs.StringVar(&f.Gateway, "gateway", f.Gateway, "")
	for _, fl := range []*pflag.Flag{fs.Lookup("config"), fs.Lookup("gateway")} {
		fl.Changed = fl.Value.String() != ""
	}
	return fs
}

// Client returns a gateway client. With auth, it uses the saved session and
// fails with exit 3 when there is none. A run builds each kind once: a
// command that asks twice (send --to-name refreshing the name cache, then
// sending) shares one client, one signer and one connection pool.
func (f *factory) Client(auth bool) (*lineapi.Client, error) {
	if cl := f.clients[auth]; cl != nil {
		return cl, nil
	}
	cl, err := f.newClient(auth)
	if err != nil {
		return nil, err
	}
	if f.clients == nil {
		f.clients = map[bool]*lineapi.Client{}
	}
	f.clients[auth] = cl
	return cl, nil
}

func (f *factory) newClient(auth bool) (*lineapi.Client, error) {
	c, err := f.Config()
	if err != nil {
		return nil, err
	}
	if auth && !c.Tokens.LoggedIn() {
		return nil, errNotLoggedIn
	}
	signer, err := f.signer(c)
	if err != nil {
		return nil, err
	}
	opts := []lineapi.Option{lineapi.WithSigner(signer), lineapi.WithTimeout(f.Timeout), lineapi.WithClock(f.Now)}
	if f.signerVersion != "" {
		opts = append(opts, lineapi.WithVersion(f.signerVersion))
	}
	if f.Debug {
		opts = append(opts, lineapi.WithDebugLog(f.IO.ErrOut))
	}
	if f.HTTPSleep != nil {
		opts = append(opts, lineapi.WithSleep(f.HTTPSleep))
	}
	agentOpts, err := f.gatewayAgentOptions(c)
	if err != nil {
		return nil, err
	}
	opts = append(opts, agentOpts...)
	if auth {
		f.source = session.New(f.store, c.Tokens)
		f.source.Now = f.Now
		opts = append(opts, lineapi.WithTokenSource(f.source))
		f.sessionUsed = true
	}
	cl, err := lineapi.New(c.Gateway, opts...)
	if err != nil {
		return nil, withExit(ExitUsage, kindUsage, err)
	}
	if f.source != nil {
		f.source.Client = cl
	}
	return cl, nil
}

// Session returns the token source of the authenticated client, if one was built.
func (f *factory) Session() *session.Source { return f.source }

// signer returns the configured x-hmac signer, built on first use
// (internal/signer chooses and opens it).
func (f *factory) signer(c *config.Config) (lineapi.Signer, error) {
	if f.signerBuilt != nil {
		return f.signerBuilt, nil
	}
	if _, err := f.Store(); err != nil {
		return nil, err
	}
	o, err := signer.Open(c, signer.Options{ConfigPath: f.store.Path, StartAgent: f.startSignerAgent})
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, o.Close)
	f.signerVersion = o.Version
	f.signerBuilt = o.Signer
	return o.Signer, nil
}

// startSignerAgent starts 'linectl signer agent' detached, for later runs.
func (f *factory) startSignerAgent(idle time.Duration) {
	agent.StartDetached(f.store.Path, "signer", "agent", "--idle", idle.String())
}

// close releases what the factory started (signer co-processes).
func (f *factory) close() {
	for _, c := range f.closers {
		_ = c()
	}
	f.closers = nil
}

// deps are what a command's run function needs from outside the command:
// where its lines go, a gateway client, the config, the clock, names. The
// factory fills them (f.deps); tests fill them with fakes and call the run
// function with the command's Options directly (cli/cli's pattern).
type deps struct {
	Out     *printer
	Client  func(auth bool) (*lineapi.Client, error)
	Config  func() (*config.Config, error)
	Store   func() (*config.Store, error)
	Session func() *session.Source // the authenticated client's token source, once built
	Now     func() time.Time
	Resolve func(ctx context.Context, mids, names []string) ([]string, error)
	Info    func(format string, a ...any) // chatter on stderr (--quiet silences it)
}

func (f *factory) deps() deps {
	return deps{
		Out: f.Out(), Client: f.Client, Config: f.Config, Store: f.Store, Session: f.Session,
		Now: func() time.Time { return f.Now() },
		Resolve: func(ctx context.Context, mids, names []string) ([]string, error) {
			return resolveNames(ctx, f, mids, names)
		},
		Info: f.info,
	}
}
