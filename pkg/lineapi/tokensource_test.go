package lineapi_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
	"github.com/linectl/linectl/pkg/lineapi"
)

// RefreshingTokens renews an expired access token (119) once, saves the new
// set before using it, and a due refresh happens before the call.
func TestRefreshingTokens(t *testing.T) {
	sim, url, s := carolSession(t, simgw.Options{AccessTokenTTL: time.Hour, RefreshAfter: 30 * time.Minute})
	ctx := context.Background()
	var saved []lineapi.TokenV3IssueResult
	ts := &lineapi.RefreshingTokens{Tokens: *s.Tokens, Save: func(_ context.Context, tk lineapi.TokenV3IssueResult) error {
		saved = append(saved, tk)
		return nil
	}}
	now := time.Now()
	cl, _ := lineapi.New(url, lineapi.WithTokenSource(ts), lineapi.WithClock(func() time.Time { return now }))
	ts.Client = cl
	if _, err := cl.GetProfile(ctx); err != nil || len(saved) != 0 {
		t.Fatalf("fresh token: %v, saved %d", err, len(saved))
	}
	// Past the access token's life: LINE answers 119; one refresh, saved, then the call.
	sim.Advance(2 * time.Hour)
	now = now.Add(2 * time.Hour)
	if _, err := cl.GetProfile(ctx); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 1 || saved[0].AccessToken == s.Tokens.AccessToken || ts.Tokens.AccessToken != saved[0].AccessToken {
		t.Fatalf("saved %d sets", len(saved))
	}
	// A save that fails: the new set is not used, the call fails.
	sim.Advance(2 * time.Hour)
	now = now.Add(2 * time.Hour)
	ts.Save = func(context.Context, lineapi.TokenV3IssueResult) error { return context.DeadlineExceeded }
	if _, err := cl.GetProfile(ctx); err == nil {
		t.Fatal("a set that could not be saved was used")
	}
}

// --debug never shows the OBS token acquireEncryptedAccessToken answers.
func TestDebugLogHidesOBSToken(t *testing.T) {
	_, url, s := carolSession(t, simgw.Options{})
	ctx := context.Background()
	var log bytes.Buffer
	cl, _ := lineapi.New(url, lineapi.WithTokenSource(lineapi.StaticToken(s.Tokens.AccessToken)), lineapi.WithDebugLog(&log))
	raw, err := cl.AcquireEncryptedAccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, _ := strings.Cut(raw, "\x1e")
	if tok == "" || strings.Contains(log.String(), tok) || strings.Contains(log.String(), s.Tokens.AccessToken) {
		t.Fatalf("a token reached the debug log:\n%s", log.String())
	}
}

// carolSession starts a simulator and logs Carol in by password.
func carolSession(t *testing.T, o simgw.Options) (*simgw.Server, string, *lineapi.Session) {
	t.Helper()
	o.PhoneDelay = time.Millisecond
	sim := simgw.NewSandbox(o)
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	anon, _ := lineapi.New(url)
	s, err := anon.LoginWithPassword(context.Background(), lineapi.PasswordLogin{Email: simgw.CarolEmail, Password: simgw.DemoPassword})
	if err != nil {
		t.Fatal(err)
	}
	return sim, url, s
}
