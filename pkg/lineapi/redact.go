package lineapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// sensitiveKeys are JSON keys whose values never reach a log.
var sensitiveKeys = map[string]bool{
	"password": true, "certificate": true, "verifier": true, "secret": true,
	"accesstoken": true, "refreshtoken": true, "authsessionid": true, "sessionkey": true,
	"encryptedkeychain": true, "hashkeychain": true, "privatekey": true, "loginsessionid": true,
	"callbackurl": true, "pincode": true, "identifier": true, "keynm": true,
	"encryptedsharedkey": true, "lct": true,
}

// sensitiveHeaders are headers whose values never reach a log.
var sensitiveHeaders = map[string]bool{
	"x-line-access": true, "cookie": true, "set-cookie": true, "x-hmac": true,
	"x-line-session-id": true, "authorization": true,
}

var secretQuery = regexp.MustCompile(`(?i)(secret|token|verifier|localrev_token)=[^&\s"]*`)

// redactJSON returns body with the values of sensitive keys replaced by
// "<redacted>". A body that is not JSON is summarised by its length.
func redactJSON(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Sprintf("<%d bytes, not JSON>", len(body))
	}
	b, err := marshalBody(redactValue(v))
	if err != nil {
		return fmt.Sprintf("<%d bytes>", len(body))
	}
	return string(b)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if sensitiveKeys[strings.ToLower(k)] {
				if s, ok := val.(string); ok && s == "" {
					continue // an empty value shows the shape without leaking anything
				}
				t[k] = redactedParameter
				continue
			}
			t[k] = redactValue(val)
		}
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
	case string:
		return secretQuery.ReplaceAllString(t, "$1="+redactedParameter)
	}
	return v
}

func redactHeaders(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if sensitiveHeaders[strings.ToLower(k)] {
			v = redactedParameter
		}
		fmt.Fprintf(&sb, " %s=%q", strings.ToLower(k), v)
	}
	return sb.String()
}

func (c *Client) logRequest(req *http.Request, body []byte) {
	if c.debug == nil {
		return
	}
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.debug, "debug: > %s %s%s\n", req.Method, secretQuery.ReplaceAllString(req.URL.RequestURI(), "$1="+redactedParameter), redactHeaders(req.Header))
	if len(body) > 0 {
		fmt.Fprintf(c.debug, "debug: > body %s\n", redactJSON(body))
	}
}

func (c *Client) logResponse(resp *http.Response, body []byte) {
	if c.debug == nil {
		return
	}
	c.debugMu.Lock()
	defer c.debugMu.Unlock()
	fmt.Fprintf(c.debug, "debug: < %d%s\n", resp.StatusCode, redactHeaders(resp.Header))
	if body == nil {
		fmt.Fprintf(c.debug, "debug: < body %s (a secret)\n", redactedParameter)
		return
	}
	fmt.Fprintf(c.debug, "debug: < body %s\n", redactJSON(body))
}
