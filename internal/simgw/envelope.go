package simgw

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The gateway's answers: its envelope, its errors, the lct cookie, a hang-up.

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func ok(w http.ResponseWriter, data any) {
	if data == nil {
		writeJSON(w, 200, map[string]any{"code": 0, "message": "OK"})
		return
	}
	writeJSON(w, 200, map[string]any{"code": 0, "message": "OK", "data": data})
}

// gwErr is a gateway envelope error.
type gwErr struct {
	code    int
	message string
	status  int // data.statusCode for 10052
}

func (e *gwErr) Error() string { return fmt.Sprintf("%d %s", e.code, e.message) }

// talkErr is a Thrift exception carried in a 10051 envelope.
type talkErr struct {
	name   string
	code   int
	reason string
}

func (e *talkErr) Error() string { return fmt.Sprintf("%s %d %s", e.name, e.code, e.reason) }

func talk(code int, reason string) *talkErr { return &talkErr{"TalkException", code, reason} }
func qrErr(code int, reason string) *talkErr {
	return &talkErr{"SecondaryQrCodeException", code, reason}
}

var gatewayNames = map[int]string{
	10001: "REQUEST_NOT_FOUND", 10002: "REQUEST_INVALID_JSON", 10003: "REQUEST_INVALID_PARAM",
	10004: "REQUEST_NEED_LOGIN", 10005: "REQUEST_INVALID_HMAC", 10006: "REQUEST_MUST_UPGRADE",
	10052: "RESPONSE_HTTP_ERROR", 10101: "THRIFT_INVALID_METHOD", 10102: "THRIFT_INVALID_ARGUMENT",
	10201: "AUTH_INVALID_REQUEST", 10202: "AUTH_RETRY_REQUIRED",
}

func gw(code int) *gwErr { return &gwErr{code: code, message: gatewayNames[code]} }

func writeErr(w http.ResponseWriter, err error) {
	switch e := err.(type) {
	case *talkErr:
		writeJSON(w, 400, map[string]any{"code": 10051, "message": "RESPONSE_ERROR", "data": map[string]any{
			"name": e.name, "message": e.name, "code": e.code, "reason": e.reason, "parameterMap": nil}})
	case *gwErr:
		body := map[string]any{"code": e.code, "message": e.message}
		if e.status != 0 {
			body["data"] = map[string]any{"statusCode": e.status}
		}
		writeJSON(w, 400, body)
	default:
		writeJSON(w, 500, map[string]any{"code": 99999, "message": "UNKNOWN_ERROR"})
	}
}

// setCookie wraps a result that sets (or clears) the lct cookie.
type setCookie struct {
	data   any
	value  string
	maxAge int
}

func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
