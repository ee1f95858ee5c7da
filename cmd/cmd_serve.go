package cmd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/botapi"
	"github.com/linectl/linectl/internal/notify"
	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// serve: LINE Notify's API and LINE's Messaging API on one listener, over
// one sender (docs/messaging-api.md).

func newCmdServe(f *factory, runF func(*notifyServeOptions) error) *cobra.Command {
	opts := &notifyServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8093] [--tls-cert FILE --tls-key FILE]",
		Short: "Answer LINE's Messaging API and LINE Notify's API, delivering from your account",
		Long: `Serve LINE's Messaging API (a subset: push, multicast, reply, profile, group summary and
member ids, bot info, message content, webhooks) and LINE Notify's API (as 'linectl notify
serve') on one listener, delivering from your own account exactly once. A bot integration or
one of LINE's SDKs switches by setting its API base URL to this server and its channel access
token to one from 'linectl bot token add'. See docs/messaging-api.md.

  POST /v2/bot/message/push       {to, messages[1..5]}  → {"sentMessages":[{"id","quoteToken"}]}
  POST /v2/bot/message/multicast  {to:[user MIDs], messages} → {}
  POST /v2/bot/message/reply      {replyToken, messages} (a webhook event's, single use, 5 minutes)
  GET  /v2/bot/profile/{userId}, /v2/bot/group/{groupId}/summary, …/members/ids, /v2/bot/info,
       /v2/bot/message/{messageId}/content
  POST /v2/bot/message/broadcast, …/narrowcast → 403: a personal account does not broadcast

X-Line-Retry-Key (push, multicast) is kept 24 hours, as LINE keeps it: the same key again answers
409 with x-line-accepted-request-id and sends nothing; after a 500 whose message may have been
delivered, a retry with the same key searches the operation stream: 409 when found delivered,
a send when proven not delivered, 500 again while unknown. Never a second copy.

Message objects: text (at most 5000 characters), textV2, sticker, image (its URL is fetched only
with --allow-image-urls, with the same guard as notify serve's); every other type is a 400 that
names it. Errors are LINE's: {"message":…,"details":[{"message":…,"property":…}]}, and every
answer has an x-line-request-id.

Webhooks: while it runs, what the account receives (the operation stream, as 'linectl receive'
reads it) is POSTed to each token's --webhook as LINE's webhook events, signed with the token's
channel secret (X-Line-Signature). The stream position is saved in bot-webhooks.json beside the
config once every webhook took the events (or gave up on them after 10 attempts over about 17
minutes): none is lost across restarts.

It listens on loopback only, unless --tls-cert and --tls-key are given; the bounds, the signal
handling (SIGTERM exits 0) and the stdout lines are notify serve's, with one "serve" line when it
listens and one "bot" line per Messaging API request (never a token or a message's text):

  {"type":"serve","url":"http://127.0.0.1:8093","listen":…,"tls":false,"notifyTokens":N,"botTokens":N,"webhooks":N,"rateLimit":"1000/h"}
  {"type":"bot","method":"POST","path":"/v2/bot/message/push","status":200,"requestId":…,"tokenId":…,"to":[…],"messageIds":[…],"remote":…,"ms":N}`,
		Example: `  linectl bot token add --name alerts | jq -r .token
  linectl serve
  linectl serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  linectl serve --allow-image-urls   # image messages by URL (public addresses only)`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := parseNotifyServe(opts); err != nil {
				return err
			}
			if err := checkDuration("--webhook-backoff", opts.WebhookBackoff, 10*time.Millisecond, time.Minute); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			f.runsAsService("serve")
			return runServer(cmd.Context(), f, opts, true)
		},
	}
	addServeFlags(cmd, opts, "calls to /api/notify per Notify token: N/s, N/m, N/h or N/d (LINE Notify: 1000/h)")
	cmd.Flags().DurationVar(&opts.WebhookBackoff, "webhook-backoff", time.Second, "first delay before calling a failed webhook again (doubled each time, 10 calls in all); 10ms to 1m")
	return cmd
}

// serveLine is printed once serve listens.
type serveLine struct {
	Type         string `json:"type"` // "serve"
	URL          string `json:"url"`
	Listen       string `json:"listen"`
	TLS          bool   `json:"tls"`
	NotifyTokens int    `json:"notifyTokens"`
	BotTokens    int    `json:"botTokens"`
	Webhooks     int    `json:"webhooks"`
	RateLimit    string `json:"rateLimit"`
}

// botLine is printed for every Messaging API request: never the token,
// never a message's text.
type botLine struct {
	Type       string   `json:"type"` // "bot"
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Status     int      `json:"status"`
	RequestID  string   `json:"requestId"`
	TokenID    string   `json:"tokenId,omitempty"`
	To         []string `json:"to,omitempty"`
	MessageIDs []string `json:"messageIds,omitempty"`
	RetryKey   string   `json:"retryKey,omitempty"`
	Remote     string   `json:"remote"`
	MS         int64    `json:"ms"`
	Error      string   `json:"error,omitempty"`
}

// botServer is serve's Messaging API: the handler, its tokens and the
// webhook dispatcher.
type botServer struct {
	f      *factory
	api    *botapi.Server
	tokens *botapi.Store
	hooks  *state.Webhooks // the webhooks' position and lock
	ss     *serveSender
	opts   *notifyServeOptions

	mediaMu    sync.Mutex
	media      map[string]heardMedia
	mediaOrder []string
}

func botTokenStore(f *factory) (*botapi.Store, error) {
	st, err := f.State()
	if err != nil {
		return nil, err
	}
	tokens, secrets := st.BotTokensPaths()
	return &botapi.Store{Path: tokens, SecretsPath: secrets, Now: f.Now}, nil
}

func newBotServer(ctx context.Context, f *factory, opts *notifyServeOptions, ss *serveSender) (*botServer, error) {
	tokens, err := botTokenStore(f)
	if err != nil {
		return nil, err
	}
	if err := tokens.Reload(); err != nil {
		return nil, err
	}
	st, err := f.State()
	if err != nil {
		return nil, err
	}
	retry := &botapi.RetryStore{Path: st.BotRetryKeysPath(), Now: f.Now, Lock: st.LockBotRetryKeys}
	switch err := retry.Load(); {
	case errors.Is(err, state.ErrLocked):
		// As with the webhooks: this serve answers the API, but a request
		// with a retry key only where its key is kept.
		f.progress("linectl: serve: another 'linectl serve' keeps this config's X-Line-Retry-Key records; requests with a retry key are refused here (500, nothing sent)")
	case err != nil:
		return nil, err
	}
	b := &botServer{f: f, tokens: tokens, ss: ss, opts: opts, hooks: st.Webhooks()}
	b.api = &botapi.Server{
		Tokens: tokens, Retry: retry, Backend: &botBackend{ss: ss, window: opts.ConfirmTimeout, b: b}, Now: f.Now, Ended: ss.ended,
		Log: func(e botapi.Entry) {
			_ = f.Out().line(botLine{Type: "bot", Method: e.Method, Path: e.Path, Status: e.Status, RequestID: e.RequestID, TokenID: e.TokenID,
				To: e.To, MessageIDs: e.MessageIDs, RetryKey: e.RetryKey, Remote: e.Remote, MS: e.Duration.Milliseconds(), Error: e.Error})
		},
		Compose:     composeFunc(),
		MentionName: func(mid string) string { return directoryName(f, mid) },
	}
	if opts.AllowImageURLs {
		b.api.FetchImage = notify.FetchURL(notify.NewFetchClient(opts.AllowPrivateURL), opts.ImageURLTimeout)
	}
	return b, nil
}

// botBackend is the Messaging API's view of the account: the one sender,
// the stream search, and the reads.
type botBackend struct {
	ss     *serveSender
	window time.Duration
	b      *botServer
}

func (bb *botBackend) SendMessages(ctx context.Context, to string, cs []delivery.Content) ([]*delivery.Result, error) {
	return bb.ss.SendMessages(ctx, to, cs)
}

func (bb *botBackend) Revision(ctx context.Context) (int64, error) { return bb.ss.s.Revision(ctx) }

func (bb *botBackend) FindSends(ctx context.Context, from int64, seqs []int64) (map[int64]string, error) {
	ctx, cancel := context.WithTimeout(ctx, bb.window)
	defer cancel()
	return bb.ss.s.Finder.FindSends(ctx, from, seqs)
}

func (bb *botBackend) Profile(ctx context.Context, mid string) (*lineapi.Contact, error) {
	cs, err := bb.ss.cl.GetContactsV2(ctx, []string{mid})
	if err != nil {
		return nil, err
	}
	c, ok := cs[mid]
	if !ok {
		return nil, botapi.ErrNotFound
	}
	return &c, nil
}

func (bb *botBackend) Chat(ctx context.Context, mid string) (*lineapi.Chat, error) {
	cs, err := bb.ss.cl.GetChats(ctx, []string{mid})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.ChatMID == mid {
			return &c, nil
		}
	}
	return nil, botapi.ErrNotFound
}

func (bb *botBackend) Me(ctx context.Context) (*lineapi.Profile, error) {
	return bb.ss.cl.GetProfile(ctx)
}

func (bb *botBackend) Content(ctx context.Context, id string) ([]byte, string, string, error) {
	return bb.b.content(ctx, id)
}

func (b *botServer) webhookCount() int {
	toks, _, err := b.tokens.Webhooks()
	if err != nil {
		return 0
	}
	return len(toks)
}

// --- bot token add / list / revoke ---

func newCmdBot(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bot",
		Short: "Manage the channel access tokens of 'linectl serve' (LINE's Messaging API)",
		Long: `'linectl serve' answers LINE's Messaging API from your own account; its clients present a
channel access token from 'bot token add'. See docs/messaging-api.md.`,
		Example: `  linectl bot token add --name alerts
  linectl bot token list`,
	}
	token := &cobra.Command{
		Use:   "token",
		Short: "Add, list and revoke the channel access tokens of 'linectl serve'",
		Example: `  linectl bot token add --name alerts --webhook http://127.0.0.1:3000/callback
  linectl bot token revoke 3f2a9c01`,
	}
	token.AddCommand(newCmdBotTokenAdd(f), newCmdBotTokenList(f), newCmdBotTokenRevoke(f))
	cmd.AddCommand(token)
	return cmd
}

// botTokenLine is printed by bot token add (with the token and the
// channel secret, once), list and revoke.
type botTokenLine struct {
	Type          string   `json:"type"` // "botToken"
	Token         string   `json:"token,omitempty"`
	ChannelSecret string   `json:"channelSecret,omitempty"`
	ID            string   `json:"id"`
	Name          string   `json:"name,omitempty"`
	Webhook       string   `json:"webhook,omitempty"`
	To            []string `json:"to,omitempty"`
	CreatedAt     string   `json:"createdAt"`
	Revoked       bool     `json:"revoked,omitempty"`
}

func botLineOf(t botapi.Token) botTokenLine {
	return botTokenLine{Type: "botToken", ID: t.ID(), Name: t.Name, Webhook: t.Webhook, To: t.To, CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339)}
}

func newCmdBotTokenAdd(f *factory) *cobra.Command {
	var name, webhook string
	var to []string
	cmd := &cobra.Command{
		Use:   "add [--name NAME] [--webhook URL] [--to MID]…",
		Short: "Make a channel access token for 'linectl serve'",
		Long: `Make a channel access token for 'linectl serve' and print it once:

  {"type":"botToken","token":…,"channelSecret":…,"id":…,"name":…,"webhook":…,"to":[…],"createdAt":…}

Without --to the token may send to (and hear from) every chat of the account; with --to (repeat
it) only those chats. With --webhook, what those chats receive is POSTed there while 'linectl
serve' runs, signed with channelSecret (X-Line-Signature), which is printed then.

Only the token's SHA-256 is stored (bot-tokens.json beside the config, 0600); the channel secret
is kept as it is in bot-secrets.json (0600), since it signs every webhook call. A running 'linectl
serve' accepts the token at once.`,
		Example: `  linectl bot token add --name alerts
  linectl bot token add --name ops --to c0123456789abcdef0123456789abcdef --webhook http://127.0.0.1:3000/callback`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, m := range to {
				if _, err := lineapi.ParseMID(m); err != nil {
					return usageErrorf("--to: %v", err)
				}
			}
			if webhook != "" {
				if err := botapi.CheckWebhook(webhook); err != nil {
					return usageErrorf("--webhook: %v", err)
				}
			}
			st, err := botTokenStore(f)
			if err != nil {
				return err
			}
			token, secret, t, err := st.Add(name, webhook, to)
			if err != nil {
				return fmt.Errorf("add a bot token: %w", err)
			}
			l := botLineOf(t)
			l.Token, l.ChannelSecret = token, secret
			if err := f.Out().line(l); err != nil {
				return err
			}
			f.info("The token is shown only this once: store it with the integration (its channel access token).")
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name for the token (shown by 'bot token list')")
	cmd.Flags().StringVar(&webhook, "webhook", "", "POST the chats' events to this URL while 'linectl serve' runs (http or https)")
	cmd.Flags().StringArrayVar(&to, "to", nil, "a chat (user u…, group c… or room r… MID) the token may use; repeat it; none: every chat")
	_ = cmd.RegisterFlagCompletionFunc("to", completeDestinations(f, false))
	return cmd
}

func newCmdBotTokenList(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the tokens of 'linectl serve' (never the tokens or their secrets)",
		Long: `Print one line per token, oldest first:

  {"type":"botToken","id":…,"name":…,"webhook":…,"to":[…],"createdAt":…}`,
		Example: `  linectl bot token list
  linectl bot token list | jq -r 'select(.webhook) | .id'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := botTokenStore(f)
			if err != nil {
				return err
			}
			toks, err := st.List()
			if err != nil {
				return err
			}
			for _, t := range toks {
				if err := f.Out().line(botLineOf(t)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func newCmdBotTokenRevoke(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token of 'linectl serve' by its id (from 'bot token list')",
		Long: `Remove a token and its channel secret: a running 'linectl serve' answers 401 to it from the
next request on and stops calling its webhook. Prints the token's line with "revoked":true.`,
		Example: `  linectl bot token revoke 3f2a9c01`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes one token id (see 'linectl bot token list')", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := botTokenStore(f)
			if err != nil {
				return err
			}
			t, err := st.Revoke(args[0])
			if errors.Is(err, botapi.ErrNoToken) || errors.Is(err, botapi.ErrAmbiguousID) {
				return usageErrorf("revoke %q: %v", args[0], err)
			}
			if err != nil {
				return err
			}
			l := botLineOf(t)
			l.Revoked = true
			return f.Out().line(l)
		},
	}
}
