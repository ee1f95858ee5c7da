package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/linectl/linectl/internal/config"
)

// obsTokenFile is obs-token.json: the object-storage token, its end, and a
// hash of the access token it was issued under (never the access token
// itself).
type obsTokenFile struct {
	Access string `json:"accessTokenSHA256"`
	Token  string `json:"token"`
	Until  int64  `json:"until"` // unix seconds
}

// accessKey is the hash that ties a kept token to an access token.
func accessKey(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return hex.EncodeToString(h[:])
}

// OBSToken is the kept object-storage token and its end, if it was issued
// under accessToken (after a token refresh or a new login it is not used).
// "" when there is none (or no access token).
func (d *Dir) OBSToken(accessToken string) (string, time.Time) {
	if accessToken == "" {
		return "", time.Time{}
	}
	b, err := config.ReadPrivateFile(d.path(FileOBSToken), "the object-storage token", 4<<10)
	var t obsTokenFile
	if err != nil || b == nil || json.Unmarshal(b, &t) != nil || t.Access != accessKey(accessToken) || t.Token == "" {
		return "", time.Time{}
	}
	return t.Token, time.Unix(t.Until, 0)
}

// SaveOBSToken keeps the token, issued under accessToken, for later runs.
// Best-effort: a failure costs the next run one acquireEncryptedAccessToken.
func (d *Dir) SaveOBSToken(accessToken, token string, until time.Time) {
	if accessToken == "" {
		return
	}
	if b, err := json.Marshal(obsTokenFile{Access: accessKey(accessToken), Token: token, Until: until.Unix()}); err == nil {
		_ = config.WriteFileAtomic(d.path(FileOBSToken), b)
	}
}

// RemoveOBSToken deletes the kept token (its session ended); a missing file
// is no error.
func (d *Dir) RemoveOBSToken() error {
	if err := os.Remove(d.path(FileOBSToken)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
