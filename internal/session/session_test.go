package session

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// rotatingGateway issues a new access and refresh token per refresh and
// rejects a refresh token used twice, as LINE may.
type rotatingGateway struct {
	mu        sync.Mutex
	n         int
	used      map[string]bool
	retryLeft int
	kicked    bool
}

func (g *rotatingGateway) RefreshToken(_ context.Context, at, rt string) (*lineapi.TokenV3IssueResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.kicked {
		return nil, &lineapi.TalkError{Name: "TalkException", Code: 8, Reason: "V3_TOKEN_CLIENT_LOGGED_OUT"}
	}
	if g.retryLeft > 0 {
		g.retryLeft--
		return nil, &lineapi.GatewayError{Code: lineapi.CodeAuthRetryRequired}
	}
	if g.used == nil {
		g.used = map[string]bool{}
	}
	if g.used[rt] {
		return nil, &lineapi.GatewayError{Code: lineapi.CodeAuthInvalidRequest}
	}
	g.used[rt] = true
	g.n++
	return &lineapi.TokenV3IssueResult{
		AccessToken: fmt.Sprintf("at%d", g.n), RefreshToken: fmt.Sprintf("rt%d", g.n),
		DurationUntilRefreshInSec: 3600, TokenIssueTimeEpochSec: lineapi.I64(time.Now().Unix()),
	}, nil
}

func seed(t *testing.T, tok config.Tokens) *config.Store {
	t.Helper()
	st := &config.Store{Path: filepath.Join(t.TempDir(), "config.yaml")}
	if _, err := st.Update(func(c *config.Config) error {
		c.Tokens = tok
		c.Account.Certificate = "CERT"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConcurrentRefreshHappensOnce(t *testing.T) {
	expired := config.Tokens{AccessToken: "at0", RefreshToken: "rt0", TokenIssueTimeEpochSec: 1000, DurationUntilRefreshInSec: 10}
	st := seed(t, expired)
	gw := &rotatingGateway{}
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := New(&config.Store{Path: st.Path}, expired) // each one a separate "process"
			s.Client = gw
			tok, err := s.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		}()
	}
	wg.Wait()
	if gw.n != 1 {
		t.Fatalf("%d refreshes, want exactly 1", gw.n)
	}
	for _, tok := range got {
		if tok != "at1" {
			t.Fatalf("a process got token %q, want at1", tok)
		}
	}
	c, _ := st.Load()
	if c.Tokens.RefreshToken != "rt1" || c.Tokens.RefreshDue == "" {
		t.Fatalf("saved %+v", c.Tokens)
	}
}

func TestNotDueNoRefresh(t *testing.T) {
	fresh := config.Tokens{AccessToken: "at0", RefreshToken: "rt0", TokenIssueTimeEpochSec: time.Now().Unix(), DurationUntilRefreshInSec: 3600}
	st := seed(t, fresh)
	gw := &rotatingGateway{}
	s := New(st, fresh)
	s.Client = gw
	if tok, err := s.Token(context.Background()); err != nil || tok != "at0" || gw.n != 0 {
		t.Fatalf("tok=%q err=%v refreshes=%d", tok, err, gw.n)
	}
}

func TestRetryRequiredFollowsPolicy(t *testing.T) {
	tok := config.Tokens{AccessToken: "at0", RefreshToken: "rt0",
		RetryPolicy: &config.RetryPolicy{InitialDelayInMillis: 100, MaxDelayInMillis: 250, Multiplier: 2}}
	st := seed(t, tok)
	gw := &rotatingGateway{retryLeft: 3}
	var slept []time.Duration
	s := New(st, tok)
	s.Client = gw
	s.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	if _, err := s.Refresh(context.Background(), "at0"); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}
	if fmt.Sprint(slept) != fmt.Sprint(want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
}

func TestKickedOutClearsTokensKeepsCertificate(t *testing.T) {
	tok := config.Tokens{AccessToken: "at0", RefreshToken: "rt0"}
	st := seed(t, tok)
	s := New(st, tok)
	s.Client = &rotatingGateway{kicked: true}
	_, err := s.Refresh(context.Background(), "at0")
	var ended *ErrEnded
	if !errors.As(err, &ended) || !lineapi.IsSessionGone(err) {
		t.Fatalf("err = %v", err)
	}
	c, _ := st.Load()
	if c.Tokens.AccessToken != "" || c.Account.Certificate != "CERT" {
		t.Fatalf("config after kick: %+v", c)
	}
	if msg := err.Error(); !strings.Contains(msg, "another Chrome-extension session") || !strings.Contains(msg, "linectl login") {
		t.Fatalf("message %q", msg)
	}
}

// Once the session ended, every later refresh in the run — another
// goroutine's, or another process's after the tokens were cleared — says the
// session ended, never "not logged in".
func TestEndedSessionStaysEnded(t *testing.T) {
	tok := config.Tokens{AccessToken: "at0", RefreshToken: "rt0"}
	st := seed(t, tok)
	s := New(st, tok)
	s.Client = &rotatingGateway{kicked: true}
	for i := 0; i < 2; i++ {
		_, err := s.Refresh(context.Background(), "at0")
		if !errors.As(err, new(*ErrEnded)) {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	other := New(st, tok) // another process that still holds at0
	other.Client = &rotatingGateway{}
	if _, err := other.Refresh(context.Background(), "at0"); !errors.As(err, new(*ErrEnded)) || errors.Is(err, lineapi.ErrNotLoggedIn) {
		t.Fatalf("other process: %v", err)
	}
}
