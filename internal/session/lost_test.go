package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// lossyGateway does each refresh and then loses the first `lose` answers
// (err); like the simulator, a refresh token presented again before its new
// access token was used gets the same answer again.
type lossyGateway struct {
	mu     sync.Mutex
	lose   int
	err    error
	calls  []string // refresh tokens presented
	issued map[string]*lineapi.TokenV3IssueResult
	n      int
}

func (g *lossyGateway) RefreshToken(_ context.Context, at, rt string) (*lineapi.TokenV3IssueResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, rt)
	if g.issued == nil {
		g.issued = map[string]*lineapi.TokenV3IssueResult{}
	}
	res := g.issued[rt]
	if res == nil {
		g.n++
		res = &lineapi.TokenV3IssueResult{AccessToken: fmt.Sprintf("at%d", g.n), RefreshToken: fmt.Sprintf("rt%d", g.n),
			DurationUntilRefreshInSec: 3600, TokenIssueTimeEpochSec: lineapi.I64(time.Now().Unix())}
		g.issued[rt] = res
	}
	if g.lose > 0 {
		g.lose--
		return nil, g.err
	}
	return res, nil
}

func TestLostRefreshAnswerRetriedWithSameToken(t *testing.T) {
	lost := map[string]error{
		"dropped after write": &lineapi.TransportError{Method: "tokenRefresh", Written: true, Err: io.ErrUnexpectedEOF},
		"timeout":             &lineapi.TransportError{Method: "tokenRefresh", Written: true, Err: context.DeadlineExceeded},
		"502 page":            &lineapi.GatewayError{HTTPStatus: 502},
		"garbled":             &lineapi.BadResponseError{Method: "tokenRefresh", HTTPStatus: 200, Reason: "truncated"},
		"10202":               &lineapi.GatewayError{Code: lineapi.CodeAuthRetryRequired},
	}
	for name, lerr := range lost {
		t.Run(name, func(t *testing.T) {
			tok := config.Tokens{AccessToken: "at0", RefreshToken: "rt0",
				RetryPolicy: &config.RetryPolicy{InitialDelayInMillis: 100, MaxDelayInMillis: 300, Multiplier: 2}}
			st := seed(t, tok)
			gw := &lossyGateway{lose: 3, err: lerr}
			var slept []time.Duration
			s := New(st, tok)
			s.Client = gw
			s.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			s.OnRefresh = func() {
				if c, _ := st.Load(); c.Tokens.AccessToken != "at1" {
					t.Errorf("OnRefresh before the new tokens were saved: %+v", c.Tokens)
				}
			}
			got, err := s.Refresh(context.Background(), "at0")
			if err != nil || got != "at1" {
				t.Fatalf("got %q, %v", got, err)
			}
			if fmt.Sprint(gw.calls) != "[rt0 rt0 rt0 rt0]" {
				t.Fatalf("refresh tokens presented: %v", gw.calls)
			}
			if want := "[100ms 200ms 300ms]"; fmt.Sprint(slept) != want {
				t.Fatalf("slept %v, want %v (the retry policy)", slept, want)
			}
			if c, _ := st.Load(); c.Tokens.RefreshToken != "rt1" {
				t.Fatalf("saved %+v", c.Tokens)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(st.Path), ".config.yaml.*")); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}

func TestLostRefreshAnswersPastThePolicyKeepTheTokens(t *testing.T) {
	tok := config.Tokens{AccessToken: "at0", RefreshToken: "rt0"}
	st := seed(t, tok)
	gw := &lossyGateway{lose: 100, err: &lineapi.TransportError{Method: "tokenRefresh", Written: true, Err: io.ErrUnexpectedEOF}}
	s := New(st, tok)
	s.Client = gw
	s.Sleep = func(context.Context, time.Duration) error { return nil }
	_, err := s.Refresh(context.Background(), "at0")
	var tr *lineapi.TransportError
	var ended *ErrEnded
	if !errors.As(err, &tr) || errors.As(err, &ended) {
		t.Fatalf("err = %v, want the transport error, not an ended session", err)
	}
	if len(gw.calls) != 6 {
		t.Fatalf("%d attempts, want 6 (1 + MaxRetries)", len(gw.calls))
	}
	if c, _ := st.Load(); c.Tokens.RefreshToken != "rt0" || c.Tokens.AccessToken != "at0" {
		t.Fatalf("tokens changed: %+v", c.Tokens)
	}
}

// Only 1, 7, 8 and 10201 end the session; other refusals are not retried
// and leave the tokens alone.
func TestRefreshRefusals(t *testing.T) {
	cases := []struct {
		err   error
		ended bool
	}{
		{&lineapi.GatewayError{Code: lineapi.CodeAuthInvalidRequest}, true},
		{&lineapi.TalkError{Code: 1}, true},
		{&lineapi.TalkError{Code: 7}, true},
		{&lineapi.TalkError{Code: 8, Reason: "V3_TOKEN_CLIENT_LOGGED_OUT"}, true},
		{&lineapi.GatewayError{Code: 10005, Message: "REQUEST_INVALID_HMAC"}, false},
		{&lineapi.TalkError{Code: 10}, false},
		{context.Canceled, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.err), func(t *testing.T) {
			tok := config.Tokens{AccessToken: "at0", RefreshToken: "rt0"}
			st := seed(t, tok)
			gw := &lossyGateway{lose: 100, err: c.err}
			s := New(st, tok)
			s.Client = gw
			s.Sleep = func(context.Context, time.Duration) error { return nil }
			_, err := s.Refresh(context.Background(), "at0")
			var ended *ErrEnded
			if errors.As(err, &ended) != c.ended || len(gw.calls) != 1 {
				t.Fatalf("err %v after %d calls; want ended=%v after 1", err, len(gw.calls), c.ended)
			}
			cfg, _ := st.Load()
			if cfg.Tokens.LoggedIn() == c.ended {
				t.Fatalf("tokens after %v: %+v", c.err, cfg.Tokens)
			}
		})
	}
}
