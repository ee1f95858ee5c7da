// Package session keeps a saved LINE session usable: it hands out the access
// token, refreshes it when it is due or when LINE says it expired, and does
// so under the config file lock, re-reading the file inside the lock, so
// that of many linectl processes sharing one config exactly one refreshes
// and the others pick up its tokens. An older token is never saved over a
// newer one.
package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// ErrEnded means LINE ended the session (logged out elsewhere, kicked, or the
// refresh token was refused). The tokens were removed from the config; the
// certificate was kept so the next login can skip the PIN.
type ErrEnded struct{ Cause error }

func (e *ErrEnded) Error() string {
	reason := lineapi.Describe(e.Cause)
	var te *lineapi.TalkError
	if errors.As(e.Cause, &te) && te.Reason == "V3_TOKEN_CLIENT_LOGGED_OUT" {
		reason = "this account logged in on another Chrome-extension session (LINE allows one)"
	}
	return fmt.Sprintf("LINE ended this session: %s; run 'linectl login' again", reason)
}

func (e *ErrEnded) Unwrap() error { return e.Cause }

// Refresher is the gateway call a Source needs.
type Refresher interface {
	RefreshToken(ctx context.Context, accessToken, refreshToken string) (*lineapi.TokenV3IssueResult, error)
}

// Source is a lineapi.TokenSource backed by the config file.
type Source struct {
	Store  *config.Store
	Client Refresher
	Now    func() time.Time
	Sleep  func(context.Context, time.Duration) error
	// MaxRetries bounds 10202 AUTH_RETRY_REQUIRED retries (default 5).
	MaxRetries int
	// OnRefresh, if set, is told after each refresh this process made.
	OnRefresh func()

	mu     sync.Mutex
	tokens config.Tokens
	loaded bool
	// ended is how this process's refresh learnt the session ended: every
	// later caller (another goroutine of the same run) gets the same answer.
	ended error
	// noDisk: a due refresh was skipped because the config cannot be
	// saved; it is not tried again in this process.
	noDisk bool
}

// New returns a Source starting from the tokens already read from the config.
func New(store *config.Store, tokens config.Tokens) *Source {
	return &Source{Store: store, tokens: tokens, loaded: true}
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Tokens returns the current token set.
func (s *Source) Tokens() config.Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// Token returns the access token, refreshing it first when it is due. A due
// refresh that could not even start because the config cannot be saved (a
// full or read-only disk: nothing was asked of LINE, the session is as it
// was) is skipped with a warning: the token is still valid for a while after
// it is due.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if !s.loaded {
		c, err := s.Store.Load()
		if err != nil {
			s.mu.Unlock()
			return "", err
		}
		s.tokens, s.loaded = c.Tokens, true
	}
	t, noDisk := s.tokens, s.noDisk
	s.mu.Unlock()
	if t.AccessToken == "" {
		return "", nil
	}
	if due := t.Due(); !noDisk && !due.IsZero() && !s.now().Before(due) {
		tok, err := s.Refresh(ctx, t.AccessToken)
		var nr *notRefreshed
		if errors.As(err, &nr) && config.IsDiskError(err) {
			s.warn("linectl: warning: the access token is due for refresh, but %v; using the current token for now", nr.Err)
			s.mu.Lock()
			s.noDisk = true
			s.mu.Unlock()
			return t.AccessToken, nil
		}
		return tok, err
	}
	return t.AccessToken, nil
}

func (s *Source) warn(format string, a ...any) {
	if s.Store != nil && s.Store.Warn != nil {
		s.Store.Warn(format, a...)
	}
}

// notRefreshed is a refresh that failed before LINE was asked for anything
// (the config could not be locked, read or reserved): the saved tokens are
// still the session's.
type notRefreshed struct{ Err error }

func (e *notRefreshed) Error() string { return "access token not refreshed: " + e.Err.Error() }
func (e *notRefreshed) Unwrap() error { return e.Err }

// Reload re-reads the config and reports whether it holds a token other
// than stale (saved by another process). It takes the config lock first, so
// a refresh in progress elsewhere (which may already have ended stale at
// LINE) is waited for.
func (s *Source) Reload(ctx context.Context, stale string) (string, bool) {
	unlock, err := s.Store.Lock()
	if err != nil {
		return "", false
	}
	c, err := s.Store.Load()
	unlock()
	if err != nil || c.Tokens.AccessToken == "" || c.Tokens.AccessToken == stale {
		return "", false
	}
	s.mu.Lock()
	s.tokens = c.Tokens
	s.mu.Unlock()
	return c.Tokens.AccessToken, true
}

// Refresh renews the token after stale was refused or is due. If another
// process already replaced stale in the config, its token is used as is.
//
// A refresh cannot be undone — LINE may refuse the old refresh token once it
// has issued new ones — so it runs under the config lock with room for the
// new config already reserved on disk (config.Store.Update), and the new
// tokens are saved before anything else happens. An answer lost on the way
// (connection dropped, timeout, 5xx, garbled) is retried per LINE's retry
// policy with the same refresh token; only TalkException 1, 7, 8 and gateway
// 10201 end the session.
func (s *Source) Refresh(ctx context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended != nil {
		return "", s.ended
	}
	var ended error
	asked, refreshed := false, false
	c, err := s.Store.Update(func(c *config.Config) error {
		if c.Tokens.AccessToken != "" && c.Tokens.AccessToken != stale {
			return nil // someone else refreshed: use theirs
		}
		if c.Tokens.AccessToken == "" && stale != "" {
			// The session this call used was ended (and its tokens cleared)
			// by another linectl process meanwhile.
			return &ErrEnded{Cause: errEndedElsewhere}
		}
		if c.Tokens.AccessToken == "" || c.Tokens.RefreshToken == "" {
			return lineapi.ErrNotLoggedIn
		}
		asked = true
		res, err := s.refresh(ctx, c.Tokens)
		if err != nil {
			if lineapi.IsSessionGone(err) {
				c.Tokens = config.Tokens{}
				ended = &ErrEnded{Cause: err}
				return nil
			}
			return err
		}
		c.Tokens = Merge(c.Tokens, res)
		refreshed = true
		return nil
	})
	if err != nil {
		if !asked {
			return "", &notRefreshed{Err: err}
		}
		return "", err
	}
	s.tokens = c.Tokens
	if refreshed && s.OnRefresh != nil {
		s.OnRefresh()
	}
	if ended != nil {
		s.ended = ended
		return "", ended
	}
	return c.Tokens.AccessToken, nil
}

// errEndedElsewhere is why a session is over when another process ended it.
var errEndedElsewhere = errors.New("another linectl process found it ended and cleared its tokens")

// refresh calls tokenRefresh, following LINE's retry policy on 10202 and on
// an answer that was lost, always with the same refresh token.
func (s *Source) refresh(ctx context.Context, t config.Tokens) (*lineapi.TokenV3IssueResult, error) {
	max := s.MaxRetries
	if max <= 0 {
		max = 5
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = lineapi.SleepContext
	}
	var policy *lineapi.RetryPolicy
	if p := t.RetryPolicy; p != nil {
		policy = &lineapi.RetryPolicy{InitialDelayInMillis: lineapi.I64(p.InitialDelayInMillis),
			MaxDelayInMillis: lineapi.I64(p.MaxDelayInMillis), Multiplier: p.Multiplier, JitterRate: p.JitterRate}
	}
	for n := 1; ; n++ {
		res, err := s.Client.RefreshToken(ctx, t.AccessToken, t.RefreshToken)
		if err == nil {
			return res, nil
		}
		if !retryable(ctx, err) || n > max {
			return nil, fmt.Errorf("refresh access token: %w", err)
		}
		d := policy.Delay(n)
		if policy != nil && policy.JitterRate > 0 {
			d += time.Duration(float64(d) * policy.JitterRate * rand.Float64())
		}
		if err := sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("refresh access token: %w", err)
		}
	}
}

// retryable reports whether a tokenRefresh may be repeated with the same
// refresh token: LINE asked for it (10202), or the answer was lost — the
// connection failed, the request timed out, a 5xx or throttling answer, an
// unusable body. The refresh may have been done at LINE; the simulator's
// model (docs/configuration.md) is that the previous refresh token stays
// good until the new access token is first used, so repeating it is safe.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var tr *lineapi.TransportError
	var br *lineapi.BadResponseError
	var ge *lineapi.GatewayError
	switch {
	case errors.Is(err, lineapi.ErrAuthRetryRequired), lineapi.IsRateLimited(err):
		return true
	case errors.As(err, &tr), errors.As(err, &br), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &ge):
		return ge.Temporary() || ge.HTTPStatus >= 500
	}
	return false
}

// Merge lays a refresh or login result over saved tokens.
func Merge(t config.Tokens, r *lineapi.TokenV3IssueResult) config.Tokens {
	if r == nil {
		return t
	}
	if r.AccessToken != "" {
		t.AccessToken = r.AccessToken
	}
	if r.RefreshToken != "" {
		t.RefreshToken = r.RefreshToken
	}
	if r.DurationUntilRefreshInSec != 0 {
		t.DurationUntilRefreshInSec = int64(r.DurationUntilRefreshInSec)
	}
	if r.TokenIssueTimeEpochSec != 0 {
		t.TokenIssueTimeEpochSec = int64(r.TokenIssueTimeEpochSec)
	}
	if r.LoginSessionID != "" {
		t.LoginSessionID = r.LoginSessionID
	}
	if p := r.RefreshAPIRetryPolicy; p != nil {
		t.RetryPolicy = &config.RetryPolicy{InitialDelayInMillis: int64(p.InitialDelayInMillis),
			MaxDelayInMillis: int64(p.MaxDelayInMillis), Multiplier: p.Multiplier, JitterRate: p.JitterRate}
	}
	if d := t.Due(); !d.IsZero() {
		t.RefreshDue = d.UTC().Format(time.RFC3339)
	}
	return t
}
