package lineapi

import (
	"context"
)

// SignRequest is what an x-hmac signature covers (docs/protocol.md §2).
type SignRequest struct {
	// Path is the request URI after the host, including the query string.
	Path string `json:"path"`
	// Body is the exact request body sent ("" for GET).
	Body string `json:"body"`
	// AccessToken is the x-line-access token, "" before login.
	AccessToken string `json:"accessToken"`
	// Version is the x-line-chrome-version value, e.g. "3.7.2".
	Version string `json:"version"`
}

// Signer computes the x-hmac header value (standard base64 of the 32-byte
// signature) for one request. Implementations must be safe for concurrent use.
type Signer interface {
	Sign(ctx context.Context, r SignRequest) (string, error)
}

// SignerFunc adapts a function to the Signer interface.
type SignerFunc func(ctx context.Context, r SignRequest) (string, error)

// Sign calls f.
func (f SignerFunc) Sign(ctx context.Context, r SignRequest) (string, error) { return f(ctx, r) }

// NoneSigner sends no x-hmac header. The real gateway rejects such requests
// with 10005 REQUEST_INVALID_HMAC; it is useful only against a simulator
// that does not check signatures.
type NoneSigner struct{}

// Sign returns "", meaning "send no x-hmac header".
func (NoneSigner) Sign(context.Context, SignRequest) (string, error) { return "", nil }
