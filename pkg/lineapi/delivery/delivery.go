// Package delivery sends messages exactly once on a gateway that does not
// deduplicate. A send whose outcome is unknown (the connection dropped after
// the request went out, a 500/504, a timeout) is never repeated: LINE may
// still commit a request it received, at any time, so no window of silence
// proves it absent. The operation stream is searched, from the revision saved
// before sending, for the SEND_MESSAGE operation carrying the send's reqSeq:
// found, it was sent; not found (or the stream unreachable), ErrOutcomeUnknown.
// Only a request that provably never reached LINE (refused before it was
// written, a load balancer's 503, throttling) is sent again, with the same
// reqSeq.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// ErrStopped means the Sender's Stop came before the message was written:
// nothing was sent. It wraps context.Canceled.
var ErrStopped = fmt.Errorf("stopped before the message was written, nothing was sent: %w", context.Canceled)

// ErrOutcomeUnknown means a message may or may not have been delivered.
var ErrOutcomeUnknown = errors.New("outcome unknown: the message may have been delivered")

// ErrNeedsE2EE means the chat requires Letter Sealing and no encrypter can seal for it.
var ErrNeedsE2EE = errors.New("this chat requires Letter Sealing (end-to-end encryption)")

// ErrSealingImpossible means Letter Sealing was required (E2EERequire) where
// LINE says it cannot be used, or does not allow it for the content type.
var ErrSealingImpossible = errors.New("Letter Sealing was required (--e2ee require) but cannot be used for this chat")

// Gateway is what a Sender calls.
type Gateway interface {
	SendMessage(ctx context.Context, reqSeq int64, m lineapi.OutgoingMessage) (*lineapi.SentMessage, error)
	ProbeE2EE(ctx context.Context, mid string) (*lineapi.Probe, error)
	GetLastOpRevision(ctx context.Context) (int64, error)
}

// Finder searches the operation stream from a revision for SEND_MESSAGE
// operations with the given reqSeqs, until all are found or ctx ends, and
// returns what it found (reqSeq → server message id).
type Finder interface {
	FindSends(ctx context.Context, fromRevision int64, reqSeqs []int64) (map[int64]string, error)
}

// Encrypter seals a message for a chat where the probe found Letter Sealing
// usable. It fills Chunks and ContentMetadata.
type Encrypter interface {
	Seal(ctx context.Context, p *lineapi.Probe, m *lineapi.OutgoingMessage) (specVersion int, err error)
}

// ProbeCache remembers what the Letter Sealing probe said about each chat
// between runs, so that a warm send is one gateway call. An entry may be
// stale: LINE's refusals that a stale probe causes (82 plain refused, 83/84
// key changed, 99 recreate the group key, another Letter Sealing refusal, not
// a member) make the Sender drop it, probe again and send once more with the
// same reqSeq — those refusals mean nothing was processed.
type ProbeCache interface {
	Probe(mid string) (*lineapi.Probe, bool)
	SetProbe(mid string, p *lineapi.Probe)
	DropProbe(mid string)
}

// Forgetter is an optional Encrypter method: drop cached keys of a
// destination after LINE said a key changed (83, 84) or asked for a new
// group key (99).
type Forgetter interface {
	Forget(to string, recreateGroup bool)
}

// E2EE modes.
const (
	E2EEAuto    = "auto"
	E2EEOff     = "off"
	E2EERequire = "require"
)

// Sender sends messages from one account.
type Sender struct {
	GW        Gateway
	Finder    Finder
	Encrypter Encrypter // nil: Letter Sealing cannot be sent
	From      string
	E2EE      string        // auto | off | require
	Window    time.Duration // how long to search the stream for an unknown outcome
	Limiter   Limiter       // nil: no client-side rate limit
	Probes    ProbeCache    // nil: probe before every send
	// Uploader puts media on LINE's object storage; GW must then also be a
	// MediaGateway. nil: media cannot be sent.
	Uploader Uploader
	// Pending, when set, is called with a plain media message's result once
	// LINE stored the message and before its object is uploaded: until the
	// upload ends, the chat shows a placeholder, and this is the message id
	// that completes it (UploadPlain) if the process dies meanwhile.
	Pending func(*Result)
	// SavedRevision, when not 0, is an operation revision saved before this
	// run (by receive or an earlier send): the stream is searched from it
	// for an unknown outcome, and getLastOpRevision is not called.
	SavedRevision int64
	// Now is the clock (nil: time.Now); a sealed upload is named by it.
	Now func() time.Time
	// Stop, when set, is the signal to start nothing new (SIGINT/SIGTERM, a
	// server shutting down) — the one rule every sender follows: once Stop
	// is done, the Sender asks no probe or media flow, writes no
	// sendMessage it has not written before, and uploads no sealed object
	// (its message is not sent yet); each of those ends with ErrStopped,
	// nothing sent. What was written finishes under the ctx it was given:
	// its answer awaited, an unknown outcome searched on the stream, a
	// resend LINE's refusal allows, a plain message's object uploaded.
	// nil: never.
	Stop context.Context

	mu      sync.Mutex
	next    int64
	revOnce sync.Once
	revDone chan struct{}
	baseRev int64
	revErr  error
}

// Result is one send's outcome.
type Result struct {
	To          string
	ToType      lineapi.ToType
	ReqSeq      int64
	MessageID   string
	CreatedTime int64
	E2EE        bool
	SpecVersion int
	ContentType int // 0 text, 7 sticker, 1 image, 14 file
	// Object is a media message's object on LINE's storage (its path);
	// FileName and FileSize are its name and (plain) size.
	Object   string
	FileName string
	FileSize int64
	// Resolved is true when an unknown outcome was settled through the stream.
	Resolved bool
	// ReplyTo and Mention echo the message sent: its relatedMessageId
	// (a Reply) and its MENTION metadata (a Text's Mention).
	ReplyTo, Mention string
}

// NextReqSeq returns the next request sequence number: a counter starting
// at a random 31-bit value, as the extension's.
func (s *Sender) NextReqSeq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == 0 {
		s.next = int64(rand.Int32N(1<<30)) + 1
	}
	s.next++
	return s.next
}

// Revision returns the operation revision the stream is searched from for
// an unknown outcome: SavedRevision, or getLastOpRevision asked once, before
// the first send (started by Send alongside its probe).
func (s *Sender) Revision(ctx context.Context) (int64, error) {
	s.startRevision(ctx)
	select {
	case <-s.revDone:
		return s.baseRev, s.revErr
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// FetchedRevision returns the revision getLastOpRevision gave this Sender,
// if it asked and got one (not SavedRevision), without waiting.
func (s *Sender) FetchedRevision() (int64, bool) {
	s.mu.Lock()
	done := s.revDone
	s.mu.Unlock()
	if done == nil || s.SavedRevision > 0 {
		return 0, false
	}
	select {
	case <-done:
		return s.baseRev, s.revErr == nil
	default:
		return 0, false
	}
}

// startRevision starts the revision lookup once, without waiting for it.
func (s *Sender) startRevision(ctx context.Context) {
	s.revOnce.Do(func() {
		s.mu.Lock()
		s.revDone = make(chan struct{})
		s.mu.Unlock()
		if s.SavedRevision > 0 {
			s.baseRev = s.SavedRevision
			close(s.revDone)
			return
		}
		go func() {
			defer close(s.revDone)
			s.baseRev, s.revErr = s.GW.GetLastOpRevision(ctx) // the error names the call
		}()
	})
}

// message is c's outgoing message from the Sender to one destination, its
// content type set before the Letter Sealing probe decides (allowedTypes is
// per content type).
func (s *Sender) message(c Content, to string, toType lineapi.ToType) lineapi.OutgoingMessage {
	m := c.Message()
	m.From, m.To, m.ToType = s.From, to, toType
	return m
}

// result is a send's result before it is sent: what its message echoes.
func result(m *lineapi.OutgoingMessage, reqSeq int64) *Result {
	return &Result{To: m.To, ToType: m.ToType, ContentType: m.ContentType, ReqSeq: reqSeq,
		ReplyTo: m.RelatedMessageID, Mention: m.ContentMetadata["MENTION"]}
}

// Send sends text to one destination exactly once.
func (s *Sender) Send(ctx context.Context, to, text string) (*Result, error) {
	return s.SendMessage(ctx, to, Text{Text: text})
}

// SendMessage sends c (a Text, a Sticker, a *Media, a Reply of a text or a
// sticker) to one destination exactly once.
func (s *Sender) SendMessage(ctx context.Context, to string, c Content) (*Result, error) {
	toType, err := lineapi.ParseMID(to)
	if err != nil {
		return nil, err
	}
	switch c := c.(type) {
	case nil:
		return nil, errors.New("no message to send")
	case *Media:
		return s.sendMedia(ctx, to, toType, c)
	case Reply:
		if _, ok := c.Content.(*Media); ok {
			return nil, errors.New("a reply is a text or a sticker: linectl sends no image or file as a reply")
		}
	}
	return s.deliver(ctx, to, toType, c)
}

// deliver seals (where the chat needs it) and sends c once.
func (s *Sender) deliver(ctx context.Context, to string, toType lineapi.ToType, c Content) (*Result, error) {
	m := s.message(c, to, toType)
	res := result(&m, 0)
	s.startRevision(ctx) // concurrently with the probe
	cached, err := s.seal(ctx, res, &m, c, false)
	if err != nil && cached {
		// What the cache said no longer seals (a key gone, say): probe afresh.
		s.Probes.DropProbe(to)
		m = s.message(c, to, toType)
		*res = *result(&m, 0)
		cached, err = s.seal(ctx, res, &m, c, true)
	}
	if err != nil {
		return res, err
	}
	if _, err := s.Revision(ctx); err != nil {
		return res, err
	}
	if s.Limiter != nil {
		lctx, cancel := s.beforeWriting(ctx)
		err := s.Limiter.Wait(lctx)
		cancel()
		if err != nil {
			return res, s.stopErr(err)
		}
	}
	res.ReqSeq = s.NextReqSeq()
	if s.stopped() {
		return res, ErrStopped // this reqSeq was never written
	}
	resealed := false
	for {
		sent, err := s.GW.SendMessage(ctx, res.ReqSeq, m)
		if err == nil && (sent == nil || sent.ID == "") {
			// Whatever Gateway answered, no message id shows nothing was
			// stored or that it was: settle it like any unknown outcome.
			err = &lineapi.BadResponseError{Method: "sendMessage", HTTPStatus: 200, Reason: "a success answer without the message's id"}
		}
		if err == nil {
			res.MessageID, res.CreatedTime = sent.ID, int64(sent.CreatedTime)
			return res, nil
		}
		if !resealed && (keyChanged(err) && (res.E2EE || cached) || cached && staleProbe(err)) {
			// LINE refused what the (cached or current) probe led to; nothing
			// was processed: probe afresh, refresh the keys, send again with
			// the same reqSeq — once.
			resealed = true
			if s.Probes != nil {
				s.Probes.DropProbe(to)
			}
			if f, ok := s.Encrypter.(Forgetter); ok && keyChanged(err) {
				f.Forget(to, errors.Is(err, lineapi.ErrE2EERecreateGroupKey))
			}
			m = s.message(c, to, toType)
			*res = *result(&m, res.ReqSeq)
			if cached, err = s.seal(ctx, res, &m, c, true); err != nil {
				return res, err
			}
			continue
		}
		if errors.Is(err, lineapi.ErrE2EERetryEncrypt) {
			return res, fmt.Errorf("%w: LINE refused the plain message: %w", ErrNeedsE2EE, err)
		}
		if !OutcomeUnknown(err) {
			return res, err
		}
		// The request reached LINE, or may have: settle it from the stream,
		// never by sending it again.
		id, ferr := s.find(ctx, res.ReqSeq)
		if ferr == nil && id != "" {
			res.MessageID, res.Resolved = id, true
			return res, nil
		}
		why := "not on the operation stream within the search window"
		if ferr != nil {
			why = "the operation stream could not be searched: " + ferr.Error()
		}
		return res, fmt.Errorf("%w (reqSeq %d; %v; %s)", ErrOutcomeUnknown, res.ReqSeq, err, why)
	}
}

// Prefetch runs the Letter Sealing probe of each destination the probe
// cache does not hold, a few at a time, and caches the answers, so that a
// send to several chats pays the probes' round trips once, side by side. It
// needs Probes; errors are left for the send itself to meet.
func (s *Sender) Prefetch(ctx context.Context, mids []string) {
	if s.Probes == nil || s.E2EE == E2EEOff {
		return
	}
	s.startRevision(ctx)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, mid := range mids {
		if _, ok := s.Probes.Probe(mid); ok || s.stopped() {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(mid string) {
			defer func() { <-sem; wg.Done() }()
			pctx, cancel := s.beforeWriting(ctx)
			defer cancel()
			if p, err := s.GW.ProbeE2EE(pctx, mid); err == nil && cacheable(p) {
				s.Probes.SetProbe(mid, p)
			}
		}(mid)
	}
	wg.Wait()
}

// cacheable reports whether a probe's answer may be cached: not for a group
// that has no key yet (one is registered at once, and the answer is stale).
func cacheable(p *lineapi.Probe) bool {
	return !(p.Usable && p.ToType != lineapi.ToUser && p.GroupKey == nil)
}

// staleProbe reports whether LINE refused a send in a way a stale probe
// explains: plain refused (82), another Letter Sealing refusal (80–99), or
// not a member (the chat changed).
func staleProbe(err error) bool {
	var te *lineapi.TalkError
	if !errors.As(err, &te) || te.Name != lineapi.ExceptionTalk {
		return false
	}
	return (te.Code >= 80 && te.Code <= 99) || errors.Is(err, lineapi.ErrNotAMember)
}

func keyChanged(err error) bool {
	return errors.Is(err, lineapi.ErrE2EEUpdateSenderKey) || errors.Is(err, lineapi.ErrE2EEUpdateReceiver) ||
		errors.Is(err, lineapi.ErrE2EERecreateGroupKey)
}

// seal runs the Letter Sealing probe (or takes it from the cache, unless
// fresh) and seals m where the chat needs it. It reports whether the probe
// came from the cache.
// c decides whether its kind is sealed (Sealable); a prepared media
// message's determineMediaMessageFlow answer also does: plain media is
// never probed or sealed, sealed media must be sealed.
func (s *Sender) seal(ctx context.Context, res *Result, m *lineapi.OutgoingMessage, c Content, fresh bool) (cached bool, err error) {
	to, flow := m.To, mediaFlowOf(c)
	if s.E2EE != E2EEOff && flow != lineapi.FlowPlain {
		var p *lineapi.Probe
		if p, cached, err = s.probe(ctx, to, fresh); err != nil {
			return false, err
		}
		allowed, refused := c.Sealable(p)
		switch {
		case flow == lineapi.FlowSealed && !p.Usable:
			return cached, fmt.Errorf("%w: LINE wants media sealed here, but the Letter Sealing probe found no key: %s", ErrNeedsE2EE, p.Reason)
		case p.Usable && !allowed && s.E2EE == E2EERequire:
			return cached, fmt.Errorf("%w: LINE does not allow content type %d to be sealed here (allowedTypes %v)", ErrSealingImpossible, m.ContentType, p.AllowedTypes)
		case p.Usable && !allowed:
			// The extension sends a type allowedTypes does not list plain
			// (encryptMessage); LINE answers 82 if it wants it sealed after all.
		case p.Usable && refused != nil:
			return cached, refused
		case p.Usable && s.Encrypter == nil:
			return cached, fmt.Errorf("%w, and this config has no Letter Sealing keys to send it (probe: spec version %d)", ErrNeedsE2EE, p.SpecVersion)
		case p.Usable:
			v, err := s.Encrypter.Seal(ctx, p, m)
			if err != nil {
				if lineapi.Temporary(err) || lineapi.IsSessionGone(err) {
					return cached, fmt.Errorf("Letter Sealing: %w", err)
				}
				return cached, fmt.Errorf("%w: cannot seal: %w", ErrNeedsE2EE, err)
			}
			res.E2EE, res.SpecVersion = true, v
		case s.E2EE == E2EERequire:
			return cached, fmt.Errorf("%w: %s", ErrSealingImpossible, p.Reason)
		}
	}
	return cached, nil
}

// probe is the Letter Sealing probe of to: from the cache unless fresh,
// else asked (and cached when cacheable). cached reports which.
func (s *Sender) probe(ctx context.Context, to string, fresh bool) (p *lineapi.Probe, cached bool, err error) {
	if s.Probes != nil && !fresh {
		if p, cached = s.Probes.Probe(to); cached {
			return p, true, nil
		}
	}
	if s.stopped() {
		return nil, false, ErrStopped
	}
	pctx, cancel := s.beforeWriting(ctx)
	defer cancel()
	if p, err = s.GW.ProbeE2EE(pctx, to); err != nil {
		return nil, false, s.stopErr(fmt.Errorf("Letter Sealing probe: %w", err))
	}
	if s.Probes != nil && cacheable(p) {
		s.Probes.SetProbe(to, p)
	}
	return p, false, nil
}

func (s *Sender) find(ctx context.Context, reqSeq int64) (string, error) {
	if s.Finder == nil {
		return "", errors.New("no operation stream to confirm with")
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		return "", err
	}
	wctx, cancel := context.WithTimeout(ctx, s.window())
	defer cancel()
	found, err := s.Finder.FindSends(wctx, rev, []int64{reqSeq})
	return found[reqSeq], err
}

func (s *Sender) window() time.Duration {
	if s.Window > 0 {
		return s.Window
	}
	return 15 * time.Second
}

// Confirm waits (bounded by ctx) for the SEND_MESSAGE operations of the
// given results and reports which were seen.
func (s *Sender) Confirm(ctx context.Context, results []*Result) (map[int64]string, error) {
	if s.Finder == nil {
		return nil, errors.New("no operation stream to confirm with")
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		return nil, err
	}
	seqs := make([]int64, 0, len(results))
	for _, r := range results {
		seqs = append(seqs, r.ReqSeq)
	}
	return s.Finder.FindSends(ctx, rev, seqs)
}

// OutcomeUnknown reports whether a failed send may nevertheless have been
// stored by LINE. The rule: once the request was written, only an answer
// that proves it was not processed (a TalkException or refusal envelope, a
// load balancer's 503, throttling) settles it. So unknown are: the
// connection failing after the request was written; a 2xx answer that is not
// a usable envelope (empty, not JSON, truncated, undecodable); a 5xx without
// an envelope other than a load balancer's 503 (500, 502, 504 pages); a
// 10052 RESPONSE_HTTP_ERROR whose upstream status is 5xx or missing; and
// 99999 UNKNOWN_ERROR.
func OutcomeUnknown(err error) bool {
	if lineapi.NotProcessed(err) {
		return false
	}
	var te *lineapi.TransportError
	if errors.As(err, &te) {
		return te.Written
	}
	var br *lineapi.BadResponseError
	if errors.As(err, &br) {
		return true
	}
	var ge *lineapi.GatewayError
	if errors.As(err, &ge) {
		switch ge.Code {
		case 0:
			return ge.HTTPStatus >= 500
		case lineapi.CodeResponseHTTPError:
			return ge.StatusCode >= 500 || ge.StatusCode == 0
		case lineapi.CodeUnknownError:
			return true
		}
	}
	return false
}

// stopped reports whether Stop is done.
func (s *Sender) stopped() bool { return s.Stop != nil && s.Stop.Err() != nil }

// beforeWriting is ctx, also ended by Stop: for the requests that come
// before a message is written (probes, media flow, a sealed object's upload).
func (s *Sender) beforeWriting(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Stop == nil {
		return ctx, func() {}
	}
	c, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(s.Stop, cancel)
	return c, func() { unhook(); cancel() }
}

// stopErr is ErrStopped (with what it cut short) when Stop ended a request
// made before writing, else err.
func (s *Sender) stopErr(err error) error {
	if err != nil && s.stopped() && errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w (%v)", ErrStopped, err)
	}
	return err
}
