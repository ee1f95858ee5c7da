package botapi

import (
	"path/filepath"
	"testing"
	"time"
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
