package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// MaxTextLength is the longest text linectl sends, in UTF-16 code units (as
// LINE counts). LINE does not document the app's limit; its Messaging API
// documents 5,000 characters for a text message, and that is the safe
// bound chosen here.
const MaxTextLength = 5000

type sendOptions struct {
	deps
	In       io.Reader // --jsonl lines
	Progress func(format string, a ...any)
	Grace    time.Duration // --timeout: what a request already written may take after a signal
	// Opener returns the account's sealer (its MID set) and what saves the
	// keys it fetched.
	Opener  sealerOpener
	Storage func(cl *lineapi.Client) *obs.Client
	State   sendStateStore
	// Uploading wraps an upload's source with progress on stderr.
	Uploading func(name string, src obs.Source) obs.Source

	To                []string
	ToName            []string
	Text              string // resolved text (args or stdin)
	StickerArg        string // --sticker PKG/ID
	StickerVersion    int64  // --sticker-version
	StickerVersionSet bool
	StickerText       string // --sticker-text (STKTXT)
	StickerOption     string // --sticker-option (STKOPT)
	Sticker           *lineapi.Sticker
	JSONL             bool
	E2EE              string
	Confirm           bool
	ConfirmTimeout    time.Duration
	Rate              float64
	Image, File, Name string // --image, --file, --name
	Media             *delivery.Media
	ReplyTo           string   // --reply-to MESSAGE_ID
	Mentions          []string // --mention MID|all
	MentionNames      bool     // --mention-names
}

func newCmdSend(f *factory, runF func(*sendOptions) error) *cobra.Command {
	opts := &sendOptions{deps: f.deps(), In: f.IO.In, Progress: f.progress, State: fileSendState{f},
		Opener:    f.accountSealer,
		Storage:   func(cl *lineapi.Client) *obs.Client { return newOBS(f, cl) },
		Uploading: func(name string, src obs.Source) obs.Source { return progressSource(f, name, src) },
	}
	cmd := &cobra.Command{
		Use:   "send --to MID [--to MID …] [TEXT … | --sticker PKG/ID | --image FILE | --file FILE]",
		Short: "Send a text message, a sticker, an image or a file to users, groups or rooms",
		Long: `Send a text message (or a sticker, an image, a file: below). The text is the arguments
joined by spaces, or stdin when no text
argument is given or it is "-" (multi-line text is kept; one trailing newline, as echo adds,
is removed). --to takes a user (u…), group (c…) or room (r…) MID; with several --to the same
text goes to each, in order, and one result line is printed per destination:

  {"type":"sent","to":…,"toType":N,"messageId":…,"reqSeq":N,"createdTime":…,"e2ee":false}
  (a sticker's line adds "contentType":7)
  {"type":"failed","to":…,"exitCode":N,"kind":…,"code":N,"reason":…,"message":…}

The exit code is the worst of the destinations' (exit 2 only when nothing was sent:
input refused beside sent messages exits 0; see docs/exit-codes.md).

Before each send linectl runs the Letter Sealing probe LINE's Chrome extension runs. With
--e2ee auto (default) a chat that supports Letter Sealing is sent sealed and any other chat
plain; --e2ee require never sends plain; --e2ee off skips the probe.

Exactly once: LINE does not deduplicate. A send whose outcome is unknown (connection lost
after the request went out) is looked up on the operation stream by its reqSeq before it is
ever sent again; if that cannot settle it, linectl exits 6 and does not resend.
--confirm waits for every message to appear on the stream ("confirmed":true).

--sticker PKG/ID sends a sticker instead of a text: the sticker's package id and id, both
positive decimal numbers (LINE Notify's stickerPackageId/stickerId; LINE's sticker list).
--sticker-version sets its package version (STKVER, default 100). A sticker has no text, but
--sticker-text gives its alt text (STKTXT, e.g. "[OK]": LINE's apps show it in notifications
and chat lists) and --sticker-option its option (STKOPT, e.g. A for an animated one), as
LINE's extension sends them when it knows them. Stickers are never sealed (docs/protocol.md §6).

--image FILE sends a PNG, JPEG or GIF (by content, not by name; at most 50 MiB, 200
million pixels, 400 million in all a GIF's frames: checked from the header, before anything
is decoded; a larger image is exit 2) and --file FILE any file (at most 1 GiB, LINE's
limit). "-" reads stdin (give --name): --file - streams it into a private temporary file,
deleted at once, up to 1 GiB; --image - holds it in memory, up to 50 MiB. --name sets the
name LINE shows. A media message has no text. Where LINE says the chat
takes media sealed (determineMediaMessageFlow) the file is encrypted with a fresh key,
uploaded, and the key sent in a sealed message; otherwise the message is sent and the
file uploaded to it (an upload is retried; the message never is). Before a plain upload
starts, a "pending" line gives the message id (in --jsonl too): if linectl dies during the
upload, 'linectl upload --message-id ID --file PATH' completes it. An upload that fails
after the message went out exits 7 (kind upload_failed, with the messageId; 'linectl
upload' stores it later). Uploads longer than a second show progress on stderr. The sent line adds "contentType" (1 image,
14 file), "fileName", "fileSize" and "object" (see 'linectl download').

--jsonl reads {"to":"MID","text":"…"} lines — or {"to":"MID","sticker":"PKG/ID"}, with
optional "stickerVersion":N, "stickerText":"…" and "stickerOption":"…", or {"to":"MID","image":"PATH"} / {"to":"MID","file":"PATH"}
with an optional "name" — from stdin and sends each over one connection;
every non-blank line gets one result line, in order (a line over 1 MiB is refused).

On SIGINT/SIGTERM no more input is read; the send in flight is finished (or settled on
the stream), every line owed is printed, and linectl exits 130. A sealed file's upload,
which comes before its message, stops at once (nothing was sent); a plain message's upload,
which comes after, is finished within the same grace as a send in flight. Input after
the last result line was not sent.
Sends are limited to --rate per second (default 10; 0 = no limit; else 0.01 to 1000).

--reply-to MESSAGE_ID sends the text (or sticker) as a reply to that message of the same
chat (the "messageId" of a sent or received line); a message of another chat, or one LINE
does not know, is refused (exit 4, nothing sent). The sent line adds "replyTo".
--mention MID (repeatable; "all" for everyone) puts "@Display Name" for each MID at the
text's lone "@" placeholders, in order, or at its start when it has none, and tells LINE to
notify that person (a mention notifies even in a muted chat). --mention-names marks every
"@Display Name" of a member already in the text. A MID that is not a member of the chat is
refused (exit 2, nothing sent). The sent line adds "mentions" (the MIDs, "all").
In --jsonl: "replyTo":"ID" and "mentions":["MID","all"] on a line.

Text longer than 5000 characters is refused (exit 2), and so is text that is empty to a
reader: only white space, zero-width or other invisible characters, or any NUL.`,
		Example: `  linectl send --to c0123456789abcdef0123456789abcdef "backup finished"
  df -h | linectl send --to u0123456789abcdef0123456789abcdef
  linectl send --to-name "Family" --confirm "dinner at 7"
  linectl send --to c0123456789abcdef0123456789abcdef --sticker 446/1988 --sticker-text "[OK]"
  linectl send --to c0123456789abcdef0123456789abcdef --image load.png
  pg_dump db | gzip | linectl send --to u0123456789abcdef0123456789abcdef --file - --name db.sql.gz
  linectl send --to c0123456789abcdef0123456789abcdef --reply-to 605311889450213291 "resolved"
  linectl send --to c0123456789abcdef0123456789abcdef --mention u0123456789abcdef0123456789abcdef "disk full, @ please look"
  jq -c '{to: .chat, text: .msg}' alerts.json | linectl send --jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.StickerVersionSet = cmd.Flags().Changed("sticker-version")
			if err := parseSendArgs(cmd.Context(), f, opts, args); err != nil {
				return err
			}
			opts.Grace = f.Timeout
			if runF != nil {
				return runF(opts)
			}
			return runSend(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.To, "to", nil, "destination MID (user u…, group c…, room r…); repeatable")
	fl.StringArrayVar(&opts.ToName, "to-name", nil, "destination chat or contact by exact name (from 'linectl chats'/'contacts'); repeatable")
	fl.BoolVar(&opts.JSONL, "jsonl", false, `read {"to":…,"text":…} lines from stdin`)
	fl.StringVar(&opts.StickerArg, "sticker", "", "send the sticker PKG/ID (package id/sticker id) instead of a text")
	fl.StringVar(&opts.Image, "image", "", "send the PNG, JPEG or GIF image FILE (\"-\": stdin, with --name) instead of a text")
	fl.StringVar(&opts.File, "file", "", "send FILE (\"-\": stdin, with --name) instead of a text")
	fl.StringVar(&opts.Name, "name", "", "the name LINE shows for --image or --file (default: the file's base name)")
	fl.Int64Var(&opts.StickerVersion, "sticker-version", lineapi.DefaultStickerVersion, "the sticker package's version (STKVER), with --sticker")
	fl.StringVar(&opts.StickerText, "sticker-text", "", "the sticker's alt text (STKTXT) shown in notifications, with --sticker")
	fl.StringVar(&opts.StickerOption, "sticker-option", "", "the sticker's option (STKOPT, e.g. A animated), with --sticker")
	fl.StringVar(&opts.ReplyTo, "reply-to", "", "reply to this message id (of the same chat)")
	fl.StringArrayVar(&opts.Mentions, "mention", nil, `mention this member MID ("all": everyone) as "@Display Name"; repeatable`)
	fl.BoolVar(&opts.MentionNames, "mention-names", false, `mention the members whose "@Display Name" is in the text`)
	fl.StringVar(&opts.E2EE, "e2ee", "auto", "Letter Sealing: auto, off or require")
	fl.BoolVar(&opts.Confirm, "confirm", false, "wait until each message appears on the operation stream")
	fl.DurationVar(&opts.ConfirmTimeout, "confirm-timeout", 15*time.Second, "how long to watch the operation stream for a send (--confirm, or a lost answer); 100ms to 1h")
	fl.Float64Var(&opts.Rate, "rate", config.DefaultRate, "maximum sends per second: 0 = no limit, else 0.01 to 1000 (config send.ratePerSecond)")
	_ = cmd.RegisterFlagCompletionFunc("to", completeDestinations(f, false))
	_ = cmd.RegisterFlagCompletionFunc("to-name", completeDestinations(f, true))
	_ = cmd.RegisterFlagCompletionFunc("e2ee", cobra.FixedCompletions([]string{"auto", "off", "require"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseSendArgs validates everything before anything is sent.
func parseSendArgs(ctx context.Context, f *factory, opts *sendOptions, args []string) error {
	switch opts.E2EE {
	case delivery.E2EEAuto, delivery.E2EEOff, delivery.E2EERequire:
	default:
		return usageErrorf("--e2ee must be auto, off or require (got %q)", opts.E2EE)
	}
	if err := checkRate("--rate", opts.Rate); err != nil {
		return err
	}
	if err := checkDuration("--confirm-timeout", opts.ConfirmTimeout, minConfirmTimeout, maxConfirmTimeout); err != nil {
		return err
	}
	for _, name := range opts.ToName {
		if strings.TrimFunc(name, isInvisible) == "" {
			return usageErrorf("--to-name %q: a name must have a visible character (an empty name matches nothing)", name)
		}
	}
	stickerSet := opts.StickerArg != ""
	if opts.StickerVersion <= 0 {
		return usageErrorf("--sticker-version %d: must be a positive number", opts.StickerVersion)
	}
	if (opts.StickerVersionSet || opts.StickerText != "" || opts.StickerOption != "") && !stickerSet {
		return usageErrorf("--sticker-version, --sticker-text and --sticker-option go with --sticker")
	}
	if opts.JSONL && (stickerSet || opts.Image != "" || opts.File != "" || opts.Name != "") {
		return usageErrorf(`--jsonl takes stickers, images and files from stdin ({"to":…,"sticker":"PKG/ID"}, {"to":…,"image":"PATH"}): no --sticker, --image, --file or --name`)
	}
	if opts.JSONL && (opts.ReplyTo != "" || len(opts.Mentions) > 0 || opts.MentionNames) {
		return usageErrorf(`--jsonl takes replies and mentions from stdin ({"to":…,"text":…,"replyTo":"ID","mentions":["MID"]}): no --reply-to, --mention or --mention-names`)
	}
	if err := checkConversation(opts.ReplyTo, opts.Mentions, opts.MentionNames, stickerSet, opts.Image != "" || opts.File != ""); err != nil {
		return err
	}
	if opts.JSONL {
		if len(opts.To) > 0 || len(opts.ToName) > 0 || len(args) > 0 {
			return usageErrorf("--jsonl takes destinations and text from stdin: no --to, --to-name or text arguments")
		}
		return nil
	}
	if len(opts.To) == 0 && len(opts.ToName) == 0 {
		return usageErrorf("no destination: give --to MID (see 'linectl chats' and 'linectl contacts')")
	}
	for _, to := range opts.To {
		if _, err := lineapi.ParseMID(to); err != nil {
			return usageErrorf("--to: %v", err)
		}
	}
	if done, err := parseMediaArgs(f, opts, args, stickerSet); done || err != nil {
		if md := opts.Media; err == nil && md != nil && md.StartPreview != nil {
			// On the second core while the process starts (it waits for
			// nothing else yet): a sealed chat uploads it, a plain one stops
			// it when the flow is known.
			md.StartPreview()
		}
		return err
	}
	if stickerSet {
		if len(args) > 0 {
			return usageErrorf("--sticker sends a sticker, which has no text: drop the text arguments (send the text with a second 'linectl send')")
		}
		st, err := parseSticker(opts.StickerArg, opts.StickerVersion)
		if err != nil {
			return usageErrorf("--sticker: %v", err)
		}
		if err := stickerExtras(st, opts.StickerText, opts.StickerOption); err != nil {
			return usageErrorf("%v", err)
		}
		opts.Sticker = st
		return nil
	}
	var text string
	if len(args) == 0 && f.IO.InTTY {
		// Reading a terminal would wait, silently, for a Ctrl-D nobody knows to type.
		return usageErrorf(`no text: give it as an argument (linectl send --to … "text"), pipe it on stdin, or pass "-" to type it and end with Ctrl-D`)
	}
	if len(args) == 0 || (len(args) == 1 && args[0] == "-") {
		if f.IO.InTTY {
			f.info("Type the message; end it with Ctrl-D on a line of its own (Ctrl-C cancels).")
		}
		b, err := readAllContext(ctx, io.LimitReader(f.IO.In, 1<<20))
		if errors.Is(err, context.Canceled) {
			return err // Ctrl-C while typing: 130
		}
		if err != nil {
			return usageErrorf("read text from stdin: %v", err)
		}
		text = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	} else {
		text = strings.Join(args, " ")
	}
	if err := validateText(text); err != nil {
		return err
	}
	opts.Text = text
	return nil
}

// sentLine is printed for each delivered message.
type sentLine struct {
	Type        string   `json:"type"` // "sent"
	To          string   `json:"to"`
	ToType      int      `json:"toType"`
	MessageID   string   `json:"messageId"`
	ReqSeq      int64    `json:"reqSeq"`
	CreatedTime string   `json:"createdTime,omitempty"`
	E2EE        bool     `json:"e2ee"`
	SpecVersion int      `json:"specVersion,omitempty"`
	ContentType int      `json:"contentType,omitempty"` // 7 sticker, 1 image, 14 file; omitted for text (0)
	FileName    string   `json:"fileName,omitempty"`
	FileSize    int64    `json:"fileSize,omitempty"`
	Object      string   `json:"object,omitempty"`   // the media's object on LINE's storage
	ReplyTo     string   `json:"replyTo,omitempty"`  // the message replied to
	Mentions    []string `json:"mentions,omitempty"` // the MIDs mentioned, "all"
	Confirmed   *bool    `json:"confirmed,omitempty"`
}

// pendingLine is printed when a plain image or file message was stored by
// LINE and its upload begins: the message id that 'linectl upload' completes
// if linectl dies before the sent (or failed) line.
type pendingLine struct {
	Type        string `json:"type"` // "pending"
	To          string `json:"to"`
	ToType      int    `json:"toType"`
	MessageID   string `json:"messageId"`
	ReqSeq      int64  `json:"reqSeq"`
	ContentType int    `json:"contentType"` // 1 image, 14 file
	FileName    string `json:"fileName"`
	FileSize    int64  `json:"fileSize"`
	Line        int    `json:"line,omitempty"` // --jsonl input line
}

// failedLine is printed for each destination that failed.
type failedLine struct {
	Type     string `json:"type"` // "failed"
	To       string `json:"to,omitempty"`
	ToType   *int   `json:"toType,omitempty"`
	ReqSeq   int64  `json:"reqSeq,omitempty"`
	Line     int    `json:"line,omitempty"` // --jsonl input line
	ExitCode int    `json:"exitCode"`
	Kind     string `json:"kind"`
	Code     int    `json:"code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message"`
	// MessageID is set when the message was delivered but its upload failed.
	MessageID string `json:"messageId,omitempty"`
}

// job is one text or sticker to one destination.
type job struct {
	to, text     string
	sticker      *lineapi.Sticker
	media        *delivery.Media
	replyTo      string
	mentions     []string
	mentionNames bool
	line         int
	err          error // input error for this line
}

func runSend(ctx context.Context, opts *sendOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	targets, err := opts.Resolve(ctx, opts.To, opts.ToName)
	if err != nil {
		return err
	}
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	sealer, saveKeys, err := opts.Opener(ctx, cl)
	if err != nil {
		return err
	}
	defer func() {
		if err := saveKeys(); err != nil {
			opts.Progress("warning: Letter Sealing key cache not saved: %v", err)
		}
	}()
	rate := cfg.Send.RatePerSecond // --rate, else the file, else config.DefaultRate; 0: no limit
	// A signal stops the reading of input and, through the Sender's Stop,
	// any send whose request is not written yet; a request already written
	// is settled (its answer, or the stream search) under sendCtx, which the
	// signal does not cancel: a grace of --timeout + --confirm-timeout
	// bounds it.
	sendCtx, cancelSend := afterSignal(ctx, opts.Grace+opts.ConfirmTimeout)
	defer cancelSend()
	s := &delivery.Sender{
		GW: cl, Finder: delivery.StreamFinder{Open: cl}, From: sealer.MID, E2EE: opts.E2EE,
		Encrypter: sealer, Window: opts.ConfirmTimeout, Limiter: newLimiter(rate), Stop: ctx,
	}
	if opts.Storage != nil {
		s.Uploader = opts.Storage(cl)
	}
	var current job // the job being sent (one at a time), for its pending line
	s.Pending = func(r *delivery.Result) {
		// Printed (and flushed) before the upload's first byte: a kill -9
		// during the upload leaves the id to complete the message with.
		_ = opts.Out.line(pendingLine{Type: "pending", To: r.To, ToType: int(r.ToType), MessageID: r.MessageID, ReqSeq: r.ReqSeq,
			ContentType: r.ContentType, FileName: r.FileName, FileSize: r.FileSize, Line: current.line})
	}
	// A warm send is one gateway call: the probe from the cache, the search
	// revision from an earlier run.
	probes := opts.State.Probes(s.From)
	s.Probes, s.SavedRevision = probes, opts.State.Revision(s.From)
	if !opts.JSONL && len(targets) > 1 {
		s.Prefetch(ctx, targets) // several chats: their probes side by side
	}
	defer func() {
		if err := probes.Save(); err != nil {
			opts.Progress("warning: probe cache not saved (the next send probes again): %v", err)
		}
		if rev, ok := s.FetchedRevision(); ok {
			if err := opts.State.SaveRevision(s.From, rev); err != nil {
				opts.Progress("warning: %v (the next send asks LINE again)", err)
			}
		}
	}()
	// The producer stops with the run: at a signal, and when the run returns
	// early (a stdout that fails), so it never blocks on a send nobody takes.
	prodCtx, stopProducer := context.WithCancel(ctx)
	defer stopProducer()
	jobs := make(chan job)
	go func() {
		defer close(jobs)
		if opts.JSONL {
			readJSONL(prodCtx, opts.In, jobs)
			return
		}
		for _, to := range targets {
			select {
			case jobs <- job{to: to, text: opts.Text, sticker: opts.Sticker, media: opts.Media,
				replyTo: opts.ReplyTo, mentions: opts.Mentions, mentionNames: opts.MentionNames}:
			case <-prodCtx.Done():
				return
			}
		}
	}()
	b := &batch{out: opts.Out, progress: opts.Progress}
	members := &memberLookup{cl: cl, me: sealer.MID}
	// At a signal, say at once what the run still waits for and how long
	// at most: a person who pressed Ctrl-C sees why it has not ended yet.
	var inFlight atomic.Bool
	defer context.AfterFunc(ctx, func() {
		switch {
		case inFlight.Load():
			opts.Progress("linectl: stopping: nothing more will be sent; settling the message in flight first, so it is reported and never sent twice (at most %s: LINE's answer within --timeout, then the operation stream within --confirm-timeout)", opts.Grace+opts.ConfirmTimeout)
		case opts.Confirm:
			opts.Progress("linectl: stopping: nothing more will be sent; looking for the sent messages on the operation stream (at most %s)", min(opts.ConfirmTimeout, interruptedConfirmWait))
		}
	})()
	for {
		var j job
		ok := false
		select {
		case j, ok = <-jobs:
		case <-ctx.Done(): // the reader may be blocked on stdin
		}
		if !ok || ctx.Err() != nil { // a line read as the signal came is not started
			break
		}
		if j.err != nil {
			if err := b.fail(j, nil, j.err); err != nil {
				return err
			}
			continue
		}
		c, err := j.content(ctx, members, opts.Uploading)
		if err != nil {
			if err := b.fail(j, nil, err); err != nil {
				return err
			}
			continue
		}
		current = j
		inFlight.Store(true)
		r, err := s.SendMessage(sendCtx, j.to, c)
		inFlight.Store(false)
		switch {
		case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) && !errors.Is(err, delivery.ErrOutcomeUnknown):
			// Interrupted before its request was written: not sent, no line.
		case err != nil:
			if j.replyTo != "" && (errors.Is(err, lineapi.ErrMessageNotFound) || errors.Is(err, lineapi.ErrIllegalArgument)) {
				err = fmt.Errorf("--reply-to %s: LINE refused the reply: no such message in %s (nothing sent): %w", j.replyTo, j.to, err)
			}
			if err := b.fail(j, r, err); err != nil {
				return err
			}
		case opts.Confirm:
			b.delivered = true
			b.held = append(b.held, r)
		default:
			b.delivered = true
			if err := printSent(opts.Out, r, nil); err != nil {
				return err
			}
		}
	}
	if err := b.confirm(ctx, sendCtx, s, opts.ConfirmTimeout); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted (%w): every message sent has its line on stdout; input after the last result line was not sent", context.Canceled)
	}
	return b.exit()
}

// content is j's message as a kind of delivery.Content: its text (with its
// mentions, composed from the chat's members), sticker or media (its upload
// showing progress), and the reply relation on any of them.
func (j job) content(ctx context.Context, members *memberLookup, uploading func(string, obs.Source) obs.Source) (delivery.Content, error) {
	var c delivery.Content
	switch {
	case j.sticker != nil:
		c = delivery.Sticker{Sticker: *j.sticker}
	case j.media != nil:
		md := *j.media
		md.Source = uploading(md.Name, md.Source)
		c = &md
	default:
		t := delivery.Text{Text: j.text}
		if len(j.mentions) > 0 || j.mentionNames {
			if err := addMentions(ctx, members, &t, j); err != nil {
				return nil, err
			}
		}
		c = t
	}
	if j.replyTo != "" {
		c = delivery.Reply{To: j.replyTo, Content: c}
	}
	return c, nil
}
