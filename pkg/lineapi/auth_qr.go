package lineapi

import (
	"context"
	"net/http"
	"time"
)

const (
	qrService       = "LoginQrCode/SecondaryQrCodeLoginService"
	qrNoticeService = "LoginQrCode/SecondaryQrCodeLoginPermitNoticeService"
	// qrPollWindow and pinPollWindow are the extension's x-lst values.
	qrPollWindow  = 150 * time.Second
	pinPollWindow = 110 * time.Second
)

type authSession struct {
	AuthSessionID string `json:"authSessionId"`
}

// QRCode is createQrCode's answer.
type QRCode struct {
	CallbackURL            string `json:"callbackUrl"`
	LongPollingMaxCount    int    `json:"longPollingMaxCount"`
	LongPollingIntervalSec int    `json:"longPollingIntervalSec"`
}

// QRLoginResult is qrCodeLoginV2's answer.
type QRLoginResult struct {
	Certificate        string              `json:"certificate"`
	TokenV3IssueResult *TokenV3IssueResult `json:"tokenV3IssueResult"`
	MID                string              `json:"mid"`
	LastBindTimestamp  I64                 `json:"lastBindTimestamp,omitempty"`
	MetaData           *E2EEMetadata       `json:"metaData,omitempty"`
}

// CreateQRSession starts a QR login and returns its auth session id.
//
// Gateway: POST /api/talk/thrift/LoginQrCode/SecondaryQrCodeLoginService/createSession [{}]
func (c *Client) CreateQRSession(ctx context.Context) (string, error) {
	var r authSession
	if err := c.thriftCall(ctx, qrService, "createSession", []any{struct{}{}}, &r, false, false); err != nil {
		return "", err
	}
	return r.AuthSessionID, nil
}

// CreateQRCode returns the URL to show as a QR code.
//
// Gateway: POST .../SecondaryQrCodeLoginService/createQrCode [{authSessionId}]
func (c *Client) CreateQRCode(ctx context.Context, authSessionID string) (*QRCode, error) {
	var r QRCode
	if err := c.thriftCall(ctx, qrService, "createQrCode", []any{authSession{authSessionID}}, &r, false, true); err != nil {
		return nil, err
	}
	return &r, nil
}

// pollQR is one long-poll window of a permit-notice call.
func (c *Client) pollQR(ctx context.Context, method, authSessionID string, window time.Duration) error {
	body, err := marshalBody([]any{authSession{authSessionID}})
	if err != nil {
		return err
	}
	empty := ""
	return c.do(ctx, &call{
		method: http.MethodPost, path: "/api/talk/thrift/" + qrNoticeService + "/" + method, name: method,
		body: body, token: &empty, header: headerWith("x-line-session-id", authSessionID, "x-lst", msString(window)),
		timeout: window + 15*time.Second, repeatable: true,
	}, nil)
}

// CheckQRCodeVerified waits one window for the phone to scan the QR code.
// An expired window returns ErrPollExpired (poll again).
//
// Gateway: POST .../SecondaryQrCodeLoginPermitNoticeService/checkQrCodeVerified (x-line-session-id, x-lst: 150000)
func (c *Client) CheckQRCodeVerified(ctx context.Context, authSessionID string, window time.Duration) error {
	return c.pollQR(ctx, "checkQrCodeVerified", authSessionID, window)
}

// VerifyCertificate asks whether a saved certificate lets this login skip the
// PIN. ErrQRVerificationFailed means it does not.
//
// Gateway: POST .../SecondaryQrCodeLoginService/verifyCertificate [{authSessionId, certificate}]
func (c *Client) VerifyCertificate(ctx context.Context, authSessionID, certificate string) error {
	arg := struct {
		AuthSessionID string `json:"authSessionId"`
		Certificate   string `json:"certificate"`
	}{authSessionID, certificate}
	return c.thriftCall(ctx, qrService, "verifyCertificate", []any{arg}, nil, false, false)
}

// CreatePINCode returns the PIN the user must type on the phone.
//
// Gateway: POST .../SecondaryQrCodeLoginService/createPinCode [{authSessionId}]
func (c *Client) CreatePINCode(ctx context.Context, authSessionID string) (string, error) {
	var r struct {
		PinCode string `json:"pinCode"`
	}
	if err := c.thriftCall(ctx, qrService, "createPinCode", []any{authSession{authSessionID}}, &r, false, false); err != nil {
		return "", err
	}
	return r.PinCode, nil
}

// CheckPINCodeVerified waits one window for the PIN to be entered on the phone.
//
// Gateway: POST .../SecondaryQrCodeLoginPermitNoticeService/checkPinCodeVerified (x-lst: 110000)
func (c *Client) CheckPINCodeVerified(ctx context.Context, authSessionID string, window time.Duration) error {
	return c.pollQR(ctx, "checkPinCodeVerified", authSessionID, window)
}

// QRCodeLoginV2 finishes a QR login and issues the certificate and tokens.
//
// Gateway: POST .../SecondaryQrCodeLoginService/qrCodeLoginV2 [{systemName, modelName, autoLoginIsRequired, authSessionId}]
func (c *Client) QRCodeLoginV2(ctx context.Context, authSessionID string) (*QRLoginResult, error) {
	arg := struct {
		SystemName          string `json:"systemName"`
		ModelName           string `json:"modelName"`
		AutoLoginIsRequired bool   `json:"autoLoginIsRequired"`
		AuthSessionID       string `json:"authSessionId"`
	}{"CHROMEOS", "CHROME", false, authSessionID}
	var r QRLoginResult
	if err := c.thriftCall(ctx, qrService, "qrCodeLoginV2", []any{arg}, &r, false, false); err != nil {
		return nil, err
	}
	return &r, nil
}
