package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// checkSavedRevision refuses a saved position more than
// stream.DefaultMaxAhead past LINE's newest revision (the bound the stream's
// revisions get): from it, every operation would be dropped as old.
func checkSavedRevision(file string, rev, latest int64) error {
	if rev <= latest || rev-latest <= stream.DefaultMaxAhead {
		return nil
	}
	return withExit(ExitUsage, kindConfig, fmt.Errorf("%s holds revision %d, more than %d past LINE's newest (%d): %s",
		file, rev, stream.DefaultMaxAhead, latest, state.ResetHint(file)))
}

// positionStore is where receive keeps its position, and its one-reader
// lock (state.Position beside the config; memory in tests).
type positionStore interface {
	Load(mid string) (rev int64, saved bool, err error)
	Save(mid string, rev int64) error
	Lock() (unlock func(), err error)
	Name() string // what errors name: the file
}

// filePosition is the factory's state.Position.
type filePosition struct{ f *factory }

func (p filePosition) pos() (*state.Position, error) {
	st, err := p.f.State()
	if err != nil {
		return nil, err
	}
	return st.Position(), nil
}

func (p filePosition) Load(mid string) (int64, bool, error) {
	pos, err := p.pos()
	if err != nil {
		return 0, false, err
	}
	return pos.Load(mid)
}

func (p filePosition) Save(mid string, rev int64) error {
	pos, err := p.pos()
	if err != nil {
		return err
	}
	return pos.Save(mid, rev)
}

func (p filePosition) Name() string {
	pos, err := p.pos()
	if err != nil {
		return state.FileReceiveState
	}
	return pos.Name()
}

// Lock makes sure only one receive runs per config.
func (p filePosition) Lock() (func(), error) {
	pos, err := p.pos()
	if err != nil {
		return nil, err
	}
	unlock, err := pos.Lock()
	if errors.Is(err, state.ErrLocked) {
		return nil, withExit(ExitTemporary, kindAlreadyRunning, errors.New("another 'linectl receive' is already running with this config; only one may read the stream at a time"))
	}
	return unlock, err
}

// positionSaver owns receive's stdout and its saved position. A revision is
// saved only after its line is flushed, and a flushed line's revision is
// always saved soon after: at once when the stream pauses (no event
// buffered), at most every interval while a burst streams (a timer then
// saves the end of the burst even if nothing else arrives). A failed save
// (full or read-only disk) is reported on stderr and retried every retry
// and at every later pause; it never stops the stream.
type positionSaver struct {
	mu       sync.Mutex
	out      *bufio.Writer
	save     func(rev int64) error
	warn     func(format string, a ...any)
	interval time.Duration // at most one save per interval while busy
	retry    time.Duration // after a failed save

	flushed  int64 // newest revision whose line is flushed
	saved    int64 // newest revision saved
	lastTry  time.Time
	failing  error // the last save failed
	lastWarn time.Time
	timer    *time.Timer
	armed    bool
	closed   bool
}

func newPositionSaver(out *bufio.Writer, from int64, save func(int64) error, warn func(string, ...any)) *positionSaver {
	return &positionSaver{out: out, save: save, warn: warn, interval: 250 * time.Millisecond, retry: time.Second,
		flushed: from, saved: from}
}

// write writes one line (flushed later, at the next pause).
func (p *positionSaver) write(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.out.Write(b)
	return err
}

// writeFlush writes one line and flushes it (notices).
func (p *positionSaver) writeFlush(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.out.Write(b); err != nil {
		return err
	}
	return p.out.Flush()
}

// idle is the stream pausing at rev: flush, then save (or schedule it).
// Only a failed flush (stdout gone) is returned.
func (p *positionSaver) idle(rev int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.out.Flush(); err != nil {
		return err
	}
	p.flushed = rev
	p.trySaveLocked()
	return nil
}

func (p *positionSaver) trySaveLocked() {
	if p.closed || p.flushed == p.saved && p.failing == nil {
		return
	}
	wait := p.interval
	if p.failing != nil {
		wait = p.retry
	}
	if since := time.Since(p.lastTry); since < wait {
		p.armLocked(wait - since)
		return
	}
	p.saveLocked()
	if p.failing != nil {
		p.armLocked(p.retry)
	}
}

// saveLocked saves p.flushed and reports a failure or a recovery.
func (p *positionSaver) saveLocked() error {
	p.lastTry = time.Now()
	rev := p.flushed
	err := p.save(rev)
	if err != nil {
		if p.failing == nil || p.failing.Error() != err.Error() || time.Since(p.lastWarn) >= 30*time.Second {
			p.warn("receive: warning: position not saved (revision %d): %v; retrying — until it is saved, a restart "+
				"after a hard kill prints the operations after revision %d again", rev, err, p.saved)
			p.lastWarn = time.Now()
		}
		p.failing = err
		return err
	}
	if p.failing != nil {
		p.warn("receive: position saved again (revision %d)", rev)
	}
	p.failing, p.saved = nil, rev
	return nil
}

func (p *positionSaver) armLocked(d time.Duration) {
	if p.armed {
		return
	}
	p.armed = true
	if p.timer == nil {
		p.timer = time.AfterFunc(d, p.fire)
		return
	}
	p.timer.Reset(d)
}

func (p *positionSaver) fire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = false
	p.trySaveLocked()
}

// close flushes, saves rev (the newest revision written) and stops the timer.
func (p *positionSaver) close(rev int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	if err := p.out.Flush(); err != nil {
		return err
	}
	p.flushed = rev
	if p.flushed == p.saved && p.failing == nil {
		return nil
	}
	if err := p.saveLocked(); err != nil {
		return fmt.Errorf("receive position not saved (revision %d): %w; the operations after revision %d may be printed again",
			rev, err, p.saved)
	}
	return nil
}
