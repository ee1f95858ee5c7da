package botapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
)

// RetryKeyTTL is how long an X-Line-Retry-Key is kept: LINE documents that
// "the retry key is valid for 24 hours after attempting the first request"
// (developers.line.biz, Retrying a failed API request).
const RetryKeyTTL = 24 * time.Hour

// retryKeyRE is LINE's retry key: a UUID in hexadecimal.
var retryKeyRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Part states.
const (
	partPending = "pending" // not sent: proven (never attempted, or refused before LINE stored it)
	partSent    = "sent"
	partUnknown = "unknown" // may have been delivered: settled from the stream by a retry
	// partAttempting is a part whose send started and whose outcome was
	// not recorded (the process ended meanwhile): without its reqSeq it
	// cannot be searched for, so it stays unknown until the key expires.
	partAttempting = "attempting"
)

// Part is one message to one chat of a request.
type Part struct {
	To        string `json:"to"`
	Index     int    `json:"index"` // in messages
	State     string `json:"state"`
	MessageID string `json:"messageId,omitempty"`
	ReqSeq    int64  `json:"reqSeq,omitempty"`
	Revision  int64  `json:"revision,omitempty"` // where to search the stream from
}

// Record is what linectl keeps of a request with a retry key: its parts'
// outcomes, so a retry sends only what is proven not delivered.
type Record struct {
	Key       string    `json:"key"`
	Token     string    `json:"token"` // the token's hash: keys are per channel, as LINE's
	Path      string    `json:"path"`
	RequestID string    `json:"requestId"` // the first request's x-line-request-id
	Created   time.Time `json:"created"`
	Parts     []Part    `json:"parts"`
}

// Done reports whether every part was sent.
func (r *Record) Done() bool {
	for _, p := range r.Parts {
		if p.State != partSent {
			return false
		}
	}
	return true
}

// Started reports whether any part may have reached LINE.
func (r *Record) Started() bool {
	for _, p := range r.Parts {
		if p.State != partPending {
			return true
		}
	}
	return false
}

// RetryStore keeps the records of requests with a retry key, in memory and
// in a journal at Path ("" keeps them in memory only): one JSON line per
// change, appended, and on disk (fsync) before Put returns — a record that
// says a send is starting is durable before the send. Puts that come
// together share one write and one fsync (group commit), so concurrent
// pushes do not queue behind each other's disk syncs; the journal is
// rewritten with only the live records (compacted) when it has grown to
// four times their size. The file is zeros ahead of its lines (journalChunk
// at a time, synced whole when it grows): a line overwrites zeros and is
// synced with fdatasync, which need not commit the file system's own
// journal (the file's length and blocks do not change) — under load the
// difference between a sync that waits for that commit and one that does
// not. A key is held by one request at a time.
type RetryStore struct {
	Path string
	Now  func() time.Time
	// Lock, when set, takes the records' lock before they are first read
	// (without waiting): a store that cannot take it answers every keyed
	// request with its error, and tries again at the next.
	Lock func() (unlock func(), err error)

	mu      sync.Mutex
	unlock  func()
	records map[string]*Record // as last Put (only the key's holder changes it)
	lines   map[string][]byte  // each live record's journal line
	busy    map[string]chan struct{}
	loaded  bool

	// The journal and its group commit (under mu).
	f        *os.File // open for writing at size; nil: compact (rewrite) first
	size     int64    // bytes of lines in the journal: where the next one goes
	alloc    int64    // the file's length: the lines, then zeros written ahead of use
	pending  []byte   // lines Put but not yet written
	started  uint64   // batches started
	done     uint64   // batches on disk (or failed)
	failed   map[uint64]error
	flushing bool
	// compacting: the flush rewrites the journal (a Note then waits for
	// it rather than append to the file being replaced).
	compacting bool
	cond       *sync.Cond
	// Flushes counts the batches written (a test's evidence of group commit).
	Flushes int
}

// journalLine is one change: a record as it now is, or a key forgotten
// (Record nil).
type journalLine struct {
	Token  string  `json:"token"`
	Key    string  `json:"key"`
	Record *Record `json:"record,omitempty"`
}

// maxJournal bounds the journal linectl reads: a record is a few hundred
// bytes, so this holds a quarter of a million requests of a day.
const maxJournal = 64 << 20

func (s *RetryStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Load reads the file. Parts whose send was attempting when the process
// ended stay so: unknown, and without a reqSeq to search for.
func (s *RetryStore) Load() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadLocked()
}

func (s *RetryStore) loadLocked() error {
	if s.loaded {
		return nil
	}
	if s.Lock != nil && s.Path != "" && s.unlock == nil {
		unlock, err := s.Lock()
		if err != nil {
			return fmt.Errorf("another 'linectl serve' keeps this config's X-Line-Retry-Key records (%w)", err)
		}
		s.unlock = unlock // held until Close or the process's end (kept: its file must not be collected)
	}
	s.records, s.lines = map[string]*Record{}, map[string][]byte{}
	if err := s.read(); err != nil {
		// Not loaded: every keyed request is refused with this, and the
		// file is never rewritten from an empty memory.
		return err
	}
	s.busy, s.failed = map[string]chan struct{}{}, map[uint64]error{}
	s.cond = sync.NewCond(&s.mu)
	s.loaded = true
	return nil
}

// read fills records and lines from the file at Path (none: nothing).
func (s *RetryStore) read() error {
	if s.Path == "" {
		return nil
	}
	b, err := config.ReadPrivateFile(s.Path, "X-Line-Retry-Key records", maxJournal)
	if err != nil || b == nil {
		return err
	}
	bad := func(err error) error {
		return fmt.Errorf("%w: %s is not a retry key file (%v): it was left as it is", config.ErrCorrupt, s.Path, err)
	}
	if bytes.HasPrefix(b, []byte(`{"version":`)) { // the first format: one JSON document, rewritten at every change
		var f struct{ Records []*Record }
		if err := json.Unmarshal(b, &f); err != nil {
			return bad(err)
		}
		for _, r := range f.Records {
			if r != nil { // null: nothing to keep
				s.keep(rkey(r.Token, r.Key), r)
			}
		}
		return nil // rewritten in the journal's form at the first Put (s.f is nil)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // the zeros ahead of use (a JSON line has no NUL byte)
	}
	for len(b) > 0 {
		line, rest, complete := bytes.Cut(b, []byte("\n"))
		b = rest
		var l journalLine
		if err := json.Unmarshal(line, &l); err != nil {
			if !complete {
				break // the last line, torn by a crash while it was written: its Put never returned
			}
			return bad(err)
		}
		k := rkey(l.Token, l.Key)
		if l.Record == nil {
			delete(s.records, k)
			delete(s.lines, k)
			continue
		}
		s.keep(k, l.Record)
	}
	return nil
}

// Close releases the records' lock (Lock) and closes the journal.
func (s *RetryStore) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.flushing {
		s.cond.Wait() // flushing: loaded, so cond is set
	}
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	s.loaded = false
}

// keep holds r in memory (loading: from the journal).
func (s *RetryStore) keep(k string, r *Record) {
	line, err := json.Marshal(journalLine{Token: r.Token, Key: r.Key, Record: r})
	if err != nil {
		return
	}
	s.records[k], s.lines[k] = r, append(line, '\n')
}

// Acquire waits for the key to be free and returns its record (nil when
// none) and the function that releases it.
func (s *RetryStore) Acquire(token, key string) (*Record, func(), error) {
	k := rkey(token, key)
	for {
		s.mu.Lock()
		if err := s.loadLocked(); err != nil {
			s.mu.Unlock()
			return nil, nil, err
		}
		ch, held := s.busy[k]
		if !held {
			ch = make(chan struct{})
			s.busy[k] = ch
			r := s.records[k]
			if r != nil && s.now().Sub(r.Created) > RetryKeyTTL {
				delete(s.records, k)
				r = nil
			}
			s.mu.Unlock()
			return r, func() {
				s.mu.Lock()
				delete(s.busy, k)
				s.mu.Unlock()
				close(ch)
			}, nil
		}
		s.mu.Unlock()
		<-ch
	}
}

// Put stores r (nil with token and key: forgets the key) and returns once
// the change is on disk (synced).
func (s *RetryStore) Put(token, key string, r *Record) error { return s.put(token, key, r, true) }

// Note stores r as Put does but does not wait for the disk sync: the line
// is written (a crash of the process keeps it) and synced with the next
// batch. It is for a record whose sends have ended: should the machine
// itself crash before the sync, the journal still holds the line Put
// before the sends, whose parts say "attempting" — a retry answers them as
// unknown and never sends them again.
func (s *RetryStore) Note(token, key string, r *Record) error { return s.put(token, key, r, false) }

func (s *RetryStore) put(token, key string, r *Record, durable bool) error {
	l := journalLine{Token: token, Key: strings.ToLower(key), Record: r}
	line, err := json.Marshal(l) // now, by the key's holder: the record as it is
	if err != nil {
		return err
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return err
	}
	k := rkey(token, key)
	if r == nil {
		_, written := s.lines[k]
		delete(s.records, k)
		delete(s.lines, k)
		if !written {
			return nil // nothing of it in the journal to forget
		}
	} else {
		s.records[k], s.lines[k] = r, line
	}
	if s.Path == "" {
		return nil
	}
	if !durable && s.f != nil && !s.compacting && s.size+int64(len(line)) <= s.alloc {
		// Written after the batch being synced, if any (its place is
		// taken: size moved past it when it started).
		if _, err := s.f.WriteAt(line, s.size); err == nil {
			s.size += int64(len(line))
			return nil
		}
	}
	s.pending = append(s.pending, line...)
	mine := s.started + 1 // the next batch to start carries this line
	for s.done < mine {
		if s.flushing {
			s.cond.Wait()
			continue
		}
		s.flush()
	}
	return s.failed[mine]
}

// flush writes the pending lines as one batch (mu held; released while it
// writes): appended and synced, or — when the journal is not open, or has
// grown to four times the live records — the live records rewritten
// atomically in its place.
func (s *RetryStore) flush() {
	s.flushing = true
	s.started++
	n, batch := s.started, s.pending
	s.pending = nil
	var live []byte
	compact := s.f == nil
	if !compact {
		var liveSize int
		for _, l := range s.lines {
			liveSize += len(l)
		}
		compact = s.size+int64(len(batch)) > 4*int64(liveSize)+64<<10
	}
	if compact {
		live = s.snapshot()
	}
	f, off, alloc := s.f, s.size, s.alloc
	if !compact {
		s.size += int64(len(batch)) // its place: a Note meanwhile goes after it
	}
	s.compacting = compact
	s.mu.Unlock()
	var err error
	var size int64
	if compact {
		f, size, alloc, err = s.rewrite(f, live)
	} else {
		alloc, err = writeSync(f, batch, off, alloc)
	}
	s.mu.Lock()
	switch {
	case err != nil:
		if f != nil {
			_ = f.Close()
		}
		f = nil // rewritten from memory at the next Put
		s.failed[n] = err
	case compact:
		s.size = size
	}
	s.f, s.alloc, s.compacting = f, alloc, false
	s.done, s.flushing = n, false
	s.Flushes++
	s.cond.Broadcast()
}

// snapshot is every live record's line, the expired dropped (mu held).
func (s *RetryStore) snapshot() []byte {
	now := s.now()
	var b []byte
	for k, r := range s.records {
		if now.Sub(r.Created) > RetryKeyTTL {
			delete(s.records, k)
			delete(s.lines, k)
			continue
		}
		b = append(b, s.lines[k]...)
	}
	return b
}

// journalChunk is how much the journal grows at a time: zeros written and
// synced ahead of the lines that will overwrite them.
const journalChunk = 256 << 10

// rewrite replaces the journal with live and zeros after it
// (WriteFileAtomic: 0600, fsync, rename, the directory synced) and opens it
// for writing.
func (s *RetryStore) rewrite(old *os.File, live []byte) (f *os.File, size, alloc int64, err error) {
	if old != nil {
		_ = old.Close()
	}
	alloc = (int64(len(live))/journalChunk + 1) * journalChunk
	b := make([]byte, alloc)
	copy(b, live)
	if err := config.WriteFileAtomic(s.Path, b); err != nil {
		return nil, 0, 0, err
	}
	if f, err = os.OpenFile(s.Path, os.O_WRONLY, 0); err != nil {
		return nil, 0, 0, err
	}
	return f, int64(len(live)), alloc, nil
}

// writeSync writes b at off and makes it durable: into the zeros ahead
// (fdatasync: the file's length and blocks are as they were), or, when b
// reaches past them, after growing the file by whole chunks of zeros
// (fsync: its length changes). It returns the file's length.
func writeSync(f *os.File, b []byte, off, alloc int64) (int64, error) {
	grown := false
	for off+int64(len(b)) > alloc {
		if _, err := f.WriteAt(make([]byte, journalChunk), alloc); err != nil {
			return alloc, err
		}
		alloc += journalChunk
		grown = true
	}
	if _, err := f.WriteAt(b, off); err != nil {
		return alloc, err
	}
	if grown {
		return alloc, f.Sync()
	}
	return alloc, datasync(f)
}

func rkey(token, key string) string { return token + " " + strings.ToLower(key) }
