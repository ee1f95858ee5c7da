package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// conn is one scripted connection: an error from opening, or a body that
// carries events and then ends as end says.
type conn struct {
	openErr   error
	openStall bool   // opening never answers (until ctx ends)
	events    string // SSE text
	end       error  // after events: nil = block until closed (an open, silent connection); io.EOF = clean end; else cut
}

type scriptOpener struct {
	mu    sync.Mutex
	conns []conn
	revs  []int64 // localRev of each open
	rest  conn    // used when the script is exhausted
}

func (o *scriptOpener) OpenOperationStream(ctx context.Context, rev int64) (io.ReadCloser, error) {
	o.mu.Lock()
	o.revs = append(o.revs, rev)
	c := o.rest
	if len(o.conns) > 0 {
		c, o.conns = o.conns[0], o.conns[1:]
	}
	o.mu.Unlock()
	if c.openStall {
		<-ctx.Done()
		return nil, &lineapi.TransportError{Method: "receive", Written: true, Err: ctx.Err()}
	}
	if c.openErr != nil {
		return nil, c.openErr
	}
	var tail io.Reader
	switch c.end {
	case nil:
		pr, _ := io.Pipe() // never written: reads block until the body is closed
		tail = pr
		return &pipeBody{Reader: io.MultiReader(strings.NewReader(c.events), pr), pr: pr}, nil
	case io.EOF:
		tail = strings.NewReader("")
	default:
		tail = iotest.ErrReader(c.end)
	}
	return io.NopCloser(io.MultiReader(strings.NewReader(c.events), tail)), nil
}

type pipeBody struct {
	io.Reader
	pr *io.PipeReader
}

func (b *pipeBody) Close() error { return b.pr.Close() }

func ops(from, to int64) string {
	var sb strings.Builder
	for r := from; r <= to; r++ {
		fmt.Fprintf(&sb, "id: %d\ndata: {\"revision\":\"%d\",\"type\":26}\n\n", r, r)
	}
	return sb.String()
}

var errCut = io.ErrUnexpectedEOF

// recorder collects what a Follower hands out.
type recorder struct {
	mu      sync.Mutex
	revs    []int64
	notices []Notice
	sleeps  []time.Duration
}

func (r *recorder) follower(o Opener, from int64) *Follower {
	return &Follower{Open: o, From: from, Backoff: 10 * time.Millisecond,
		OnOp: func(op *Operation, _ []byte) error {
			r.mu.Lock()
			r.revs = append(r.revs, op.Revision)
			r.mu.Unlock()
			return nil
		},
		OnNotice: func(n Notice) { r.mu.Lock(); r.notices = append(r.notices, n); r.mu.Unlock() },
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			r.sleeps = append(r.sleeps, d)
			r.mu.Unlock()
			return lineapi.SleepContext(ctx, d)
		},
	}
}

func (r *recorder) wantRevs(t *testing.T, from, to int64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.revs) != int(to-from+1) {
		t.Fatalf("revisions %v, want %d..%d", r.revs, from, to)
	}
	for i, rev := range r.revs {
		if rev != from+int64(i) {
			t.Fatalf("revisions %v, want %d..%d once each in order", r.revs, from, to)
		}
	}
}

// stopAt cancels ctx once revision rev was handed out.
func stopAt(f *Follower, rev int64, cancel context.CancelFunc) {
	on := f.OnOp
	f.OnOp = func(op *Operation, raw []byte) error {
		err := on(op, raw)
		if op.Revision >= rev {
			cancel()
		}
		return err
	}
}

func TestStalledConnectionIsLeftAndReopened(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first conn
	}{
		{"silent after opening", conn{events: ops(101, 102)}},
		{"opening never answers", conn{openStall: true}},
		{"headers then nothing", conn{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &scriptOpener{conns: []conn{tc.first, {events: ops(101, 105)}}}
			rec := &recorder{}
			f := rec.follower(o, 100)
			f.Follow, f.StallTimeout = true, 100*time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			stopAt(f, 105, cancel)
			start := time.Now()
			if err := f.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("took %v to leave a stalled connection (bound 100ms)", el)
			}
			rec.wantRevs(t, 101, 105)
			if len(rec.notices) == 0 || !strings.Contains(rec.notices[0].Detail, "stalled") {
				t.Fatalf("notices %+v, want a stalled reconnect", rec.notices)
			}
		})
	}
}

func TestSlowConsumerIsNotAStall(t *testing.T) {
	// The watchdog measures the network's silence, not time spent in OnOp.
	o := &scriptOpener{conns: []conn{{events: ops(101, 103)}}}
	rec := &recorder{}
	f := rec.follower(o, 100)
	f.Follow, f.StallTimeout = true, 50*time.Millisecond
	on := f.OnOp
	f.OnOp = func(op *Operation, raw []byte) error { time.Sleep(80 * time.Millisecond); return on(op, raw) }
	ctx, cancel := context.WithCancel(context.Background())
	stopAt(f, 103, cancel)
	_ = f.Run(ctx)
	rec.wantRevs(t, 101, 103)
	if len(o.revs) != 1 {
		t.Fatalf("%d connections, want 1 (a slow consumer is not a stalled stream)", len(o.revs))
	}
}

func TestDropsAfterProgressReconnectAtOnce(t *testing.T) {
	o := &scriptOpener{}
	for r := int64(101); r <= 130; r += 3 {
		o.conns = append(o.conns, conn{events: ops(r, r+2), end: errCut})
	}
	o.rest = conn{}
	rec := &recorder{}
	f := rec.follower(o, 100)
	f.Follow, f.Backoff = true, time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopAt(f, 130, cancel)
	start := time.Now()
	_ = f.Run(ctx)
	rec.wantRevs(t, 101, 130)
	if len(rec.sleeps) != 0 || time.Since(start) > time.Second {
		t.Fatalf("slept %v (%v in all): a drop after progress must reconnect at once", rec.sleeps, time.Since(start))
	}
	for i, rev := range o.revs {
		if want := int64(100 + 3*i); rev != want {
			t.Fatalf("connection %d opened at %d, want %d", i, rev, want)
		}
	}
}

func TestBackoffGrowsOnlyWithoutProgress(t *testing.T) {
	down := conn{openErr: &lineapi.TransportError{Method: "receive", Err: errors.New("connection refused")}}
	o := &scriptOpener{conns: []conn{down, down, down, {events: ops(101, 101), end: errCut}, down, {events: ops(102, 102)}}}
	rec := &recorder{}
	f := rec.follower(o, 100)
	f.Follow, f.Backoff = true, 8*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopAt(f, 102, cancel)
	_ = f.Run(ctx)
	rec.wantRevs(t, 101, 102)
	// Three failures in a row: 8ms, 16ms, 32ms (each halved at worst by jitter);
	// then progress, an immediate reconnect, and the backoff starts over.
	if len(rec.sleeps) != 4 {
		t.Fatalf("sleeps %v", rec.sleeps)
	}
	for i, want := range []time.Duration{8, 16, 32, 8} {
		want *= time.Millisecond
		if d := rec.sleeps[i]; d < want/2 || d > want {
			t.Fatalf("sleep %d = %v, want within [%v, %v] (all %v)", i, d, want/2, want, rec.sleeps)
		}
	}
	// Every failure is reported with its delay and attempt.
	var got []string
	for _, n := range rec.notices {
		got = append(got, fmt.Sprintf("%d:%v", n.Attempt, n.Delay > 0))
	}
	if s := strings.Join(got, " "); s != "1:true 2:true 3:true 0:false 1:true" {
		t.Fatalf("notices %s", s)
	}
}

func TestCatchUpThroughDrops(t *testing.T) {
	o := &scriptOpener{conns: []conn{
		{events: ops(101, 103), end: errCut},
		{events: ops(104, 106), end: io.EOF}, // a clean end before the target is a drop too
		{events: ops(107, 108), end: errCut},
	}, rest: conn{events: ops(109, 110)}}
	rec := &recorder{}
	f := rec.follower(o, 100)
	f.Until, f.Wait = 110, 50*time.Millisecond
	if err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.wantRevs(t, 101, 110)
}

func TestCatchUpEndsWhenRevisionsAreNotOurs(t *testing.T) {
	// LINE's newest revision may never appear on this account's stream: two
	// fresh connections with nothing new end the run.
	o := &scriptOpener{conns: []conn{{events: ops(101, 103)}}, rest: conn{}}
	rec := &recorder{}
	f := rec.follower(o, 100)
	f.Until, f.Wait = 200, 50*time.Millisecond
	start := time.Now()
	if err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.wantRevs(t, 101, 103)
	if el := time.Since(start); el > time.Second || len(o.revs) != 3 {
		t.Fatalf("%d connections in %v", len(o.revs), el)
	}
}

func TestCatchUpGivesUp(t *testing.T) {
	down := conn{openErr: &lineapi.TransportError{Method: "receive", Err: errors.New("connection refused")}}
	o := &scriptOpener{conns: []conn{{events: ops(101, 102), end: errCut}}, rest: down}
	rec := &recorder{}
	f := rec.follower(o, 100)
	f.Until, f.Wait, f.GiveUp = 110, 50*time.Millisecond, 200*time.Millisecond
	start := time.Now()
	err := f.Run(context.Background())
	var cu *CatchUpError
	if !errors.As(err, &cu) || cu.At != 102 || cu.Until != 110 {
		t.Fatalf("err %v, want CatchUpError at 102 of 110", err)
	}
	var te *lineapi.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err %v does not carry the transport error", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond || el > 2*time.Second {
		t.Fatalf("gave up after %v, bound 200ms", el)
	}
	rec.wantRevs(t, 101, 102)
}

func TestWithoutTargetCleanEndStops(t *testing.T) {
	o := &scriptOpener{conns: []conn{{events: ops(101, 102), end: io.EOF}}}
	rec := &recorder{}
	f := rec.follower(o, 100)
	if err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.wantRevs(t, 101, 102)
	if len(o.revs) != 1 {
		t.Fatalf("%d connections", len(o.revs))
	}
}

// UntilFunc is asked beside the first connection and decides the catch-up
// as Until does; its error ends the run.
func TestCatchUpUntilFunc(t *testing.T) {
	o := &scriptOpener{conns: []conn{
		{events: ops(101, 103), end: errCut},
		{events: ops(104, 108), end: io.EOF},
	}, rest: conn{events: ops(109, 110)}}
	rec := &recorder{}
	f := rec.follower(o, 100)
	asked := make(chan struct{})
	f.Wait = 50 * time.Millisecond
	f.UntilFunc = func(context.Context) (int64, error) { close(asked); return 110, nil }
	if err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-asked
	rec.wantRevs(t, 101, 110)

	o = &scriptOpener{conns: []conn{{events: ops(101, 102)}}, rest: conn{}}
	f = (&recorder{}).follower(o, 100)
	f.Wait = 50 * time.Millisecond
	boom := errors.New("getLastOpRevision failed")
	f.UntilFunc = func(context.Context) (int64, error) { return 0, boom }
	if err := f.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}
