// Package notify serves LINE Notify's HTTP API (POST /api/notify, GET
// /api/status, POST /api/revoke) in front of linectl's own delivery, so an
// integration written for notify-api.line.me switches by changing its URL and
// token. It holds the handler, the token store and the per-token rate limit;
// it prints nothing and knows nothing of cobra.
package notify

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
)

// TokenFileName is the token store's name, beside the config file
// (state.FileNotifyTokens).
const TokenFileName = state.FileNotifyTokens

// tokenBytes is how many random bytes a token has (base64url: 43 characters).
const tokenBytes = 32

// IDLength is how many hex digits of a token's hash name it (notify token list).
const IDLength = 8

// ErrNoToken means no stored token has the id given.
var ErrNoToken = errors.New("no notify token has that id (see 'linectl notify token list')")

// ErrAmbiguousID means several stored tokens start with the id given.
var ErrAmbiguousID = errors.New("several notify tokens start with that id; give more of it")

// Token is one stored token: never the token itself, only its SHA-256.
type Token struct {
	Hash      string    `json:"sha256"` // hex
	To        string    `json:"to"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// ID is the short name of the token: the first IDLength hex digits of its hash.
func (t Token) ID() string { return t.Hash[:IDLength] }

// TargetType is Notify's targetType: USER for a user, GROUP for a group or room.
func (t Token) TargetType() string {
	if tt, err := lineapi.ParseMID(t.To); err == nil && tt == lineapi.ToUser {
		return "USER"
	}
	return "GROUP"
}

// Target is Notify's target: the chat's name when known, else its MID.
func (t Token) Target() string {
	if t.Name != "" {
		return t.Name
	}
	return t.To
}

// tokenFile is the JSON of the store.
type tokenFile struct {
	Version int     `json:"version"`
	Tokens  []Token `json:"tokens"`
}

// HashToken returns the hex SHA-256 of a token as presented by a client.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Store is the token file at Path. Writes take the file's lock (a sibling
// ".lock") and replace it atomically (0600); Lookup re-reads the file when it
// changed on disk, so a token added or revoked by another process counts at
// once.
type Store struct {
	Path string
	Rand io.Reader        // nil: crypto/rand
	Now  func() time.Time // nil: time.Now

	mu     sync.Mutex
	byHash map[string]Token
	stamp  fileStamp
	loaded bool
}

// fileStamp is what tells a changed file: its mtime, size and inode change.
type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
	ok   bool // the file exists
}

func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: st.ModTime(), size: st.Size(), ino: inode(st), ok: true}, nil
}

// read reads and parses the file; a missing file is an empty store.
func read(path string) ([]Token, error) {
	b, err := config.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if b == nil {
		return nil, nil
	}
	var tf tokenFile
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, fmt.Errorf("%w: %s is not a notify token file (%v); it was left as it is", config.ErrCorrupt, path, err)
	}
	for _, t := range tf.Tokens {
		if len(t.Hash) != 2*sha256.Size {
			return nil, fmt.Errorf("%w: %s has a token entry without a valid sha256; it was left as it is", config.ErrCorrupt, path)
		}
	}
	return tf.Tokens, nil
}

// List returns the stored tokens, oldest first.
func (s *Store) List() ([]Token, error) { return read(s.Path) }

// Reload re-reads the file if it changed since it was last read.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

func (s *Store) reloadLocked() error {
	st, err := stampOf(s.Path)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.Path, err)
	}
	if s.loaded && st == s.stamp {
		return nil
	}
	toks, err := read(s.Path)
	if err != nil {
		return err
	}
	m := make(map[string]Token, len(toks))
	for _, t := range toks {
		m[t.Hash] = t
	}
	s.byHash, s.stamp, s.loaded = m, st, true
	return nil
}

// Lookup finds the stored token a client presented, re-reading the file
// first if it changed. ok is false for an unknown (or revoked) token.
func (s *Store) Lookup(token string) (t Token, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return Token{}, false, err
	}
	t, ok = s.byHash[HashToken(token)]
	return t, ok, nil
}

// Len is the number of tokens last read.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

// Add creates a token for the chat to (name: its display name, optional) and
// returns the token — the only time it exists outside the client that gets it.
func (s *Store) Add(to, name string) (token string, t Token, err error) {
	if _, err := lineapi.ParseMID(to); err != nil {
		return "", Token{}, err
	}
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	raw := make([]byte, tokenBytes)
	if _, err := io.ReadFull(r, raw); err != nil {
		return "", Token{}, fmt.Errorf("make a token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t = Token{Hash: HashToken(token), To: to, Name: name, CreatedAt: now().UTC().Truncate(time.Second)}
	err = s.update(func(toks []Token) ([]Token, error) { return append(toks, t), nil })
	if err != nil {
		return "", Token{}, err
	}
	return token, t, nil
}

// Revoke removes the token whose hash starts with id (at least IDLength
// hex digits; case-insensitive) and returns it.
func (s *Store) Revoke(id string) (Token, error) {
	id = strings.ToLower(id)
	if len(id) < IDLength {
		return Token{}, fmt.Errorf("%w: an id has at least %d hex digits (got %q)", ErrNoToken, IDLength, id)
	}
	var gone Token
	err := s.update(func(toks []Token) ([]Token, error) {
		at := -1
		for i, t := range toks {
			if strings.HasPrefix(t.Hash, id) {
				if at >= 0 {
					return nil, ErrAmbiguousID
				}
				at = i
			}
		}
		if at < 0 {
			return nil, ErrNoToken
		}
		gone = toks[at]
		return append(toks[:at:at], toks[at+1:]...), nil
	})
	return gone, err
}

// RevokeToken removes the token a client presented (POST /api/revoke).
// ok is false when it was not stored (any more).
func (s *Store) RevokeToken(token string) (ok bool, err error) {
	h := HashToken(token)
	err = s.update(func(toks []Token) ([]Token, error) {
		out := toks[:0:0]
		for _, t := range toks {
			if t.Hash == h {
				ok = true
				continue
			}
			out = append(out, t)
		}
		return out, nil
	})
	return ok, err
}

// update rewrites the file with what fn makes of its tokens, under the lock.
func (s *Store) update(fn func([]Token) ([]Token, error)) error {
	unlock, err := (&config.Store{Path: s.Path}).Lock()
	if err != nil {
		return err
	}
	defer unlock()
	toks, err := read(s.Path)
	if err != nil {
		return err
	}
	toks, err = fn(toks)
	if err != nil {
		return err
	}
	if toks == nil {
		toks = []Token{}
	}
	b, err := json.MarshalIndent(tokenFile{Version: 1, Tokens: toks}, "", "  ")
	if err != nil {
		return err
	}
	if err := config.WriteFileAtomic(s.Path, append(b, '\n')); err != nil {
		return err
	}
	s.mu.Lock()
	s.loaded = false // read again on the next Lookup
	s.mu.Unlock()
	return nil
}
