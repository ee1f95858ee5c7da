package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

type receiveOptions struct {
	deps
	Stdout   io.Writer                     // the lines (buffered and flushed by the run)
	Progress func(format string, a ...any) // notices and warnings on stderr
	GiveUp   time.Duration                 // without --follow: how long to keep reconnecting (--timeout)
	Position positionStore
	// Opener opens sealed messages; save keeps the keys it fetched.
	Opener sealerOpener

	Follow       bool
	Wait         time.Duration
	FromRevision int64
	FromRevSet   bool
	FromStart    bool
	Types        []string
	Chat         string
	From         string
	TextOnly     bool
	StallTimeout time.Duration

	types map[stream.OpType]bool
}

func newCmdReceive(f *factory, runF func(*receiveOptions) error) *cobra.Command {
	opts := &receiveOptions{deps: f.deps(), Stdout: f.IO.Out, Progress: f.progress, Position: filePosition{f},
		Opener: f.storedSealer,
	}
	cmd := &cobra.Command{
		Use:   "receive [--follow]",
		Short: "Print incoming operations (messages, reads, joins, …) as JSON lines",
		Long: `Print the account's operations — messages received and sent, read receipts, chat changes —
from the gateway's operation stream, one JSON line each (see docs/receive.md):

  {"type":"operation","revision":"…","opType":26,"opName":"RECEIVE_MESSAGE","createdTime":"…",
   "reqSeq":0,"param1":…,"message":{"from":…,"to":…,"text":"テスト",…}}

Without --follow it prints every operation after the saved position up to LINE's newest
at the start (reconnecting through dropped connections), then exits once the stream has
had nothing new for --wait; if the gateway stays unreachable for --timeout before it got
there, it exits 5 with the position saved (run it again for the rest). With --follow it
streams until interrupted, reconnecting whenever the connection drops or stalls (nothing,
not even a ping, for --stall-timeout): at once after a connection that delivered
operations, with growing backoff while reconnecting fails.

Delivery guarantee: a line is written and flushed before its revision is saved, and an
operation at or below the saved revision is never printed again, so restarts (systemd,
a restart loop) lose nothing and repeat nothing. The position is saved as soon as the
stream pauses, and at least every 250 ms during a burst: after SIGKILL or a power loss,
only operations printed in the last 250 ms before it may be printed again. A position
that cannot be saved (full or read-only disk) is reported on stderr and retried every
second. The first run starts at the
newest operation (getLastOpRevision), or at --from-revision N, or with --from-start at 0.

Filters: --types 25,26 or names (RECEIVE_MESSAGE), --chat MID, --from MID. --text-only prints
messages only, as {"type":"message","chat":…,"from":…,"text":…,"messageId":…,"revision":…}
("replyTo" on a reply; "mentions" and, when the account is mentioned, "mentionsMe":true),
and what happens to messages: {"type":"unsent","messageId":…,"chat":…} for an unsend,
{"type":"reacted","messageId":…,"reaction":"nice","from":…} for a reaction (the account's
own and others' to the account's messages; "cancelled":true when taken back).
Only one receive runs per config at a time.`,
		Example: `  linectl receive --follow
  linectl receive --follow --types RECEIVE_MESSAGE --chat c0123456789abcdef0123456789abcdef
  linectl receive --follow --text-only | jq -r '"\(.from): \(.text)"'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.FromRevSet = cmd.Flags().Changed("from-revision")
			if err := parseReceiveOptions(opts); err != nil {
				return err
			}
			opts.GiveUp = f.Timeout
			if runF != nil {
				return runF(opts)
			}
			if opts.Follow {
				f.runsAsService("receive --follow")
			}
			return runReceive(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "keep streaming until interrupted")
	fl.DurationVar(&opts.Wait, "wait", 2*time.Second, "without --follow: exit after this long with nothing new")
	fl.Int64Var(&opts.FromRevision, "from-revision", 0, "start after this revision instead of the saved one")
	fl.BoolVar(&opts.FromStart, "from-start", false, "start from revision 0 (LINE may answer with a fullSync)")
	fl.StringSliceVar(&opts.Types, "types", nil, "only these operation types (numbers or names, comma-separated)")
	fl.StringVar(&opts.Chat, "chat", "", "only operations of this chat (MID)")
	fl.StringVar(&opts.From, "from", "", "only messages from this MID")
	fl.DurationVar(&opts.StallTimeout, "stall-timeout", stream.DefaultStallTimeout, "reconnect when nothing, not even a ping, arrives for this long")
	fl.BoolVar(&opts.TextOnly, "text-only", false, `print messages only, as {"type":"message","chat","from","text","revision"}`)
	_ = cmd.RegisterFlagCompletionFunc("chat", completeDestinations(f, false))
	_ = cmd.RegisterFlagCompletionFunc("from", completeDestinations(f, false))
	return cmd
}

func parseReceiveOptions(o *receiveOptions) error {
	if o.FromRevSet && o.FromStart {
		return usageErrorf("--from-revision and --from-start exclude each other")
	}
	if o.FromRevSet && o.FromRevision < 0 {
		return usageErrorf("--from-revision must not be negative")
	}
	if err := checkDuration("--wait", o.Wait, time.Millisecond, 24*time.Hour); err != nil {
		return err
	}
	if err := checkDuration("--stall-timeout", o.StallTimeout, 100*time.Millisecond, time.Hour); err != nil {
		return err
	}
	for _, m := range []string{o.Chat, o.From} {
		if m != "" {
			if _, err := lineapi.ParseMID(m); err != nil {
				return usageErrorf("%v", err)
			}
		}
	}
	if len(o.Types) > 0 {
		o.types = map[stream.OpType]bool{}
		for _, t := range o.Types {
			ot, ok := stream.ParseOpType(t)
			if !ok {
				return usageErrorf("--types: unknown operation type %q", t)
			}
			o.types[ot] = true
		}
	}
	if o.TextOnly && o.types == nil {
		o.types = map[stream.OpType]bool{stream.OpSendMessage: true, stream.OpReceiveMessage: true,
			stream.OpDestroyMessage: true, stream.OpNotifiedDestroyMessage: true,
			stream.OpSendReaction: true, stream.OpNotifiedSendReaction: true}
	}
	return nil
}

// match applies the filters.
func (o *receiveOptions) match(op *stream.Operation) bool {
	if o.types != nil && !o.types[op.Type] {
		return false
	}
	m := op.Message
	if o.From != "" && (m == nil || m.From != o.From) {
		return false
	}
	if o.Chat != "" {
		if m != nil {
			if m.To != o.Chat && !(m.ToType == lineapi.ToUser && m.From == o.Chat) {
				return false
			}
		} else if opChat(op) != o.Chat {
			return false
		}
	}
	if o.TextOnly && m == nil && !isConversationOp(op.Type) {
		return false
	}
	return true
}

// noticeLine tells a script about a jump in the stream.
type noticeLine struct {
	Type         string `json:"type"` // "notice"
	Event        string `json:"event"`
	NextRevision string `json:"nextRevision,omitempty"`
	Detail       string `json:"detail,omitempty"`
}

func runReceive(ctx context.Context, opts *receiveOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	unlock, err := opts.Position.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	me := cfg.Account.MID
	from, saved, err := opts.Position.Load(me)
	if err != nil {
		return err
	}
	switch {
	case opts.FromStart:
		from = 0
	case opts.FromRevSet:
		from = opts.FromRevision
	case !saved:
		if from, err = cl.GetLastOpRevision(ctx); err != nil {
			return err
		}
		if err := opts.Position.Save(me, from); err != nil {
			return err
		}
	}
	// A saved position (or --from-revision) far past LINE's newest would
	// drop every operation as old: refused, as the stream's revisions are.
	latest := int64(-1)
	if saved || opts.FromRevSet {
		if latest, err = cl.GetLastOpRevision(ctx); err != nil {
			return err
		}
		if opts.FromRevSet && from > latest && from-latest > stream.DefaultMaxAhead {
			return usageErrorf("--from-revision %d is more than %d past LINE's newest revision (%d)", from, stream.DefaultMaxAhead, latest)
		}
		if !opts.FromRevSet && !opts.FromStart {
			if err := checkSavedRevision(opts.Position.Name(), from, latest); err != nil {
				return err
			}
		}
	}
	opener, saveKeys, err := opts.Opener(ctx, cl)
	if err != nil {
		return err
	}
	// Without --follow: LINE's newest revision now is the point to catch up
	// to (asked above to check the start, or while the stream opens).
	until := int64(0)
	var untilFunc func(context.Context) (int64, error)
	if !opts.Follow {
		if until = from; latest >= 0 {
			until = latest // asked above
		} else if opts.FromStart {
			untilFunc = cl.GetLastOpRevision
		}
	}
	var buf []byte
	pos := newPositionSaver(bufio.NewWriterSize(opts.Stdout, 64<<10), from,
		func(rev int64) error { return opts.Position.Save(me, rev) }, opts.Progress)
	fw := &stream.Follower{
		Open: cl, From: from, Follow: opts.Follow, Wait: opts.Wait,
		Until: until, UntilFunc: untilFunc, GiveUp: opts.GiveUp, StallTimeout: opts.StallTimeout,
		OnOp: func(op *stream.Operation, _ []byte) error {
			if !opts.match(op) {
				return nil
			}
			si := openSealed(ctx, opener, op.Message)
			if line, ok := appendConversationOp(buf[:0], op); ok && opts.TextOnly {
				buf = line
			} else if opts.TextOnly {
				buf = appendMessageLine(buf[:0], op, me, si)
			} else {
				buf = appendOperationLine(buf[:0], op, si)
			}
			return pos.write(buf)
		},
		OnIdle: pos.idle,
		OnNotice: func(n stream.Notice) {
			detail := lineapi.SafeText(n.Detail) // the gateway's words: never raw on a terminal
			switch n.Event {
			case "fullSync", "partialFullSync", "skipped", "revisionRefused":
				l := noticeLine{Type: "notice", Event: n.Event, Detail: n.Detail}
				if n.NextRevision != 0 && n.Event == "fullSync" {
					l.NextRevision = strconv.FormatInt(n.NextRevision, 10)
				}
				if b, err := marshalLine(l); err == nil {
					_ = pos.writeFlush(b)
				}
				opts.Progress("receive: %s: %s", n.Event, detail)
			case "reconnect":
				if n.Delay <= 0 {
					opts.Progress("receive: connection lost (%s); reconnecting now", shortErr(detail))
				} else {
					opts.Progress("receive: connection lost (%s); reconnecting in %v (%d failed in a row)",
						shortErr(detail), n.Delay.Round(10*time.Millisecond), n.Attempt)
				}
			default:
				opts.Progress("receive: %s: %s", n.Event, detail)
			}
		},
		Latest: cl.GetLastOpRevision,
		OnAuthExpired: func(ctx context.Context) error {
			src := opts.Session()
			_, err := src.Refresh(ctx, src.Tokens().AccessToken)
			return err
		},
	}
	runErr := fw.Run(ctx)
	if err := saveKeys(); err != nil {
		opts.Progress("warning: Letter Sealing key cache not saved: %v", err)
	}
	if err := pos.close(fw.Revision()); err != nil {
		if runErr == nil {
			runErr = err
		} else {
			opts.Progress("%v", err)
		}
	}
	var cu *stream.CatchUpError
	if errors.As(runErr, &cu) {
		return withExit(ExitTemporary, kindNetwork, fmt.Errorf(
			"receive: could not catch up (position saved at revision %d, LINE's newest was %d): gateway unreachable for %v: %w; run again to read the rest",
			fw.Revision(), cu.Until, cu.For.Round(time.Second), cu.Err))
	}
	return runErr
}

func shortErr(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 80 {
		return s[i+2:]
	}
	return s
}
