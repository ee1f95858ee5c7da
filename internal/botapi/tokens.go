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
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/notify"
	"github.com/linectl/linectl/pkg/lineapi"
)

// IDLength is how many hex digits of a token's hash name it (bot token list).
const IDLength = notify.IDLength

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

type tokenFile struct {
	Version int     `json:"version"`
	Tokens  []Token `json:"tokens"`
}

// secretFile holds the channel secrets (by token hash) of the tokens with a
// webhook: they sign the webhook calls, so they are kept as they are, 0600.
type secretFile struct {
	Version int               `json:"version"`
	Secrets map[string]string `json:"secrets"`
}

// Store is the token file at Path and the secrets file at SecretsPath.
// Writes take the token file's lock and replace the files atomically
// (0600); Lookup re-reads them when the token file changed on disk, so a
// token added or revoked by another process counts at the next request.
type Store struct {
	Path, SecretsPath string
	Rand              io.Reader        // nil: crypto/rand
	Now               func() time.Time // nil: time.Now

	mu      sync.Mutex
	byHash  map[string]Token
	secrets map[string]string
	stamp   stamp
	loaded  bool
}

type stamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stampOf(path string) (stamp, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return stamp{}, nil
	}
	if err != nil {
		return stamp{}, err
	}
	return stamp{mod: st.ModTime(), size: st.Size(), ok: true}, nil
}

func readTokens(path string) ([]Token, error) {
	b, err := config.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if b == nil {
		return nil, nil
	}
	var tf tokenFile
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, fmt.Errorf("%w: %s is not a bot token file (%v); it was left as it is", config.ErrCorrupt, path, err)
	}
	for _, t := range tf.Tokens {
		if len(t.Hash) != 2*sha256.Size {
			return nil, fmt.Errorf("%w: %s has a token entry without a valid sha256; it was left as it is", config.ErrCorrupt, path)
		}
	}
	return tf.Tokens, nil
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
func (s *Store) List() ([]Token, error) { return readTokens(s.Path) }

// Reload re-reads the files if the token file changed since it was last read.
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
	toks, err := readTokens(s.Path)
	if err != nil {
		return err
	}
	secrets, err := readSecrets(s.SecretsPath)
	if err != nil {
		return err
	}
	m := make(map[string]Token, len(toks))
	for _, t := range toks {
		m[t.Hash] = t
	}
	s.byHash, s.secrets, s.stamp, s.loaded = m, secrets, st, true
	return nil
}

// Lookup finds the stored token a client presented. ok is false for an
// unknown (or revoked) token.
func (s *Store) Lookup(token string) (t Token, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return Token{}, false, err
	}
	t, ok = s.byHash[notify.HashToken(token)]
	return t, ok, nil
}

// Webhooks returns the tokens with a webhook and their channel secrets, as
// last read (after re-reading changed files).
func (s *Store) Webhooks() ([]Token, map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(); err != nil {
		return nil, nil, err
	}
	var out []Token
	sec := map[string]string{}
	for h, t := range s.byHash {
		if t.Webhook != "" && s.secrets[h] != "" {
			out = append(out, t)
			sec[h] = s.secrets[h]
		}
	}
	slices.SortFunc(out, func(a, b Token) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, sec, nil
}

// Len is the number of tokens last read.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

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
	raw, err := s.random(32)
	if err != nil {
		return "", "", Token{}, fmt.Errorf("make a token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
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
	t = Token{Hash: notify.HashToken(token), Name: name, Webhook: webhook, To: to, CreatedAt: now().UTC().Truncate(time.Second)}
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
	id = strings.ToLower(id)
	if len(id) < IDLength {
		return Token{}, fmt.Errorf("%w: an id has at least %d hex digits (got %q)", ErrNoToken, IDLength, id)
	}
	var gone Token
	err := s.update(func(toks []Token, sec map[string]string) ([]Token, error) {
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
		delete(sec, gone.Hash)
		return append(toks[:at:at], toks[at+1:]...), nil
	})
	return gone, err
}

// update rewrites the files with what fn makes of them, under the lock.
// The secrets are written first: a token never exists without its secret.
func (s *Store) update(fn func([]Token, map[string]string) ([]Token, error)) error {
	unlock, err := (&config.Store{Path: s.Path}).Lock()
	if err != nil {
		return err
	}
	defer unlock()
	toks, err := readTokens(s.Path)
	if err != nil {
		return err
	}
	sec, err := readSecrets(s.SecretsPath)
	if err != nil {
		return err
	}
	if toks, err = fn(toks, sec); err != nil {
		return err
	}
	if toks == nil {
		toks = []Token{}
	}
	sb, err := json.MarshalIndent(secretFile{Version: 1, Secrets: sec}, "", "  ")
	if err != nil {
		return err
	}
	if err := config.WriteFileAtomic(s.SecretsPath, append(sb, '\n')); err != nil {
		return err
	}
	b, err := json.MarshalIndent(tokenFile{Version: 1, Tokens: toks}, "", "  ")
	if err != nil {
		return err
	}
	if err := config.WriteFileAtomic(s.Path, append(b, '\n')); err != nil {
		return err
	}
	s.mu.Lock()
	s.loaded = false
	s.mu.Unlock()
	return nil
}
