package delivery

import (
	"errors"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Every hostile answer to sendMessage, through the real envelope parser.
func TestOutcomeUnknownForHostileReplies(t *testing.T) {
	upstream := func(code int) string {
		return `{"code":10052,"message":"RESPONSE_HTTP_ERROR","data":{"statusCode":` + itoaT(code) + `}}`
	}
	tests := []struct {
		name    string
		status  int
		body    string
		unknown bool // exit 6 unless the stream settles it; false: exit 4 or 5, nothing sent
	}{
		{"non-JSON 200", 200, "OK", true},
		{"empty 200", 200, "", true},
		{"truncated JSON 200", 200, `{"code":0,"message":"OK","data":{"id":"60`, true},
		{"JSON but no envelope 200", 200, `[1,2]`, true},
		{"too deep 200", 200, deepJSON(200), true},
		{"HTML 500", 500, "<html>500</html>", true},
		{"HTML 502", 502, "<html>502</html>", true},
		{"HTML 503 (load balancer, nothing processed)", 503, "<html>503</html>", false},
		{"HTML 504", 504, "<html>504</html>", true},
		{"empty 504", 504, "", true},
		{"429", 429, "Too Many Requests", false},
		{"10052/500", 400, upstream(500), true},
		{"10052/502", 400, upstream(502), true},
		{"10052/503", 400, upstream(503), true},
		{"10052/504", 400, upstream(504), true},
		{"10052 without status", 400, `{"code":10052,"message":"RESPONSE_HTTP_ERROR"}`, true},
		{"99999 UNKNOWN_ERROR", 400, `{"code":99999,"message":"UNKNOWN_ERROR"}`, true},
		{"TalkException: refused", 400, `{"code":10051,"data":{"name":"TalkException","code":10,"reason":"not a member"}}`, false},
		{"10005 bad signature: refused", 400, `{"code":10005,"message":"REQUEST_INVALID_HMAC"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lineapi.ParseEnvelope(tc.status, []byte(tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			if got := OutcomeUnknown(err); got != tc.unknown {
				t.Fatalf("OutcomeUnknown(%v) = %v, want %v", err, got, tc.unknown)
			}
		})
	}
	if !OutcomeUnknown(&lineapi.TransportError{Method: "sendMessage", Written: true, Err: errors.New("reset")}) ||
		OutcomeUnknown(&lineapi.TransportError{Method: "sendMessage", Written: false, Err: errors.New("refused")}) {
		t.Fatal("transport errors")
	}
}

func deepJSON(n int) string {
	b := make([]byte, 0, 2*n)
	for i := 0; i < n; i++ {
		b = append(b, '[')
	}
	for i := 0; i < n; i++ {
		b = append(b, ']')
	}
	return string(b)
}

func itoaT(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}
