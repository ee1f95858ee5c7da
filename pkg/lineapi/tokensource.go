package lineapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// RefreshingTokens is a TokenSource for programs using this package on
// their own: it holds a session's tokens, renews the access token when LINE
// says it expired (119) or when its refresh is due, and hands every new set
// to Save before using it — LINE may rotate the refresh token, so a set that
// was not saved is a session lost at the next start. (linectl's own source,
// internal/session, adds the config file's locking across processes.)
//
// Set Client after creating the client that uses this source:
//
//	ts := &lineapi.RefreshingTokens{Tokens: saved, Save: store}
//	cl, _ := lineapi.New(url, lineapi.WithTokenSource(ts))
//	ts.Client = cl
type RefreshingTokens struct {
	Client *Client
	Tokens TokenV3IssueResult
	// Save persists a new token set; an error stops its use (the call fails).
	Save func(ctx context.Context, t TokenV3IssueResult) error
	// Retries bounds the refreshes asked again after 10202 or a lost answer
	// (default 3), waiting as LINE's refreshApiRetryPolicy says.
	Retries int

	mu sync.Mutex
}

// Token returns the access token, renewing it first when its refresh is
// due; a renewal that fails for a passing reason keeps the current token
// (it is still valid until LINE answers 119).
func (r *RefreshingTokens) Token(ctx context.Context) (string, error) {
	r.mu.Lock()
	t := r.Tokens
	r.mu.Unlock()
	due := t.RefreshDue()
	if t.RefreshToken == "" || due.IsZero() || r.now().Before(due) {
		return t.AccessToken, nil
	}
	tok, err := r.Refresh(ctx, t.AccessToken)
	if err != nil && Temporary(err) {
		return t.AccessToken, nil
	}
	return tok, err
}

// Refresh renews the access token stale; if it was already renewed, the
// current one is returned.
func (r *RefreshingTokens) Refresh(ctx context.Context, stale string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Tokens.AccessToken != stale && r.Tokens.AccessToken != "" {
		return r.Tokens.AccessToken, nil
	}
	if r.Client == nil || r.Tokens.RefreshToken == "" {
		return "", fmt.Errorf("access token expired and cannot be refreshed: %w", ErrMustRefreshToken)
	}
	res, err := r.refresh(ctx)
	if err != nil {
		return "", err
	}
	next := r.Tokens
	next.Merge(res)
	if r.Save != nil {
		if err := r.Save(ctx, next); err != nil {
			return "", fmt.Errorf("save the refreshed tokens: %w", err)
		}
	}
	r.Tokens = next
	return next.AccessToken, nil
}

// refresh asks tokenRefresh, again (same refresh token) after 10202 or a
// lost answer, as the retry policy says. Caller holds r.mu.
func (r *RefreshingTokens) refresh(ctx context.Context) (*TokenV3IssueResult, error) {
	tries := r.Retries
	if tries <= 0 {
		tries = 3
	}
	for n := 1; ; n++ {
		res, err := r.Client.RefreshToken(ctx, r.Tokens.AccessToken, r.Tokens.RefreshToken)
		retry := errors.Is(err, ErrAuthRetryRequired) || (err != nil && Temporary(err))
		if err == nil || !retry || n >= tries {
			return res, err
		}
		if serr := SleepContext(ctx, r.Tokens.RefreshAPIRetryPolicy.Delay(n)); serr != nil {
			return nil, err
		}
	}
}

func (r *RefreshingTokens) now() time.Time {
	if r.Client != nil {
		return r.Client.Now()
	}
	return time.Now()
}
