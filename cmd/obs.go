package cmd

import (
	"context"
	"sync"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// newOBS returns an object-storage client for cl's account. Its token comes
// from acquireEncryptedAccessToken when first needed and is kept until 30 s
// before the lifetime LINE gave (beeper/line): in memory, and in
// obs-token.json beside the config (internal/state; 0600, like the config's own tokens), so
// that a later media send asks the gateway nothing but the send. A kept
// token belongs to the access token it was issued under: after a token
// refresh or a new login it is not used (beeper/line drops its cache then:
// rotation invalidates it). A refused token is replaced once.
func newOBS(f *factory, cl *lineapi.Client) *obs.Client {
	var mu sync.Mutex
	var token string
	var until time.Time
	get := func(ctx context.Context, fresh bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if token == "" && !fresh {
			token, until = loadOBSToken(f)
		}
		if token != "" && !fresh && f.Now().Before(until) {
			return token, nil
		}
		raw, err := cl.AcquireEncryptedAccessToken(ctx)
		if err != nil {
			return "", err
		}
		tok, ttl, err := obs.ParseToken(raw)
		if err != nil {
			return "", err
		}
		if ttl == 0 {
			ttl = 10 * time.Minute
		}
		token, until = tok, f.Now().Add(ttl-lineapi.OBSTokenTTLMargin)
		saveOBSToken(f, token, until) // best-effort: the next run asks again
		return token, nil
	}
	c := &obs.Client{BaseURL: lineapi.OBSBaseURLFor(cl.BaseURL()), HTTP: cl.HTTPClient(), Token: get, UserAgent: cl.UserAgent()}
	if f.HTTPSleep != nil {
		c.Sleep = f.HTTPSleep
	}
	return c
}

// accessToken is the session's current access token ("" without a
// session): a kept OBS token belongs to the one it was issued under.
func accessToken(f *factory) string {
	if src := f.Session(); src != nil {
		return src.Tokens().AccessToken
	}
	return ""
}

// loadOBSToken is the kept token if it is still good for this session.
func loadOBSToken(f *factory) (string, time.Time) {
	st, err := f.State()
	if err != nil {
		return "", time.Time{}
	}
	return st.OBSToken(accessToken(f))
}

// saveOBSToken keeps the token for later runs; a failure costs the next run
// one acquireEncryptedAccessToken, nothing else.
func saveOBSToken(f *factory, token string, until time.Time) {
	if st, err := f.State(); err == nil {
		st.SaveOBSToken(accessToken(f), token, until)
	}
}
