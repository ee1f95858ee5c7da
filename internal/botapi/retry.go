package botapi

import (
	"encoding/json"
	"fmt"
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

type retryFile struct {
	Version int       `json:"version"`
	Records []*Record `json:"records"`
}

// RetryStore keeps the records of requests with a retry key, in memory and
// in the file at Path (rewritten at every change; "" keeps them in memory
// only). A key is held by one request at a time.
type RetryStore struct {
	Path string
	Now  func() time.Time

	mu      sync.Mutex
	records map[string]*Record
	busy    map[string]chan struct{}
	loaded  bool
}

func rkey(token, key string) string { return token + " " + strings.ToLower(key) }

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
	s.records, s.busy = map[string]*Record{}, map[string]chan struct{}{}
	s.loaded = true
	if s.Path == "" {
		return nil
	}
	b, err := config.ReadFile(s.Path)
	if err != nil || b == nil {
		return err
	}
	var f retryFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: %s is not a retry key file (%v): it was left as it is", config.ErrCorrupt, s.Path, err)
	}
	for _, r := range f.Records {
		s.records[rkey(r.Token, r.Key)] = r
	}
	return nil
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

// Put stores r (nil with token and key: forgets the key) and writes the file.
func (s *RetryStore) Put(token, key string, r *Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return err
	}
	if r == nil {
		delete(s.records, rkey(token, key))
	} else {
		s.records[rkey(token, key)] = r
	}
	return s.saveLocked()
}

func (s *RetryStore) saveLocked() error {
	if s.Path == "" {
		return nil
	}
	f := retryFile{Version: 1, Records: []*Record{}}
	now := s.now()
	for k, r := range s.records {
		if now.Sub(r.Created) > RetryKeyTTL {
			delete(s.records, k)
			continue
		}
		f.Records = append(f.Records, r)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(s.Path, append(b, '\n'))
}
