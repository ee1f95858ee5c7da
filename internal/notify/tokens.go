// Package notify serves LINE Notify's HTTP API (POST /api/notify, GET
// /api/status, POST /api/revoke) in front of linectl's own delivery, so an
// integration written for notify-api.line.me switches by changing its URL and
// token. It holds the handler, the token store and the per-token rate limit;
// it prints nothing and knows nothing of cobra.
package notify

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/internal/tokenfile"
	"github.com/linectl/linectl/pkg/lineapi"
)

// TokenFileName is the token store's name, beside the config file
// (state.FileNotifyTokens).
const TokenFileName = state.FileNotifyTokens

// IDLength is how many hex digits of a token's hash name it (notify token list).
const IDLength = tokenfile.IDLength

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

// TokenHash implements tokenfile.Entry.
func (t Token) TokenHash() string { return t.Hash }

// HashToken returns the hex SHA-256 of a token as presented by a client.
func HashToken(token string) string { return tokenfile.Hash(token) }

// Store is the token file at Path (tokenfile: the config's rules, its lock,
// re-read when another process changed it).
type Store struct {
	Path string
	Rand io.Reader        // nil: crypto/rand
	Now  func() time.Time // nil: time.Now

	once sync.Once
	file *tokenfile.File[Token]
}

func (s *Store) f() *tokenfile.File[Token] {
	s.once.Do(func() { s.file = &tokenfile.File[Token]{Path: s.Path, What: "notify token"} })
	return s.file
}

// List returns the stored tokens, oldest first.
func (s *Store) List() ([]Token, error) { return s.f().List() }

// Reload re-reads the file if it changed since it was last read.
func (s *Store) Reload() error {
	_, err := s.f().Reload()
	return err
}

// Lookup finds the stored token a client presented, re-reading the file
// first if it changed. ok is false for an unknown (or revoked) token.
func (s *Store) Lookup(token string) (Token, bool, error) { return s.f().Lookup(token) }

// Len is the number of tokens last read.
func (s *Store) Len() int { return s.f().Len() }

// Add creates a token for the chat to (name: its display name, optional) and
// returns the token — the only time it exists outside the client that gets it.
func (s *Store) Add(to, name string) (token string, t Token, err error) {
	if _, err := lineapi.ParseMID(to); err != nil {
		return "", Token{}, err
	}
	if token, err = tokenfile.New(s.Rand); err != nil {
		return "", Token{}, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t = Token{Hash: HashToken(token), To: to, Name: name, CreatedAt: now().UTC().Truncate(time.Second)}
	if err := s.f().Update(func(toks []Token) ([]Token, error) { return append(toks, t), nil }); err != nil {
		return "", Token{}, err
	}
	return token, t, nil
}

// Revoke removes the token whose hash starts with id (at least IDLength
// hex digits; case-insensitive) and returns it.
func (s *Store) Revoke(id string) (Token, error) {
	var gone Token
	err := s.f().Update(func(toks []Token) ([]Token, error) {
		at, err := tokenfile.ByID(toks, id, ErrNoToken, ErrAmbiguousID)
		if err != nil {
			return nil, err
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
	err = s.f().Update(func(toks []Token) ([]Token, error) {
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
