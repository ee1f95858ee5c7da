package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/internal/jsondepth"
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
	// Delay is how long the follower waits before the next connection
	// ("reconnect"; 0 = at once) and Attempt how many connections in a row
	// failed without progress (0 after a drop that followed progress).
	Delay   time.Duration
	Attempt int
}

// DefaultMaxAhead is how far past getLastOpRevision a revision may be before
// it is refused. Revisions grow by one per operation of the account; a
// million is months of a busy account's traffic within one connection.
const DefaultMaxAhead = 1 << 20

// DefaultStallTimeout is how long a connection may stay silent — not an
// operation, not even a ping — before it is given up as stalled and a new one
// is opened. LINE pings about every 20 s: three missed pings.
const DefaultStallTimeout = 60 * time.Second

// DefaultGiveUp is how long Run without Follow keeps trying to reach Until
// while no connection makes progress.
const DefaultGiveUp = 30 * time.Second

// Follower reads operations in revision order, exactly once each: an
// operation at or below the last revision handed out is dropped, so
// reconnects and replays never repeat one. A connection that dropped after
// handing out operations is reopened at once; failures without progress
// back off exponentially with jitter. A connection silent for StallTimeout
// (no event, not even a ping) is given up and reopened.
type Follower struct {
	Open Opener
	// From is the revision already handled; operations after it are read.
	From int64
	// Follow keeps reading until ctx ends. Otherwise Run reconnects until
	// the revision reaches Until, then returns once the stream ends or no
	// operation arrived for Wait.
	Follow bool
	Wait   time.Duration
	// Until is, without Follow, the revision to catch up to (LINE's newest
	// when the run started; 0 = none). Drops before it are reconnected; it
	// is also deemed reached when two fresh connections in a row have
	// nothing after the current revision for Wait (LINE's revisions may
	// skip numbers this account never sees).
	Until int64
	// UntilFunc, when set, gives Until instead: it is asked concurrently
	// with the first connection (one round trip fewer than asking first),
	// and Run waits for it only when it must decide whether it caught up.
	// Its error ends Run.
	UntilFunc func(ctx context.Context) (int64, error)
	// GiveUp bounds, without Follow, how long Run keeps reconnecting while
	// no connection makes progress toward Until (default DefaultGiveUp);
	// then it returns a *CatchUpError.
	GiveUp time.Duration
	// StallTimeout: a connection on which nothing at all arrives for this
	// long is closed and reopened (default DefaultStallTimeout; negative = never).
	StallTimeout time.Duration
	// OnOp is called for each new operation, in order. An error stops Run.
	// op is owned by the callee; raw is the event's bytes, valid only during
	// the call (the reader reuses its buffer: copy it to keep it).
	OnOp func(op *Operation, raw []byte) error
	// OnIdle is called with the newest revision whenever no more input is
	// buffered (flush output and save the revision here). An error stops Run.
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

// CatchUpError is Run without Follow giving up: no connection made progress
// for GiveUp while the revision was still short of Until.
type CatchUpError struct {
	At, Until int64
	For       time.Duration
	Err       error // the last failure
}

func (e *CatchUpError) Error() string {
	return fmt.Sprintf("stream: caught up to revision %d of %d only: no progress for %v: %v", e.At, e.Until, e.For.Round(time.Millisecond), e.Err)
}

func (e *CatchUpError) Unwrap() error { return e.Err }

var (
	errIdle    = errors.New("idle")
	errStalled = errors.New("stream stalled")
)

// Run reads until ctx ends (Follow) or the stream has nothing more.
func (f *Follower) Run(ctx context.Context) error {
	f.rev = f.From
	until := f.startUntil(ctx)
	failures := 0 // consecutive connections without progress that failed
	quiet := 0    // consecutive connections that idled with nothing new (without Follow)
	lastProgress := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		before, opened := f.rev, time.Now()
		connected, err := f.connect(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		progressed := f.rev > before
		if progressed {
			failures, quiet, lastProgress = 0, 0, time.Now()
		}
		switch {
		case errors.Is(err, errIdle), !f.Follow && err == io.EOF:
			// Nothing more for Wait, or the gateway ended the stream.
			if err := until(); err != nil {
				return err
			}
			if f.rev >= f.Until {
				return nil
			}
			if !progressed {
				if quiet++; quiet >= 2 {
					return nil // fresh connections have nothing more: the rest of the revisions are not ours
				}
			}
			continue
		case errors.Is(err, errReconnectNow):
			continue
		case errors.Is(err, errStalled), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		case err != nil && !retryable(err):
			return err
		}
		if progressed {
			f.notice(Notice{Event: "reconnect", Detail: fmt.Sprint(err)})
			continue
		}
		if connected && time.Since(opened) >= f.stallTimeout() && f.stallTimeout() > 0 {
			failures = 0 // a connection that lived this long was healthy: start the backoff over
		}
		failures++
		d := f.delay(failures)
		if !f.Follow {
			giveUp := f.GiveUp
			if giveUp <= 0 {
				giveUp = DefaultGiveUp
			}
			left := giveUp - time.Since(lastProgress)
			if left <= 0 {
				if uerr := until(); uerr != nil {
					return uerr
				}
				return &CatchUpError{At: f.rev, Until: f.Until, For: time.Since(lastProgress), Err: err}
			}
			d = min(d, left)
		}
		f.notice(Notice{Event: "reconnect", Detail: fmt.Sprint(err), Delay: d, Attempt: failures})
		if err := f.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// startUntil starts UntilFunc, if set, and returns what waits for it (and
// sets Until); without UntilFunc the wait is nothing.
func (f *Follower) startUntil(ctx context.Context) func() error {
	if f.UntilFunc == nil {
		return func() error { return nil }
	}
	done := make(chan struct{})
	var rev int64
	var err error
	go func() {
		defer close(done)
		rev, err = f.UntilFunc(ctx)
	}()
	return func() error {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err == nil {
			f.Until = rev
		}
		return err
	}
}

// connect opens one connection and reads it. A stall watchdog runs while
// the connection is opening and while it waits for the network (not while
// the caller handles an operation): if it fires, the connection is closed
// and errStalled returned. connected reports whether the stream opened.
func (f *Follower) connect(ctx context.Context) (connected bool, err error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	d := f.stallTimeout()
	var dog *time.Timer
	if d > 0 {
		dog = time.AfterFunc(d, func() { stalled.Store(true); cancel() })
		defer dog.Stop()
	}
	isStalled := func() bool { return stalled.Load() && ctx.Err() == nil }
	body, err := f.Open.OpenOperationStream(cctx, f.rev)
	if err != nil {
		if isStalled() {
			return false, fmt.Errorf("%w: no answer for %v", errStalled, d)
		}
		return false, err
	}
	defer body.Close()
	var src io.Reader = body
	if dog != nil {
		dog.Stop()
		src = &watchedReader{r: body, dog: dog, d: d}
	}
	_, err = f.read(cctx, body, src, isStalled)
	if errors.Is(err, errStalled) {
		err = fmt.Errorf("%w: nothing received for %v, not even a ping", errStalled, d)
	}
	return true, err
}

// watchedReader arms the stall watchdog only while a Read waits for the network.
type watchedReader struct {
	r   io.Reader
	dog *time.Timer
	d   time.Duration
}

func (w *watchedReader) Read(p []byte) (int, error) {
	w.dog.Reset(w.d)
	n, err := w.r.Read(p)
	w.dog.Stop()
	return n, err
}

func (f *Follower) stallTimeout() time.Duration {
	switch {
	case f.StallTimeout < 0:
		return 0
	case f.StallTimeout == 0:
		return DefaultStallTimeout
	}
	return f.StallTimeout
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
	return lineapi.Backoff{Base: base, Max: 10 * time.Minute, Jitter: true}.Delay(failures)
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

// read consumes one connection (src reads body). got reports whether any event arrived.
func (f *Follower) read(ctx context.Context, body io.Closer, src io.Reader, stalled func() bool) (got bool, err error) {
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
	r := NewReader(src)
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
			if stalled() {
				return got, errStalled
			}
			return got, err
		}
		got = true
		switch ev.Name {
		case "message":
			op, perr := ParseOperation(ev.Data)
			if f.badEvent(ev, perr) {
				break
			}
			if op.Revision > f.rev {
				if refused, cerr := f.refused(ctx, op.Revision, "operation at"); cerr != nil {
					return got, cerr
				} else if refused {
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
			fs, perr := parseFullSync(ev.Data)
			if f.badEvent(ev, perr) {
				break
			}
			if fs.NextRevision > f.rev {
				if refused, cerr := f.refused(ctx, fs.NextRevision, "fullSync to"); cerr != nil {
					return got, cerr
				} else if refused {
					// Keep reading this connection: reconnecting would only replay the same fullSync.
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
			te, perr := parseTalkException(ev.Data)
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
			if !jsondepth.Within(ev.Data, MaxDepth) {
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
// badEvent reports (and notices) an event that did not parse: one nested
// too deep is skipped, another is bad data.
func (f *Follower) badEvent(ev Event, err error) bool {
	switch {
	case errors.Is(err, ErrTooDeep):
		f.notice(skipped(ev.Name, eventRevision(ev), fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth)))
	case err != nil:
		f.notice(Notice{Event: "badData", Detail: err.Error()})
	default:
		return false
	}
	return true
}

// refused reports (and notices) a revision from the stream that is
// implausibly far past LINE's newest; what names the event ("operation at").
func (f *Follower) refused(ctx context.Context, rev int64, what string) (bool, error) {
	ok, err := f.plausible(ctx, rev)
	if err != nil || ok {
		return false, err
	}
	f.notice(Notice{Event: "revisionRefused", Revision: rev, Detail: fmt.Sprintf(
		"%s revision %d is implausibly far past LINE's newest revision %d: refused, position kept at %d",
		what, rev, max(f.ceiling, f.rev), f.rev)})
	return true, nil
}

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
