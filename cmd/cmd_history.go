package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
)

type historyOptions struct {
	deps
	Stdout io.Writer
	Opener sealerOpener
	Chat   string
	Limit  int
	Before string
}

// Bounds of history.
const (
	maxHistoryLimit = 1000
	// maxBeforeSearch is how far back --before looks for its message.
	maxBeforeSearch = 2000
)

func newCmdHistory(f *factory, runF func(*historyOptions) error) *cobra.Command {
	opts := &historyOptions{deps: f.deps(), Stdout: f.IO.Out, Opener: f.storedSealer}
	cmd := &cobra.Command{
		Use:   "history --chat CHAT [--limit N] [--before MESSAGE_ID]",
		Short: "Print a chat's recent messages, oldest first",
		Long: `Print the newest --limit messages of a chat (a group, room or 1:1 chat with a user MID),
oldest first, as the message lines 'receive --text-only' prints, without "revision":

  {"type":"message","chat":…,"from":…,"text":…,"messageId":…,"createdTime":…}

Letter Sealing messages are decrypted where the account's keys allow (older keys are
fetched by id, as receive does); one that cannot be opened has "decrypted":false and
"decryptError". Unsent messages are not listed. --before MESSAGE_ID lists the messages
before that one (it is looked for among the chat's newest 2000).
LINE serves history newest first in pages of at most 50 (getRecentMessagesV2, then
getPreviousMessagesV2WithRequest), as the extension asks for it.
A chat the account is not in exits 4.`,
		Example: `  linectl history --chat c0123456789abcdef0123456789abcdef --limit 5
  linectl history --chat c0123456789abcdef0123456789abcdef | jq -r 'select(.mentionsMe) | .text'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Chat == "" {
				return usageErrorf("give --chat MID (see 'linectl chats')")
			}
			if _, err := lineapi.ParseMID(opts.Chat); err != nil {
				return usageErrorf("--chat: %v", err)
			}
			if opts.Limit < 1 || opts.Limit > maxHistoryLimit {
				return usageErrorf("--limit %d: from 1 to %d", opts.Limit, maxHistoryLimit)
			}
			if opts.Before != "" {
				if _, err := positiveDecimal(opts.Before); err != nil {
					return usageErrorf("--before: a message id: %v", err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runHistory(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Chat, "chat", "", "the chat (group c…, room r…, user u…)")
	fl.IntVar(&opts.Limit, "limit", 20, "how many messages, 1 to 1000")
	fl.StringVar(&opts.Before, "before", "", "only messages before this message id")
	_ = cmd.RegisterFlagCompletionFunc("chat", completeDestinations(f, false))
	return cmd
}

// pager walks a chat's history backwards, a page at a time.
type pager struct {
	cl   *lineapi.Client
	chat string
	end  *lineapi.MessageBoxMessageID // the oldest message seen; nil before the first page
	size int                          // messages per page, at most MaxMessagesPerPage
	done bool
}

// next returns the next (older) page, newest first; empty when done.
func (p *pager) next(ctx context.Context) ([]*lineapi.Message, error) {
	if p.done {
		return nil, nil
	}
	var page []*lineapi.Message
	var err error
	if p.end == nil {
		page, err = p.cl.GetRecentMessages(ctx, p.chat, p.size)
	} else {
		page, err = p.cl.GetPreviousMessages(ctx, p.chat, *p.end, p.size)
	}
	if err != nil {
		return nil, err
	}
	if len(page) == 0 {
		p.done = true
		return nil, nil
	}
	last := page[len(page)-1]
	dt := last.DeliveredTime
	if dt == 0 {
		dt = last.CreatedTime // the extension's fallback
	}
	p.end = &lineapi.MessageBoxMessageID{DeliveredTime: lineapi.I64(dt), MessageID: last.ID}
	return page, nil
}

func runHistory(ctx context.Context, opts *historyOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	opener, saveKeys, err := opts.Opener(ctx, cl)
	if err != nil {
		return err
	}
	defer func() { _ = saveKeys() }()
	me := cfg.Account.MID
	if me == "" {
		me = opener.MID
	}
	p := &pager{cl: cl, chat: opts.Chat, size: lineapi.MaxMessagesPerPage}
	if opts.Before == "" {
		p.size = min(opts.Limit, lineapi.MaxMessagesPerPage) // as the extension: count ≤ 50
	}
	var msgs []*lineapi.Message // newest first
	found := opts.Before == ""
	seen := 0
	for len(msgs) < opts.Limit {
		page, err := p.next(ctx)
		if err != nil {
			return fmt.Errorf("history of %s: %w", opts.Chat, err)
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			seen++
			if !found {
				found = m.ID == opts.Before
				continue
			}
			if len(msgs) < opts.Limit {
				msgs = append(msgs, m)
			}
		}
		if !found && seen >= maxBeforeSearch {
			break
		}
	}
	if !found {
		return withExit(ExitRejected, kindRejected, fmt.Errorf("--before %s: no such message among the newest %d of %s", opts.Before, seen, opts.Chat))
	}
	w := bufio.NewWriter(opts.Stdout)
	var buf []byte
	for i := len(msgs) - 1; i >= 0; i-- {
		buf = appendMessage(buf[:0], msgs[i], 0, me, openSealed(ctx, opener, msgs[i]))
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return w.Flush()
}
