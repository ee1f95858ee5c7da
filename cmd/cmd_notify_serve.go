package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/httplimit"
	"github.com/linectl/linectl/internal/notify"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// notify serve: LINE Notify's API over exactly-once delivery (docs/notify.md).

type notifyServeOptions struct {
	Listen          string
	TLSCert, TLSKey string
	RateLimit       string
	Rate            notify.Rate
	E2EE            string
	ConfirmTimeout  time.Duration
	AllowImageURLs  bool
	AllowPrivateURL bool // --allow-private-image-urls
	ImageURLTimeout time.Duration
	// The HTTP server's bounds: a client that trickles or idles is cut off,
	// and no more than MaxConns connections are open at a time.
	HeaderTimeout time.Duration
	BodyTimeout   time.Duration
	IdleTimeout   time.Duration
	MaxConns      int
	// WebhookBackoff is serve's first webhook retry delay (doubled each time).
	WebhookBackoff time.Duration
}

func newCmdNotifyServe(f *factory, runF func(*notifyServeOptions) error) *cobra.Command {
	opts := &notifyServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8093] [--tls-cert FILE --tls-key FILE] [--rate-limit 1000/h]",
		Short: "Answer LINE Notify's API and deliver from your account",
		Long: `Serve LINE Notify's API: POST /api/notify, GET /api/status and POST /api/revoke, with
"Authorization: Bearer TOKEN" (tokens from 'linectl notify token add'). Answers are Notify's:
200 {"status":200,"message":"ok"}, 400 bad parameters (imageFile, a PNG, JPEG or GIF part of a
multipart body up to 10 MiB, is sent after the message, as an image; the URL pair
imageThumbnail+imageFullsize is fetched only with --allow-image-urls, within
--image-url-timeout and 10 MiB, and never from a loopback, link-local, private or
unspecified address (checked on the address connected to, after DNS and on every
redirect) unless --allow-private-image-urls; every failure to fetch is the same 400; stickerPackageId+stickerId send a sticker last), 401 unknown token, 429 a token over --rate-limit, 500 a send that failed (the
message says whether it may have been delivered; linectl never resends). See docs/notify.md.

It listens on loopback only, unless --tls-cert and --tls-key are given. One session, one
signer and one sender serve every request, one send at a time. stdout gets a line when it
listens and one per request (never the token, never the message text):

  {"type":"notify-serve","url":"http://127.0.0.1:8093","listen":…,"tls":false,"tokens":N,"rateLimit":"1000/h"}
  {"type":"notify","method":"POST","path":"/api/notify","status":200,"tokenId":…,"to":…,"messageId":…,"reqSeq":N,"remote":…,"ms":N}

Every connection is bounded: its request headers must arrive within --header-timeout (10s),
its body within --body-timeout (30s) after them, a kept-alive connection is closed after
--idle-timeout (2m) without a request, and at most --max-connections (64) are open at a
time (more wait to be accepted). A client that trickles or idles holds nothing for long.

On SIGINT/SIGTERM it stops accepting, finishes the sends in flight, answers requests still
waiting with 500 (nothing sent), and exits 130.`,
		Example: `  linectl notify serve
  linectl notify serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --rate-limit 100/m
  linectl notify serve --max-connections 16 --body-timeout 10s --idle-timeout 30s
  linectl notify serve --allow-image-urls --allow-private-image-urls   # images from your LAN's NAS`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := parseNotifyServe(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			f.runsAsService("notify serve")
			return runNotifyServe(cmd.Context(), f, opts)
		},
	}
	addServeFlags(cmd, opts, "calls to /api/notify per token: N/s, N/m, N/h or N/d (LINE Notify: 1000/h)")
	return cmd
}

// addServeFlags are the flags of notify serve and serve.
func addServeFlags(cmd *cobra.Command, opts *notifyServeOptions, rateUsage string) {
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:8093", "address to listen on (host:port; port 0 picks one); non-loopback only with --tls-cert/--tls-key")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "the private key (PEM) of --tls-cert")
	fl.StringVar(&opts.RateLimit, "rate-limit", notify.DefaultRate.String(), rateUsage)
	fl.StringVar(&opts.E2EE, "e2ee", "auto", "Letter Sealing: auto, off or require (as 'linectl send')")
	fl.BoolVar(&opts.AllowImageURLs, "allow-image-urls", false, "fetch imageFullsize URLs (the server then makes requests to any URL a token holder names)")
	fl.BoolVar(&opts.AllowPrivateURL, "allow-private-image-urls", false, "with --allow-image-urls, also fetch from loopback, link-local, private and unspecified addresses (refused by default, after DNS and on every redirect)")
	fl.DurationVar(&opts.ImageURLTimeout, "image-url-timeout", 10*time.Second, "how long fetching an image URL may take; 1s to 2m")
	fl.DurationVar(&opts.HeaderTimeout, "header-timeout", 10*time.Second, "how long a request's headers may take to arrive; 1s to 10m")
	fl.DurationVar(&opts.BodyTimeout, "body-timeout", 30*time.Second, "how long a request's body may take to arrive after its headers; 1s to 10m")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", 2*time.Minute, "close a kept-alive connection after this long without a request; 1s to 1h")
	fl.IntVar(&opts.MaxConns, "max-connections", 64, "connections open at a time (more wait to be accepted); 1 to 10000")
	fl.DurationVar(&opts.ConfirmTimeout, "confirm-timeout", 15*time.Second, "how long to search the operation stream for a send whose answer was lost; 100ms to 1h")
	_ = cmd.RegisterFlagCompletionFunc("e2ee", cobra.FixedCompletions([]string{"auto", "off", "require"}, cobra.ShellCompDirectiveNoFileComp))
}

// parseNotifyServe validates the flags; nothing listens before they are good.
func parseNotifyServe(opts *notifyServeOptions) error {
	r, err := notify.ParseRate(opts.RateLimit)
	if err != nil {
		return usageErrorf("--rate-limit: %v", err)
	}
	opts.Rate = r
	switch opts.E2EE {
	case delivery.E2EEAuto, delivery.E2EEOff, delivery.E2EERequire:
	default:
		return usageErrorf("--e2ee must be auto, off or require (got %q)", opts.E2EE)
	}
	if err := checkDuration("--image-url-timeout", opts.ImageURLTimeout, time.Second, 2*time.Minute); err != nil {
		return err
	}
	if err := checkDuration("--confirm-timeout", opts.ConfirmTimeout, minConfirmTimeout, maxConfirmTimeout); err != nil {
		return err
	}
	for _, d := range []struct {
		flag   string
		v, max time.Duration
	}{{"--header-timeout", opts.HeaderTimeout, 10 * time.Minute}, {"--body-timeout", opts.BodyTimeout, 10 * time.Minute}, {"--idle-timeout", opts.IdleTimeout, time.Hour}} {
		if err := checkDuration(d.flag, d.v, time.Second, d.max); err != nil {
			return err
		}
	}
	if opts.MaxConns < 1 || opts.MaxConns > 10000 {
		return usageErrorf("--max-connections %d: must be from 1 to 10000", opts.MaxConns)
	}
	if opts.AllowPrivateURL && !opts.AllowImageURLs {
		return usageErrorf("--allow-private-image-urls goes with --allow-image-urls")
	}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	host, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return usageErrorf("--listen %q: want host:port, such as 127.0.0.1:8093", opts.Listen)
	}
	if !loopbackHost(host) && opts.TLSCert == "" {
		return usageErrorf("--listen %q is not a loopback address: tokens would cross the network in clear text; "+
			"give --tls-cert and --tls-key to serve HTTPS there, or listen on 127.0.0.1", opts.Listen)
	}
	return nil
}

// loopbackHost reports whether host is "localhost" or a loopback IP; an
// empty host (every interface) is not.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// notifyServeLine is printed once the server listens.
type notifyServeLine struct {
	Type      string `json:"type"` // "notify-serve"
	URL       string `json:"url"`
	Listen    string `json:"listen"`
	TLS       bool   `json:"tls"`
	Tokens    int    `json:"tokens"`
	RateLimit string `json:"rateLimit"`
}

// notifyLine is printed for every request: never the token, never the text.
type notifyLine struct {
	Type      string `json:"type"` // "notify"
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	TokenID   string `json:"tokenId,omitempty"`
	To        string `json:"to,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	ReqSeq    int64  `json:"reqSeq,omitempty"`
	E2EE      bool   `json:"e2ee,omitempty"`
	// ImageMessageID and StickerMessageID are the image's and the
	// sticker's, sent after the message.
	ImageMessageID   string `json:"imageMessageId,omitempty"`
	StickerMessageID string `json:"stickerMessageId,omitempty"`
	Remote           string `json:"remote"`
	MS               int64  `json:"ms"`
	Error            string `json:"error,omitempty"`
}

func runNotifyServe(ctx context.Context, f *factory, opts *notifyServeOptions) error {
	return runServer(ctx, f, opts, false)
}

// runServer serves LINE Notify's API and, with bot, the Messaging API too
// (linectl serve), on one listener with one sender.
func runServer(ctx context.Context, f *factory, opts *notifyServeOptions, bot bool) error {
	name := "notify serve"
	if bot {
		name = "serve"
	}
	p, err := notifyTokensPath(f)
	if err != nil {
		return err
	}
	tokens := &notify.Store{Path: p, Now: f.Now}
	if err := tokens.Reload(); err != nil {
		return err
	}
	var cert tls.Certificate
	if opts.TLSCert != "" {
		if cert, err = tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey); err != nil {
			return usageErrorf("--tls-cert/--tls-key: %v", err)
		}
	}
	ss, err := newServeSender(ctx, f, opts)
	if err != nil {
		return err
	}
	defer ss.saveKeys()
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return usageErrorf("--listen %s: %v", opts.Listen, err)
	}
	ln = httplimit.LimitListener(ln, opts.MaxConns)
	scheme := "http"
	if opts.TLSCert != "" {
		scheme = "https"
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	h := &notify.Server{
		Tokens: tokens, Limiter: &notify.Limiter{Rate: opts.Rate, Now: f.Now}, Sender: ss, Now: f.Now, Ended: ss.ended,
		Log: func(e notify.Entry) {
			_ = f.Out().line(notifyLine{Type: "notify", Method: e.Method, Path: e.Path, Status: e.Status, TokenID: e.TokenID,
				To: e.To, MessageID: e.MessageID, ReqSeq: e.ReqSeq, E2EE: e.E2EE, ImageMessageID: e.ImageMessageID, StickerMessageID: e.StickerMessageID, Remote: e.Remote, MS: e.Duration.Milliseconds(), Error: e.Error})
		},
	}
	if opts.AllowImageURLs {
		h.FetchImage = notify.FetchURL(notify.NewFetchClient(opts.AllowPrivateURL), opts.ImageURLTimeout)
	}
	var handler http.Handler = h
	var b *botServer
	if bot {
		if b, err = newBotServer(ctx, f, opts, ss); err != nil {
			ln.Close()
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/v2/", b.api)
		mux.Handle("/", h)
		handler = mux
	}
	srv := &http.Server{
		Handler: httplimit.BodyTimeout(handler, opts.BodyTimeout), ReadHeaderTimeout: opts.HeaderTimeout, IdleTimeout: opts.IdleTimeout,
		MaxHeaderBytes: 64 << 10, ErrorLog: log.New(f.IO.ErrOut, "linectl: "+name+": ", 0),
	}
	addr := ln.Addr().String()
	var line any = notifyServeLine{Type: "notify-serve", URL: scheme + "://" + addr, Listen: addr, TLS: scheme == "https",
		Tokens: tokens.Len(), RateLimit: opts.Rate.String()}
	if bot {
		line = serveLine{Type: "serve", URL: scheme + "://" + addr, Listen: addr, TLS: scheme == "https",
			NotifyTokens: tokens.Len(), BotTokens: b.tokens.Len(), RateLimit: opts.Rate.String(), Webhooks: b.webhookCount()}
	}
	if err := f.Out().line(line); err != nil {
		ln.Close()
		return err
	}
	if bot {
		f.info("Serving LINE's Messaging API at %s://%s/v2/bot/ for %d token(s) and LINE Notify's at /api/notify for %d; Ctrl-C to stop.", scheme, addr, b.tokens.Len(), tokens.Len())
	} else {
		f.info("Serving LINE Notify's API at %s://%s/api/notify for %d token(s); Ctrl-C to stop.", scheme, addr, tokens.Len())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var hooksDone chan error // nil without webhooks: never ready
	hooksOver := false
	hctx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHooks()
	if b != nil {
		hooksDone = make(chan error, 1)
		go func() { hooksDone <- b.runWebhooks(hctx) }()
	}
	select {
	case err := <-served:
		return fmt.Errorf("%s: %w", name, err)
	case err := <-hooksDone:
		if err != nil {
			ss.stop()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*f.Timeout+opts.ConfirmTimeout)
			defer cancel()
			_ = srv.Shutdown(sctx)
			return fmt.Errorf("%s: webhooks: %w", name, err)
		}
		hooksOver = true
		<-ctx.Done()
	case <-ctx.Done():
	}
	// Stop accepting; sends waiting for their turn are answered 500
	// (nothing sent); the send in flight is finished, within a bound.
	ss.stop()
	grace := 3*f.Timeout + opts.ConfirmTimeout
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		f.progress("linectl: warning: a request was still running %v after the signal; it was cut off (its send may have been delivered)", grace)
	}
	stopHooks()
	if hooksDone != nil && !hooksOver {
		<-hooksDone
	}
	return fmt.Errorf("%s: %w", name, context.Canceled)
}

// serveSender is the one delivery.Sender of a server: sends go one at a
// time; once LINE ended the session it sends nothing more; after the signal
// it starts no new send.
type serveSender struct {
	f       *factory
	cl      *lineapi.Client
	sealer  *e2ee.Sealer
	store   *obs.Client
	s       *delivery.Sender
	saveKey func() error
	halt    context.Context // done at the signal: the Sender's Stop
	stop    context.CancelFunc

	mu      sync.Mutex
	isEnded bool
	turns   map[string]*chatTurn // by chat
}

// turnWidth is how many one-message requests to one chat are sent side by
// side: their order was never defined (concurrent HTTP requests), and LINE's
// send rate (send.ratePerSecond) paces them all the same.
const turnWidth = 8

// chatTurn orders the requests to one chat: a request of one message takes
// one of turnWidth slots; a request of several (a message and its sticker
// or image) takes them all, so no other request's message comes between
// its messages. The gate in front keeps it from waiting forever behind a
// stream of one-message requests.
type chatTurn struct {
	gate  chan struct{} // 1: held by a request of several messages while it waits and sends
	slots chan struct{} // turnWidth
}

// take waits for n slots of the chat (1, or turnWidth); false if halt came
// first. release gives them back.
func (t *chatTurn) take(halt <-chan struct{}, n int) (release func(), ok bool) {
	select {
	case t.gate <- struct{}{}:
	case <-halt:
		return nil, false
	}
	got := 0
	give := func() {
		for ; got > 0; got-- {
			<-t.slots
		}
	}
	for got < n {
		select {
		case t.slots <- struct{}{}:
			got++
		case <-halt:
			give()
			<-t.gate
			return nil, false
		}
	}
	if n == 1 {
		<-t.gate // a one-message request only passes the gate
		return give, true
	}
	return func() { give(); <-t.gate }, true
}

func (ss *serveSender) turnOf(chat string) *chatTurn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.turns == nil {
		ss.turns = map[string]*chatTurn{}
	}
	t := ss.turns[chat]
	if t == nil {
		t = &chatTurn{gate: make(chan struct{}, 1), slots: make(chan struct{}, turnWidth)}
		ss.turns[chat] = t
	}
	return t
}

func newServeSender(ctx context.Context, f *factory, opts *notifyServeOptions) (*serveSender, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	cl, err := f.Client(true)
	if err != nil {
		return nil, err
	}
	sealer, saveKeys, err := f.accountSealer(ctx, cl)
	if err != nil {
		return nil, err
	}
	rate := cfg.Send.RatePerSecond // the file's, else config.DefaultRate
	store := newOBS(f, cl)
	// At the signal the Sender starts nothing new (a request still probing
	// is answered "nothing was sent") and finishes what it has written.
	halt, stop := context.WithCancel(context.Background())
	s := &delivery.Sender{
		GW: cl, Finder: delivery.StreamFinder{Open: cl}, From: sealer.MID, E2EE: opts.E2EE, Encrypter: sealer,
		Window: opts.ConfirmTimeout, Limiter: newLimiter(rate), Uploader: store, Stop: halt,
	}
	return &serveSender{f: f, cl: cl, sealer: sealer, store: store, s: s, saveKey: saveKeys, halt: halt, stop: stop}, nil
}

var errShuttingDown = errors.New("linectl is shutting down; nothing was sent")

// SendMessages sends cs in order within one turn of the chat (a request's
// message and its sticker are never split by another request's; requests
// of one message go side by side), stopping at the first failure; after
// the signal, a message not yet started is not sent.
func (ss *serveSender) SendMessages(ctx context.Context, to string, cs []delivery.Content) ([]*delivery.Result, error) {
	n := 1
	if len(cs) > 1 {
		n = turnWidth
	}
	release, ok := ss.turnOf(to).take(ss.halt.Done(), n)
	if !ok {
		return nil, errShuttingDown
	}
	defer release()
	select {
	case <-ss.halt.Done():
		return nil, errShuttingDown
	default:
	}
	var out []*delivery.Result
	for i, c := range cs {
		if i > 0 {
			select {
			case <-ss.halt.Done():
				return append(out, nil), errShuttingDown
			default:
			}
		}
		if ss.ended() {
			return append(out, nil), notify.ErrLoggedOut
		}
		r, err := ss.s.SendMessage(ctx, to, c)
		if errors.Is(err, delivery.ErrStopped) {
			return append(out, nil), errShuttingDown
		}
		out = append(out, r)
		if err != nil && notify.IsLoggedOut(err) {
			ss.end()
		}
		if r != nil && r.E2EE {
			ss.saveKeys()
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (ss *serveSender) ended() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.isEnded
}

// end records that LINE ended the session and clears its tokens, as any
// command does (Main): the server answers 500 from now on.
func (ss *serveSender) end() {
	ss.mu.Lock()
	first := !ss.isEnded
	ss.isEnded = true
	ss.mu.Unlock()
	if !first {
		return
	}
	if src := ss.f.Session(); src != nil {
		clearTokens(ss.f, src.Tokens().AccessToken)
	}
	ss.f.progress("linectl: LINE ended the session: every request is answered 500 until you log in again and restart 'linectl notify serve'")
}

func (ss *serveSender) saveKeys() {
	if err := ss.saveKey(); err != nil {
		ss.f.progress("warning: Letter Sealing key cache not saved: %v", err)
	}
}
