// Package simsign is the x-hmac scheme of linectl's gateway simulator.
//
// LINE's real signature comes from a white-box key inside ltsm.wasm that no
// one outside LINE holds, so the simulator cannot check real signatures.
// It checks this scheme instead, which has the same inputs and shape as the
// real one (docs/protocol.md §2): a key derived from the extension version and
// the access token, an HMAC-SHA256 over path+body, standard base64.
//
//	dk  = HMAC-SHA256(key, SHA-256(version) || SHA-256(accessToken))
//	sig = base64(HMAC-SHA256(dk, path || body))
package simsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// Sign returns the simulator's x-hmac value for one request.
func Sign(key []byte, version, accessToken, path, body string) string {
	cv := sha256.Sum256([]byte(version))
	at := sha256.Sum256([]byte(accessToken))
	m := hmac.New(sha256.New, key)
	m.Write(cv[:])
	m.Write(at[:])
	dk := m.Sum(nil)
	m = hmac.New(sha256.New, dk)
	m.Write([]byte(path))
	m.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is the valid x-hmac for the request, in constant time.
func Verify(key []byte, version, accessToken, path, body, sig string) bool {
	want := Sign(key, version, accessToken, path, body)
	return hmac.Equal([]byte(want), []byte(sig))
}
