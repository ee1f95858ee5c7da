package cmd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

type unsendOptions struct {
	deps
	MessageID      string
	ConfirmTimeout time.Duration
}

func newCmdUnsend(f *factory, runF func(*unsendOptions) error) *cobra.Command {
	opts := &unsendOptions{deps: f.deps()}
	cmd := &cobra.Command{
		Use:   "unsend MESSAGE_ID",
		Short: "Take back one of the account's messages (unsendMessage)",
		Long: `Take back a message the account sent: LINE removes it for everyone in the chat, as the
app's "Unsend" does. MESSAGE_ID is the "messageId" of a sent line (or of a message line).

  {"type":"unsent","messageId":"…"}

Someone else's message, one LINE does not know (or already unsent), or one older than
LINE allows (24 hours for most accounts) exits 4 (kind rejected).

A lost answer: unsending is not a send, and an unsent message stays unsent, but LINE's
answer may be lost after it acted. linectl then looks for the DESTROY_MESSAGE operation
on the stream (within --confirm-timeout): found, the line says "confirmed":true; not
found, it exits 6 (outcome_unknown) — run it again: LINE then answers 64 MESSAGE_NOT_FOUND
(exit 4) if the first one went through.`,
		Example: `  linectl unsend 605311889450213291
  id=$(linectl send --to c0123456789abcdef0123456789abcdef "wrong alert" | jq -r .messageId)
  linectl unsend "$id"`,
		Args: messageIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.MessageID = args[0]
			if err := checkDuration("--confirm-timeout", opts.ConfirmTimeout, minConfirmTimeout, maxConfirmTimeout); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runUnsend(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.ConfirmTimeout, "confirm-timeout", 15*time.Second, "how long to watch the operation stream after a lost answer; 100ms to 1h")
	return cmd
}

// messageIDArg takes one message id: a decimal number.
func messageIDArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErrorf("%s takes one MESSAGE_ID (the messageId of a sent or message line)", cmd.CommandPath())
	}
	if _, err := positiveDecimal(args[0]); err != nil {
		return usageErrorf("MESSAGE_ID: %v", err)
	}
	return nil
}

// unsentLine is printed for an unsent message (by unsend, or by receive
// for an unsend in a chat).
type unsentLine struct {
	Type      string `json:"type"` // "unsent"
	MessageID string `json:"messageId"`
	Chat      string `json:"chat,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Confirmed bool   `json:"confirmed,omitempty"` // a lost answer settled on the stream
}

func runUnsend(ctx context.Context, opts *unsendOptions) error {
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	// The revision to search from if the answer is lost.
	rev, err := cl.GetLastOpRevision(ctx)
	if err != nil {
		return err
	}
	seq := int64(rand.Int32N(1<<30)) + 1
	err = cl.UnsendMessage(ctx, seq, opts.MessageID)
	switch {
	case err == nil:
		return opts.Out.line(unsentLine{Type: "unsent", MessageID: opts.MessageID})
	case delivery.OutcomeUnknown(err):
		wctx, cancel := context.WithTimeout(ctx, opts.ConfirmTimeout)
		defer cancel()
		found, ferr := stream.FindOp(wctx, cl, rev, func(op *stream.Operation) bool {
			return op.Type == stream.OpDestroyMessage && op.Param2.String() == opts.MessageID
		})
		if found {
			return opts.Out.line(unsentLine{Type: "unsent", MessageID: opts.MessageID, Confirmed: true})
		}
		why := "no DESTROY_MESSAGE on the operation stream within --confirm-timeout"
		if ferr != nil {
			why = "the operation stream could not be searched: " + ferr.Error()
		}
		return withExit(ExitUnknown, kindOutcomeUnknown, fmt.Errorf("unsend %s: %w (%v; %s); run it again: an unsent message answers 64 MESSAGE_NOT_FOUND", opts.MessageID, delivery.ErrOutcomeUnknown, err, why))
	case errors.Is(err, lineapi.ErrMessageNotFound):
		return fmt.Errorf("unsend %s: LINE knows no such message of this account (or it was unsent already): %w", opts.MessageID, err)
	case errors.Is(err, lineapi.ErrNotYourMessage):
		return fmt.Errorf("unsend %s: not a message of this account: %w", opts.MessageID, err)
	case errors.Is(err, lineapi.ErrMessageNotDestructible):
		return fmt.Errorf("unsend %s: too old to unsend (LINE allows 24 hours): %w", opts.MessageID, err)
	}
	return fmt.Errorf("unsend %s: %w", opts.MessageID, err)
}
