package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/linectl/linectl/pkg/lineapi/delivery"
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

// newLimiter paces sends to perSecond (bursts of as many; 0 = no limit).
// A wait for it ends at the Sender's Stop (delivery).
func newLimiter(perSecond float64) delivery.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), int(max(perSecond, 1)))
}

// afterSignal is the context of what was already written when a signal
// ends ctx (the rule of delivery.Sender.Stop: finish what is written): not
// ended by the signal, but at most grace after it.
func afterSignal(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return c, func() { unhook(); cancel() }
}
