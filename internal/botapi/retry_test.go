package botapi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
)

// A retry key is kept 24 hours from its first request, as LINE keeps it,
// across restarts (the file), and forgotten after.
func TestRetryKeyKept24Hours(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "bot-retry-keys.json")
	s := &RetryStore{Path: path, Now: clock}
	r, release, err := s.Acquire("tok", "123E4567-E89B-12D3-A456-426614174000")
	if err != nil || r != nil {
		t.Fatal(r, err)
	}
	rec := &Record{Key: "123e4567-e89b-12d3-a456-426614174000", Token: "tok", RequestID: "req", Created: now,
		Parts: []Part{{To: "u1", State: partSent, MessageID: "1"}}}
	if err := s.Put("tok", rec.Key, rec); err != nil {
		t.Fatal(err)
	}
	release()

	now = now.Add(RetryKeyTTL - time.Second)
	s2 := &RetryStore{Path: path, Now: clock} // a restart
	r, release, err = s2.Acquire("tok", "123e4567-e89b-12d3-a456-426614174000")
	if err != nil || r == nil || !r.Done() || r.RequestID != "req" {
		t.Fatalf("after 24h-1s: %+v %v", r, err)
	}
	release()
	if r, release, _ = s2.Acquire("other-token", rec.Key); r != nil {
		t.Fatal("keys are per token")
	}
	release()

	now = now.Add(2 * time.Second)
	if r, release, _ = (&RetryStore{Path: path, Now: clock}).Acquire("tok", rec.Key); r != nil {
		t.Fatal("kept past 24 hours")
	}
	release()
}

// A key is held by one request at a time: the second waits for the first.
func TestRetryKeyOneAtATime(t *testing.T) {
	s := &RetryStore{}
	_, release, _ := s.Acquire("tok", "k")
	got := make(chan struct{})
	go func() {
		_, rel, _ := s.Acquire("tok", "k")
		close(got)
		rel()
	}()
	select {
	case <-got:
		t.Fatal("a second request held the key at the same time")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	<-got
}

// Puts that come together share one write and one sync (group commit);
// every one of them, and every Note after them, is in the journal after a
// restart.
func TestRetryJournalGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot-retry-keys.json")
	now := time.Now()
	s := &RetryStore{Path: path, Now: func() time.Time { return now }}
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			rec := &Record{Key: key, Token: "tok", Created: now, Parts: []Part{{To: "u1", State: partAttempting}}}
			if err := s.Put("tok", key, rec); err != nil {
				t.Error(err)
			}
			rec.Parts[0].State, rec.Parts[0].MessageID = partSent, fmt.Sprint(i)
			if err := s.Note("tok", key, rec); err != nil { // the outcome: written, synced later
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if s.Flushes >= n {
		t.Fatalf("%d Puts, %d flushes: no group commit", n, s.Flushes)
	}
	s2 := &RetryStore{Path: path, Now: s.Now} // a restart
	for i := range n {
		key := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		r, release, err := s2.Acquire("tok", key)
		if err != nil || r == nil || !r.Done() || r.Parts[0].MessageID != fmt.Sprint(i) {
			t.Fatalf("key %d after a restart: %+v %v", i, r, err)
		}
		release()
	}
}

// The journal is compacted as it grows (only the live records are
// rewritten), a line torn by a crash is ignored, and the first format (one
// JSON document) is read.
func TestRetryJournalCompactsAndRecovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bot-retry-keys.json")
	now := time.Now()
	s := &RetryStore{Path: path, Now: func() time.Time { return now }}
	key := "123e4567-e89b-12d3-a456-426614174000"
	rec := &Record{Key: key, Token: "tok", Created: now, Parts: []Part{{To: "u1", State: partSent, MessageID: "1"}}}
	for range 2000 { // the same record again and again: the journal would grow without bound
		if err := s.Put("tok", key, rec); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	b, _ := os.ReadFile(path)
	lines := bytes.IndexByte(b, 0) // the lines, then zeros written ahead of use
	if err != nil || lines < 0 || lines > 200<<10 || st.Size()%journalChunk != 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("journal after 2000 Puts of one record: %d bytes of lines, %d in all, %v", lines, st.Size(), err)
	}
	// A crash in the middle of a line: the torn line, followed by the zeros, is ignored.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteAt([]byte(`{"token":"tok","key":"0000`), int64(lines))
	f.Close()
	r, release, err := (&RetryStore{Path: path, Now: s.Now}).Acquire("tok", key)
	if err != nil || r == nil || !r.Done() {
		t.Fatalf("after a torn line: %+v %v", r, err)
	}
	release()
	// A bad line that is not the last: refused, the file left as it is.
	if err := os.WriteFile(path, []byte("not json\n{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&RetryStore{Path: path, Now: s.Now}).Acquire("tok", key); !errors.Is(err, config.ErrCorrupt) {
		t.Fatalf("bad journal: %v", err)
	}
	// The first format.
	old := `{"version":1,"records":[{"key":"` + key + `","token":"tok","path":"/v2/bot/message/push","requestId":"r","created":"` +
		now.Format(time.RFC3339Nano) + `","parts":[{"to":"u1","index":0,"state":"sent","messageId":"7"}]}]}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := &RetryStore{Path: path, Now: s.Now}
	r, release, err = s3.Acquire("tok", key)
	if err != nil || r == nil || r.Parts[0].MessageID != "7" {
		t.Fatalf("first format: %+v %v", r, err)
	}
	release()
	if err := s3.Put("tok", "00000000-0000-4000-8000-000000000001", &Record{Token: "tok", Key: "00000000-0000-4000-8000-000000000001", Created: now}); err != nil {
		t.Fatal(err)
	}
	r, release, err = (&RetryStore{Path: path, Now: s.Now}).Acquire("tok", key)
	if err != nil || r == nil || r.Parts[0].MessageID != "7" {
		t.Fatalf("first format, after the journal replaced it: %+v %v", r, err)
	}
	release()
}

// One store keeps a config's records (Lock): a second one refuses keyed
// requests — it would lose the first's keys, and a retry sent to it could
// send twice — until the first is closed.
func TestRetryStoreLock(t *testing.T) {
	dir := t.TempDir()
	path, lockPath := filepath.Join(dir, "bot-retry-keys.json"), filepath.Join(dir, "bot-retry-keys.lock")
	lock := func() (func(), error) {
		unlock, ok, err := config.TryLock(lockPath)
		if err == nil && !ok {
			err = errors.New("held")
		}
		return unlock, err
	}
	a, b := &RetryStore{Path: path, Lock: lock}, &RetryStore{Path: path, Lock: lock}
	if err := a.Load(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Acquire("tok", "k"); err == nil || !strings.Contains(err.Error(), "another 'linectl serve'") {
		t.Fatalf("second store: %v", err)
	}
	a.Close()
	_, release, err := b.Acquire("tok", "k")
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	release()
	b.Close()
}

// Whatever the journal holds — torn, hostile, the first format — loading
// it never panics: it is read, or refused as corrupt.
func FuzzRetryJournal(f *testing.F) {
	f.Add([]byte(`{"token":"tok","key":"k","record":{"key":"k","token":"tok","created":"2026-01-01T00:00:00Z","parts":[{"to":"u1","state":"sent"}]}}` + "\n"))
	f.Add([]byte(`{"token":"tok","key":"k"}` + "\n" + `{"token":"tok","key":"k","record":null}`))
	f.Add([]byte(`{"version":1,"records":[{"key":"k","token":"t","parts":null}]}`))
	f.Add([]byte("\x00\x00\n{"))
	f.Add([]byte(`{"version":1,"records":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "bot-retry-keys.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s := &RetryStore{Path: path}
		r, release, err := s.Acquire("tok", "k")
		if err != nil {
			if !errors.Is(err, config.ErrCorrupt) {
				t.Fatalf("not a corrupt-file error: %v", err)
			}
			return
		}
		if r != nil {
			_ = r.Done()
			_ = r.Started()
		}
		release()
		if err := s.Put("tok", "k", &Record{Key: "k", Token: "tok"}); err != nil {
			t.Fatal(err)
		}
	})
}

// A journal that outgrows its zeros grows by whole chunks; every line is
// there after a restart.
func TestRetryJournalGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot-retry-keys.json")
	now := time.Now()
	s := &RetryStore{Path: path, Now: func() time.Time { return now }}
	const n = 3000 // about 600 KiB of live records: past two chunks, never compacted away
	for i := range n {
		key := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if err := s.Put("tok", key, &Record{Key: key, Token: "tok", Created: now, Parts: []Part{{To: "u1", State: partSent, MessageID: fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 2*journalChunk || st.Size()%journalChunk != 0 {
		t.Fatalf("journal %v, %v", st.Size(), err)
	}
	s2 := &RetryStore{Path: path, Now: s.Now}
	for i := range n {
		key := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		r, release, err := s2.Acquire("tok", key)
		if err != nil || r == nil || r.Parts[0].MessageID != fmt.Sprint(i) {
			t.Fatalf("key %d after a restart: %+v %v", i, r, err)
		}
		release()
	}
}

// A journal that does not read is refused at every keyed request, and never
// rewritten (from an empty memory) by a later one: it is left as it is.
func TestRetryJournalCorruptLeftAsItIs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot-retry-keys.json")
	bad := []byte("not json\n{}\n")
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &RetryStore{Path: path}
	for range 2 {
		if _, _, err := s.Acquire("tok", "k"); !errors.Is(err, config.ErrCorrupt) {
			t.Fatalf("acquire: %v", err)
		}
		if err := s.Put("tok", "k", &Record{Key: "k", Token: "tok"}); !errors.Is(err, config.ErrCorrupt) {
			t.Fatalf("put: %v", err)
		}
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, bad) {
		t.Fatalf("the file was rewritten: %q", b)
	}
}
