package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/notify"
	"github.com/linectl/linectl/pkg/lineapi"
)

func newCmdNotify(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Serve LINE Notify's API locally, delivering from your account",
		Long: `A drop-in for LINE Notify (shut down in 2025): 'notify serve' answers LINE Notify's HTTP API
(POST /api/notify, GET /api/status, POST /api/revoke) and delivers each message from your
own account, exactly once, with Letter Sealing where the chat needs it. Each token is
bound to one chat: 'notify token add --to MID' makes one. An integration written for
https://notify-api.line.me switches by changing the URL and the token. See docs/notify.md.`,
	}
	token := &cobra.Command{
		Use:   "token",
		Short: "Add, list and revoke the tokens of 'notify serve'",
	}
	token.AddCommand(newCmdNotifyTokenAdd(f, nil), newCmdNotifyTokenList(f), newCmdNotifyTokenRevoke(f))
	cmd.AddCommand(newCmdNotifyServe(f, nil), token)
	return cmd
}

// notifyTokensPath is the token store beside the config.
func notifyTokensPath(f *factory) (string, error) {
	st, err := f.State()
	if err != nil {
		return "", err
	}
	return st.NotifyTokensPath(), nil
}

// notifyTokenLine is printed by notify token add (with the token, once),
// list and revoke (with revoked).
type notifyTokenLine struct {
	Type      string `json:"type"` // "notifyToken"
	Token     string `json:"token,omitempty"`
	ID        string `json:"id"`
	To        string `json:"to"`
	Name      string `json:"name,omitempty"`
	CreatedAt string `json:"createdAt"`
	Revoked   bool   `json:"revoked,omitempty"`
}

func tokenLine(t notify.Token) notifyTokenLine {
	return notifyTokenLine{Type: "notifyToken", ID: t.ID(), To: t.To, Name: t.Name, CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339)}
}

// notifyTokenDeps are the token commands' dependencies: the token store
// (beside the config) and the cached name of a chat.
type notifyTokenDeps struct {
	deps
	Tokens func() (*notify.Store, error)
	NameOf func(mid string) string
}

func newNotifyTokenDeps(f *factory) notifyTokenDeps {
	return notifyTokenDeps{deps: f.deps(),
		Tokens: func() (*notify.Store, error) {
			p, err := notifyTokensPath(f)
			if err != nil {
				return nil, err
			}
			return &notify.Store{Path: p, Now: f.Now}, nil
		},
		NameOf: func(mid string) string { return directoryName(f, mid) },
	}
}

type notifyTokenAddOptions struct {
	notifyTokenDeps
	To, ToName string
}

func newCmdNotifyTokenAdd(f *factory, runF func(*notifyTokenAddOptions) error) *cobra.Command {
	opts := &notifyTokenAddOptions{notifyTokenDeps: newNotifyTokenDeps(f)}
	cmd := &cobra.Command{
		Use:   "add (--to MID | --to-name NAME)",
		Short: "Make a token that posts into one chat",
		Long: `Make a token for 'notify serve' bound to one chat (a user, group or room) and print it once:

  {"type":"notifyToken","token":…,"id":…,"to":…,"name":…,"createdAt":…}

Only its SHA-256 is stored (notify-tokens.json beside the config, 0600): keep the token where
the integration keeps its secrets; it cannot be shown again. A running 'notify serve' accepts
it at once. --to-name is resolved once, now, from the chats and contacts cache.`,
		Example: `  linectl notify token add --to c0123456789abcdef0123456789abcdef
  linectl notify token add --to-name "Ops alerts" | jq -r .token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (opts.To == "") == (opts.ToName == "") {
				return usageErrorf("give exactly one of --to MID or --to-name NAME")
			}
			if opts.To != "" {
				if _, err := lineapi.ParseMID(opts.To); err != nil {
					return usageErrorf("--to: %v", err)
				}
			}
			if opts.ToName != "" && strings.TrimFunc(opts.ToName, isInvisible) == "" {
				return usageErrorf("--to-name %q: a name must have a visible character", opts.ToName)
			}
			if runF != nil {
				return runF(opts)
			}
			return runNotifyTokenAdd(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "the chat the token posts into: a user (u…), group (c…) or room (r…) MID")
	cmd.Flags().StringVar(&opts.ToName, "to-name", "", "the chat or contact by exact name (see 'linectl chats'/'contacts')")
	_ = cmd.RegisterFlagCompletionFunc("to", completeDestinations(f, false))
	_ = cmd.RegisterFlagCompletionFunc("to-name", completeDestinations(f, true))
	return cmd
}

func runNotifyTokenAdd(ctx context.Context, opts *notifyTokenAddOptions) error {
	st, err := opts.Tokens()
	if err != nil {
		return err
	}
	to, name := opts.To, opts.ToName
	if name != "" {
		mids, err := opts.Resolve(ctx, nil, []string{name})
		if err != nil {
			return err
		}
		to = mids[0]
	} else {
		name = opts.NameOf(to)
	}
	token, t, err := st.Add(to, name)
	if err != nil {
		return fmt.Errorf("add a notify token: %w", err)
	}
	l := tokenLine(t)
	l.Token = token
	if err := opts.Out.line(l); err != nil {
		return err
	}
	opts.Info("The token is shown only this once: store it with the integration (Authorization: Bearer <token>).")
	return nil
}

// directoryName is the cached name of a chat or contact, or "".
func directoryName(f *factory, mid string) string {
	d := loadDirectory(f)
	for _, c := range d.Chats {
		if c.MID == mid {
			return c.Name
		}
	}
	for _, c := range d.Contacts {
		if c.MID == mid {
			return c.DisplayName
		}
	}
	return ""
}

func newCmdNotifyTokenList(f *factory) *cobra.Command {
	d := newNotifyTokenDeps(f)
	return &cobra.Command{
		Use:   "list",
		Short: "List the tokens of 'notify serve' (never the tokens themselves)",
		Long: `Print one line per token, oldest first; the token itself is never stored, so never shown:

  {"type":"notifyToken","id":…,"to":…,"name":…,"createdAt":…}`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runNotifyTokenList(d) },
	}
}

func runNotifyTokenList(d notifyTokenDeps) error {
	st, err := d.Tokens()
	if err != nil {
		return err
	}
	toks, err := st.List()
	if err != nil {
		return err
	}
	for _, t := range toks {
		if err := d.Out.line(tokenLine(t)); err != nil {
			return err
		}
	}
	return nil
}

func newCmdNotifyTokenRevoke(f *factory) *cobra.Command {
	d := newNotifyTokenDeps(f)
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token of 'notify serve' by its id (from 'notify token list')",
		Long: `Remove a token: a running 'notify serve' answers 401 to it from the next request on.
Prints the token's line with "revoked":true.`,
		Example: `  linectl notify token revoke 3f2a9c01`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes one token id (see 'linectl notify token list')", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runNotifyTokenRevoke(d, args[0]) },
	}
}

func runNotifyTokenRevoke(d notifyTokenDeps, id string) error {
	st, err := d.Tokens()
	if err != nil {
		return err
	}
	t, err := st.Revoke(id)
	if errors.Is(err, notify.ErrNoToken) || errors.Is(err, notify.ErrAmbiguousID) {
		return usageErrorf("revoke %q: %v", id, err)
	}
	if err != nil {
		return err
	}
	l := tokenLine(t)
	l.Revoked = true
	return d.Out.line(l)
}
