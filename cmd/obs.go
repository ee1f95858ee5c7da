package cmd

import (
	"context"
	"sync"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// newOBS returns an object-storage client for cl's account. Its token comes
// from acquireEncryptedAccessToken when first needed and is kept, in memory
// only, until 30 s before the lifetime LINE gave (beeper/line); a refused
// token is replaced once.
func newOBS(f *factory, cl *lineapi.Client) *obs.Client {
	var mu sync.Mutex
	var token string
	var until time.Time
	get := func(ctx context.Context, fresh bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
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
		return token, nil
	}
	c := &obs.Client{BaseURL: lineapi.OBSBaseURLFor(cl.BaseURL()), HTTP: cl.HTTPClient(), Token: get, UserAgent: cl.UserAgent()}
	if f.HTTPSleep != nil {
		c.Sleep = f.HTTPSleep
	}
	return c
}
