package lineapi

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// Session is what a successful login yields. It holds secrets: store it
// carefully and never print it.
type Session struct {
	MID         string
	Certificate string // empty when the gateway issued none (a certificate login)
	Tokens      *TokenV3IssueResult
	Method      string // "password" or "qr"
	// UsedCertificate is true when a saved certificate let the login skip the PIN.
	UsedCertificate bool
	// E2EE is the Letter Sealing key-chain material, when the login returned one,
	// and LoginKey the X25519 key it is wrapped to (a QR login's, or a password
	// login's PasswordE2EE's when it has a LoginKey method, as
	// LetterSealingLogin does). LetterSealingKeys unwraps it.
	E2EE     *E2EEMetadata
	LoginKey *ecdh.PrivateKey
}

// LoginEvents reports what a person must see during a login. Any may be nil.
type LoginEvents struct {
	QR       func(url string) // show this URL as a QR code
	PIN      func(pin string) // show this PIN; the user confirms it on the phone
	Progress func(msg string) // a waiting state, for stderr
}

func (e LoginEvents) progress(format string, a ...any) {
	if e.Progress != nil {
		e.Progress(fmt.Sprintf(format, a...))
	}
}

// ErrLoginTimedOut is returned when the phone did not act within the allowed windows.
var ErrLoginTimedOut = errors.New("the phone did not confirm in time")

// PasswordE2EE runs the Letter Sealing part of a password login (loginV2
// type 2). Begin returns the loginV2 secret and the PIN to show; Finish
// returns base64(hashKeyChain) for confirmE2EELogin from the LF1 metadata.
type PasswordE2EE interface {
	Begin() (secret, pin string, err error)
	Finish(meta *E2EEMetadata) (hashKeyChain string, err error)
}

// PasswordLogin is the input of LoginWithPassword.
type PasswordLogin struct {
	Email       string
	Password    string
	Certificate string       // saved certificate, "" if none
	E2EE        PasswordE2EE // nil: skip the Letter Sealing attempt
	Random      io.Reader    // RSA padding randomness; nil = crypto/rand
	Events      LoginEvents
}

// LoginWithPassword logs in with email and password as the extension does
// (docs/protocol.md §3): a saved certificate first (no PIN); then the Letter
// Sealing attempt (type 2), falling back to a plain login with a fresh RSA
// key when LINE answers 89, 94 or 97; then a plain type 0 login whose PIN the
// user confirms on the phone. Each attempt fetches a fresh RSA key.
func (c *Client) LoginWithPassword(ctx context.Context, in PasswordLogin) (*Session, error) {
	attempt := func(typ int, cert, secret string) (*LoginResult, error) {
		key, err := c.GetRSAKeyInfo(ctx)
		if err != nil {
			return nil, err
		}
		enc, err := EncryptPassword(key, in.Email, in.Password, in.Random)
		if err != nil {
			return nil, err
		}
		return c.LoginV2(ctx, LoginRequest{
			Type: typ, IdentityProvider: 1, Identifier: key.KeyName, Password: enc,
			SystemName: "Chrome", Certificate: cert, Secret: secret, E2EEVersion: 1,
		})
	}
	if in.Certificate != "" {
		r, err := attempt(LoginTypeIDCredential, in.Certificate, "")
		if err != nil {
			return nil, err
		}
		if r.Type == LoginResultSuccess {
			s := sessionFrom(r, "password")
			s.UsedCertificate = true
			return s, nil
		}
		in.Events.progress("saved certificate not accepted; a PIN confirmation is needed")
	}
	if in.E2EE != nil {
		secret, pin, err := in.E2EE.Begin()
		if err != nil {
			return nil, err
		}
		r, err := attempt(LoginTypeIDCredentialWithE2EE, "", secret)
		switch {
		case errors.Is(err, ErrE2EESenderNotAllowed), errors.Is(err, ErrE2EEUpdatePrimary), errors.Is(err, ErrE2EEPrimaryNoSupport):
			in.Events.progress("Letter Sealing login not available (%s); using a plain login", Describe(err))
		case err != nil:
			return nil, err
		case r.Type == LoginResultSuccess:
			return sessionFrom(r, "password"), nil
		default:
			return c.finishE2EEPasswordLogin(ctx, r, pin, in)
		}
	}
	r, err := attempt(LoginTypeIDCredential, "", "")
	if err != nil {
		return nil, err
	}
	if r.Type == LoginResultSuccess {
		return sessionFrom(r, "password"), nil
	}
	if r.Type != LoginResultRequireDeviceConfirm || r.Verifier == "" {
		return nil, fmt.Errorf("loginV2: unsupported login result type %d", r.Type)
	}
	if in.Events.PIN != nil {
		in.Events.PIN(r.PinCode)
	}
	in.Events.progress("waiting for the PIN to be confirmed on the phone")
	if _, err := c.waitConfirm(ctx, "JQ", r.Verifier, jqPollWindow); err != nil {
		return nil, err
	}
	return c.finishVerifier(ctx, r.Verifier)
}

func (c *Client) finishE2EEPasswordLogin(ctx context.Context, r *LoginResult, pin string, in PasswordLogin) (*Session, error) {
	if r.Type != LoginResultRequireDeviceConfirm || r.Verifier == "" {
		return nil, fmt.Errorf("loginV2: unsupported login result type %d", r.Type)
	}
	if in.Events.PIN != nil {
		in.Events.PIN(pin)
	}
	in.Events.progress("waiting for the PIN to be confirmed on the phone")
	dc, err := c.waitConfirm(ctx, "LF1", r.Verifier, lf1PollWindow)
	if err != nil {
		return nil, err
	}
	hash, err := in.E2EE.Finish(dc.Result.Metadata)
	if err != nil {
		return nil, err
	}
	if err := c.ConfirmE2EELogin(ctx, r.Verifier, hash); err != nil {
		return nil, err
	}
	s, err := c.finishVerifier(ctx, r.Verifier)
	if err == nil {
		s.E2EE = dc.Result.Metadata
		if k, ok := in.E2EE.(interface{ LoginKey() *ecdh.PrivateKey }); ok {
			s.LoginKey = k.LoginKey()
		}
	}
	return s, err
}

// waitConfirm polls windows until the phone confirms or ctx ends.
func (c *Client) waitConfirm(ctx context.Context, channel, verifier string, window time.Duration) (*DeviceConfirm, error) {
	for {
		dc, err := c.WaitDeviceConfirm(ctx, channel, verifier, window)
		if errors.Is(err, ErrPollExpired) {
			if ctx.Err() != nil {
				return nil, ErrLoginTimedOut
			}
			continue
		}
		return dc, err
	}
}

func (c *Client) finishVerifier(ctx context.Context, verifier string) (*Session, error) {
	r, err := c.LoginV2(ctx, LoginRequest{
		Type: LoginTypeQRCode, IdentityProvider: 1, SystemName: "Chrome", Verifier: verifier, E2EEVersion: 1,
	})
	if err != nil {
		return nil, err
	}
	if r.Type != LoginResultSuccess {
		return nil, fmt.Errorf("loginV2: login not completed (result type %d)", r.Type)
	}
	return sessionFrom(r, "password"), nil
}

func sessionFrom(r *LoginResult, method string) *Session {
	return &Session{MID: r.MID, Certificate: r.Certificate, Tokens: r.TokenV3IssueResult, Method: method}
}

// QRLogin is the input of LoginWithQR.
type QRLogin struct {
	Certificate string           // saved certificate, "" if none
	LoginKey    *ecdh.PrivateKey // X25519 key for the key chain; nil = generate
	Events      LoginEvents
}

// qrURL returns the URL the phone must scan: the callback URL with the
// login public key (standard base64, query-escaped) and e2eeVersion=1.
func qrURL(callbackURL string, pub []byte) string {
	return callbackURL + "?secret=" + url.QueryEscape(base64.StdEncoding.EncodeToString(pub)) + "&e2eeVersion=1"
}

// LoginWithQR logs in by QR code (docs/protocol.md §4): the phone scans the code;
// a saved certificate skips the PIN, otherwise the user types the shown PIN
// on the phone. Each long-poll window that expires (410) is polled again, up
// to the count the gateway gives.
func (c *Client) LoginWithQR(ctx context.Context, in QRLogin) (*Session, error) {
	key := in.LoginKey
	if key == nil {
		var err error
		if key, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	sid, err := c.CreateQRSession(ctx)
	if err != nil {
		return nil, err
	}
	qr, err := c.CreateQRCode(ctx, sid)
	if err != nil {
		return nil, err
	}
	if in.Events.QR != nil {
		in.Events.QR(qrURL(qr.CallbackURL, key.PublicKey().Bytes()))
	}
	windows := max(qr.LongPollingMaxCount, 1)
	in.Events.progress("waiting for the QR code to be scanned in the LINE app")
	if err := c.pollWindows(ctx, windows, func() error { return c.CheckQRCodeVerified(ctx, sid, qrPollWindow) }); err != nil {
		return nil, fmt.Errorf("QR code not scanned: %w", err)
	}
	usedCert := true
	if err := c.VerifyCertificate(ctx, sid, in.Certificate); err != nil {
		if !errors.Is(err, ErrQRVerificationFailed) {
			return nil, err
		}
		usedCert = false
		pin, err := c.CreatePINCode(ctx, sid)
		if err != nil {
			return nil, err
		}
		if in.Events.PIN != nil {
			in.Events.PIN(pin)
		}
		in.Events.progress("enter the PIN on the phone")
		if err := c.pollWindows(ctx, windows, func() error { return c.CheckPINCodeVerified(ctx, sid, pinPollWindow) }); err != nil {
			return nil, fmt.Errorf("PIN not confirmed: %w", err)
		}
	}
	r, err := c.QRCodeLoginV2(ctx, sid)
	if err != nil {
		return nil, err
	}
	return &Session{
		MID: r.MID, Certificate: r.Certificate, Tokens: r.TokenV3IssueResult, Method: "qr",
		UsedCertificate: usedCert, E2EE: r.MetaData, LoginKey: key,
	}, nil
}

func (c *Client) pollWindows(ctx context.Context, windows int, poll func() error) error {
	for i := 0; i < windows; i++ {
		err := poll()
		if !errors.Is(err, ErrPollExpired) {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return ErrLoginTimedOut
}
