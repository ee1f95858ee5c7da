package lineapi

import (
	"errors"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi/internal/jsondepth"
)

// ParseEnvelope decodes a gateway response body whatever the HTTP status
// (docs/protocol.md §1). On code 0 it returns the raw JSON of "data" (nil when
// absent). Otherwise it returns *TalkError for 10051 RESPONSE_ERROR and
// *GatewayError for every other code, or for a body that is no envelope
// (a load balancer's 503 page, say). A 2xx answer that is no envelope is
// *BadResponseError. It never panics on any input, and refuses JSON nested
// deeper than maxResponseDepth before parsing it.
func ParseEnvelope(status int, body []byte) ([]byte, error) {
	bad := func(reason string) error {
		if status >= 300 || status < 200 {
			return &GatewayError{HTTPStatus: status}
		}
		return &BadResponseError{HTTPStatus: status, Reason: reason}
	}
	switch {
	case len(body) == 0:
		return nil, bad("empty body")
	case !jsondepth.Within(body, maxResponseDepth):
		return nil, bad(fmt.Sprintf("JSON nested deeper than %d levels", maxResponseDepth))
	case !gjson.ValidBytes(body):
		return nil, bad("not JSON")
	}
	root := gjson.ParseBytes(body)
	code := root.Get("code")
	if !root.IsObject() || code.Type != gjson.Number {
		return nil, bad("not a gateway envelope")
	}
	data := root.Get("data")
	n := int(code.Int())
	switch n {
	case CodeOK:
		if status >= 300 {
			return nil, &GatewayError{HTTPStatus: status}
		}
		if !data.Exists() {
			return nil, nil
		}
		return rawBytes(body, data), nil
	case CodeResponseError:
		if !data.IsObject() {
			return nil, &GatewayError{Code: n, Message: root.Get("message").String(), HTTPStatus: status}
		}
		te := &TalkError{
			Name:   data.Get("name").String(),
			Code:   int(data.Get("code").Int()),
			Reason: data.Get("reason").String(),
		}
		if pm := data.Get("parameterMap"); pm.IsObject() {
			te.ParameterMap = map[string]string{}
			pm.ForEach(func(k, v gjson.Result) bool {
				te.ParameterMap[k.String()] = v.String()
				return true
			})
		}
		return nil, te
	default:
		ge := &GatewayError{Code: n, Message: root.Get("message").String(), HTTPStatus: status}
		if data.IsObject() {
			ge.StatusCode = int(data.Get("statusCode").Int())
		}
		return nil, ge
	}
}

// maxResponseDepth bounds the nesting of a gateway answer; LINE's nest a
// handful of levels.
const maxResponseDepth = 64

// rawBytes returns the bytes of r inside body without copying when possible.
func rawBytes(body []byte, r gjson.Result) []byte {
	if r.Index > 0 && r.Index+len(r.Raw) <= len(body) {
		return body[r.Index : r.Index+len(r.Raw)]
	}
	return []byte(r.Raw)
}

// Describe returns a one-line, secret-free description of a gateway error
// suitable for users: the code, its name and LINE's reason.
func Describe(err error) string {
	var te *TalkError
	if errors.As(err, &te) {
		return te.Error()
	}
	var ge *GatewayError
	if errors.As(err, &ge) {
		return ge.Error()
	}
	return fmt.Sprint(err)
}
