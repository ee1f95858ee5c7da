package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// newOBS returns an object-storage client for cl's account. Its token comes
// from acquireEncryptedAccessToken when first needed and is kept until 30 s
// before the lifetime LINE gave (beeper/line): in memory, and in
// obs-token.json beside the config (0600, like the config's own tokens), so
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

// obsTokenFile is obs-token.json: the token, its end, and a hash of the
// access token it was issued under (never the access token itself).
type obsTokenFile struct {
	Access string `json:"accessTokenSHA256"`
	Token  string `json:"token"`
	Until  int64  `json:"until"` // unix seconds
}

// sessionKey is the hash that ties a kept OBS token to the session's
// current access token ("" without a session).
func sessionKey(f *factory) string {
	src := f.Session()
	if src == nil || src.Tokens().AccessToken == "" {
		return ""
	}
	h := sha256.Sum256([]byte(src.Tokens().AccessToken))
	return hex.EncodeToString(h[:])
}

// loadOBSToken is the kept token if it is still good for this session.
func loadOBSToken(f *factory) (string, time.Time) {
	key := sessionKey(f)
	if key == "" || f.store == nil {
		return "", time.Time{}
	}
	b, err := config.ReadPrivateFile(f.store.Beside(config.FileOBSToken), "the object-storage token", 4<<10)
	var t obsTokenFile
	if err != nil || b == nil || json.Unmarshal(b, &t) != nil || t.Access != key || t.Token == "" {
		return "", time.Time{}
	}
	return t.Token, time.Unix(t.Until, 0)
}

// saveOBSToken keeps the token for later runs; a failure costs the next run
// one acquireEncryptedAccessToken, nothing else.
func saveOBSToken(f *factory, token string, until time.Time) {
	key := sessionKey(f)
	if key == "" || f.store == nil {
		return
	}
	if b, err := json.Marshal(obsTokenFile{Access: key, Token: token, Until: until.Unix()}); err == nil {
		_ = config.WriteFileAtomic(f.store.Beside(config.FileOBSToken), b)
	}
}
