package lineapi

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Gateway envelope codes (docs/protocol.md §1, the extension's enum).
const (
	CodeOK                    = 0
	CodeRequestNotFound       = 10001
	CodeRequestInvalidJSON    = 10002
	CodeRequestInvalidParam   = 10003
	CodeRequestNeedLogin      = 10004
	CodeRequestInvalidHMAC    = 10005
	CodeRequestMustUpgrade    = 10006
	CodeResponseError         = 10051
	CodeResponseHTTPError     = 10052
	CodeThriftInvalidMethod   = 10101
	CodeThriftInvalidArgument = 10102
	CodeThriftInvalidRequest  = 10104
	CodeThriftNoAuthSessionID = 10105
	CodeAuthInvalidRequest    = 10201
	CodeAuthRetryRequired     = 10202
	CodeUploadInvalidFile     = 10301
	CodeUploadTooLarge        = 10302
	CodeUnknownError          = 99999
)

// Exception names carried in a 10051 envelope's data.
const (
	ExceptionTalk     = "TalkException"
	ExceptionQRCode   = "SecondaryQrCodeException"
	exceptionDefault  = ExceptionTalk
	redactedParameter = "<redacted>"
)

// TalkError is a Thrift exception returned by the gateway in a 10051
// RESPONSE_ERROR envelope: a TalkException, or a SecondaryQrCodeException
// for the QR-login services.
type TalkError struct {
	Name         string            // "TalkException", "SecondaryQrCodeException"
	Code         int               // the exception's code, e.g. 119
	Reason       string            // e.g. "Access token refresh required"
	ParameterMap map[string]string // may be nil
}

func (e *TalkError) Error() string {
	name := e.Name
	if name == "" {
		name = exceptionDefault
	}
	name = SafeText(name)
	if e.Reason == "" {
		return fmt.Sprintf("%s %d (%s)", name, e.Code, talkCodeName(e.Name, e.Code))
	}
	return fmt.Sprintf("%s %d (%s): %s", name, e.Code, talkCodeName(e.Name, e.Code), SafeText(e.Reason))
}

// Is reports whether target is a *TalkError with the same code and, when the
// target names one, the same exception name. It makes the sentinels below
// usable with errors.Is.
func (e *TalkError) Is(target error) bool {
	t, ok := target.(*TalkError)
	if !ok {
		return false
	}
	if t.Name != "" && e.Name != "" && t.Name != e.Name {
		return false
	}
	return t.Code == e.Code
}

// GatewayError is a non-zero gateway envelope other than a Thrift exception,
// or an HTTP failure whose body is not an envelope (Code is then 0).
type GatewayError struct {
	Code       int    // envelope code, e.g. 10005; 0 if the body was not an envelope
	Message    string // envelope message, e.g. "REQUEST_INVALID_HMAC"
	HTTPStatus int    // HTTP status of the response
	StatusCode int    // data.statusCode of a 10052 RESPONSE_HTTP_ERROR (410 = poll window expired)
}

func (e *GatewayError) Error() string {
	switch {
	case e.Code == 0:
		return fmt.Sprintf("gateway answered HTTP %d", e.HTTPStatus)
	case e.StatusCode != 0:
		return fmt.Sprintf("gateway error %d %s (status %d)", e.Code, SafeText(e.Message), e.StatusCode)
	default:
		return fmt.Sprintf("gateway error %d %s", e.Code, SafeText(e.Message))
	}
}

// BadResponseError is an answer that came back but is no usable envelope:
// a 2xx body that is empty, not JSON, truncated, nested too deeply, too
// large, not an envelope, or whose data does not decode. The request reached
// the gateway, so for a call that changes state (sendMessage) the outcome is
// unknown; a read-only call may be repeated.
type BadResponseError struct {
	Method     string // the RPC, e.g. "sendMessage" ("" from ParseEnvelope)
	HTTPStatus int
	Reason     string // what was wrong, e.g. "not JSON"
}

func (e *BadResponseError) Error() string {
	if e.Method == "" {
		return fmt.Sprintf("unusable gateway answer (HTTP %d): %s", e.HTTPStatus, e.Reason)
	}
	return fmt.Sprintf("%s: unusable gateway answer (HTTP %d): %s", e.Method, e.HTTPStatus, e.Reason)
}

// SafeText returns s fit for a terminal: C0 and C1 control characters, DEL,
// and the bidirectional controls (U+061C, U+200E–U+200F, U+202A–U+202E,
// U+2066–U+2069) become \uXXXX, and invalid UTF-8 becomes U+FFFD, so text
// from the gateway cannot move the cursor, recolour or reorder what is shown.
func SafeText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || IsSteering(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for _, r := range s {
		if IsSteering(r) {
			b = fmt.Appendf(b, "\\u%04x", r)
			continue
		}
		b = utf8.AppendRune(b, r) // RuneError for invalid bytes
	}
	return string(b)
}

// IsSteering reports whether r can steer a terminal or reorder text: a C0 or
// C1 control, DEL, or a bidirectional formatting character.
func IsSteering(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Is matches a target *GatewayError by Code, and by StatusCode and
// HTTPStatus when the target sets them.
func (e *GatewayError) Is(target error) bool {
	t, ok := target.(*GatewayError)
	if !ok {
		return false
	}
	if t.Code != e.Code {
		return false
	}
	if t.StatusCode != 0 && t.StatusCode != e.StatusCode {
		return false
	}
	return t.HTTPStatus == 0 || t.HTTPStatus == e.HTTPStatus
}

// Temporary reports whether the failure is worth retrying later: a 5xx or 429
// that carried no envelope, 10202, or a 10052 window expiry.
func (e *GatewayError) Temporary() bool {
	if e.Code == 0 {
		return e.HTTPStatus >= 500 || e.HTTPStatus == 429
	}
	return e.Code == CodeAuthRetryRequired || e.Code == CodeResponseHTTPError || e.Code == CodeUnknownError
}

// TransportError is a failure to get any HTTP response: connection refused,
// reset, timeout. Written says whether the request may have reached the
// server: when false it certainly did not, so even a send is safe to retry.
type TransportError struct {
	Method  string // the RPC or path, e.g. "sendMessage"
	Written bool   // the request was fully written before the failure
	Err     error
}

func (e *TransportError) Error() string {
	w := "before the request was sent"
	if e.Written {
		w = "after the request was sent"
	}
	return fmt.Sprintf("%s: connection failed %s: %v", e.Method, w, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Sentinels for errors.Is. TalkException codes follow LINE's ErrorCode enum.
var (
	ErrAuthenticationFailed = &TalkError{Name: ExceptionTalk, Code: 1}
	ErrExcessiveAccess      = &TalkError{Name: ExceptionTalk, Code: 4}
	ErrNotFound             = &TalkError{Name: ExceptionTalk, Code: 5}
	ErrInvalidLength        = &TalkError{Name: ExceptionTalk, Code: 6}
	ErrNotAvailableUser     = &TalkError{Name: ExceptionTalk, Code: 7}
	ErrNotAuthorizedDevice  = &TalkError{Name: ExceptionTalk, Code: 8}
	// ErrInvalidIdentityCredential: loginV2 with a wrong email or password.
	ErrInvalidIdentityCredential = &TalkError{Name: ExceptionTalk, Code: 18}
	ErrNotAMember                = &TalkError{Name: ExceptionTalk, Code: 10}
	ErrAbuseBlock                = &TalkError{Name: ExceptionTalk, Code: 35}
	ErrCongestionControl         = &TalkError{Name: ExceptionTalk, Code: 58}
	ErrE2EERetryEncrypt          = &TalkError{Name: ExceptionTalk, Code: 82} // "can not send using plain mode"
	ErrE2EEUpdateSenderKey       = &TalkError{Name: ExceptionTalk, Code: 83}
	ErrE2EEUpdateReceiver        = &TalkError{Name: ExceptionTalk, Code: 84}
	ErrE2EESenderNotAllowed      = &TalkError{Name: ExceptionTalk, Code: 89} // loginV2 type 2: "not supported"
	ErrE2EEUpdatePrimary         = &TalkError{Name: ExceptionTalk, Code: 94}
	ErrE2EEPrimaryNoSupport      = &TalkError{Name: ExceptionTalk, Code: 97}
	ErrE2EERetryPlain            = &TalkError{Name: ExceptionTalk, Code: 98} // "member settings off"
	ErrE2EERecreateGroupKey      = &TalkError{Name: ExceptionTalk, Code: 99}
	ErrServerBusy                = &TalkError{Name: ExceptionTalk, Code: 101}
	ErrMustRefreshToken          = &TalkError{Name: ExceptionTalk, Code: 119}

	ErrQRVerificationFailed = &TalkError{Name: ExceptionQRCode, Code: 2}
	ErrQRInvalidContext     = &TalkError{Name: ExceptionQRCode, Code: 100}

	ErrNeedLogin          = &GatewayError{Code: CodeRequestNeedLogin}
	ErrInvalidHMAC        = &GatewayError{Code: CodeRequestInvalidHMAC}
	ErrMustUpgrade        = &GatewayError{Code: CodeRequestMustUpgrade}
	ErrAuthInvalidRequest = &GatewayError{Code: CodeAuthInvalidRequest}
	ErrAuthRetryRequired  = &GatewayError{Code: CodeAuthRetryRequired}
	ErrPollExpired        = &GatewayError{Code: CodeResponseHTTPError, StatusCode: 410}
)

var talkCodeNames = map[int]string{
	0: "ILLEGAL_ARGUMENT", 1: "AUTHENTICATION_FAILED", 2: "DB_FAILED", 3: "INVALID_STATE",
	4: "EXCESSIVE_ACCESS", 5: "NOT_FOUND", 6: "INVALID_LENGTH", 7: "NOT_AVAILABLE_USER",
	8: "NOT_AUTHORIZED_DEVICE", 9: "INVALID_MID", 10: "NOT_A_MEMBER", 11: "INCOMPATIBLE_APP_VERSION",
	12: "NOT_READY", 13: "NOT_AVAILABLE_SESSION", 14: "NOT_AUTHORIZED_SESSION", 15: "SYSTEM_ERROR",
	16: "NO_AVAILABLE_VERIFICATION_METHOD", 17: "NOT_AUTHENTICATED", 18: "INVALID_IDENTITY_CREDENTIAL",
	19: "NOT_AVAILABLE_IDENTITY_IDENTIFIER", 20: "INTERNAL_ERROR", 21: "NO_SUCH_IDENTITY_IDENFIER",
	22: "DEACTIVATED_ACCOUNT_BOUND_TO_THIS_IDENTITY", 23: "ILLEGAL_IDENTITY_CREDENTIAL",
	24: "UNKNOWN_CHANNEL", 25: "NO_SUCH_MESSAGE_BOX", 26: "NOT_AVAILABLE_MESSAGE_BOX",
	27: "CHANNEL_DOES_NOT_MATCH", 28: "NOT_YOUR_MESSAGE", 29: "MESSAGE_DEFINED_ERROR",
	30: "USER_CANNOT_ACCEPT_PRESENTS", 32: "USER_NOT_STICKER_OWNER", 33: "MAINTENANCE_ERROR",
	34: "ACCOUNT_NOT_MATCHED", 35: "ABUSE_BLOCK", 36: "NOT_FRIEND", 37: "NOT_ALLOWED_CALL",
	38: "BLOCK_FRIEND", 39: "INCOMPATIBLE_VOIP_VERSION", 40: "INVALID_SNS_ACCESS_TOKEN",
	41: "EXTERNAL_SERVICE_NOT_AVAILABLE", 42: "NOT_ALLOWED_ADD_CONTACT", 43: "NOT_CERTIFICATED",
	44: "NOT_ALLOWED_SECONDARY_DEVICE", 45: "INVALID_PIN_CODE", 46: "NOT_FOUND_IDENTITY_CREDENTIAL",
	47: "EXCEED_FILE_MAX_SIZE", 48: "EXCEED_DAILY_QUOTA", 49: "NOT_SUPPORT_SEND_FILE",
	50: "MUST_UPGRADE", 51: "NOT_AVAILABLE_PIN_CODE_SESSION", 52: "EXPIRED_REVISION",
	54: "NOT_YET_PHONE_NUMBER", 55: "BAD_CALL_NUMBER", 56: "UNAVAILABLE_CALL_NUMBER",
	57: "NOT_SUPPORT_CALL_SERVICE", 58: "CONGESTION_CONTROL", 59: "NO_BALANCE",
	60: "NOT_PERMITTED_CALLER_ID", 61: "NO_CALLER_ID_LIMIT_EXCEEDED", 62: "CALLER_ID_VERIFICATION_REQUIRED",
	63: "NO_CALLER_ID_LIMIT_EXCEEDED_BY_DEVICE", 64: "MESSAGE_NOT_FOUND", 65: "INVALID_ACCOUNT_MIGRATION_PINCODE_FORMAT",
	66: "ACCOUNT_MIGRATION_PINCODE_NOT_MATCHED", 67: "ACCOUNT_MIGRATION_PINCODE_BLOCKED",
	69: "INVALID_PASSWORD_FORMAT", 70: "FEATURE_RESTRICTED", 71: "MESSAGE_NOT_DESTRUCTIBLE",
	72: "PAID_CALL_REDEEM_FAILED", 73: "PREVENTED_JOIN_BY_TICKET", 75: "SEND_MESSAGE_NOT_PERMITTED_FROM_LINE_AT",
	76: "SEND_MESSAGE_NOT_PERMITTED_WHILE_AUTO_REPLY", 77: "SECURITY_CENTER_NOT_VERIFIED",
	78: "SECURITY_CENTER_BLOCKED_BY_SETTING", 79: "SECURITY_CENTER_BLOCKED", 80: "TALK_PROXY_EXCEPTION",
	81: "E2EE_INVALID_PROTOCOL", 82: "E2EE_RETRY_ENCRYPT", 83: "E2EE_UPDATE_SENDER_KEY",
	84: "E2EE_UPDATE_RECEIVER_KEY", 85: "E2EE_INVALID_ARGUMENT", 86: "E2EE_INVALID_VERSION",
	87: "E2EE_SENDER_DISABLED", 88: "E2EE_RECEIVER_DISABLED", 89: "E2EE_SENDER_NOT_ALLOWED",
	90: "E2EE_RECEIVER_NOT_ALLOWED", 91: "E2EE_RESEND_FAIL", 92: "E2EE_RESEND_OK",
	93: "HITOKOTO_BACKUP_NO_AVAILABLE_DATA", 94: "E2EE_UPDATE_PRIMARY_DEVICE", 95: "SUCCESS",
	96: "CANCEL", 97: "E2EE_PRIMARY_NOT_SUPPORT", 98: "E2EE_RETRY_PLAIN", 99: "E2EE_RECREATE_GROUP_KEY",
	100: "E2EE_GROUP_TOO_MANY_MEMBERS", 101: "SERVER_BUSY", 102: "NOT_ALLOWED_ADD_FOLLOW",
	103: "INCOMING_FRIEND_REQUEST_LIMIT", 104: "OUTGOING_FRIEND_REQUEST_LIMIT",
	105: "OUTGOING_FRIEND_REQUEST_QUOTA", 106: "DUPLICATED", 107: "BANNED",
	108: "NOT_AN_INVITEE", 109: "NOT_AN_OUTSIDER", 111: "EMPTY_GROUP", 112: "EXCEED_FOLLOW_LIMIT",
	113: "UNSUPPORTED_ACCOUNT_TYPE", 114: "AGREEMENT_REQUIRED", 115: "SHOULD_RETRY",
	116: "OVER_MAX_CHATS_PER_USER", 117: "NOT_AVAILABLE_API", 118: "INVALID_OTP",
	119: "MUST_REFRESH_V3_TOKEN", 120: "ALREADY_EXPIRED", 121: "USER_NOT_STICON_OWNER",
	122: "REFRESH_MEDIA_FLOW", 123: "EXCEEDED_LIMIT", 124: "INVALID_SNS_TOKEN",
}

var qrCodeNames = map[int]string{
	0: "INTERNAL_ERROR", 1: "ILLEGAL_ARGUMENT", 2: "VERIFICATION_FAILED", 3: "NOT_ALLOWED_QR_CODE_LOGIN",
	4: "VERIFICATION_NOTICE_FAILED", 5: "RETRY_LATER", 100: "INVALID_CONTEXT", 101: "APP_UPGRADE_REQUIRED",
}

// talkCodeName returns the enum name of an exception code ("MUST_REFRESH_V3_TOKEN"),
// or "UNKNOWN" when the code is not in the table.
func talkCodeName(exception string, code int) string {
	table := talkCodeNames
	if exception == ExceptionQRCode {
		table = qrCodeNames
	}
	if n, ok := table[code]; ok {
		return n
	}
	return "UNKNOWN"
}

// IsSessionGone reports whether err means the login session no longer exists
// and only a new login helps: TalkException 1, 7 or 8, or 10201.
func IsSessionGone(err error) bool {
	return errors.Is(err, ErrAuthenticationFailed) || errors.Is(err, ErrNotAvailableUser) ||
		errors.Is(err, ErrNotAuthorizedDevice) || errors.Is(err, ErrAuthInvalidRequest)
}

// IsRateLimited reports whether err is one of LINE's throttling answers:
// TalkException 4, 35, 58, 101 or HTTP 429.
func IsRateLimited(err error) bool {
	var ge *GatewayError
	if errors.As(err, &ge) && ge.HTTPStatus == 429 {
		return true
	}
	return errors.Is(err, ErrExcessiveAccess) || errors.Is(err, ErrAbuseBlock) ||
		errors.Is(err, ErrCongestionControl) || errors.Is(err, ErrServerBusy)
}
