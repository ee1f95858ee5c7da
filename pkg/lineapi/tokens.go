package lineapi

import (
	"context"
	"net/http"
	"time"
)

// TokenV3IssueResult is the token set a login or refresh issues (docs/protocol.md §5).
type TokenV3IssueResult struct {
	AccessToken               string       `json:"accessToken"`
	RefreshToken              string       `json:"refreshToken,omitempty"`
	DurationUntilRefreshInSec I64          `json:"durationUntilRefreshInSec,omitempty"`
	RefreshAPIRetryPolicy     *RetryPolicy `json:"refreshApiRetryPolicy,omitempty"`
	LoginSessionID            string       `json:"loginSessionId,omitempty"`
	TokenIssueTimeEpochSec    I64          `json:"tokenIssueTimeEpochSec,omitempty"`
}

// RefreshDue returns when the access token should be refreshed; zero if unknown.
func (t *TokenV3IssueResult) RefreshDue() time.Time {
	if t == nil || t.TokenIssueTimeEpochSec == 0 || t.DurationUntilRefreshInSec == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t.TokenIssueTimeEpochSec)+int64(t.DurationUntilRefreshInSec), 0)
}

// Merge lays the non-empty fields of n over t, as the extension's renewToken does.
func (t *TokenV3IssueResult) Merge(n *TokenV3IssueResult) {
	if n == nil {
		return
	}
	if n.AccessToken != "" {
		t.AccessToken = n.AccessToken
	}
	if n.RefreshToken != "" {
		t.RefreshToken = n.RefreshToken
	}
	if n.DurationUntilRefreshInSec != 0 {
		t.DurationUntilRefreshInSec = n.DurationUntilRefreshInSec
	}
	if n.RefreshAPIRetryPolicy != nil {
		t.RefreshAPIRetryPolicy = n.RefreshAPIRetryPolicy
	}
	if n.LoginSessionID != "" {
		t.LoginSessionID = n.LoginSessionID
	}
	if n.TokenIssueTimeEpochSec != 0 {
		t.TokenIssueTimeEpochSec = n.TokenIssueTimeEpochSec
	}
}

// RetryPolicy is the backoff LINE asks for when a refresh answers 10202.
type RetryPolicy struct {
	InitialDelayInMillis I64     `json:"initialDelayInMillis"`
	MaxDelayInMillis     I64     `json:"maxDelayInMillis"`
	Multiplier           float64 `json:"multiplier"`
	JitterRate           float64 `json:"jitterRate"`
}

// Delay returns the wait before retry number n (1-based), before jitter.
func (p *RetryPolicy) Delay(n int) time.Duration {
	if p == nil || p.InitialDelayInMillis <= 0 {
		return Backoff{Base: time.Second, Max: 64 * time.Second}.Delay(n)
	}
	d := float64(p.InitialDelayInMillis)
	m := p.Multiplier
	if m < 1 {
		m = 1
	}
	for i := 1; i < n; i++ {
		d *= m
	}
	if p.MaxDelayInMillis > 0 && d > float64(p.MaxDelayInMillis) {
		d = float64(p.MaxDelayInMillis)
	}
	return time.Duration(d) * time.Millisecond
}

// RefreshToken exchanges a refresh token for a new access token. The body is a
// JSON object, signed with the (possibly expired) access token it replaces.
// The refresh token may rotate: the caller must save the result before using
// it. It is not retried here; 10202 AUTH_RETRY_REQUIRED comes back as
// ErrAuthRetryRequired so the caller can follow the retry policy.
//
// Gateway: POST /api/auth/tokenRefresh {"refreshToken":…}
func (c *Client) RefreshToken(ctx context.Context, accessToken, refreshToken string) (*TokenV3IssueResult, error) {
	body, err := marshalBody(map[string]string{"refreshToken": refreshToken})
	if err != nil {
		return nil, err
	}
	var out TokenV3IssueResult
	err = c.do(ctx, &call{
		method: http.MethodPost, path: "/api/auth/tokenRefresh", name: "tokenRefresh",
		body: body, token: &accessToken,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Logout ends the session on LINE's side.
//
// Gateway: POST /api/talk/thrift/Talk/AuthService/logoutV2 []
func (c *Client) Logout(ctx context.Context) error {
	return c.thriftCall(ctx, "Talk/AuthService", "logoutV2", []any{}, nil, true, true)
}

// Profile is the logged-in account's profile.
type Profile struct {
	MID           string `json:"mid"`
	DisplayName   string `json:"displayName"`
	StatusMessage string `json:"statusMessage,omitempty"`
	PictureStatus string `json:"pictureStatus,omitempty"`
	RegionCode    string `json:"regionCode,omitempty"`
}

// GetProfile returns the account's profile (syncReason 2).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getProfile [2]
func (c *Client) GetProfile(ctx context.Context) (*Profile, error) {
	var p Profile
	if err := c.thriftCall(ctx, "Talk/TalkService", "getProfile", []any{2}, &p, true, true); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetLastOpRevision returns the newest operation revision of the account.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getLastOpRevision []
func (c *Client) GetLastOpRevision(ctx context.Context) (int64, error) {
	var rev I64
	if err := c.thriftCall(ctx, "Talk/TalkService", "getLastOpRevision", []any{}, &rev, true, true); err != nil {
		return 0, err
	}
	return int64(rev), nil
}
