package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

const (
	groupMID = "cfa0117000000000000000000000fa011"
	userMID  = "u0b0b0000000000000000000000000b0b"
)

// fakeSender records sends and answers with err (nil: sent).
type fakeSender struct {
	mu     sync.Mutex
	sent   []string
	err    error
	failAt int // with err: the first message (0-based) that fails
	delay  time.Duration
}

func (f *fakeSender) SendMessages(_ context.Context, to string, cs []delivery.Content) ([]*delivery.Result, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*delivery.Result
	for i, c := range cs {
		if f.err != nil && i >= f.failAt {
			return append(out, &delivery.Result{To: to, ReqSeq: 7}), f.err
		}
		switch c := c.(type) {
		case delivery.Sticker:
			f.sent = append(f.sent, to+" sticker "+c.Sticker.String()+c.Sticker.Text)
		case *delivery.Media:
			f.sent = append(f.sent, to+" image "+c.Name)
		case delivery.Text:
			f.sent = append(f.sent, to+" "+c.Text)
		}
		out = append(out, &delivery.Result{To: to, ReqSeq: int64(len(f.sent)), MessageID: fmt.Sprint(100 + len(f.sent))})
	}
	return out, nil
}

type fixture struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	send   *fakeSender
	store  *Store
	token  string
	now    time.Time
	logged []Entry
	mu     sync.Mutex
}

func newFixture(t *testing.T, rate Rate) *fixture {
	t.Helper()
	fx := &fixture{t: t, send: &fakeSender{}, now: time.Unix(1_800_000_000, 0)}
	fx.store = &Store{Path: filepath.Join(t.TempDir(), TokenFileName), Now: func() time.Time { return fx.now }}
	tok, _, err := fx.store.Add(groupMID, "Family")
	if err != nil {
		t.Fatal(err)
	}
	fx.token = tok
	clock := func() time.Time { fx.mu.Lock(); defer fx.mu.Unlock(); return fx.now }
	fx.srv = &Server{Tokens: fx.store, Limiter: &Limiter{Rate: rate, Now: clock}, Sender: fx.send,
		Log: func(e Entry) { fx.mu.Lock(); fx.logged = append(fx.logged, e); fx.mu.Unlock() }}
	fx.ts = httptest.NewServer(fx.srv)
	t.Cleanup(fx.ts.Close)
	return fx
}

type answer struct {
	code   int
	body   map[string]any
	header http.Header
}

func (fx *fixture) do(method, path, token, ctype string, body io.Reader) answer {
	fx.t.Helper()
	req, err := http.NewRequest(method, fx.ts.URL+path, body)
	if err != nil {
		fx.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		fx.t.Fatalf("%s %s: body %q is not JSON", method, path, b)
	}
	if m["status"] != float64(resp.StatusCode) {
		fx.t.Fatalf("body status %v, HTTP %d", m["status"], resp.StatusCode)
	}
	return answer{resp.StatusCode, m, resp.Header}
}

func (fx *fixture) form(token string, v url.Values) answer {
	fx.t.Helper()
	return fx.do("POST", "/api/notify", token, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

func (fx *fixture) multipart(token string, fields map[string]string, files map[string][]byte) answer {
	fx.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for k, v := range files {
		w, _ := mw.CreateFormFile(k, "x.png")
		_, _ = w.Write(v)
	}
	mw.Close()
	return fx.do("POST", "/api/notify", token, mw.FormDataContentType(), &buf)
}

func wantAnswer(t *testing.T, a answer, code int, msgPart string) {
	t.Helper()
	if a.code != code || !strings.Contains(fmt.Sprint(a.body["message"]), msgPart) {
		t.Fatalf("answer %d %v, want %d with %q", a.code, a.body, code, msgPart)
	}
}

func TestNotifyFieldsAndStatuses(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	long := strings.Repeat("あ", MaxMessageLength)
	cases := []struct {
		name   string
		fields url.Values
		code   int
		msg    string
	}{
		{"ok", url.Values{"message": {"backup finished"}}, 200, "ok"},
		{"1000 characters", url.Values{"message": {long}}, 200, "ok"},
		{"1001 characters", url.Values{"message": {long + "x"}}, 400, "1001 characters; the limit is 1000"},
		{"notificationDisabled true", url.Values{"message": {"quiet"}, "notificationDisabled": {"true"}}, 200, "ok"},
		{"notificationDisabled false", url.Values{"message": {"loud"}, "notificationDisabled": {"false"}}, 200, "ok"},
		{"notificationDisabled bad", url.Values{"message": {"x"}, "notificationDisabled": {"yes"}}, 400, "must be true or false"},
		{"unknown field ignored", url.Values{"message": {"x"}, "color": {"red"}}, 200, "ok"},
		{"no message", url.Values{"notificationDisabled": {"true"}}, 400, "message: must not be empty"},
		{"empty message", url.Values{"message": {""}}, 400, "must not be empty"},
		{"blank message", url.Values{"message": {" \n\t"}}, 400, "must not be empty"},
		{"invisible message", url.Values{"message": {"\u200b\u200d"}}, 400, "empty to a reader"},
		{"NUL", url.Values{"message": {"a\x00b"}}, 400, "NUL"},
		{"invalid UTF-8", url.Values{"message": {"a\xffb"}}, 400, "UTF-8"},
		{"twice", url.Values{"message": {"a", "b"}}, 400, "more than once"},
		{"sticker id alone", url.Values{"message": {"x"}, "stickerId": {"1"}}, 400, "stickerPackageId and stickerId must be given together"},
		{"sticker package alone", url.Values{"message": {"x"}, "stickerPackageId": {"1"}}, 400, "must be given together"},
		{"sticker id not a number", url.Values{"message": {"x"}, "stickerPackageId": {"1"}, "stickerId": {"abc"}}, 400, "stickerId: must be a positive number"},
		{"sticker package zero", url.Values{"message": {"x"}, "stickerPackageId": {"0"}, "stickerId": {"1"}}, 400, "stickerPackageId: must be a positive number"},
		{"sticker package negative", url.Values{"message": {"x"}, "stickerPackageId": {"-1"}, "stickerId": {"1"}}, 400, "stickerPackageId: must be a positive number"},
		{"sticker twice", url.Values{"message": {"x"}, "stickerPackageId": {"1", "2"}, "stickerId": {"1"}}, 400, "more than once"},
		{"sticker without message", url.Values{"stickerPackageId": {"1"}, "stickerId": {"1"}}, 400, "message: must not be empty"},
		{"stickerText without a sticker", url.Values{"message": {"x"}, "stickerText": {"[OK]"}}, 400, "stickerText: goes with stickerPackageId"},
		{"stickerText on two lines", url.Values{"message": {"x"}, "stickerPackageId": {"1"}, "stickerId": {"1"}, "stickerText": {"a\nb"}}, 400, "stickerText: must be visible text"},
		{"image URLs", url.Values{"message": {"x"}, "imageThumbnail": {"https://e/x.jpg"}, "imageFullsize": {"https://e/y.jpg"}}, 400, "--allow-image-urls"},
		{"image URL alone", url.Values{"message": {"x"}, "imageFullsize": {"https://e/y.jpg"}}, 400, "must be given together"},
		{"image URL not http", url.Values{"message": {"x"}, "imageThumbnail": {"file:///etc/passwd"}, "imageFullsize": {"file:///etc/passwd"}}, 400, "http(s) URLs"},
		{"imageFile as a form field", url.Values{"message": {"x"}, "imageFile": {"abc"}}, 400, "must be a file part"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := len(fx.send.sent)
			a := fx.form(fx.token, c.fields)
			wantAnswer(t, a, c.code, c.msg)
			if sent := len(fx.send.sent) - n; (c.code == 200) != (sent == 1) {
				t.Fatalf("%d sends for answer %d", sent, c.code)
			}
			if a.header.Get("X-RateLimit-Limit") != "1000" || a.header.Get("X-RateLimit-Reset") == "" ||
				a.header.Get("X-RateLimit-ImageLimit") != "50" || a.header.Get("X-RateLimit-ImageRemaining") != "50" {
				t.Fatalf("headers %v", a.header)
			}
		})
	}
	if fx.send.sent[0] != groupMID+" backup finished" {
		t.Fatalf("sent %q", fx.send.sent[0])
	}
}

func TestNotifyMultipart(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": "line1\nline2 😀", "notificationDisabled": "true"}, nil), 200, "ok")
	if fx.send.sent[0] != groupMID+" line1\nline2 😀" {
		t.Fatalf("sent %q", fx.send.sent)
	}
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": "x"}, map[string][]byte{"imageFile": bytes.Repeat([]byte{1}, 3<<20)}), 400, "not a PNG, JPEG or GIF")
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": "x"}, map[string][]byte{"imageFile": bytes.Repeat([]byte{1}, MaxImage+1)}), 400, "longer than")
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": "x", "stickerPackageId": "446", "stickerId": "1988"}, nil), 200, "ok")
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": strings.Repeat("a", maxField+1)}, nil), 400, "longer than")
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"other": "x"}, map[string][]byte{"blob": {1, 2}}), 400, "message: must not be empty")
	wantAnswer(t, fx.do("POST", "/api/notify", fx.token, "multipart/form-data", strings.NewReader("x")), 400, "boundary")
	wantAnswer(t, fx.do("POST", "/api/notify", fx.token, "multipart/form-data; boundary=zz", strings.NewReader("garbage")), 400, "not valid multipart")
	if len(fx.send.sent) != 3 || fx.send.sent[1] != groupMID+" x" || fx.send.sent[2] != groupMID+" sticker 446/1988" {
		t.Fatalf("sent %q", fx.send.sent)
	}
}

// Images have a quota of their own, 50 an hour as LINE Notify's: a call
// with an image counts against both, a text-only call leaves
// ImageRemaining as it was, and a spent image quota is 429 with nothing sent
// (issue 24.7).
func TestNotifyImageQuota(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	fx.srv.Images = &Limiter{Rate: Rate{Calls: 2, Per: time.Hour}, Now: fx.srv.Limiter.Now}
	img := map[string][]byte{"imageFile": onePixelPNG}
	want := func(a answer, remaining, imageRemaining string) {
		t.Helper()
		if a.header.Get("X-RateLimit-Remaining") != remaining || a.header.Get("X-RateLimit-ImageLimit") != "2" ||
			a.header.Get("X-RateLimit-ImageRemaining") != imageRemaining {
			t.Fatalf("headers %v, want Remaining %s ImageRemaining %s", a.header, remaining, imageRemaining)
		}
	}
	want(fx.form(fx.token, url.Values{"message": {"text"}}), "999", "2")
	want(fx.multipart(fx.token, map[string]string{"message": "one"}, img), "998", "1")
	want(fx.form(fx.token, url.Values{"message": {"text again"}}), "997", "1")
	want(fx.multipart(fx.token, map[string]string{"message": "two"}, img), "996", "0")
	n := len(fx.send.sent)
	a := fx.multipart(fx.token, map[string]string{"message": "three"}, img)
	wantAnswer(t, a, 429, "image quota")
	want(a, "995", "0")
	if len(fx.send.sent) != n {
		t.Fatalf("sent %q after the image quota was spent", fx.send.sent[n:])
	}
	want(fx.form(fx.token, url.Values{"message": {"text still goes"}}), "994", "0")
}

// stickerText (linectl's own field: LINE Notify had none) becomes the
// sticker's STKTXT (issue 24.5).
func TestNotifyStickerText(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"ok"}, "stickerPackageId": {"446"}, "stickerId": {"1988"}, "stickerText": {" [OK] "}}), 200, "ok")
	if len(fx.send.sent) != 2 || fx.send.sent[1] != groupMID+" sticker 446/1988[OK]" {
		t.Fatalf("sent %q", fx.send.sent)
	}
}

// A message with a sticker is two LINE messages: the text, then the sticker.
func TestNotifySticker(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"disk full"}, "stickerPackageId": {" 446 "}, "stickerId": {"1988"}}), 200, "ok")
	if len(fx.send.sent) != 2 || fx.send.sent[0] != groupMID+" disk full" || fx.send.sent[1] != groupMID+" sticker 446/1988" {
		t.Fatalf("sent %q", fx.send.sent)
	}
	fx.mu.Lock()
	e := fx.logged[len(fx.logged)-1]
	fx.mu.Unlock()
	if e.MessageID != "101" || e.StickerMessageID != "102" || e.StickerReqSeq != 2 {
		t.Fatalf("entry %+v", e)
	}
	// The text went out, the sticker failed: 500 says so; nothing is resent.
	fx.send.err, fx.send.failAt = &lineapi.TalkError{Name: lineapi.ExceptionTalk, Code: 10, Reason: "not a member"}, 1
	a := fx.form(fx.token, url.Values{"message": {"again"}, "stickerPackageId": {"446"}, "stickerId": {"1988"}})
	wantAnswer(t, a, 500, "the message (LINE message id 103) was sent but the sticker was not: LINE refused the message")
	fx.send.err = fmt.Errorf("%w (reqSeq 7)", delivery.ErrOutcomeUnknown)
	a = fx.form(fx.token, url.Values{"message": {"third"}, "stickerPackageId": {"446"}, "stickerId": {"1988"}})
	wantAnswer(t, a, 500, "the message (LINE message id 104) was sent; the sticker may have been delivered")
	if len(fx.send.sent) != 4 {
		t.Fatalf("sent %q", fx.send.sent)
	}
}

func TestNotifyBodyLimits(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	fx.srv.MaxBody = 4096
	big := url.Values{"message": {"x"}, "pad": {strings.Repeat("p", 5000)}}
	wantAnswer(t, fx.form(fx.token, big), 413, "too large")
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": "x"}, map[string][]byte{"blob": bytes.Repeat([]byte{1}, 5000)}), 413, "too large")
	wantAnswer(t, fx.do("POST", "/api/notify", fx.token, "application/json", strings.NewReader(`{"message":"`+strings.Repeat("p", 5000)+`"}`)), 413, "too large")
	wantAnswer(t, fx.do("POST", "/api/notify", fx.token, "text/plain", strings.NewReader(`message=x`)), 400, "Content-Type")
	wantAnswer(t, fx.do("POST", "/api/notify", fx.token, "", strings.NewReader("message=x")), 400, "Content-Type")
	wantAnswer(t, fx.do("POST", "/api/notify?message=from+the+query", fx.token, "", nil), 200, "ok")
	wantAnswer(t, fx.do("POST", "/api/notify?message=q", fx.token, "application/x-www-form-urlencoded", strings.NewReader("notificationDisabled=true")), 200, "ok")
	wantAnswer(t, fx.do("POST", "/api/notify?message=q", fx.token, "application/x-www-form-urlencoded", strings.NewReader("message=b")), 400, "more than once")
	wantAnswer(t, fx.do("POST", "/api/notify?stickerId=1", fx.token, "application/x-www-form-urlencoded", strings.NewReader("message=b")), 400, "must be given together")
	if len(fx.send.sent) != 2 || fx.send.sent[0] != groupMID+" from the query" {
		t.Fatalf("sent %q", fx.send.sent)
	}
}

func TestNotifyAuth(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	ok := url.Values{"message": {"x"}}
	for _, tok := range []string{"", "wrong", fx.token + "x"} {
		a := fx.form(tok, ok)
		wantAnswer(t, a, 401, "Invalid access token")
		if a.header.Get("X-RateLimit-Limit") != "" {
			t.Fatal("rate-limit headers on an unauthenticated answer")
		}
	}
	for _, h := range []string{"Basic " + fx.token, fx.token, "Bearer"} {
		req, _ := http.NewRequest("POST", fx.ts.URL+"/api/notify", strings.NewReader(ok.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("Authorization %q: %d", h, resp.StatusCode)
		}
	}
	// bearer is case-insensitive in its scheme
	req, _ := http.NewRequest("POST", fx.ts.URL+"/api/notify", strings.NewReader(ok.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "bearer "+fx.token)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("lower-case bearer: %d", resp.StatusCode)
	}
	wantAnswer(t, fx.do("GET", "/api/notify", fx.token, "", nil), 405, "POST")
	wantAnswer(t, fx.do("POST", "/api/status", fx.token, "", nil), 405, "GET")
	wantAnswer(t, fx.do("GET", "/api/revoke", fx.token, "", nil), 405, "POST")
	wantAnswer(t, fx.do("GET", "/", fx.token, "", nil), 404, "Not found")
	for _, e := range fx.logged {
		if strings.Contains(fmt.Sprint(e), fx.token) || strings.Contains(fmt.Sprint(e), "wrong") {
			t.Fatalf("token in the log: %+v", e)
		}
	}
}

func TestStatusAndRevoke(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	a := fx.do("GET", "/api/status", fx.token, "", nil)
	if a.code != 200 || a.body["message"] != "ok" || a.body["targetType"] != "GROUP" || a.body["target"] != "Family" {
		t.Fatalf("status %v", a.body)
	}
	if a.header.Get("X-RateLimit-Remaining") != "1000" {
		t.Fatalf("status used a call: %v", a.header)
	}
	user, _, err := fx.store.Add(userMID, "")
	if err != nil {
		t.Fatal(err)
	}
	a = fx.do("GET", "/api/status", user, "", nil)
	if a.body["targetType"] != "USER" || a.body["target"] != userMID {
		t.Fatalf("status %v", a.body)
	}
	wantAnswer(t, fx.do("POST", "/api/revoke", fx.token, "", nil), 200, "ok")
	if a.body["status"] != 200.0 {
		t.Fatal(a.body)
	}
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"x"}}), 401, "Invalid access token")
	wantAnswer(t, fx.do("GET", "/api/status", fx.token, "", nil), 401, "Invalid access token")
	wantAnswer(t, fx.do("POST", "/api/revoke", fx.token, "", nil), 401, "Invalid access token")
	wantAnswer(t, fx.form(user, url.Values{"message": {"x"}}), 200, "ok")
	if toks, _ := fx.store.List(); len(toks) != 1 || toks[0].To != userMID {
		t.Fatalf("tokens %+v", toks)
	}
}

func TestRateLimit(t *testing.T) {
	fx := newFixture(t, Rate{Calls: 3, Per: time.Hour})
	reset := fmt.Sprint(fx.now.Add(time.Hour).Unix())
	for i := 2; i >= 0; i-- {
		a := fx.form(fx.token, url.Values{"message": {"x"}})
		wantAnswer(t, a, 200, "ok")
		if a.header.Get("X-RateLimit-Limit") != "3" || a.header.Get("X-RateLimit-Remaining") != fmt.Sprint(i) || a.header.Get("X-RateLimit-Reset") != reset {
			t.Fatalf("headers %v", a.header)
		}
	}
	a := fx.form(fx.token, url.Values{"message": {"x"}})
	wantAnswer(t, a, 429, "Rate limit")
	if a.header.Get("X-RateLimit-Remaining") != "0" || a.header.Get("X-RateLimit-Reset") != reset {
		t.Fatalf("headers %v", a.header)
	}
	// Another token has its own budget.
	other, _, _ := fx.store.Add(userMID, "")
	wantAnswer(t, fx.form(other, url.Values{"message": {"x"}}), 200, "ok")
	// A new window after the reset.
	fx.mu.Lock()
	fx.now = fx.now.Add(time.Hour)
	fx.mu.Unlock()
	a = fx.form(fx.token, url.Values{"message": {"x"}})
	wantAnswer(t, a, 200, "ok")
	if a.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("headers %v", a.header)
	}
	if len(fx.send.sent) != 5 {
		t.Fatalf("%d sent", len(fx.send.sent))
	}
}

func TestSendFailures(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w (reqSeq 7; dropped)", delivery.ErrOutcomeUnknown), "may have been delivered"},
		{fmt.Errorf("%w: no keys", delivery.ErrNeedsE2EE), "Letter Sealing"},
		{&session.ErrEnded{Cause: lineapi.ErrAuthenticationFailed}, "linectl is logged out"},
		{ErrLoggedOut, "linectl is logged out"},
		{&lineapi.TalkError{Name: "TalkException", Code: 10, Reason: "not a member"}, "LINE refused the message: not a member (code 10)"},
		{errors.New("boom"), "linectl could not send the message: boom"},
	}
	for _, c := range cases {
		fx := newFixture(t, DefaultRate)
		fx.send.err = c.err
		a := fx.form(fx.token, url.Values{"message": {"x"}})
		wantAnswer(t, a, 500, c.want)
		if a.header.Get("X-RateLimit-Limit") == "" {
			t.Fatal("no rate-limit headers on a 500")
		}
		e := fx.logged[len(fx.logged)-1]
		if e.Status != 500 || e.ReqSeq != 7 || !strings.Contains(e.Error, c.want) {
			t.Fatalf("entry %+v", e)
		}
	}
}

func TestEndedAnswers500WithoutSending(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	fx.srv.Ended = func() bool { return true }
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"x"}}), 500, "logged out")
	if len(fx.send.sent) != 0 {
		t.Fatal("sent after the session ended")
	}
}

func TestLogEntry(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	fx.form(fx.token, url.Values{"message": {"secret text"}})
	e := fx.logged[0]
	if e.Status != 200 || e.Path != "/api/notify" || e.Method != "POST" || e.To != groupMID || e.MessageID != "101" ||
		e.TokenID != HashToken(fx.token)[:8] || !strings.HasPrefix(e.Remote, "127.0.0.1:") || e.Error != "" {
		t.Fatalf("entry %+v", e)
	}
	if s := fmt.Sprintf("%+v", e); strings.Contains(s, "secret text") || strings.Contains(s, fx.token) {
		t.Fatalf("entry leaks: %s", s)
	}
}

func TestTokenAddedByAnotherProcessIsSeen(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"x"}}), 200, "ok")
	// Another process (another Store on the same file) adds a token.
	other := &Store{Path: fx.store.Path}
	tok, _, err := other.Add(userMID, "Bob")
	if err != nil {
		t.Fatal(err)
	}
	wantAnswer(t, fx.form(tok, url.Values{"message": {"x"}}), 200, "ok")
	if _, err := other.Revoke(HashToken(tok)[:8]); err != nil {
		t.Fatal(err)
	}
	wantAnswer(t, fx.form(tok, url.Values{"message": {"x"}}), 401, "Invalid")
}

func TestUnreadableTokenFileIs500(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	if err := os.WriteFile(fx.store.Path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"x"}}), 500, "token file")
}

func TestConcurrentRequests(t *testing.T) {
	fx := newFixture(t, Rate{Calls: 10, Per: time.Hour})
	fx.send.delay = 5 * time.Millisecond
	var wg sync.WaitGroup
	codes := make(chan int, 12)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := url.Values{"message": {fmt.Sprint("m", i)}}
			req, _ := http.NewRequest("POST", fx.ts.URL+"/api/notify", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+fx.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[200] != 10 || n[429] != 2 || len(fx.send.sent) != 10 {
		t.Fatalf("answers %v, %d sent", n, len(fx.send.sent))
	}
}

// JSON bodies, as webhook integrations send them: Notify's fields, Grafana's
// webhook ("message", among its other fields) and Uptime Kuma's ("msg").
func TestNotifyJSONWebhooks(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	js := func(body string) answer {
		return fx.do("POST", "/api/notify", fx.token, "application/json", strings.NewReader(body))
	}
	wantAnswer(t, js(`{"message":"from json","notificationDisabled":true}`), 200, "ok")
	wantAnswer(t, js(`{"receiver":"linectl","status":"firing","title":"[FIRING:1] disk","message":"disk 95% on db1","alerts":[{"status":"firing"}]}`), 200, "ok")
	wantAnswer(t, js(`{"heartbeat":{"status":0},"monitor":{"name":"web"},"msg":"[web] [🔴 Down] timeout"}`), 200, "ok")
	wantAnswer(t, js(`{"message":"with a sticker","stickerPackageId":446,"stickerId":"1988"}`), 200, "ok")
	wantAnswer(t, js(`{"title":"no message"}`), 400, "message")
	wantAnswer(t, js(`[1,2]`), 400, "not a JSON object")
	wantAnswer(t, js(`{"message":`), 400, "not a JSON object")
	want := []string{groupMID + " from json", groupMID + " disk 95% on db1", groupMID + " [web] [🔴 Down] timeout", groupMID + " with a sticker", groupMID + " sticker 446/1988"}
	if fmt.Sprint(fx.send.sent) != fmt.Sprint(want) {
		t.Fatalf("sent %q, want %q", fx.send.sent, want)
	}
}

// onePixelPNG is a valid 1×1 PNG.
var onePixelPNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}()

// imageFile (a PNG) and the URL pair (with FetchImage) send the text, then
// the image; with a sticker, the sticker last.
func TestNotifyImages(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	wantAnswer(t, fx.multipart(fx.token, map[string]string{"message": "graph", "stickerPackageId": "446", "stickerId": "1988"},
		map[string][]byte{"imageFile": onePixelPNG}), 200, "ok")
	fetched := ""
	fx.srv.FetchImage = func(_ context.Context, u string) ([]byte, error) { fetched = u; return onePixelPNG, nil }
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"by url"}, "imageThumbnail": {"https://e/t.jpg"}, "imageFullsize": {"https://e/full.png"}}), 200, "ok")
	want := []string{groupMID + " graph", groupMID + " image x.png", groupMID + " sticker 446/1988", groupMID + " by url", groupMID + " image full.png"}
	if fmt.Sprint(fx.send.sent) != fmt.Sprint(want) || fetched != "https://e/full.png" {
		t.Fatalf("sent %q (fetched %q)", fx.send.sent, fetched)
	}
	fx.srv.FetchImage = func(context.Context, string) ([]byte, error) { return []byte("<html>"), nil }
	wantAnswer(t, fx.form(fx.token, url.Values{"message": {"x"}, "imageThumbnail": {"https://e/t"}, "imageFullsize": {"https://e/f"}}), 400, "not a PNG")
	if len(fx.send.sent) != len(want) {
		t.Fatal("a refused image sent its text")
	}
}

// An image message delivered whose upload failed: the 500 says it was
// delivered, with its id, and how to complete it; nothing is resent.
func TestNotifyImageUploadFailed(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	fx.send.err, fx.send.failAt = &delivery.UploadError{MessageID: "777", Err: errors.New("HTTP 503")}, 1
	a := fx.multipart(fx.token, map[string]string{"message": "graph"}, map[string][]byte{"imageFile": onePixelPNG})
	wantAnswer(t, a, 500, "the message (LINE message id 101) was sent; the image message was delivered (LINE message id 777)")
	if !strings.Contains(a.body["message"].(string), "linectl upload --message-id 777") {
		t.Fatalf("answer %v", a.body)
	}
}

// An imageFile crafted to exhaust memory (a GIF of 30 frames of 4000×4000:
// 480 MB to decode whole) is refused with 400 and the reason, and the
// server allocates under 100 MB for it.
func TestNotifyImageBomb(t *testing.T) {
	fx := newFixture(t, DefaultRate)
	var one bytes.Buffer
	if err := gif.Encode(&one, image.NewPaletted(image.Rect(0, 0, 4000, 4000), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	b := one.Bytes()
	hdr := 13 + 3<<(b[10]&7+1)
	bomb := append([]byte{}, b[:hdr]...)
	for range 30 {
		bomb = append(bomb, b[hdr:len(b)-1]...)
	}
	bomb = append(bomb, 0x3B)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := fx.multipart(fx.token, map[string]string{"message": "x"}, map[string][]byte{"imageFile": bomb})
	runtime.ReadMemStats(&after)
	wantAnswer(t, a, 400, "30 frames of 4000 × 4000")
	if n := after.TotalAlloc - before.TotalAlloc; n > 100<<20 {
		t.Fatalf("%d MB allocated", n>>20)
	}
	if len(fx.send.sent) != 0 {
		t.Fatalf("sent %q", fx.send.sent)
	}
}
