package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/pkg/lineapi"
)

// Main runs linectl and returns the process exit code.
func Main() int {
	ctx, stop := signalContext()
	defer stop()
	defer startProfile()()
	return run(ctx, systemStreams(), os.Args[1:])
}

// signalError is the cause of the run's context when SIGINT or SIGTERM
// ended it: run tells systemd's stop (SIGTERM to a service, exit 0) from
// Ctrl-C (130).
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "interrupted by " + signalName(e.sig) }

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// signalContext is cancelled by the first SIGINT or SIGTERM, with a
// *signalError as its cause. Later signals are caught too (the run is
// already stopping cleanly) until stop is called.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			cancel(&signalError{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// stoppedBy is the signal that ended ctx, if one did.
func stoppedBy(ctx context.Context) (os.Signal, bool) {
	var se *signalError
	if errors.As(context.Cause(ctx), &se) {
		return se.sig, true
	}
	return nil, false
}

// run executes one command line; tests call it with their own streams.
func run(ctx context.Context, io *iostreams, args []string) int {
	f := newFactory(io)
	defer f.close()
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	sig, signalled := stoppedBy(ctx)
	if f.service && signalled && sig == syscall.SIGTERM && (err == nil || errors.Is(err, context.Canceled)) {
		// systemd's (and docker's, and kill's) way to stop a service: a
		// clean shutdown, not a failure.
		if !f.Quiet {
			fmt.Fprintf(io.ErrOut, "linectl: %s stopped (SIGTERM)\n", f.serviceName)
		}
		return ExitOK
	}
	if err == nil {
		return ExitOK
	}
	if isCobraUsage(err) {
		err = usageErrorf("%s", strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n\n", "; ")), " "))
	}
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %v", context.Canceled, err)
	}
	if f.sessionUsed && lineapi.IsSessionGone(err) {
		var ended *session.ErrEnded
		if !errors.As(err, &ended) {
			if src := f.Session(); src != nil {
				clearTokens(f, src.Tokens().AccessToken)
			}
			err = &session.ErrEnded{Cause: err}
		}
	}
	c := classify(err)
	msg := err.Error()
	human := humanText(err, f.Debug)
	if c.code == ExitInterrupted && signalled {
		msg = interruptedMessage(msg, sig)
		human = msg
	}
	switch {
	case io.ErrTTY && c.code == ExitInterrupted:
		// The person pressed Ctrl-C: the usual way to end receive --follow.
	case io.ErrTTY:
		// A person reads one line; the JSON error line is for scripts.
		fmt.Fprintf(io.ErrOut, "linectl: %s\n", human)
	default:
		fmt.Fprintf(io.ErrOut, "linectl: %s\n", human)
		if b, merr := marshalLine(errorLine{Type: "error", ExitCode: c.code, Kind: c.kind, Code: c.talk, Reason: c.reason, Message: msg}); merr == nil {
			_, _ = io.ErrOut.Write(b)
		}
	}
	return c.code
}

// interruptedMessage says which signal ended the run, in place of Go's
// "context canceled" (not a message for a person); what the error said
// beyond that stays.
func interruptedMessage(msg string, sig os.Signal) string {
	by := "interrupted by " + signalName(sig)
	rest := strings.TrimSuffix(strings.TrimSuffix(msg, context.Canceled.Error()), ": ")
	switch {
	case rest == "":
		return by
	case rest == msg: // the error says more than "canceled"
		return msg + " (" + by + ")"
	default:
		return rest + ": " + by
	}
}

// clearTokens removes the tokens of an ended session, unless another process
// has already replaced the token that was refused.
func clearTokens(f *factory, refused string) {
	if s, err := f.Store(); err == nil {
		_, _ = s.Update(func(c *config.Config) error {
			if c.Tokens.AccessToken == refused {
				c.Tokens = config.Tokens{}
			}
			return nil
		})
	}
}

// NewRootForDocs returns the command tree for generating documentation.
func NewRootForDocs() *cobra.Command {
	root := newRootCmd(newFactory(&iostreams{}))
	forDocs(root)
	return root
}

func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "linectl",
		Short: "Send and receive LINE messages from scripts, as a secondary device",
		Long: `linectl is a command-line client for LINE. It logs in as a secondary device, the way
LINE's Chrome extension does, keeps its certificate and tokens, sends text to users,
groups and rooms, and streams incoming events. Everything it prints on stdout is JSON
lines (one object per line, each with a "type"); people-facing text goes to stderr.

Try it without a LINE account against the built-in simulator: 'linectl sandbox --help'.

` + exitCodeHelp,
		Example: `  # log in by scanning a QR code with the LINE app
  linectl login qr
  # post a notification into a group from cron
  linectl send --to c0123456789abcdef0123456789abcdef "backup finished"
  # follow incoming messages as JSON lines
  linectl receive --follow | jq -c 'select(.opName=="RECEIVE_MESSAGE")'`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		f.flags = cmd.Flags() // with the persistent ones: config.Keys binds them
		return checkDuration("--timeout", f.Timeout, time.Second, 10*time.Minute)
	}
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.StringVar(&f.ConfigPath, "config", "", "config file (env LINECTL_CONFIG; default $XDG_CONFIG_HOME/linectl/config.yaml)")
	pf.StringVar(&f.Gateway, "gateway", "", "gateway URL (env LINECTL_GATEWAY; default "+lineapi.DefaultBaseURL+")") // config.Keys "gateway"
	pf.BoolVar(&f.Debug, "debug", false, "log requests and responses to stderr, secrets redacted")
	pf.BoolVarP(&f.Quiet, "quiet", "q", false, "no progress chatter on stderr (warnings, errors and the QR code still; the JSON lines on stdout are unchanged)")
	pf.DurationVar(&f.Timeout, "timeout", 30*time.Second, "deadline of one gateway request")

	root.AddCommand(
		newCmdLogin(f),
		newCmdLogout(f, nil),
		newCmdWhoami(f, nil),
		newCmdVersion(f),
		newCmdSandbox(f, nil),
		newCmdSend(f, nil),
		newCmdUnsend(f, nil),
		newCmdReact(f, nil),
		newCmdHistory(f, nil),
		newCmdRead(f, nil),
		newCmdChats(f, nil),
		newCmdContacts(f, nil),
		newCmdProbeE2EE(f, nil),
		newCmdSession(f),
		newCmdReceive(f, nil),
		newCmdSigner(f),
		newCmdNotify(f),
		newCmdServe(f, nil),
		newCmdBot(f),
		newCmdDownload(f),
		newCmdUpload(f),
		newCmdGatewayAgent(f),
	)
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.Args = nil // its subcommands are the shells: strictGroups checks them
	}
	strictGroups(root)
	for _, c := range root.Commands() {
		c.Flags().SetInterspersed(true)
	}
	v, _ := buildVersion()
	root.Version = v
	root.SetVersionTemplate(versionTemplate())
	return root
}

// isCobraUsage reports whether err is cobra's own complaint about the
// command line (an unknown or mistyped subcommand). Cobra has no error type
// for it, so its fixed wording is matched.
func isCobraUsage(err error) bool {
	var ee *exitError
	return !errors.As(err, &ee) && strings.HasPrefix(err.Error(), "unknown command ")
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments (got %q)", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
