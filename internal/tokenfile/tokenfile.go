// Package tokenfile is a file of hashed bearer tokens beside the config —
// notify serve's and serve's Messaging API tokens: never a token itself,
// only its SHA-256; read with the config's rules, rewritten atomically
// (0600) under the file's lock; re-read when it changed on disk, so a token
// added or revoked by another process counts at the next request. What a
// token carries besides its hash is the caller's type.
package tokenfile

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
)

// IDLength is how many hex digits of a token's hash name it (token list,
// token revoke).
const IDLength = 8

// tokenBytes is how many random bytes a token has (base64url: 43 characters).
const tokenBytes = 32

// Entry is a stored token: its hash (hex SHA-256) names it.
type Entry interface{ TokenHash() string }

// Hash returns the hex SHA-256 of a token as presented by a client.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// New makes a token from r (nil: crypto/rand): 32 random bytes, base64url.
func New(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	raw := make([]byte, tokenBytes)
	if _, err := io.ReadFull(r, raw); err != nil {
		return "", fmt.Errorf("make a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// File is the token file at Path; What names its kind in messages ("notify
// token").
type File[T Entry] struct {
	Path string
	What string

	mu     sync.Mutex
	byHash map[string]T
	stamp  stamp
	loaded bool
}

type fileJSON[T Entry] struct {
	Version int `json:"version"`
	Tokens  []T `json:"tokens"`
}

// stamp is what tells a changed file: its mtime, size and inode.
type stamp struct {
	mod  time.Time
	size int64
	ino  uint64
	ok   bool // the file exists
}

func stampOf(path string) (stamp, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return stamp{}, nil
	}
	if err != nil {
		return stamp{}, err
	}
	return stamp{mod: st.ModTime(), size: st.Size(), ino: inode(st), ok: true}, nil
}

// List reads the stored tokens, oldest first (a missing file: none).
func (f *File[T]) List() ([]T, error) {
	b, err := config.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Path, err)
	}
	if b == nil {
		return nil, nil
	}
	var tf fileJSON[T]
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, fmt.Errorf("%w: %s is not a %s file (%v); it was left as it is", config.ErrCorrupt, f.Path, f.What, err)
	}
	for _, t := range tf.Tokens {
		if len(t.TokenHash()) != 2*sha256.Size {
			return nil, fmt.Errorf("%w: %s has a token entry without a valid sha256; it was left as it is", config.ErrCorrupt, f.Path)
		}
	}
	return tf.Tokens, nil
}

// Reload re-reads the file if it changed since it was last read; changed
// says whether it did (a caller with files of its own beside it re-reads
// them then).
func (f *File[T]) Reload() (changed bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := stampOf(f.Path)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", f.Path, err)
	}
	if f.loaded && st == f.stamp {
		return false, nil
	}
	toks, err := f.List()
	if err != nil {
		return false, err
	}
	m := make(map[string]T, len(toks))
	for _, t := range toks {
		m[t.TokenHash()] = t
	}
	f.byHash, f.stamp, f.loaded = m, st, true
	return true, nil
}

// Lookup finds the stored token a client presented, re-reading the file
// first if it changed. ok is false for an unknown (or revoked) token.
func (f *File[T]) Lookup(token string) (t T, ok bool, err error) {
	if _, err := f.Reload(); err != nil {
		return t, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok = f.byHash[Hash(token)]
	return t, ok, nil
}

// All is every token as last read (after re-reading a changed file).
func (f *File[T]) All() ([]T, error) {
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]T, 0, len(f.byHash))
	for _, t := range f.byHash {
		out = append(out, t)
	}
	return out, nil
}

// Len is the number of tokens last read.
func (f *File[T]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byHash)
}

// Update rewrites the file with what fn makes of its tokens, under the
// file's lock (fn may write files of its own first: they are under it too).
func (f *File[T]) Update(fn func([]T) ([]T, error)) error {
	unlock, err := (&config.Store{Path: f.Path}).Lock()
	if err != nil {
		return err
	}
	defer unlock()
	toks, err := f.List()
	if err != nil {
		return err
	}
	if toks, err = fn(toks); err != nil {
		return err
	}
	if toks == nil {
		toks = []T{}
	}
	b, err := json.MarshalIndent(fileJSON[T]{Version: 1, Tokens: toks}, "", "  ")
	if err != nil {
		return err
	}
	if err := config.WriteFileAtomic(f.Path, append(b, '\n')); err != nil {
		return err
	}
	f.mu.Lock()
	f.loaded = false // read again on the next Lookup
	f.mu.Unlock()
	return nil
}

// ByID is the index of the token whose hash starts with id (at least
// IDLength hex digits, any case) in toks; errNone when there is none (or id
// is too short), errAmbiguous when several match.
func ByID[T Entry](toks []T, id string, errNone, errAmbiguous error) (int, error) {
	id = strings.ToLower(id)
	if len(id) < IDLength {
		return -1, fmt.Errorf("%w: an id has at least %d hex digits (got %q)", errNone, IDLength, id)
	}
	at := -1
	for i, t := range toks {
		if strings.HasPrefix(t.TokenHash(), id) {
			if at >= 0 {
				return -1, errAmbiguous
			}
			at = i
		}
	}
	if at < 0 {
		return -1, errNone
	}
	return at, nil
}
