package simgw

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simsign"
)

var key = []byte("k")

// raw sends one request with the extension's headers, minus/plus changes.
func raw(t *testing.T, srv *httptest.Server, method, path, body, token string, edit func(http.Header)) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	h := req.Header
	h.Set("content-type", "application/json")
	h.Set("accept", acceptJSON)
	h.Set("x-line-chrome-version", Version)
	h.Set("x-lal", "en_US")
	h.Set("origin", Origin)
	h.Set("user-agent", "Mozilla/5.0 Chrome/146.0.0.0")
	h.Set("x-hmac", simsign.Sign(key, Version, token, path, body))
	if token != "" {
		h.Set("x-line-access", token)
	}
	if edit != nil {
		edit(h)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func code(m map[string]any) int {
	if c, ok := m["code"].(float64); ok {
		if c == 10051 {
			return int(m["data"].(map[string]any)["code"].(float64))
		}
		return int(c)
	}
	return -1
}

func TestRejectsWhatTheGatewayRejects(t *testing.T) {
	s := NewSandbox(Options{SigningKey: key, PhoneDelay: -1})
	srv := httptest.NewServer(s)
	defer srv.Close()
	profile := "/api/talk/thrift/Talk/TalkService/getProfile"
	rsa := "/api/talk/thrift/Talk/TalkService/getRSAKeyInfo"
	tests := []struct {
		name       string
		path, body string
		edit       func(http.Header)
		want       int
	}{
		{"ok", rsa, "[1]", nil, 0},
		{"no hmac", rsa, "[1]", func(h http.Header) { h.Del("x-hmac") }, 10005},
		{"wrong hmac", rsa, "[1]", func(h http.Header) { h.Set("x-hmac", simsign.Sign([]byte("other"), Version, "", rsa, "[1]")) }, 10005},
		{"hmac of other body", rsa, "[1]", func(h http.Header) { h.Set("x-hmac", simsign.Sign(key, Version, "", rsa, "[1] ")) }, 10005},
		{"old version", rsa, "[1]", func(h http.Header) { h.Set("x-line-chrome-version", "3.6.0") }, 10006},
		{"no origin", rsa, "[1]", func(h http.Header) { h.Del("origin") }, 10003},
		{"not chrome", rsa, "[1]", func(h http.Header) { h.Set("user-agent", "curl/8") }, 10003},
		{"no content-type", rsa, "[1]", func(h http.Header) { h.Del("content-type") }, 10003},
		{"not JSON", rsa, "[1", nil, 10002},
		{"object instead of array", rsa, `{"a":1}`, nil, 10003},
		{"wrong arity", rsa, "[1,2]", nil, 10102},
		{"wrong provider", rsa, `["x"]`, nil, 10102},
		{"unknown method", "/api/talk/thrift/Talk/TalkService/nope", "[]", nil, 10101},
		{"unknown path", "/api/nope", "[]", nil, 10001},
		{"needs login", profile, "[2]", nil, 10004},
		{"unknown token", profile, "[2]", func(h http.Header) {
			h.Set("x-line-access", "bogus")
			h.Set("x-hmac", simsign.Sign(key, Version, "bogus", profile, "[2]"))
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, m := raw(t, srv, "POST", tc.path, tc.body, "", tc.edit)
			if got := code(m); got != tc.want {
				t.Fatalf("code %d, want %d (%v)", got, tc.want, m)
			}
		})
	}
}

func TestRSAKeyIsSingleUseAndTokensExpire(t *testing.T) {
	s := NewSandbox(Options{SigningKey: key, PhoneDelay: -1})
	srv := httptest.NewServer(s)
	defer srv.Close()
	_, m := raw(t, srv, "POST", "/api/talk/thrift/Talk/TalkService/getRSAKeyInfo", "[1]", "", nil)
	k := m["data"].(map[string]any)
	if k["keynm"] == "" || k["nvalue"] == "" || k["sessionKey"] == "" {
		t.Fatal(k)
	}
	login := func(keynm string) int {
		body := `[{"type":0,"identityProvider":1,"identifier":"` + keynm + `","password":"00","keepLoggedIn":false,"accessLocation":"","systemName":"Chrome","certificate":"","verifier":"","secret":"","e2eeVersion":1,"modelName":""}]`
		_, m := raw(t, srv, "POST", "/api/talk/thrift/Talk/AuthService/loginV2", body, "", nil)
		return code(m)
	}
	if c := login(k["keynm"].(string)); c != 18 {
		t.Fatalf("bad password blob: code %d", c)
	}
	if c := login(k["keynm"].(string)); c != 18 {
		t.Fatalf("reused key: code %d", c)
	}
	// A missing loginV2 field is a shape error.
	_, m = raw(t, srv, "POST", "/api/talk/thrift/Talk/AuthService/loginV2", `[{"type":0}]`, "", nil)
	if code(m) != 10102 {
		t.Fatalf("incomplete LoginRequest: %v", m)
	}
	// Tokens: issue one directly, then expire it by the clock.
	s.mu.Lock()
	tok := s.issueTokens(AliceMID)["accessToken"].(string)
	s.mu.Unlock()
	profile := "/api/talk/thrift/Talk/TalkService/getProfile"
	if _, m := raw(t, srv, "POST", profile, "[2]", tok, nil); code(m) != 0 {
		t.Fatalf("fresh token: %v", m)
	}
	s.Advance(8 * 24 * 3600e9)
	if _, m := raw(t, srv, "POST", profile, "[2]", tok, nil); code(m) != 119 {
		t.Fatalf("expired token: %v", m)
	}
}

func TestSendMessageShapeAndNoDedup(t *testing.T) {
	s := NewSandbox(Options{SigningKey: key, PhoneDelay: -1})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.mu.Lock()
	tok := s.issueTokens(AliceMID)["accessToken"].(string)
	s.mu.Unlock()
	path := "/api/talk/thrift/Talk/TalkService/sendMessage"
	msg := func(id, toType, text string) string {
		return `[7,{"from":"` + AliceMID + `","to":"` + FamilyMID + `","toType":` + toType + `,"id":"` + id + `","createdTime":"1","sessionId":0,"text":"` + text + `","contentType":0,"contentMetadata":{},"hasContent":false}]`
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{msg("local-7", "2", "hi"), 0},
		{msg("local-7", "2", "hi"), 0}, // the same reqSeq again: stored again
		{msg("local-8", "2", "hi"), 0},
		{msg("local-7", "0", "hi"), 9},
		{msg("local-7", "2", ""), 0},
	} {
		_, m := raw(t, srv, "POST", path, tc.body, tok, nil)
		if tc.body == msg("local-8", "2", "hi") || tc.body == msg("local-7", "2", "") {
			if m["code"].(float64) != 10051 {
				t.Fatalf("accepted %s", tc.body)
			}
			continue
		}
		if code(m) != tc.want {
			t.Fatalf("%s: %v", tc.body, m)
		}
	}
	if n := len(s.Messages()); n != 2 {
		t.Fatalf("%d messages stored, want 2 (no deduplication)", n)
	}
}
