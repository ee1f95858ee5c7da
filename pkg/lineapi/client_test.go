package lineapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func noSleep(context.Context, time.Duration) error { return nil }

// recorder is a minimal gateway that records what it received.
type recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
	answer func(n int, w http.ResponseWriter)
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.bodies = append(r.bodies, string(b))
	n := len(r.reqs)
	r.mu.Unlock()
	r.answer(n, w)
}

func (r *recorder) get(i int) (*http.Request, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i], r.bodies[i]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func ok(data string) func(int, http.ResponseWriter) {
	return func(_ int, w http.ResponseWriter) { io.WriteString(w, `{"code":0,"message":"OK","data":`+data+`}`) }
}

func newTestClient(t *testing.T, h http.Handler, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, append([]Option{WithSleep(noSleep)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHeadersAndSignedBytes(t *testing.T) {
	rec := &recorder{answer: ok(`{"mid":"u1","displayName":"A"}`)}
	var signed SignRequest
	signer := SignerFunc(func(_ context.Context, r SignRequest) (string, error) { signed = r; return "c2ln", nil })
	c := newTestClient(t, rec, WithSigner(signer), WithTokenSource(StaticToken("TOKEN123")))
	p, err := c.GetProfile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.DisplayName != "A" {
		t.Fatalf("profile %+v", p)
	}
	req, body := rec.get(0)
	want := map[string]string{
		"Content-Type": "application/json", "Accept": "application/json, text/plain, */*",
		"X-Line-Chrome-Version": "3.7.2", "X-Lal": "en_US", "Origin": ExtensionOrigin,
		"X-Hmac": "c2ln", "X-Line-Access": "TOKEN123", "Cookie": "lct=TOKEN123",
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(req.Header.Get("User-Agent"), "Chrome/") {
		t.Errorf("user-agent %q", req.Header.Get("User-Agent"))
	}
	if req.URL.Path != "/api/talk/thrift/Talk/TalkService/getProfile" || req.Method != "POST" {
		t.Errorf("request %s %s", req.Method, req.URL.Path)
	}
	if body != "[2]" || signed.Body != body || signed.Path != req.URL.RequestURI() ||
		signed.AccessToken != "TOKEN123" || signed.Version != "3.7.2" {
		t.Errorf("signed %+v, sent body %q", signed, body)
	}
}

func TestSendMessageBodyIsTheExtensions(t *testing.T) {
	rec := &recorder{answer: ok(`{"id":"605311889450205372","createdTime":"1773625305497","toType":2}`)}
	c := newTestClient(t, rec, WithTokenSource(StaticToken("t")),
		WithClock(func() time.Time { return time.UnixMilli(1773625306123) })) // ceiled to the second: 1773625307000 (EXT Wg)
	m, err := c.SendMessage(context.Background(), 662642008, OutgoingMessage{
		From: "uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", To: "cbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ToType: ToGroup, Text: "テスト<&>",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `[662642008,{"from":"uaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","to":"cbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","toType":2,"id":"local-662642008","createdTime":"1773625307000","sessionId":0,"text":"テスト<&>","contentType":0,"contentMetadata":{},"hasContent":false}]`
	if _, body := rec.get(0); body != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
	if m.ID != "605311889450205372" || m.CreatedTime != 1773625305497 {
		t.Errorf("answer %+v", m)
	}
}

func TestErrorsDecodedWhateverTheStatus(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		is     error
	}{
		{"talk 119", 400, `{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"TalkException","message":"TalkException","code":119,"reason":"Access token refresh required","parameterMap":null}}`, ErrMustRefreshToken},
		{"talk 200 status", 200, `{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"TalkException","code":82,"reason":"can not send using plain mode"}}`, ErrE2EERetryEncrypt},
		{"qr exception", 400, `{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"SecondaryQrCodeException","code":2,"reason":"x"}}`, ErrQRVerificationFailed},
		{"hmac", 400, `{"code":10005,"message":"REQUEST_INVALID_HMAC"}`, ErrInvalidHMAC},
		{"poll expired", 400, `{"code":10052,"message":"RESPONSE_HTTP_ERROR","data":{"statusCode":410}}`, ErrPollExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEnvelope(tc.status, []byte(tc.body))
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
	_, err := ParseEnvelope(400, []byte(`{"code":10051,"data":{"name":"SecondaryQrCodeException","code":2}}`))
	if errors.Is(err, &TalkError{Name: ExceptionTalk, Code: 2}) {
		t.Error("a SecondaryQrCodeException must not match a TalkException of the same code")
	}
	_, err = ParseEnvelope(503, []byte("<html>Service Unavailable</html>"))
	var ge *GatewayError
	if !errors.As(err, &ge) || ge.HTTPStatus != 503 || !NotProcessed(err) {
		t.Fatalf("503 page: %v", err)
	}
}

func TestReactiveRefreshRetriesOnce(t *testing.T) {
	rec := &recorder{answer: func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(400)
			io.WriteString(w, `{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"TalkException","code":119,"reason":"Access token refresh required"}}`)
			return
		}
		io.WriteString(w, `{"code":0,"message":"OK","data":{"mid":"u1"}}`)
	}}
	ts := &fakeTokens{tok: "old"}
	c := newTestClient(t, rec, WithTokenSource(ts))
	if _, err := c.GetProfile(context.Background()); err != nil {
		t.Fatal(err)
	}
	second, _ := rec.get(1)
	if ts.refreshes != 1 || second.Header.Get("x-line-access") != "new" {
		t.Fatalf("refreshes=%d second token=%q", ts.refreshes, second.Header.Get("x-line-access"))
	}
}

type fakeTokens struct {
	tok       string
	refreshes int
}

func (f *fakeTokens) Token(context.Context) (string, error) { return f.tok, nil }
func (f *fakeTokens) Refresh(_ context.Context, stale string) (string, error) {
	f.refreshes++
	f.tok = "new"
	return f.tok, nil
}

func TestSendNotRepeatedWhenOutcomeUnknown(t *testing.T) {
	rec := &recorder{answer: func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(503)
			return
		}
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close() // dropped after the request was read
	}}
	c := newTestClient(t, rec, WithTokenSource(StaticToken("t")))
	_, err := c.SendMessage(context.Background(), 1, OutgoingMessage{From: "u", To: "u", Text: "x"})
	var te *TransportError
	if !errors.As(err, &te) || !te.Written {
		t.Fatalf("err = %v, want a TransportError after writing", err)
	}
	if NotProcessed(err) {
		t.Fatal("a dropped connection after writing must not count as not processed")
	}
	if n := rec.count(); n != 2 {
		t.Fatalf("%d requests: a 503 is retried once, the drop never", n)
	}
}

func TestEncryptPasswordFormat(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	k := &RSAKeyInfo{KeyName: "1", NValue: priv.N.Text(16), EValue: "10001", SessionKey: "sk123"}
	enc, err := EncryptPassword(k, "a@b.c", "pässword", nil)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := hex.DecodeString(enc)
	if enc != strings.ToLower(enc) {
		t.Error("not lowercase hex")
	}
	//lint:ignore SA1019 checks the PKCS #1 v1.5 blob LINE's protocol requires
	pt, err := rsa.DecryptPKCS1v15(nil, priv, ct)
	if err != nil {
		t.Fatal(err)
	}
	want := "\x05sk123\x05a@b.c\x09pässword"
	if string(pt) != want {
		t.Fatalf("plaintext %q, want %q", pt, want)
	}
}

func TestParseMID(t *testing.T) {
	tests := []struct {
		mid  string
		want ToType
		ok   bool
	}{
		{"u" + strings.Repeat("a", 32), ToUser, true},
		{"C" + strings.Repeat("0", 32), ToGroup, true},
		{"r" + strings.Repeat("f", 32), ToRoom, true},
		{"U" + strings.Repeat("A", 43), ToUser, true},
		{"x" + strings.Repeat("a", 32), 0, false},
		{"u123", 0, false},
		{"", 0, false},
		{"u" + strings.Repeat("a", 31) + " ", 0, false},
		{"u" + strings.Repeat("a", 80), 0, false},
	}
	for _, tc := range tests {
		got, err := ParseMID(tc.mid)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseMID(%q) = %v, %v", tc.mid, got, err)
		}
	}
}

func TestRedaction(t *testing.T) {
	in := `[{"type":1,"password":"hexhex","certificate":"CERT","verifier":"VER","secret":"","accessToken":"AT","nested":{"refreshToken":"RT"},"callbackUrl":"https://line.me/R/au/lgn/sq/ID?secret=PUB"}]`
	out := redactJSON([]byte(in))
	for _, s := range []string{"hexhex", "CERT", "VER", "AT\"", "RT", "ID?", "PUB"} {
		if strings.Contains(out, s) {
			t.Errorf("%q leaked in %s", s, out)
		}
	}
	if !strings.Contains(out, `"secret":""`) || !strings.Contains(out, `"type":1`) {
		t.Errorf("shape lost: %s", out)
	}
}

func TestCheckBaseURL(t *testing.T) {
	for _, u := range []string{"https://line-chrome-gw.line-apps.com", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"} {
		if err := CheckBaseURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://example.com", "ftp://x", "line-chrome-gw.line-apps.com", "https://x/path", "http://10.0.0.1"} {
		if err := CheckBaseURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}
