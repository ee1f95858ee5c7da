// Package botapi serves a subset of LINE's Messaging API (push, multicast,
// reply, profile, group summary and members, bot info, message content,
// webhooks) in front of linectl's own delivery, so an integration written
// for api.line.me and LINE's SDKs switches by changing its base URL and its
// channel access token. It holds the handler, the token store, the
// X-Line-Retry-Key records and the webhook dispatcher; it prints nothing and
// knows nothing of cobra (docs/messaging-api.md).
package botapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/tokenfile"
	"github.com/linectl/linectl/pkg/lineapi"
)

// IDLength is how many hex digits of a token's hash name it (bot token list).
const IDLength = tokenfile.IDLength

// ErrNoToken means no stored token has the id given.
var ErrNoToken = errors.New("no bot token has that id (see 'linectl bot token list')")

// ErrAmbiguousID means several stored tokens start with the id given.
var ErrAmbiguousID = errors.New("several bot tokens start with that id; give more of it")

// Token is one stored channel access token: never the token itself, only
// its SHA-256. To empty: the token may use every chat of the account.
type Token struct {
	Hash      string    `json:"sha256"` // hex
	Name      string    `json:"name,omitempty"`
	Webhook   string    `json:"webhook,omitempty"`
	To        []string  `json:"to,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// ID is the short name of the token: the first IDLength hex digits of its hash.
func (t Token) ID() string { return t.Hash[:IDLength] }

// May reports whether the token may send to (and hear from) the chat mid.
func (t Token) May(mid string) bool { return len(t.To) == 0 || slices.Contains(t.To, mid) }

// secretFile holds the channel secrets (by token hash) of the tokens with a
// webhook: they sign the webhook calls, so they are kept as they are, 0600.
type secretFile struct {
	Version int               `json:"version"`
	Secrets map[string]string `json:"secrets"`
}

// TokenHash implements tokenfile.Entry.
func (t Token) TokenHash() string { return t.Hash }

// Store is the token file at Path (tokenfile) and the secrets file at
// SecretsPath beside it, written under the token file's lock; both are
// re-read when the token file changed on disk, so a token added or revoked
// by another process counts at the next request.
type Store struct {
	Path, SecretsPath string
	Rand              io.Reader        // nil: crypto/rand
	Now               func() time.Time // nil: time.Now

	once    sync.Once
	file    *tokenfile.File[Token]
	mu      sync.Mutex
	secrets map[string]string
}

func (s *Store) f() *tokenfile.File[Token] {
	s.once.Do(func() { s.file = &tokenfile.File[Token]{Path: s.Path, What: "bot token"} })
	return s.file
}

func readSecrets(path string) (map[string]string, error) {
	b, err := config.ReadPrivateFile(path, "channel secrets", 1<<20)
	if err != nil {
		return nil, err
	}
	sf := secretFile{Secrets: map[string]string{}}
	if b == nil {
		return sf.Secrets, nil
	}
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("%w: %s is not a channel secret file (%v); it was left as it is", config.ErrCorrupt, path, err)
	}
	if sf.Secrets == nil {
		sf.Secrets = map[string]string{}
	}
	return sf.Secrets, nil
}

// List returns the stored tokens, oldest first.
func (s *Store) List() ([]Token, error) { return s.f().List() }

// Reload re-reads the files if the token file changed since it was last read.
func (s *Store) Reload() error {
	changed, err := s.f().Reload()
	if err != nil || !changed {
		return err
	}
	sec, err := readSecrets(s.SecretsPath)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.secrets = sec
	s.mu.Unlock()
	return nil
}

// Lookup finds the stored token a client presented. ok is false for an
// unknown (or revoked) token.
func (s *Store) Lookup(token string) (Token, bool, error) {
	if err := s.Reload(); err != nil {
		return Token{}, false, err
	}
	return s.f().Lookup(token)
}

// Webhooks returns the tokens with a webhook and their channel secrets, as
// last read (after re-reading changed files).
func (s *Store) Webhooks() ([]Token, map[string]string, error) {
	if err := s.Reload(); err != nil {
		return nil, nil, err
	}
	all, err := s.f().All()
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Token
	sec := map[string]string{}
	for _, t := range all {
		if t.Webhook != "" && s.secrets[t.Hash] != "" {
			out = append(out, t)
			sec[t.Hash] = s.secrets[t.Hash]
		}
	}
	slices.SortFunc(out, func(a, b Token) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, sec, nil
}

// Len is the number of tokens last read.
func (s *Store) Len() int { return s.f().Len() }

// CheckWebhook checks a webhook URL: http or https with a host.
func CheckWebhook(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

func (s *Store) random(n int) ([]byte, error) {
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

// Add creates a token (and, with a webhook, its channel secret) and
// returns them — the only time the token exists outside the client.
func (s *Store) Add(name, webhook string, to []string) (token, secret string, t Token, err error) {
	for _, m := range to {
		if _, err := lineapi.ParseMID(m); err != nil {
			return "", "", Token{}, err
		}
	}
	if webhook != "" {
		if err := CheckWebhook(webhook); err != nil {
			return "", "", Token{}, err
		}
	}
	if token, err = tokenfile.New(s.Rand); err != nil {
		return "", "", Token{}, err
	}
	if webhook != "" {
		sb, err := s.random(16)
		if err != nil {
			return "", "", Token{}, fmt.Errorf("make a channel secret: %w", err)
		}
		secret = hex.EncodeToString(sb) // LINE's channel secrets are 32 hex digits
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t = Token{Hash: tokenfile.Hash(token), Name: name, Webhook: webhook, To: to, CreatedAt: now().UTC().Truncate(time.Second)}
	err = s.update(func(toks []Token, sec map[string]string) ([]Token, error) {
		if secret != "" {
			sec[t.Hash] = secret
		}
		return append(toks, t), nil
	})
	if err != nil {
		return "", "", Token{}, err
	}
	return token, secret, t, nil
}

// Revoke removes the token whose hash starts with id (at least IDLength
// hex digits) and its secret, and returns it.
func (s *Store) Revoke(id string) (Token, error) {
	var gone Token
	err := s.update(func(toks []Token, sec map[string]string) ([]Token, error) {
		at, err := tokenfile.ByID(toks, id, ErrNoToken, ErrAmbiguousID)
		if err != nil {
			return nil, err
		}
		gone = toks[at]
		delete(sec, gone.Hash)
		return append(toks[:at:at], toks[at+1:]...), nil
	})
	return gone, err
}

// update rewrites the files with what fn makes of them, under the token
// file's lock. The secrets are written first: a token never exists without
// its secret.
func (s *Store) update(fn func([]Token, map[string]string) ([]Token, error)) error {
	return s.f().Update(func(toks []Token) ([]Token, error) {
		sec, err := readSecrets(s.SecretsPath)
		if err != nil {
			return nil, err
		}
		if toks, err = fn(toks, sec); err != nil {
			return nil, err
		}
		sb, err := json.MarshalIndent(secretFile{Version: 1, Secrets: sec}, "", "  ")
		if err != nil {
			return nil, err
		}
		return toks, config.WriteFileAtomic(s.SecretsPath, append(sb, '\n'))
	})
}
