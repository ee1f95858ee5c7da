// Package lineapi is a client for LINE's Chrome-extension web gateway
// (line-chrome-gw.line-apps.com), as described in docs/protocol.md.
//
// Every RPC goes through one request path: the JSON body is serialised once,
// signed (x-hmac) over exactly those bytes, and sent with the extension's
// headers. The gateway's error envelope is decoded into *TalkError or
// *GatewayError whatever the HTTP status.
package lineapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Extension identity (docs/protocol.md §1).
const (
	DefaultBaseURL   = "https://line-chrome-gw.line-apps.com"
	ExtensionVersion = "3.7.2"
	ExtensionOrigin  = "chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc"
	DefaultUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/146.0.0.0 Safari/537.36"
	DefaultLanguage  = "en_US"
	acceptJSON       = "application/json, text/plain, */*"
	defaultMaxBody   = 16 << 20
	defaultTimeout   = 30 * time.Second
)

// ErrNotLoggedIn is returned by authenticated calls when there is no access token.
var ErrNotLoggedIn = errors.New("not logged in")

// TokenSource supplies the access token for authenticated calls and renews
// it when the gateway says it expired. Implementations must be safe for
// concurrent use.
type TokenSource interface {
	// Token returns the access token to use now ("" = not logged in).
	Token(ctx context.Context) (string, error)
	// Refresh obtains a new access token after stale was refused as expired.
	Refresh(ctx context.Context, stale string) (string, error)
}

// Reloader is an optional TokenSource method: it returns a token newer than
// stale if another process saved one (after which stale may be refused).
type Reloader interface {
	Reload(ctx context.Context, stale string) (string, bool)
}

// StaticToken is a TokenSource that never refreshes.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// Refresh fails: a static token cannot be renewed.
func (t StaticToken) Refresh(context.Context, string) (string, error) {
	return "", fmt.Errorf("access token expired and cannot be refreshed: %w", ErrMustRefreshToken)
}

// Client talks to the gateway. It is safe for concurrent use.
type Client struct {
	baseURL   string
	hc        *http.Client
	signer    Signer
	tokens    TokenSource
	version   string
	userAgent string
	language  string
	maxBody   int64
	timeout   time.Duration
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	attempts  int
	debug     io.Writer
	debugMu   sync.Mutex
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (its Timeout should be 0: calls carry their own deadlines).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithSigner sets the x-hmac signer. The default is NoneSigner.
func WithSigner(s Signer) Option { return func(c *Client) { c.signer = s } }

// WithTokenSource sets where authenticated calls get their access token.
func WithTokenSource(ts TokenSource) Option { return func(c *Client) { c.tokens = ts } }

// WithVersion sets x-line-chrome-version (it must match the signing module's version).
func WithVersion(v string) Option { return func(c *Client) { c.version = v } }

// WithUserAgent sets the user-agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithTimeout sets the deadline of one ordinary call (long-polls add their window).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithClock sets the clock (for message timestamps and token due times).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithSleep sets how the client waits between retries (tests make it instant).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithRetries sets how many times a call that is safe to repeat is tried in all (default 3).
func WithRetries(n int) Option { return func(c *Client) { c.attempts = max(1, n) } }

// WithDebugLog writes every request and response, with secrets redacted, to w.
func WithDebugLog(w io.Writer) Option { return func(c *Client) { c.debug = w } }

// New returns a client for the gateway at baseURL. Plain http is accepted
// only for loopback hosts (the simulator); anything else must be https.
func New(baseURL string, opts ...Option) (*Client, error) {
	if err := CheckBaseURL(baseURL); err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:   trimSlash(baseURL),
		signer:    NoneSigner{},
		tokens:    StaticToken(""),
		version:   ExtensionVersion,
		userAgent: DefaultUserAgent,
		language:  DefaultLanguage,
		maxBody:   defaultMaxBody,
		timeout:   defaultTimeout,
		now:       time.Now,
		sleep:     SleepContext,
		attempts:  3,
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: NewTransport()}
	}
	return c, nil
}

// CheckBaseURL validates a gateway URL: https, or http on a loopback host.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("gateway URL %q is not an absolute URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("gateway URL %q must be scheme://host[:port] only", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("gateway URL %q: plain http is allowed only for loopback hosts", raw)
	default:
		return fmt.Errorf("gateway URL %q: scheme must be https", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// NewTransport returns the HTTP transport New uses when WithHTTPClient is
// not given (proxy from the environment, keep-alive, HTTP/2 when offered):
// a base for callers that wrap it.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// setExtensionHeaders sets what the extension sends on every gateway
// request, the operation stream's included (docs/protocol.md §1): its
// version, language, origin and user agent, and the access token both as
// x-line-access and as the lct cookie.
func (c *Client) setExtensionHeaders(h http.Header, token string) {
	h.Set("x-line-chrome-version", c.version)
	h.Set("x-lal", c.language)
	h.Set("origin", ExtensionOrigin)
	h.Set("user-agent", c.userAgent)
	if token != "" {
		h.Set("x-line-access", token)
		h.Set("cookie", "lct="+token)
	}
}

// SleepContext waits for d or until ctx ends, whichever is first.
func SleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// BaseURL returns the gateway URL the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// Version returns the x-line-chrome-version the client sends.
func (c *Client) Version() string { return c.version }

// Now returns the client's clock reading.
func (c *Client) Now() time.Time { return c.now() }

// call describes one request.
type call struct {
	method     string      // HTTP method
	path       string      // URI after the host, with query
	name       string      // short name for errors, e.g. "sendMessage"
	body       []byte      // exact bytes sent (and signed)
	auth       bool        // send x-line-access from the TokenSource
	token      *string     // explicit access token (overrides auth/TokenSource)
	header     http.Header // extra headers (x-line-session-id, x-lst)
	timeout    time.Duration
	repeatable bool // idempotent: may be repeated even when the outcome is unknown
	// secretAnswer: the whole answer is a secret (an OBS token), never logged.
	secretAnswer bool
}

// thriftCall POSTs args (a JSON array) to /api/talk/thrift/<service>/<method>
// and decodes the envelope's data into out (if non-nil).
func (c *Client) thriftCall(ctx context.Context, service, method string, args []any, out any, auth, repeatable bool) error {
	body, err := marshalBody(args)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", method, err)
	}
	return c.do(ctx, &call{
		method: http.MethodPost, path: "/api/talk/thrift/" + service + "/" + method, name: method,
		body: body, auth: auth, repeatable: repeatable,
	}, out)
}

// marshalBody encodes v as compact JSON without HTML escaping, as JSON.stringify does.
func marshalBody(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// do sends the call, refreshing the token once on 119 and retrying what is safe to retry.
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	refreshed := false
	var err error
	for attempt := 1; ; attempt++ {
		token := ""
		switch {
		case cl.token != nil:
			token = *cl.token
		case cl.auth:
			if token, err = c.tokens.Token(ctx); err != nil {
				return &TokenError{Method: cl.name, Err: err}
			}
			if token == "" {
				return ErrNotLoggedIn
			}
		}
		err = c.roundTrip(ctx, cl, token, out)
		if err == nil {
			return nil
		}
		if cl.auth && cl.token == nil && !refreshed && errors.Is(err, ErrMustRefreshToken) {
			// 119: the call was refused, not processed; refresh and repeat once.
			refreshed = true
			if _, rerr := c.tokens.Refresh(ctx, token); rerr != nil {
				return &TokenError{Method: cl.name, Err: rerr}
			}
			attempt--
			continue
		}
		if cl.auth && cl.token == nil && !refreshed && IsSessionGone(err) {
			// Another process may have refreshed the token, which ends the old one.
			if rl, ok := c.tokens.(Reloader); ok {
				if _, newer := rl.Reload(ctx, token); newer {
					refreshed = true
					attempt--
					continue
				}
			}
		}
		if attempt >= c.attempts || !(NotProcessed(err) || (cl.repeatable && Temporary(err))) {
			return err
		}
		if serr := c.sleep(ctx, callBackoff.Delay(attempt)); serr != nil {
			return err
		}
	}
}

// callBackoff spaces the attempts of a call that is safe to repeat.
var callBackoff = Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}

// TokenError is a failure to get the access token for a call — a refresh
// that failed, timed out or was refused — before the call itself was sent
// (or after LINE refused it with 119): whatever it wraps, the call was not
// processed. Err keeps its own classification (a session ended, a network
// failure of the refresh).
type TokenError struct {
	Method string // the call that needed the token, e.g. "sendMessage"
	Err    error
}

func (e *TokenError) Error() string { return e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// NotProcessed reports whether err proves the gateway did not act on the
// request, so even a non-idempotent call (sendMessage) may be sent again:
// the connection failed before the request was written, a load balancer
// answered 503 without an envelope, or LINE throttled the call. A 502 or 504
// is not proof: the proxy may have passed the request on before failing.
func NotProcessed(err error) bool {
	var tk *TokenError
	if errors.As(err, &tk) {
		return true // the call itself was never sent
	}
	var te *TransportError
	if errors.As(err, &te) {
		return !te.Written && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	var ge *GatewayError
	if errors.As(err, &ge) && ge.Code == 0 && (ge.HTTPStatus == 503 || ge.HTTPStatus == 429) {
		return true
	}
	return IsRateLimited(err)
}

// Temporary reports whether err is a failure that may pass: any transport
// failure, a 5xx/429, 10202, or throttling.
func Temporary(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	var ge *GatewayError
	if errors.As(err, &ge) && ge.Temporary() && ge.Code != CodeResponseHTTPError {
		return true
	}
	var br *BadResponseError
	if errors.As(err, &br) {
		return true
	}
	return IsRateLimited(err)
}

func (c *Client) roundTrip(ctx context.Context, cl *call, token string, out any) error {
	timeout := cl.timeout
	if timeout == 0 {
		timeout = c.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	sig, err := c.signer.Sign(ctx, SignRequest{Path: cl.path, Body: string(cl.body), AccessToken: token, Version: c.version})
	if err != nil {
		return fmt.Errorf("%s: sign request: %w", cl.name, err)
	}
	var rd io.Reader
	if cl.method != http.MethodGet {
		rd = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.baseURL+cl.path, rd)
	if err != nil {
		return fmt.Errorf("%s: %w", cl.name, err)
	}
	h := req.Header
	h.Set("accept", acceptJSON)
	if cl.method != http.MethodGet {
		h.Set("content-type", "application/json")
	}
	c.setExtensionHeaders(h, token)
	if sig != "" {
		h.Set("x-hmac", sig)
	}
	for k, v := range cl.header {
		h[k] = v
	}
	var written bool
	var wmu sync.Mutex
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wmu.Lock(); written = true; wmu.Unlock() },
	}))
	c.logRequest(req, cl.body)
	resp, err := c.hc.Do(req)
	if err != nil {
		wmu.Lock()
		w := written
		wmu.Unlock()
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err // the URL has no secret, but keep errors short
		}
		return &TransportError{Method: cl.name, Written: w, Err: cause}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return &TransportError{Method: cl.name, Written: true, Err: err}
	}
	if cl.secretAnswer {
		c.logResponse(resp, nil)
	} else {
		c.logResponse(resp, data)
	}
	if int64(len(data)) > c.maxBody {
		return &BadResponseError{Method: cl.name, HTTPStatus: resp.StatusCode, Reason: fmt.Sprintf("larger than %d bytes", c.maxBody)}
	}
	payload, err := ParseEnvelope(resp.StatusCode, data)
	if err != nil {
		var br *BadResponseError
		if errors.As(err, &br) {
			br.Method = cl.name
			return br
		}
		return fmt.Errorf("%s: %w", cl.name, err)
	}
	if out != nil && len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, out); err != nil {
			// Do not quote the decoder: its message may carry the gateway's text.
			return &BadResponseError{Method: cl.name, HTTPStatus: resp.StatusCode, Reason: "data does not decode"}
		}
	}
	return nil
}

func headerWith(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func msString(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
