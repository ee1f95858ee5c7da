package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// A send run's results: one line per input line, the worst exit code, and
// finishing the request in flight when a signal comes.

// interruptedConfirmWait bounds the --confirm search after a signal.
const interruptedConfirmWait = 2 * time.Second

// batch collects the outcomes of a send's destinations or --jsonl lines.
type batch struct {
	out       *printer
	progress  func(format string, a ...any)
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
		c.code, c.kind = ExitUnknown, kindOutcomeUnknown // even if a cancelled call is part of the story
	}
	fl := failedLine{Type: "failed", To: j.to, Line: j.line, ExitCode: c.code, Kind: c.kind, Code: c.talk, Reason: c.reason, Message: err.Error()}
	if r != nil {
		tt := int(r.ToType)
		fl.ToType, fl.ReqSeq = &tt, r.ReqSeq
		if errors.Is(err, delivery.ErrUploadFailed) {
			fl.MessageID = r.MessageID
		}
	}
	switch {
	case c.code == ExitUsage:
		if b.refused == nil {
			b.refused = err
		}
	case b.worstErr == nil || rank(c.code) > rank(b.worst.code):
		b.worst, b.worstErr = c, sendWords(j.to, err)
	}
	return b.out.line(fl)
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
		if err := printSent(b.out, r, &ok); err != nil {
			return err
		}
	}
	if missing > 0 && (b.worstErr == nil || rank(ExitUnknown) > rank(b.worst.code)) {
		b.worst = classified{code: ExitUnknown}
		b.worstErr = withExit(ExitUnknown, kindUnconfirmed, fmt.Errorf("%d message(s) accepted by LINE but not seen on the operation stream within %s", missing, timeout))
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
		b.progress("linectl: warning: some input was refused and not sent (see the \"failed\" lines); the other messages were sent")
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

func (g *interruptibleGateway) DetermineMediaMessageFlow(ctx context.Context, chat string) (*lineapi.MediaFlow, error) {
	mg, ok := g.Gateway.(delivery.MediaGateway)
	if !ok {
		return nil, errors.New("this gateway client cannot send media")
	}
	ctx, cancel := mergeCancel(ctx, g.stop)
	defer cancel()
	return mg.DetermineMediaMessageFlow(ctx, chat)
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

// interruptibleUploader stops, at a signal, an upload that comes before its
// message is sent (a Letter-Sealed object, under /r/talk/em…): nothing has
// been sent, so the run ends at once. The upload of a plain message's object
// (/r/talk/m/<id>) comes after the message went out and goes on within the
// run's grace, as the send in flight does.
type interruptibleUploader struct {
	delivery.Uploader
	stop context.Context
}

func (u interruptibleUploader) Upload(ctx context.Context, path string, p obs.Params, src obs.Source) (string, error) {
	if strings.HasPrefix(path, "/r/talk/em") {
		var cancel context.CancelFunc
		ctx, cancel = mergeCancel(ctx, u.stop)
		defer cancel()
	}
	return u.Uploader.Upload(ctx, path, p, src)
}

// mergeCancel returns ctx, also cancelled when stop is.
func mergeCancel(ctx, stop context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(stop, cancel)
	return c, func() { unhook(); cancel() }
}

func printSent(out *printer, r *delivery.Result, confirmed *bool) error {
	l := sentLine{Type: "sent", To: r.To, ToType: int(r.ToType), MessageID: r.MessageID, ReqSeq: r.ReqSeq,
		E2EE: r.E2EE, SpecVersion: r.SpecVersion, ContentType: r.ContentType, Confirmed: confirmed,
		FileName: r.FileName, FileSize: r.FileSize, Object: r.Object, ReplyTo: r.ReplyTo, Mentions: mentionList(r.Mention)}
	if r.CreatedTime != 0 {
		l.CreatedTime = fmt.Sprint(r.CreatedTime)
	}
	if r.Resolved {
		t := true
		l.Confirmed = &t
	}
	return out.line(l)
}

// newLimiter paces sends to perSecond (bursts of as many; 0 = no limit);
// when stop ends (a signal), a wait for the limiter ends too.
func newLimiter(perSecond float64, stop context.Context) delivery.Limiter {
	if perSecond <= 0 {
		return nil
	}
	l := rate.NewLimiter(rate.Limit(perSecond), int(max(perSecond, 1)))
	if stop == nil {
		return l
	}
	return stoppableLimiter{l, stop}
}

type stoppableLimiter struct {
	*rate.Limiter
	stop context.Context
}

func (l stoppableLimiter) Wait(ctx context.Context) error {
	ctx, cancel := mergeCancel(ctx, l.stop)
	defer cancel()
	return l.Limiter.Wait(ctx)
}
