package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
)

type readOptions struct {
	deps
	Chat string
}

func newCmdRead(f *factory, runF func(*readOptions) error) *cobra.Command {
	opts := &readOptions{deps: f.deps()}
	cmd := &cobra.Command{
		Use:   "read --chat CHAT",
		Short: "Mark a chat read up to its last message (sendChatChecked)",
		Long: `Mark a chat read up to its newest message, as opening it in the app does: its senders
see "Read". The newest message is asked of LINE (getRecentMessagesV2), then marked
(sendChatChecked):

  {"type":"read","chat":…,"messageId":…}

A chat without messages prints the line without "messageId" and marks nothing. A read
mark only moves forward, so a lost answer is repeated. A chat the account is not in exits 4.`,
		Example: `  linectl read --chat c0123456789abcdef0123456789abcdef`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Chat == "" {
				return usageErrorf("give --chat MID (see 'linectl chats')")
			}
			if _, err := lineapi.ParseMID(opts.Chat); err != nil {
				return usageErrorf("--chat: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return runRead(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Chat, "chat", "", "the chat (group c…, room r…, user u…)")
	_ = cmd.RegisterFlagCompletionFunc("chat", completeDestinations(f, false))
	return cmd
}

// readMarkLine is a chat marked read.
type readMarkLine struct {
	Type      string `json:"type"` // "read"
	Chat      string `json:"chat"`
	MessageID string `json:"messageId,omitempty"`
}

func runRead(ctx context.Context, opts *readOptions) error {
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	last, err := cl.GetRecentMessages(ctx, opts.Chat, 1)
	if err != nil {
		return fmt.Errorf("read %s: %w", opts.Chat, err)
	}
	l := readMarkLine{Type: "read", Chat: opts.Chat}
	if len(last) > 0 {
		l.MessageID = last[0].ID
		if err := cl.SendChatChecked(ctx, opts.Chat, l.MessageID); err != nil {
			return fmt.Errorf("read %s: %w", opts.Chat, err)
		}
	}
	return opts.Out.line(l)
}
