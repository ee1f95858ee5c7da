package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// MaxTextLength is the longest text linectl sends, in UTF-16 code units (as
// LINE counts). LINE does not document the app's limit; its Messaging API
// documents 5,000 characters for a text message, and that is the safe
// bound chosen here.
const MaxTextLength = 5000

type sendOptions struct {
	To                []string
	ToName            []string
	Text              string // resolved text (args or stdin)
	StickerArg        string // --sticker PKG/ID
	StickerVersion    int64  // --sticker-version
	StickerVersionSet bool
	Sticker           *lineapi.Sticker
	JSONL             bool
	E2EE              string
	Confirm           bool
	ConfirmTimeout    time.Duration
	Rate              float64
	RateSet           bool
}

func newCmdSend(f *factory, runF func(*sendOptions) error) *cobra.Command {
	opts := &sendOptions{}
	cmd := &cobra.Command{
		Use:   "send --to MID [--to MID …] [TEXT … | --sticker PKG/ID]",
		Short: "Send a text message or a sticker to users, groups or rooms",
		Long: `Send a text message. The text is the arguments joined by spaces, or stdin when no text
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
--sticker-version sets its package version (STKVER, default 100). A sticker has no text.
Stickers are never sealed: LINE's allowedTypes does not list them (see docs/protocol.md §6).

--jsonl reads {"to":"MID","text":"…"} lines — or {"to":"MID","sticker":"PKG/ID"}, with an
optional "stickerVersion":N — from stdin and sends each over one connection;
every non-blank line gets one result line, in order (a line over 1 MiB is refused).

On SIGINT/SIGTERM no more input is read; the send in flight is finished (or settled on
the stream), every line owed is printed, and linectl exits 130. Input after the last
result line was not sent.
Sends are limited to --rate per second (default 10; 0 = no limit; else 0.01 to 1000).

Text longer than 5000 characters is refused (exit 2), and so is text that is empty to a
reader: only white space, zero-width or other invisible characters, or any NUL.`,
		Example: `  linectl send --to c0123456789abcdef0123456789abcdef "backup finished"
  df -h | linectl send --to u0123456789abcdef0123456789abcdef
  linectl send --to-name "Family" --confirm "dinner at 7"
  linectl send --to c0123456789abcdef0123456789abcdef --sticker 446/1988
  jq -c '{to: .chat, text: .msg}' alerts.json | linectl send --jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.RateSet = cmd.Flags().Changed("rate")
			opts.StickerVersionSet = cmd.Flags().Changed("sticker-version")
			if err := parseSendArgs(cmd.Context(), f, opts, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSend(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.To, "to", nil, "destination MID (user u…, group c…, room r…); repeatable")
	fl.StringArrayVar(&opts.ToName, "to-name", nil, "destination chat or contact by exact name (from 'linectl chats'/'contacts'); repeatable")
	fl.BoolVar(&opts.JSONL, "jsonl", false, `read {"to":…,"text":…} lines from stdin`)
	fl.StringVar(&opts.StickerArg, "sticker", "", "send the sticker PKG/ID (package id/sticker id) instead of a text")
	fl.Int64Var(&opts.StickerVersion, "sticker-version", lineapi.DefaultStickerVersion, "the sticker package's version (STKVER), with --sticker")
	fl.StringVar(&opts.E2EE, "e2ee", "auto", "Letter Sealing: auto, off or require")
	fl.BoolVar(&opts.Confirm, "confirm", false, "wait until each message appears on the operation stream")
	fl.DurationVar(&opts.ConfirmTimeout, "confirm-timeout", 15*time.Second, "how long to watch the operation stream for a send (--confirm, or a lost answer); 100ms to 1h")
	fl.Float64Var(&opts.Rate, "rate", 10, "maximum sends per second: 0 = no limit, else 0.01 to 1000 (config send.ratePerSecond)")
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
	if opts.StickerVersionSet && !stickerSet {
		return usageErrorf("--sticker-version goes with --sticker")
	}
	if opts.JSONL && stickerSet {
		return usageErrorf(`--jsonl takes stickers from stdin ({"to":…,"sticker":"PKG/ID"}): no --sticker`)
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
	if stickerSet {
		if len(args) > 0 {
			return usageErrorf("--sticker sends a sticker, which has no text: drop the text arguments (send the text with a second 'linectl send')")
		}
		st, err := parseSticker(opts.StickerArg, opts.StickerVersion)
		if err != nil {
			return usageErrorf("--sticker: %v", err)
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

// parseSticker reads PKG/ID: two positive decimal numbers (no sign, no
// spaces, no leading zeros beyond a lone digit, within int64).
func parseSticker(s string, version int64) (*lineapi.Sticker, error) {
	pkg, id, ok := strings.Cut(s, "/")
	if !ok {
		return nil, fmt.Errorf("%q: use PKG/ID, the package id and the sticker id (e.g. 446/1988)", s)
	}
	p, err := positiveDecimal(pkg)
	if err != nil {
		return nil, fmt.Errorf("%q: package id: %v", s, err)
	}
	i, err := positiveDecimal(id)
	if err != nil {
		return nil, fmt.Errorf("%q: sticker id: %v", s, err)
	}
	if version <= 0 {
		return nil, fmt.Errorf("version %d: must be a positive number", version)
	}
	return &lineapi.Sticker{PackageID: p, ID: i, Version: version}, nil
}

// positiveDecimal parses a positive decimal integer written plainly.
func positiveDecimal(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is too large", s)
	case n == 0:
		return 0, fmt.Errorf("%q: must be positive", s)
	case s[0] == '0':
		return 0, fmt.Errorf("%q: no leading zeros", s)
	}
	return n, nil
}

// Bounds of --confirm-timeout.
const (
	minConfirmTimeout = 100 * time.Millisecond
	maxConfirmTimeout = time.Hour
)

// checkRate validates a sends-per-second value: 0 (no limit) or
// config.MinRate to config.MaxRate; NaN, infinities, negative and tiny
// values (a limiter that never fires, or spins) are refused.
func checkRate(flag string, r float64) error {
	if r == 0 || (r >= config.MinRate && r <= config.MaxRate) {
		return nil
	}
	return usageErrorf("%s %v: use 0 (no limit) or %v to %v sends per second", flag, r, config.MinRate, config.MaxRate)
}

// checkDuration validates a duration flag against its documented range.
func checkDuration(flag string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return usageErrorf("%s %v: must be from %v to %v", flag, d, lo, hi)
	}
	return nil
}

// isInvisible reports whether r shows nothing to a person on its own:
// white space, controls, format characters (unicode.Cf: zero-width space,
// joiners, word joiner, BOM, bidi marks…), variation selectors, other
// default-ignorable code points (Hangul fillers…) and the blank braille
// pattern.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Variation_Selector,
		unicode.Other_Default_Ignorable_Code_Point) || r == '\u2800'
}

// validateText refuses what LINE would show as nothing, or not show as
// sent: invalid UTF-8, NUL anywhere, a text of invisible characters only,
// and a text over MaxTextLength.
func validateText(text string) error {
	if !utf8.ValidString(text) {
		return usageErrorf("the text is not valid UTF-8")
	}
	if strings.ContainsRune(text, 0) {
		return usageErrorf("the text contains a NUL character")
	}
	if strings.TrimFunc(text, isInvisible) == "" {
		if text == "" || strings.TrimFunc(text, unicode.IsSpace) == "" {
			return usageErrorf("the text is empty")
		}
		return usageErrorf("the text is empty to a reader: only white space and invisible (zero-width, format) characters")
	}
	if n := utf16Len(text); n > MaxTextLength {
		return usageErrorf("the text is %d characters long; the limit is %d", n, MaxTextLength)
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += len(utf16.AppendRune(nil, r))
	}
	return n
}

// sentLine is printed for each delivered message.
type sentLine struct {
	Type        string `json:"type"` // "sent"
	To          string `json:"to"`
	ToType      int    `json:"toType"`
	MessageID   string `json:"messageId"`
	ReqSeq      int64  `json:"reqSeq"`
	CreatedTime string `json:"createdTime,omitempty"`
	E2EE        bool   `json:"e2ee"`
	SpecVersion int    `json:"specVersion,omitempty"`
	ContentType int    `json:"contentType,omitempty"` // 7 for a sticker; omitted for text (0)
	Confirmed   *bool  `json:"confirmed,omitempty"`
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
}

// job is one text or sticker to one destination.
type job struct {
	to, text string
	sticker  *lineapi.Sticker
	line     int
	err      error // input error for this line
}

func runSend(ctx context.Context, f *factory, opts *sendOptions) error {
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	targets, err := resolveNames(ctx, f, opts.To, opts.ToName)
	if err != nil {
		return err
	}
	cl, err := f.Client(true)
	if err != nil {
		return err
	}
	sealer, keys, err := newSealer(f, cl)
	if err != nil {
		return err
	}
	defer func() {
		if err := keys.Save(); err != nil {
			f.progress("warning: Letter Sealing key cache not saved: %v", err)
		}
	}()
	rate := opts.Rate
	if !opts.RateSet && cfg.Send.RatePerSecond > 0 {
		rate = cfg.Send.RatePerSecond
	}
	// A signal stops the reading of input and any send whose request is not
	// written yet; a request already written is settled (its answer, or the
	// stream search) under sendCtx, which the signal does not cancel: a grace
	// of --timeout + --confirm-timeout bounds it.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(f.Timeout+opts.ConfirmTimeout, cancelSend) })()
	limiter := delivery.NewLimiter(rate, int(max(rate, 1)), nil, func(c context.Context, d time.Duration) error {
		c, cancel := mergeCancel(c, ctx)
		defer cancel()
		return lineapi.SleepContext(c, d)
	})
	s := &delivery.Sender{
		GW: &interruptibleGateway{Gateway: cl, stop: ctx}, Finder: delivery.StreamFinder{Open: cl}, From: cfg.Account.MID, E2EE: opts.E2EE,
		Encrypter: sealer, Window: opts.ConfirmTimeout, Limiter: limiter,
	}
	if s.From == "" {
		p, err := cl.GetProfile(ctx)
		if err != nil {
			return err
		}
		s.From = p.MID
	}
	sealer.MID = s.From
	// A warm send is one gateway call: the probe from the cache, the search
	// revision from an earlier run.
	probes := loadProbeCache(f, s.From)
	s.Probes, s.SavedRevision = probes, savedRevision(f, s.From)
	if !opts.JSONL && len(targets) > 1 {
		s.Prefetch(ctx, targets) // several chats: their probes side by side
	}
	defer func() {
		if err := probes.save(); err != nil {
			f.progress("warning: probe cache not saved (the next send probes again): %v", err)
		}
		if rev, ok := s.FetchedRevision(); ok {
			if err := saveSendRevision(f, s.From, rev); err != nil {
				f.progress("warning: %s not saved (the next send asks LINE again): %v", sendStatePath(f), err)
			}
		}
	}()
	jobs := make(chan job)
	go func() {
		defer close(jobs)
		if opts.JSONL {
			readJSONL(ctx, f.IO.In, jobs)
			return
		}
		for _, to := range targets {
			select {
			case jobs <- job{to: to, text: opts.Text, sticker: opts.Sticker}:
			case <-ctx.Done():
				return
			}
		}
	}()
	b := &batch{f: f}
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
		r, err := s.SendMessage(sendCtx, j.to, delivery.Content{Text: j.text, Sticker: j.sticker})
		switch {
		case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) && !errors.Is(err, delivery.ErrOutcomeUnknown):
			// Interrupted before its request was written: not sent, no line.
		case err != nil:
			if err := b.fail(j, r, err); err != nil {
				return err
			}
		case opts.Confirm:
			b.delivered = true
			b.held = append(b.held, r)
		default:
			b.delivered = true
			if err := printSent(f, r, nil); err != nil {
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

// interruptedConfirmWait bounds the --confirm search after a signal.
const interruptedConfirmWait = 2 * time.Second

// batch collects the outcomes of a send's destinations or --jsonl lines.
type batch struct {
	f         *factory
	worst     classified // worst failure other than a refused input line
	worstErr  error
	refused   error              // the first input line refused (exit 2), if any
	delivered bool               // some message was accepted by LINE
	held      []*delivery.Result // --confirm: sent lines printed after the search
}

// fail prints the failed line of a destination or input line.
func (b *batch) fail(j job, r *delivery.Result, err error) error {
	err = sendExit(err)
	c := classify(err)
	if errors.Is(err, delivery.ErrOutcomeUnknown) {
		c.code, c.kind = ExitUnknown, "outcome_unknown" // even if a cancelled call is part of the story
	}
	fl := failedLine{Type: "failed", To: j.to, Line: j.line, ExitCode: c.code, Kind: c.kind, Code: c.talk, Reason: c.reason, Message: err.Error()}
	if r != nil {
		tt := int(r.ToType)
		fl.ToType, fl.ReqSeq = &tt, r.ReqSeq
	}
	switch {
	case c.code == ExitUsage:
		if b.refused == nil {
			b.refused = err
		}
	case b.worstErr == nil || rank(c.code) > rank(b.worst.code):
		b.worst, b.worstErr = c, err
	}
	return b.f.Out().line(fl)
}

// confirm prints the held sent lines of --confirm with what the operation
// stream showed within timeout; after a signal it looks for at most
// interruptedConfirmWait more (bounded by sendCtx's grace too).
func (b *batch) confirm(ctx, sendCtx context.Context, s *delivery.Sender, timeout time.Duration) error {
	if len(b.held) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(sendCtx, timeout)
	defer cancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(min(timeout, interruptedConfirmWait), cancel) })()
	found, _ := s.Confirm(cctx, b.held)
	missing := 0
	for _, r := range b.held {
		ok := found[r.ReqSeq] != ""
		if !ok {
			missing++
		}
		if err := printSent(b.f, r, &ok); err != nil {
			return err
		}
	}
	if missing > 0 && (b.worstErr == nil || rank(ExitUnknown) > rank(b.worst.code)) {
		b.worst = classified{code: ExitUnknown}
		b.worstErr = withExit(ExitUnknown, "unconfirmed", fmt.Errorf("%d message(s) accepted by LINE but not seen on the operation stream within %s", missing, timeout))
	}
	return nil
}

// exit is the batch's error: the worst failure, ranked as rank orders them,
// where a refused input line (exit 2, "nothing was sent") counts only when
// no message was sent.
func (b *batch) exit() error {
	switch {
	case b.worstErr != nil:
		return b.worstErr
	case b.refused != nil && b.delivered:
		b.f.progress("linectl: warning: some input was refused and not sent (see the \"failed\" lines); the other messages were sent")
		return nil
	default:
		return b.refused
	}
}

// interruptibleGateway stops, at a signal, what comes before a request is
// written: the Letter Sealing probe, and a sendMessage not yet attempted.
// A reqSeq already attempted (a resend after a refusal that proves nothing
// was processed, or one the stream showed absent) goes through.
type interruptibleGateway struct {
	delivery.Gateway
	stop context.Context

	mu        sync.Mutex
	attempted int64
}

func (g *interruptibleGateway) ProbeE2EE(ctx context.Context, mid string) (*lineapi.Probe, error) {
	ctx, cancel := mergeCancel(ctx, g.stop)
	defer cancel()
	return g.Gateway.ProbeE2EE(ctx, mid)
}

func (g *interruptibleGateway) SendMessage(ctx context.Context, reqSeq int64, m lineapi.OutgoingMessage) (*lineapi.SentMessage, error) {
	g.mu.Lock()
	if g.attempted != reqSeq {
		if err := g.stop.Err(); err != nil {
			g.mu.Unlock()
			return nil, fmt.Errorf("sendMessage not sent: %w", err)
		}
		g.attempted = reqSeq
	}
	g.mu.Unlock()
	return g.Gateway.SendMessage(ctx, reqSeq, m)
}

// mergeCancel returns ctx, also cancelled when stop is.
func mergeCancel(ctx, stop context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(stop, cancel)
	return c, func() { unhook(); cancel() }
}

func printSent(f *factory, r *delivery.Result, confirmed *bool) error {
	l := sentLine{Type: "sent", To: r.To, ToType: int(r.ToType), MessageID: r.MessageID, ReqSeq: r.ReqSeq,
		E2EE: r.E2EE, SpecVersion: r.SpecVersion, ContentType: r.ContentType, Confirmed: confirmed}
	if r.CreatedTime != 0 {
		l.CreatedTime = fmt.Sprint(r.CreatedTime)
	}
	if r.Resolved {
		t := true
		l.Confirmed = &t
	}
	return f.Out().line(l)
}

// sendExit gives delivery's errors their exit codes.
func sendExit(err error) error {
	switch {
	case errors.Is(err, delivery.ErrOutcomeUnknown):
		return withExit(ExitUnknown, "outcome_unknown", err)
	case errors.Is(err, delivery.ErrNeedsE2EE), errors.Is(err, delivery.ErrSealingImpossible):
		return withExit(ExitRejected, "e2ee_required", err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return err
}

// rank orders exit codes from best to worst for "the worst one".
func rank(code int) int {
	switch code {
	case ExitOK:
		return 0
	case ExitUsage:
		return 1
	case ExitTemporary:
		return 2
	case ExitRejected:
		return 3
	case ExitLogin:
		return 4
	case ExitInternal:
		return 5
	case ExitUnknown:
		return 6
	default:
		return 7
	}
}

// maxJSONLLine is the longest --jsonl input line read.
const maxJSONLLine = 1 << 20

// readJSONL turns stdin lines into jobs, one per non-blank line; a bad line
// (too long, not JSON, bad MID or text) is a job with an input error.
func readJSONL(ctx context.Context, r io.Reader, jobs chan<- job) {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br, maxJSONLLine)
		var j job
		switch {
		case tooLong:
			j = job{line: n, err: usageErrorf("line %d is longer than %d bytes (1 MiB); not sent", n, maxJSONLLine)}
		case len(strings.TrimSpace(string(raw))) > 0:
			j = parseJSONL(n, strings.TrimSpace(string(raw)))
		case err == nil:
			continue
		}
		if err != nil && err != io.EOF {
			j = job{line: n, err: usageErrorf("line %d: read stdin: %v", n, err)}
		}
		if j.line != 0 {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line (without its newline) of at most max bytes; a
// longer line is read to its end and dropped (tooLong). err is io.EOF after
// the last line.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if !tooLong && len(line)+len(chunk) > max {
			tooLong, line = true, nil
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return line, tooLong, err
		}
	}
}

// parseJSONL turns input line n into a job.
func parseJSONL(n int, line string) job {
	var in struct {
		To             string  `json:"to"`
		Text           *string `json:"text"`
		Sticker        *string `json:"sticker"`
		StickerVersion *int64  `json:"stickerVersion"`
	}
	j := job{line: n}
	if !utf8.ValidString(line) {
		j.err = usageErrorf("line %d: not valid UTF-8", n)
	} else if err := json.Unmarshal([]byte(line), &in); err != nil {
		j.err = usageErrorf("line %d: not a JSON object with to and text (or sticker): %v", n, err)
	} else if _, err := lineapi.ParseMID(in.To); err != nil {
		j.to, j.err = in.To, usageErrorf("line %d: %v", n, err)
	} else if in.Sticker != nil || in.StickerVersion != nil {
		j.to = in.To
		version := int64(lineapi.DefaultStickerVersion)
		if in.StickerVersion != nil {
			version = *in.StickerVersion
		}
		switch st, err := parseSticker(derefOr(in.Sticker), version); {
		case in.Sticker == nil:
			j.err = usageErrorf("line %d: stickerVersion without sticker", n)
		case in.Text != nil:
			j.err = usageErrorf("line %d: a line has text or a sticker, not both (a sticker has no text)", n)
		case err != nil:
			j.err = usageErrorf("line %d: sticker %v", n, err)
		default:
			j.sticker = st
		}
	} else if err := validateText(derefOr(in.Text)); err != nil {
		j.to, j.err = in.To, usageErrorf("line %d: %v", n, err)
	} else {
		j.to, j.text = in.To, *in.Text
	}
	return j
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readAllContext reads r to its end, or returns ctx's error as soon as ctx
// ends (a read from a terminal does not return on Ctrl-C by itself).
func readAllContext(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		ch <- result{b, err}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
