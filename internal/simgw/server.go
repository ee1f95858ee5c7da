package simgw

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/httplimit"
	"github.com/linectl/linectl/internal/simsign"
)

// The extension identity the simulator insists on (docs/protocol.md §1).
const (
	Version    = "3.7.2"
	Origin     = "chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc"
	acceptJSON = "application/json, text/plain, */*"
)

// Options configures a Server.
type Options struct {
	// SigningKey, when set, makes every request but the SSE stream carry a
	// valid simsign x-hmac; otherwise the simulator answers 10005.
	SigningKey []byte
	// PhoneDelay is how long the simulated phone takes to scan a QR code or
	// confirm a PIN by itself. Negative: never by itself (tests drive it).
	PhoneDelay time.Duration
	// ManualScan: the phone scans QR codes only when told (Scan), so it can
	// read the login key from the printed URL; PINs still follow PhoneDelay.
	ManualScan bool
	// PhoneMID is the account whose phone scans QR codes (default: first account).
	PhoneMID string
	// AccessTokenTTL is how long an access token lives (default 7 days).
	AccessTokenTTL time.Duration
	// RefreshAfter is durationUntilRefreshInSec (default 6 days).
	RefreshAfter time.Duration
	// MaxPollWait caps a long-poll window (default: the x-lst header).
	MaxPollWait time.Duration
	// PingInterval is the SSE ping period (default 20s).
	PingInterval time.Duration
	// Now is the clock (default time.Now); Advance moves it forward.
	Now func() time.Time
	// Logf, if set, logs each request.
	Logf func(format string, a ...any)
	// Latency is added before every answer: the network's round trip to a
	// far gateway. ConnLatency is added once per new connection: TCP and TLS
	// set-up. Both are for measuring round trips (make bench); 0 = none.
	Latency, ConnLatency time.Duration
	// OBSTokenTTL is how long an OBS token from acquireEncryptedAccessToken
	// lives (default 1h).
	OBSTokenTTL time.Duration
	// MaxOBSObject is the largest object OBS takes, in bytes (default 1 GiB).
	MaxOBSObject int64
	// PlainUploadNoOID: OBS answers a plain upload (/r/talk/m/<id>) with a
	// 2xx but no x-obs-oid header (LINE's extension never reads it there, so
	// nothing says OBS sends it). See also SetPlainUploadNoOID.
	PlainUploadNoOID bool
	// UnrecordedOBSBodies: Calls record OBS uploads without their bytes, and
	// an upload's body is read once, straight into its object (make bench's
	// 1 GiB files; recorded, each would stay in memory twice over).
	UnrecordedOBSBodies bool
}

// Server is the simulator: the routing server. It owns the shared state
// (state.go), the route table (routes.go) and the listener; the concerns
// registered on it answer the calls. It is safe for concurrent use.
type Server struct {
	*state
	*authPhone
	*talkStream
	*sealing
	*objectStore
	*convos
	*faultAdmin
	routes map[string]handler // request path → its handler (routes.go)

	listener net.Listener
	addr     string // where Start listens; Resume listens there again
	httpSrv  *http.Server
}

// New returns a simulator with no accounts.
func New(opts Options) *Server {
	if opts.AccessTokenTTL == 0 {
		opts.AccessTokenTTL = 7 * 24 * time.Hour
	}
	if opts.RefreshAfter == 0 {
		opts.RefreshAfter = 6 * 24 * time.Hour
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OBSTokenTTL == 0 {
		opts.OBSTokenTTL = time.Hour
	}
	if opts.MaxOBSObject == 0 {
		opts.MaxOBSObject = 1 << 30
	}
	st := &state{opts: opts, accounts: map[string]*Account{}, chats: map[string]*Chat{}, ops: map[string][]op{},
		wake: make(chan struct{}), rev: 947933, seq: 605311889450205372}
	seal := &sealing{state: st, groupKeys: map[string][]*groupKey{}, chatTypes: map[string][]int{}}
	obs := &objectStore{state: st, seal: seal, obsTokens: map[string]*obsToken{}, objects: map[string]*obsObject{},
		obsReqIDs: map[string]string{}, noOID: opts.PlainUploadNoOID}
	auth := &authPhone{state: st, seal: seal, rsaKeys: map[string]*rsaSession{}, verifier: map[string]*pending{},
		qr: map[string]*qrSession{}, tokens: map[string]*token{}, refresh: map[string]*refreshTok{}, certs: map[string]string{}}
	obs.auth = auth
	conv := &convos{state: st}
	talk := &talkStream{state: st, auth: auth, seal: seal, obs: obs, convs: conv}
	s := &Server{state: st, authPhone: auth, talkStream: talk, sealing: seal, objectStore: obs, convos: conv,
		faultAdmin: &faultAdmin{state: st, auth: auth}}
	s.routes = s.register()
	return s
}

// Start serves on addr (e.g. "127.0.0.1:0") and returns the base URL.
func (s *Server) Start(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	if s.opts.ConnLatency > 0 {
		l = &slowListener{Listener: l, d: s.opts.ConnLatency}
	}
	// The sandbox's bounds, as notify serve's: a client that trickles a
	// body or idles holds nothing for long, and connections are capped.
	l = httplimit.LimitListener(l, 512)
	s.mu.Lock()
	s.listener, s.addr = l, l.Addr().String()
	s.httpSrv = &http.Server{Handler: httplimit.BodyTimeout(s, 30*time.Second), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	srv := s.httpSrv
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
	return "http://" + s.addr, nil
}

// Stop takes the gateway down as a restart does: the listener and every open
// connection close (answers in flight are lost). What LINE keeps behind its
// gateway — accounts, messages, tokens, operations — stays, and a request
// already being handled still commits. Resume serves again on the same address.
func (s *Server) Stop() error { return s.Close() }

// Resume listens again on the address Start chose, after Stop.
func (s *Server) Resume() error {
	_, err := s.Start(s.addr)
	return err
}

// Close stops the listener started by Start.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.httpSrv
	if srv != nil {
		s.broadcast()
	}
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// now is the simulated clock. Callers hold s.mu or accept a racy read of offset.
func (s *state) now() time.Time { return s.opts.Now().Add(s.offset) }

// Advance moves the simulated clock forward (tokens expire by it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// broadcast wakes every waiting long-poll and stream. Caller holds s.mu.
func (s *state) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// Call is one request the simulator received, for tests.
type Call struct {
	Method string // RPC method, or obs-upload / obs-download
	Path   string // the request URI: path and query
	Header http.Header
	// Body is the request body as received: a gateway call's JSON, an OBS
	// upload's bytes (up to MaxOBSObject), "" for a download.
	Body string
}

// Calls returns the requests received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallNames returns the RPC method names received so far, in order.
func (s *Server) CallNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.Method
	}
	return out
}

// request is one decoded call.
type request struct {
	r      *http.Request
	method string            // RPC method or route name
	body   []byte            // exact bytes received
	args   []json.RawMessage // positional args of a thrift call
	token  string            // x-line-access
	mid    string            // authenticated account
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	if s.opts.Logf != nil {
		s.opts.Logf("%s %s", r.Method, r.URL.Path)
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/_sandbox/"):
		s.admin(w, r)
	case path == "/api/operation/receive":
		s.serveStream(w, r)
	case strings.HasPrefix(path, "/r/"):
		s.serveOBS(w, r) // LINE's object storage, obs.line-apps.com (obs.go)
	default:
		s.api(w, r)
	}
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	path := r.URL.Path
	req := &request{r: r, body: body, token: r.Header.Get("x-line-access")}
	h, found := s.routes[path]
	if !found {
		// A known service's unknown method is the gateway's 10101; any
		// other path is not found.
		if svc, ok := strings.CutPrefix(path, thriftPrefix); ok && strings.Count(svc, "/") == 2 && services[svc[:strings.LastIndex(svc, "/")]] {
			writeErr(w, gw(10101))
		} else {
			writeErr(w, gw(10001))
		}
		return
	}
	req.method = h.name
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: req.method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
	f := s.faults.take(req.method)
	s.mu.Unlock()
	if preFault(w, f) {
		return
	}
	if err := s.validate(req, h); err != nil {
		writeErr(w, err)
		return
	}
	data, err := h.fn(req)
	if err == nil {
		s.afterCall(req, data)
	}
	if f.kind == faultDropAfter {
		hangUp(w) // the call was processed; the answer is lost
		return
	}
	if f.kind == FaultReply && err == nil {
		writeReply(w, f.reply) // processed; the answer is hostile
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	if sc, ok := data.(setCookie); ok {
		http.SetCookie(w, &http.Cookie{Name: "lct", Value: sc.value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, MaxAge: sc.maxAge})
		data = sc.data
	}
	ok(w, data)
}

// preFault applies f's delay and answers for it when it fails the call
// before processing; it reports whether it answered.
func preFault(w http.ResponseWriter, f fault) bool {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	switch f.kind {
	case fault503:
		w.Header().Set("content-type", "text/html")
		w.WriteHeader(503)
		_, _ = io.WriteString(w, "<html><body>503 Service Unavailable</body></html>")
		return true
	case fault429:
		w.WriteHeader(429)
		_, _ = io.WriteString(w, "Too Many Requests")
		return true
	case faultDropBefore:
		hangUp(w)
		return true
	case faultTalk:
		writeErr(w, talk(f.code, f.reason))
		return true
	case FaultReply:
		if !f.reply.Process {
			writeReply(w, f.reply)
			return true
		}
	}
	return false
}

// validate checks what the real gateway checks before running a call.
func (s *Server) validate(req *request, h handler) error {
	r := req.r
	if r.Method != h.http {
		return gw(10001)
	}
	hd := r.Header
	if hd.Get("x-line-chrome-version") != Version {
		return gw(10006)
	}
	if hd.Get("origin") != Origin || hd.Get("x-lal") == "" || !strings.Contains(hd.Get("user-agent"), "Chrome/") ||
		hd.Get("accept") != acceptJSON {
		return gw(10003)
	}
	if h.http == "POST" && hd.Get("content-type") != "application/json" {
		return gw(10003)
	}
	if s.opts.SigningKey != nil {
		sig := hd.Get("x-hmac")
		if sig == "" || !simsign.Verify(s.opts.SigningKey, Version, req.token, r.URL.RequestURI(), string(req.body), sig) {
			return gw(10005)
		}
	}
	if c, err := r.Cookie("lct"); err == nil && req.token != "" && c.Value != req.token {
		return talk(1, "Authentication Failed.")
	}
	if h.http == "POST" {
		if !json.Valid(req.body) {
			return gw(10002)
		}
		trimmed := bytes.TrimSpace(req.body)
		if h.object {
			if len(trimmed) == 0 || trimmed[0] != '{' {
				return gw(10003)
			}
		} else {
			if len(trimmed) == 0 || trimmed[0] != '[' {
				return gw(10003)
			}
			if err := json.Unmarshal(trimmed, &req.args); err != nil {
				return gw(10003)
			}
			if h.arity >= 0 && len(req.args) != h.arity {
				return gw(10102)
			}
		}
	} else if len(req.body) != 0 {
		return gw(10003)
	}
	if h.auth {
		if req.token == "" {
			return gw(10004)
		}
		s.mu.Lock()
		mid, err := s.authPhone.authenticate(req.token)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		req.mid = mid
	}
	return nil
}

// authenticate maps an access token to its account. Caller holds s.mu.
func (s *authPhone) authenticate(tok string) (string, error) {
	t, ok := s.tokens[tok]
	switch {
	case !ok || t.loggedOut:
		return "", talk(1, "Authentication Failed.")
	case t.kicked:
		return "", talk(8, "V3_TOKEN_CLIENT_LOGGED_OUT")
	case t.expired || !s.now().Before(t.expires):
		return "", talk(119, "Access token refresh required")
	}
	return t.mid, nil
}

// slowListener's connections answer their first read only after d: a new
// connection's set-up cost (TCP and TLS handshakes to a far gateway).
type slowListener struct {
	net.Listener
	d time.Duration
}

func (l *slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &slowConn{Conn: c, d: l.d}, nil
}

type slowConn struct {
	net.Conn
	d    time.Duration
	once sync.Once
}

func (c *slowConn) Read(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.d) })
	return c.Conn.Read(p)
}
