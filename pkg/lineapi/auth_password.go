package lineapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// Login types and results (docs/protocol.md §3).
const (
	LoginTypeIDCredential         = 0
	LoginTypeQRCode               = 1 // finish with a verifier
	LoginTypeIDCredentialWithE2EE = 2

	LoginResultSuccess              = 1
	LoginResultRequireQRCode        = 2
	LoginResultRequireDeviceConfirm = 3
	LoginResultRequireSMSConfirm    = 4
)

// RSAKeyInfo is a single-use RSA key for encrypting one password login.
type RSAKeyInfo struct {
	KeyName    string `json:"keynm"`
	NValue     string `json:"nvalue"` // hex modulus
	EValue     string `json:"evalue"` // hex exponent
	SessionKey string `json:"sessionKey"`
}

// GetRSAKeyInfo fetches a fresh, single-use RSA key (identityProvider 1 = LINE).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getRSAKeyInfo [1]
func (c *Client) GetRSAKeyInfo(ctx context.Context) (*RSAKeyInfo, error) {
	var k RSAKeyInfo
	if err := c.thriftCall(ctx, "Talk/TalkService", "getRSAKeyInfo", []any{1}, &k, false, true); err != nil {
		return nil, err
	}
	if k.KeyName == "" || k.NValue == "" || k.EValue == "" {
		return nil, errors.New("getRSAKeyInfo: incomplete key in response")
	}
	return &k, nil
}

// EncryptPassword returns the loginV2 password field: lowercase hex of the
// RSA PKCS#1 v1.5 encryption of chr(len(sessionKey))+sessionKey+chr(len(email))
// +email+chr(len(password))+password, in UTF-8. Each length is the UTF-8 byte
// length of its part written as one character (the implementations agree for
// ASCII; byte length is what the server can check for other text).
func EncryptPassword(k *RSAKeyInfo, email, password string, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	n, ok := new(big.Int).SetString(k.NValue, 16)
	if !ok {
		return "", errors.New("RSA key: bad modulus")
	}
	e, ok := new(big.Int).SetString(k.EValue, 16)
	if !ok || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return "", errors.New("RSA key: bad exponent")
	}
	var sb strings.Builder
	for _, part := range []string{k.SessionKey, email, password} {
		sb.WriteRune(rune(len(part)))
		sb.WriteString(part)
	}
	//lint:ignore SA1019 LINE's password login encrypts with RSA PKCS #1 v1.5 (docs/protocol.md); the gateway accepts nothing else
	ct, err := rsa.EncryptPKCS1v15(random, &rsa.PublicKey{N: n, E: int(e.Int64())}, []byte(sb.String()))
	if err != nil {
		return "", fmt.Errorf("RSA encrypt: %w", err)
	}
	return hex.EncodeToString(ct), nil
}

// LoginRequest is loginV2's argument; field order is the extension's.
type LoginRequest struct {
	Type             int    `json:"type"`
	IdentityProvider int    `json:"identityProvider"`
	Identifier       string `json:"identifier"`
	Password         string `json:"password"`
	KeepLoggedIn     bool   `json:"keepLoggedIn"`
	AccessLocation   string `json:"accessLocation"`
	SystemName       string `json:"systemName"`
	Certificate      string `json:"certificate"`
	Verifier         string `json:"verifier"`
	Secret           string `json:"secret"`
	E2EEVersion      int    `json:"e2eeVersion"`
	ModelName        string `json:"modelName"`
}

// LoginResult is loginV2's answer.
type LoginResult struct {
	Type                int                 `json:"type"`
	Verifier            string              `json:"verifier,omitempty"`
	PinCode             string              `json:"pinCode,omitempty"`
	Certificate         string              `json:"certificate,omitempty"`
	MID                 string              `json:"mid,omitempty"`
	LastPrimaryBindTime I64                 `json:"lastPrimaryBindTime,omitempty"`
	TokenV3IssueResult  *TokenV3IssueResult `json:"tokenV3IssueResult,omitempty"`
}

// LoginV2 runs one loginV2 step.
//
// Gateway: POST /api/talk/thrift/Talk/AuthService/loginV2 [LoginRequest]
func (c *Client) LoginV2(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	var r LoginResult
	// Never repeated automatically: an RSA key is single-use.
	if err := c.thriftCall(ctx, "Talk/AuthService", "loginV2", []any{req}, &r, false, false); err != nil {
		return nil, err
	}
	return &r, nil
}

// DeviceConfirm is the JQ long-poll's answer once the PIN was confirmed on the phone.
type DeviceConfirm struct {
	Result struct {
		Verifier  string        `json:"verifier"`
		AuthPhase string        `json:"authPhase"`
		Metadata  *E2EEMetadata `json:"metadata,omitempty"`
	} `json:"result"`
	Timestamp I64 `json:"timestamp"`
}

// E2EEMetadata is the Letter Sealing key-chain material a login returns.
type E2EEMetadata struct {
	KeyID             string `json:"keyId,omitempty"`
	EncryptedKeyChain string `json:"encryptedKeyChain,omitempty"`
	PublicKey         string `json:"publicKey,omitempty"`
	E2EEVersion       string `json:"e2eeVersion,omitempty"`
	ErrorCode         string `json:"errorCode,omitempty"`
}

// Long-poll windows (x-lst) the extension uses.
const (
	jqPollWindow  = 180 * time.Second
	lf1PollWindow = 110 * time.Second
)

// WaitDeviceConfirm long-polls until the user confirmed the login PIN on the
// phone. One call is one window; an expired window returns ErrPollExpired.
// channel is "JQ" (plain login) or "LF1" (Letter Sealing login).
//
// Gateway: GET /api/talk/long-polling/JQ (x-line-session-id: verifier, x-lst)
func (c *Client) WaitDeviceConfirm(ctx context.Context, channel, verifier string, window time.Duration) (*DeviceConfirm, error) {
	var r DeviceConfirm
	empty := ""
	err := c.do(ctx, &call{
		method: http.MethodGet, path: "/api/talk/long-polling/" + channel, name: "long-polling/" + channel,
		token: &empty, header: headerWith("x-line-session-id", verifier, "x-lst", msString(window)),
		timeout: window + 15*time.Second, repeatable: true,
	}, &r)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ConfirmE2EELogin completes a Letter Sealing password login with the
// device secret (base64 hashKeyChain). Its answer is not used.
//
// Gateway: POST /api/talk/thrift/Talk/AuthService/confirmE2EELogin [verifier, deviceSecret]
func (c *Client) ConfirmE2EELogin(ctx context.Context, verifier, hashKeyChain string) error {
	var ignored json.RawMessage
	return c.thriftCall(ctx, "Talk/AuthService", "confirmE2EELogin", []any{verifier, hashKeyChain}, &ignored, false, false)
}
