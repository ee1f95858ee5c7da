package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Opener opens the operation stream after a revision (lineapi.Client does).
type Opener interface {
	OpenOperationStream(ctx context.Context, localRev int64) (io.ReadCloser, error)
}

// Notice is something the follower tells the user about without stopping:
// a fullSync jump, a partialFullSync, bad data skipped, a reconnect.
// Detail may quote the gateway: escape it before showing it on a terminal.
type Notice struct {
	// "fullSync", "partialFullSync", "badData", "reconnect", "talkException",
	// "skipped" (one event over the size or nesting bound), "revisionRefused"
	// (a revision implausibly far past LINE's newest).
	Event        string
	Detail       string
	NextRevision int64 // fullSync
	Revision     int64 // skipped, revisionRefused: the revision concerned (0 = unknown)
}

// DefaultMaxAhead is how far past getLastOpRevision a revision may be before
// it is refused. Revisions grow by one per operation of the account; a
// million is months of a busy account's traffic within one connection.
const DefaultMaxAhead = 1 << 20

// Follower reads operations in revision order, exactly once each: an
// operation at or below the last revision handed out is dropped, so
// reconnects and replays never repeat one. It reconnects with exponential
// backoff and jitter on drops, EOF, `reconnect` events and 5xx.
type Follower struct {
	Open Opener
	// From is the revision already handled; operations after it are read.
	From int64
	// Follow keeps reading until ctx ends. Otherwise Run returns once the
	// stream ends or no operation arrived for Wait.
	Follow bool
	Wait   time.Duration
	// OnOp is called for each new operation, in order. An error stops Run.
	OnOp func(op *Operation, raw []byte) error
	// OnIdle is called with the newest revision whenever no more input is
	// buffered (flush output and save the revision here).
	OnIdle func(rev int64) error
	// OnNotice reports notices (optional).
	OnNotice func(Notice)
	// OnAuthExpired renews the token after a talkException 119 on the stream (optional).
	OnAuthExpired func(ctx context.Context) error
	// Backoff is the first reconnect delay (default 1s); it doubles up to 10 minutes.
	Backoff time.Duration
	Sleep   func(context.Context, time.Duration) error
	// Latest returns LINE's newest revision (getLastOpRevision). When set,
	// revisions are untrusted: an operation or fullSync more than MaxAhead
	// past it is refused (reported, never handed out, never saved).
	Latest func(ctx context.Context) (int64, error)
	// MaxAhead is the margin for Latest (default DefaultMaxAhead).
	MaxAhead int64

	rev       int64
	ceiling   int64     // newest revision Latest reported
	checkedAt time.Time // when Latest was last asked
}

// Revision returns the newest revision handled.
func (f *Follower) Revision() int64 { return f.rev }

var errIdle = errors.New("idle")

// Run reads until ctx ends (Follow) or the stream has nothing more.
func (f *Follower) Run(ctx context.Context) error {
	f.rev = f.From
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		body, err := f.Open.OpenOperationStream(ctx, f.rev)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !retryable(err) || (!f.Follow && failures >= 3) {
				return err
			}
			failures++
			if err := f.sleep(ctx, f.delay(failures)); err != nil {
				return err
			}
			continue
		}
		got, err := f.read(ctx, body)
		body.Close()
		if got {
			failures = 0
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errIdle):
			return nil
		case err == errReconnectNow:
			continue
		case err == io.EOF && !f.Follow:
			return nil
		case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !retryable(err):
			return err
		}
		failures++
		f.notice(Notice{Event: "reconnect", Detail: fmt.Sprint(err)})
		if err := f.sleep(ctx, f.delay(failures)); err != nil {
			return err
		}
	}
}

var errReconnectNow = errors.New("reconnect requested")

func retryable(err error) bool {
	if lineapi.IsSessionGone(err) || errors.Is(err, lineapi.ErrNotLoggedIn) || errors.Is(err, lineapi.ErrNeedLogin) {
		return false
	}
	var te *lineapi.TransportError
	var ge *lineapi.GatewayError
	return errors.As(err, &te) || (errors.As(err, &ge) && ge.HTTPStatus >= 500) || lineapi.Temporary(err)
}

func (f *Follower) delay(failures int) time.Duration {
	base := f.Backoff
	if base <= 0 {
		base = time.Second
	}
	d := base << min(failures-1, 20)
	if d > 10*time.Minute || d <= 0 {
		d = 10 * time.Minute
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (f *Follower) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	return lineapi.SleepContext(ctx, d)
}

func (f *Follower) notice(n Notice) {
	if f.OnNotice != nil {
		f.OnNotice(n)
	}
}

// read consumes one connection. got reports whether any event arrived.
func (f *Follower) read(ctx context.Context, body io.ReadCloser) (got bool, err error) {
	var idle *time.Timer
	var idleMu sync.Mutex
	idled := false
	if !f.Follow {
		wait := f.Wait
		if wait <= 0 {
			wait = 2 * time.Second
		}
		idle = time.AfterFunc(wait, func() { idleMu.Lock(); idled = true; idleMu.Unlock(); body.Close() })
		defer idle.Stop()
	}
	stop := context.AfterFunc(ctx, func() { body.Close() })
	defer stop()
	r := NewReader(body)
	dirty := false
	for {
		ev, err := r.Next()
		var tl *TooLargeError
		if errors.As(err, &tl) {
			got = true
			f.notice(skipped(tl.Name, eventRevision(Event{ID: tl.ID, OwnID: tl.ID != ""}),
				fmt.Sprintf("%d bytes, over the %d-byte bound", tl.Bytes, tl.Limit)))
			continue
		}
		if err != nil {
			idleMu.Lock()
			wasIdle := idled
			idleMu.Unlock()
			if dirty {
				if ierr := f.idle(); ierr != nil {
					return got, ierr
				}
			}
			if wasIdle {
				return got, errIdle
			}
			return got, err
		}
		got = true
		switch ev.Name {
		case "message":
			op, perr := ParseOperation(ev.Data)
			if errors.Is(perr, ErrTooDeep) {
				f.notice(skipped(ev.Name, eventRevision(ev), fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth)))
				break
			}
			if perr != nil {
				f.notice(Notice{Event: "badData", Detail: perr.Error()})
				break
			}
			if op.Revision > f.rev {
				ok, cerr := f.plausible(ctx, op.Revision)
				if cerr != nil {
					return got, cerr
				}
				if !ok {
					f.notice(Notice{Event: "revisionRefused", Revision: op.Revision, Detail: fmt.Sprintf(
						"operation at revision %d is implausibly far past LINE's newest revision %d: refused, position kept at %d",
						op.Revision, max(f.ceiling, f.rev), f.rev)})
					break
				}
			}
			if op.Revision <= f.rev {
				if op.Revision < f.rev {
					f.notice(Notice{Event: "badData", Detail: fmt.Sprintf("revision %d at or below %d skipped", op.Revision, f.rev)})
				}
				break
			}
			if err := f.OnOp(&op, ev.Data); err != nil {
				return got, err
			}
			f.rev = op.Revision
			dirty = true
			if idle != nil {
				idle.Reset(f.waitOrDefault())
			}
		case "fullSync":
			fs, perr := ParseFullSync(ev.Data)
			if errors.Is(perr, ErrTooDeep) {
				f.notice(skipped(ev.Name, eventRevision(ev), fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth)))
				break
			}
			if perr != nil {
				f.notice(Notice{Event: "badData", Detail: perr.Error()})
				break
			}
			if fs.NextRevision > f.rev {
				ok, cerr := f.plausible(ctx, fs.NextRevision)
				if cerr != nil {
					return got, cerr
				}
				if !ok {
					// Keep reading this connection: reconnecting would only replay the same fullSync.
					f.notice(Notice{Event: "revisionRefused", Revision: fs.NextRevision, Detail: fmt.Sprintf(
						"fullSync to revision %d is implausibly far past LINE's newest revision %d: refused, position kept at %d",
						fs.NextRevision, max(f.ceiling, f.rev), f.rev)})
					break
				}
				f.rev = fs.NextRevision
			}
			f.notice(Notice{Event: "fullSync", NextRevision: fs.NextRevision, Detail: fmt.Sprintf("reasons %v", fs.Reasons)})
			if err := f.idle(); err != nil {
				return got, err
			}
			return got, errReconnectNow
		case "reconnect":
			if dirty {
				if err := f.idle(); err != nil {
					return got, err
				}
			}
			return got, errReconnectNow
		case "talkException":
			te, perr := ParseTalkException(ev.Data)
			if perr != nil {
				f.notice(Notice{Event: "badData", Detail: perr.Error()})
				break
			}
			terr := &lineapi.TalkError{Name: lineapi.ExceptionTalk, Code: te.Code, Reason: te.Reason}
			if lineapi.IsSessionGone(terr) {
				return got, terr
			}
			if terr.Is(lineapi.ErrMustRefreshToken) && f.OnAuthExpired != nil {
				if err := f.OnAuthExpired(ctx); err != nil {
					return got, err
				}
				return got, errReconnectNow
			}
			f.notice(Notice{Event: "talkException", Detail: terr.Error()})
		case "partialFullSync":
			if !nestingOK(ev.Data, MaxDepth) {
				f.notice(skipped(ev.Name, eventRevision(ev), fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth)))
				break
			}
			f.notice(Notice{Event: "partialFullSync", Detail: clip(ev.Data, 512)})
		case "ping", "connInfoRevision", "":
		default:
			f.notice(Notice{Event: "badData", Detail: fmt.Sprintf("unknown event %q skipped", ev.Name)})
		}
		if dirty && r.Buffered() == 0 {
			if err := f.idle(); err != nil {
				return got, err
			}
			dirty = false
		}
	}
}

// plausible reports whether rev is within MaxAhead of the newest revision
// LINE confirmed (or of the revision already handled). Past it, Latest is
// asked again (at most once a second) before the revision is refused. An
// error from Latest is returned: the caller reconnects and tries again
// rather than refuse, and so lose, an operation it could not check.
func (f *Follower) plausible(ctx context.Context, rev int64) (bool, error) {
	if f.Latest == nil {
		return true, nil
	}
	margin := f.MaxAhead
	if margin <= 0 {
		margin = DefaultMaxAhead
	}
	within := func() bool {
		base := max(f.ceiling, f.rev)
		return base > math.MaxInt64-margin || rev <= base+margin
	}
	if within() {
		return true, nil
	}
	if !f.checkedAt.IsZero() && time.Since(f.checkedAt) < time.Second {
		return false, nil
	}
	latest, err := f.Latest(ctx)
	f.checkedAt = time.Now()
	if err != nil {
		return false, fmt.Errorf("check revision %d against getLastOpRevision: %w", rev, err)
	}
	// A ceiling this far out would disable the check; Latest is as untrusted as the stream.
	if latest > f.ceiling && latest < math.MaxInt64/2 {
		f.ceiling = latest
	}
	return within(), nil
}

// eventRevision is the revision an event's own id names, 0 if none.
func eventRevision(ev Event) int64 {
	if !ev.OwnID {
		return 0
	}
	n, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func (f *Follower) waitOrDefault() time.Duration {
	if f.Wait > 0 {
		return f.Wait
	}
	return 2 * time.Second
}

func (f *Follower) idle() error {
	if f.OnIdle == nil {
		return nil
	}
	return f.OnIdle(f.rev)
}

// clip returns at most n bytes of b as a string, marked when cut.
func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…(" + strconv.Itoa(len(b)) + " bytes)"
}

// skipped is the notice for one event dropped by a bound.
func skipped(name string, rev int64, why string) Notice {
	if name == "" {
		name = "message"
	}
	d := fmt.Sprintf("%s event skipped: %s", name, why)
	if rev > 0 {
		d = fmt.Sprintf("%s event (id %d) skipped: %s", name, rev, why)
	}
	return Notice{Event: "skipped", Revision: rev, Detail: d}
}

// FindSends follows the stream from rev until every reqSeq's SEND_MESSAGE
// operation was seen or ctx ends; it returns reqSeq → message id of those seen.
func FindSends(ctx context.Context, open Opener, rev int64, reqSeqs []int64) (map[int64]string, error) {
	want := map[int64]bool{}
	for _, s := range reqSeqs {
		want[s] = true
	}
	found := map[int64]string{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &Follower{Open: open, From: rev, Follow: true, Backoff: 200 * time.Millisecond,
		OnOp: func(op *Operation, _ []byte) error {
			if op.Type == OpSendMessage && want[op.ReqSeq] {
				found[op.ReqSeq] = op.Message.Get("id").String()
				if len(found) == len(want) {
					cancel()
				}
			}
			return nil
		}}
	if l, ok := open.(interface {
		GetLastOpRevision(context.Context) (int64, error)
	}); ok {
		f.Latest = l.GetLastOpRevision
	}
	err := f.Run(ctx)
	if len(found) == len(want) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return found, nil
	}
	return found, err
}
