package gatewaysim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/simsign"
)

// Values every request must carry (PROTOCOL.md §1).
const (
	ChromeVersion = "3.7.2"
	Origin        = "chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc"
	AcceptJSON    = "application/json, text/plain, */*"
	AcceptSSE     = "text/event-stream"
)

// Clock tells the simulator what time it is. Token expiry and timestamps use
// it; long-poll windows and pings use real timers.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now implements Clock.
func (f ClockFunc) Now() time.Time { return f() }

// Options configures a Server. The zero value is usable.
type Options struct {
	// SigningKey, when non-nil, makes every request except the SSE stream
	// carry x-hmac = simsign.Sign(key, version, accessToken, requestURI, body).
	SigningKey []byte
	// Clock defaults to the wall clock. Server.Advance moves it forward.
	Clock Clock
	// PhoneDelay: the simulated phone scans new QR codes and confirms PINs
	// after this delay. Zero = at once; negative = only via ScanQR/ConfirmPIN.
	PhoneDelay time.Duration
	// PhoneMID is the account the phone is logged in as (scans QR codes).
	// Defaults to the first account added.
	PhoneMID string
	// AccessTokenTTL defaults to 7 days.
	AccessTokenTTL time.Duration
	// MaxPollWait caps a long-poll window; 0 = the x-lst header decides.
	MaxPollWait time.Duration
	// PingInterval of the SSE stream, default 20s.
	PingInterval time.Duration
	// Logf receives one line per request and per rejection; nil = silent.
	Logf func(format string, args ...any)
}

// Server is the simulated gateway. It is an http.Handler.
type Server struct {
	opts Options

	mu       sync.Mutex
	offset   time.Duration
	accounts map[string]*account
	order    []string // account MIDs in insertion order
	emails   map[string]string
	chats    map[string]*chat
	chatList []string
	contacts map[string][]string
	feeds    map[string]*feed
	messages []Message
	calls    []Call
	nextMsg  int64
	tok      tokenStore
	rsaKeys  map[string]string // keynm -> sessionKey, single use
	keySeq   int
	pins     map[string]*pinLogin // verifier -> password-login PIN state
	qrs      map[string]*qrSession
	qrOrder  []string
	certs    map[string]string // certificate -> MID
	groupKey map[string]map[string]GroupKey
	f        faults

	done      chan struct{}
	closeOnce sync.Once
	httpSrv   *http.Server
	timers    []*time.Timer
}

// New returns a Server with no accounts.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = ClockFunc(time.Now)
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = 7 * 24 * time.Hour
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 20 * time.Second
	}
	return &Server{
		opts:     opts,
		accounts: map[string]*account{},
		emails:   map[string]string{},
		chats:    map[string]*chat{},
		contacts: map[string][]string{},
		feeds:    map[string]*feed{},
		nextMsg:  605311889450205372,
		tok:      newTokenStore(),
		rsaKeys:  map[string]string{},
		keySeq:   15300,
		pins:     map[string]*pinLogin{},
		qrs:      map[string]*qrSession{},
		certs:    map[string]string{},
		groupKey: map[string]map[string]GroupKey{},
		f:        newFaults(),
		done:     make(chan struct{}),
	}
}

// Start serves on addr ("127.0.0.1:0" for a free port) and returns the base URL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("gatewaysim: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.httpSrv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close ends every long-poll and stream, stops the phone's timers and, when
// Start was used, the listener. Call it before httptest.Server.Close.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	srv := s.httpSrv
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Now is the simulator's current time (Clock plus Advance offsets).
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.opts.Clock.Now().Add(s.offset) }

// Advance moves the simulator's clock forward by d.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// after runs fn after d unless the server closes first.
func (s *Server) after(d time.Duration, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timers = append(s.timers, time.AfterFunc(d, fn))
}

// Call is one request as the simulator received it.
type Call struct {
	Time   time.Time
	Method string // HTTP method
	Path   string // request URI including the query
	Name   string // last path element: "sendMessage", "JQ", "receive", "tokenRefresh", ...
	Header http.Header
	Body   []byte
}

// Calls returns every request received so far, in order (admin calls excluded).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls whose Name is name.
func (s *Server) CallsTo(name string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// gwError is an envelope error other than a TalkException.
type gwError struct {
	status int
	code   int
	msg    string
	data   any
	detail string // for logs and the x-sandbox-detail header only
}

func (e *gwError) Error() string { return fmt.Sprintf("%d %s: %s", e.code, e.msg, e.detail) }

// Gateway error codes (PROTOCOL.md §1).
const (
	CodeNotFound          = 10001
	CodeInvalidJSON       = 10002
	CodeInvalidParam      = 10003
	CodeNeedLogin         = 10004
	CodeInvalidHMAC       = 10005
	CodeMustUpgrade       = 10006
	CodeResponseError     = 10051
	CodeResponseHTTPError = 10052
	CodeInvalidMethod     = 10101
	CodeInvalidArgument   = 10102
	CodeNoAuthSessionID   = 10105
	CodeAuthInvalid       = 10201
	CodeAuthRetry         = 10202
)

var codeNames = map[int]string{
	CodeNotFound: "REQUEST_NOT_FOUND", CodeInvalidJSON: "REQUEST_INVALID_JSON", CodeInvalidParam: "REQUEST_INVALID_PARAM",
	CodeNeedLogin: "REQUEST_NEED_LOGIN", CodeInvalidHMAC: "REQUEST_INVALID_HMAC", CodeMustUpgrade: "REQUEST_MUST_UPGRADE",
	CodeResponseError: "RESPONSE_ERROR", CodeResponseHTTPError: "RESPONSE_HTTP_ERROR", CodeInvalidMethod: "THRIFT_INVALID_METHOD",
	CodeInvalidArgument: "THRIFT_INVALID_ARGUMENT", CodeNoAuthSessionID: "THRIFT_NO_AUTH_SESSION_ID",
	CodeAuthInvalid: "AUTH_INVALID_REQUEST", CodeAuthRetry: "AUTH_RETRY_REQUIRED",
}

func gwErr(code int, detail string, args ...any) *gwError {
	return &gwError{status: http.StatusBadRequest, code: code, msg: codeNames[code], detail: fmt.Sprintf(detail, args...)}
}

func pollExpired() *gwError {
	e := gwErr(CodeResponseHTTPError, "long-poll window expired")
	e.data = map[string]any{"statusCode": 410}
	return e
}

// TalkError is a Thrift exception answered inside a 10051 envelope.
type TalkError struct {
	Name         string // "TalkException" or "SecondaryQrCodeException"
	Code         int
	Reason       string
	ParameterMap map[string]string
}

func (e *TalkError) Error() string { return fmt.Sprintf("%s %d %s", e.Name, e.Code, e.Reason) }

func talkErr(code int, reason string) *TalkError {
	return &TalkError{Name: "TalkException", Code: code, Reason: reason}
}

func qrErr(code int, reason string) *TalkError {
	return &TalkError{Name: "SecondaryQrCodeException", Code: code, Reason: reason}
}

// reply is a fully computed response, written (or dropped) afterwards.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func jsonReply(status int, v any) *reply {
	b, _ := json.Marshal(v)
	return &reply{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

func okReply(data any) *reply {
	return jsonReply(http.StatusOK, map[string]any{"code": 0, "message": "OK", "data": data})
}

func errReply(err error) *reply {
	var te *TalkError
	var ge *gwError
	switch {
	case errors.As(err, &te):
		var pm any
		if te.ParameterMap != nil {
			pm = te.ParameterMap
		}
		return jsonReply(http.StatusBadRequest, map[string]any{"code": CodeResponseError, "message": "RESPONSE_ERROR",
			"data": map[string]any{"name": te.Name, "message": te.Name, "code": te.Code, "reason": te.Reason, "parameterMap": pm}})
	case errors.As(err, &ge):
		env := map[string]any{"code": ge.code, "message": ge.msg}
		if ge.data != nil {
			env["data"] = ge.data
		}
		r := jsonReply(ge.status, env)
		if ge.detail != "" {
			r.header.Set("X-Sandbox-Detail", ge.detail)
		}
		return r
	default:
		return jsonReply(http.StatusInternalServerError, map[string]any{"code": 99999, "message": "UNKNOWN_ERROR"})
	}
}

func (r *reply) write(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

// abort closes the connection without an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.serveAdmin(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		abort(w)
		return
	}
	name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	s.mu.Lock()
	s.calls = append(s.calls, Call{Time: s.nowLocked(), Method: r.Method, Path: r.URL.RequestURI(), Name: name,
		Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()
	s.logf("gatewaysim: %s %s %s", r.Method, r.URL.Path, truncate(body))

	fault := s.takeFault(name)
	if d := s.delayFor(name); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		case <-s.done:
		}
	}
	switch fault {
	case Fault503:
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	case Fault429:
		http.Error(w, "429 Too Many Requests", http.StatusTooManyRequests)
		return
	case FaultDropBefore:
		abort(w)
		return
	case FaultAbuseBlock:
		errReply(talkErr(35, "abuse block")).write(w)
		return
	case FaultCongestion:
		errReply(talkErr(58, "congestion control")).write(w)
		return
	case FaultServerBusy:
		errReply(talkErr(101, "server busy")).write(w)
		return
	}

	if r.URL.Path == "/api/operation/receive" {
		if fault == FaultDropAfterCommit {
			abort(w)
			return
		}
		s.serveStream(w, r)
		return
	}
	rep := s.handle(r, body)
	if rep.status != http.StatusOK {
		s.logf("gatewaysim: rejected %s: %s %s", r.URL.Path, rep.header.Get("X-Sandbox-Detail"), truncate(rep.body))
	}
	if fault == FaultDropAfterCommit {
		abort(w)
		return
	}
	rep.write(w)
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

var lalRE = regexp.MustCompile(`^[a-z]{2,3}_[A-Z]{2}$`)

// checkHeaders validates the headers the extension sends on every call.
func checkHeaders(r *http.Request, accept string, needContentType bool) error {
	h := r.Header
	if ct := h.Get("Content-Type"); needContentType || ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return gwErr(CodeInvalidJSON, "content-type %q, want application/json", ct)
		}
	}
	if got := h.Get("Accept"); got != accept {
		return gwErr(CodeInvalidParam, "accept %q, want %q", got, accept)
	}
	if got := h.Get("Origin"); got != Origin {
		return gwErr(CodeInvalidParam, "origin %q, want %q", got, Origin)
	}
	if !strings.Contains(h.Get("User-Agent"), "Chrome/") {
		return gwErr(CodeInvalidParam, "user-agent %q is not Chrome", h.Get("User-Agent"))
	}
	if got := h.Get("X-Line-Chrome-Version"); got != ChromeVersion {
		return gwErr(CodeMustUpgrade, "x-line-chrome-version %q, want %s", got, ChromeVersion)
	}
	if !lalRE.MatchString(h.Get("X-Lal")) {
		return gwErr(CodeInvalidParam, "x-lal %q, want a locale like en_US", h.Get("X-Lal"))
	}
	return nil
}

func (s *Server) checkHMAC(r *http.Request, body []byte) error {
	if s.opts.SigningKey == nil {
		return nil
	}
	sig := r.Header.Get("X-Hmac")
	if sig == "" || !simsign.Verify(s.opts.SigningKey, ChromeVersion, r.Header.Get("X-Line-Access"), r.URL.RequestURI(), string(body), sig) {
		return gwErr(CodeInvalidHMAC, "x-hmac missing or wrong")
	}
	return nil
}

// handle routes one non-stream LINE request and computes its reply.
func (s *Server) handle(r *http.Request, body []byte) *reply {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/talk/thrift/"):
		return s.handleThrift(r, body)
	case p == "/api/talk/long-polling/JQ":
		return s.handleLongPoll(r, body, s.pollJQ)
	case p == "/api/auth/tokenRefresh":
		if r.Method != http.MethodPost {
			return errReply(gwErr(CodeNotFound, "%s %s", r.Method, p))
		}
		if err := s.preflight(r, body, AcceptJSON, true); err != nil {
			return errReply(err)
		}
		return s.tokenRefresh(r, body)
	}
	return errReply(gwErr(CodeNotFound, "no route %s", p))
}

func (s *Server) preflight(r *http.Request, body []byte, accept string, post bool) error {
	if err := checkHeaders(r, accept, post); err != nil {
		return err
	}
	return s.checkHMAC(r, body)
}

// handleLongPoll serves GET long-polls (signed with body "").
func (s *Server) handleLongPoll(r *http.Request, body []byte, fn func(ctx context.Context, r *http.Request, window time.Duration) (any, error)) *reply {
	if r.Method != http.MethodGet {
		return errReply(gwErr(CodeNotFound, "%s %s", r.Method, r.URL.Path))
	}
	if err := s.preflight(r, body, AcceptJSON, false); err != nil {
		return errReply(err)
	}
	if len(bytes.TrimSpace(body)) != 0 {
		return errReply(gwErr(CodeInvalidParam, "GET long-poll with a body"))
	}
	window, err := s.pollWindow(r)
	if err != nil {
		return errReply(err)
	}
	data, err := fn(r.Context(), r, window)
	if err != nil {
		return errReply(err)
	}
	return okReply(data)
}
