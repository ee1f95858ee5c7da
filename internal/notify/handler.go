package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// MaxMessageLength is Notify's limit on message: 1000 characters (runes).
const MaxMessageLength = 1000

// DefaultMaxBody bounds a request body: text fields only are read, so 1 MiB
// is far beyond any valid request.
const DefaultMaxBody = 1 << 20

// Sender delivers messages to one chat exactly once each (linectl's
// wrapper around a delivery.Sender). SendMessages sends cs in order, one
// after the other with no other send between them, and stops at the first
// failure; it returns a result for every message attempted (the failed
// one's too, when it has one).
type Sender interface {
	SendMessages(ctx context.Context, to string, cs []delivery.Content) ([]*delivery.Result, error)
}

// Entry is what the server says about one request (linectl prints it as a
// JSON line). It never holds the token or the message text.
type Entry struct {
	Method    string
	Path      string
	Status    int
	TokenID   string // the token's id (first hex digits of its hash), when it was valid
	To        string
	MessageID string
	ReqSeq    int64
	E2EE      bool
	// StickerMessageID and StickerReqSeq are the sticker's, when the request
	// had one (sent after the message).
	StickerMessageID string
	StickerReqSeq    int64
	Remote           string
	Duration         time.Duration
	Error            string // the answer's message, when Status is not 200
}

// Server is LINE Notify's API over a Sender.
type Server struct {
	Tokens  *Store
	Limiter *Limiter
	Sender  Sender
	Log     func(Entry)            // nil: no log
	MaxBody int64                  // 0: DefaultMaxBody
	Now     func() time.Time       // nil: time.Now
	Ended   func() bool            // reports that linectl's session ended; nil: never
	Context func() context.Context // the sends' context; nil: the request's, without its cancel
}

// apiError is an answer other than 200.
type apiError struct {
	status int
	msg    string
}

// Answers' messages.
const (
	msgOK            = "ok"
	msgInvalidToken  = "Invalid access token"
	msgStickerPair   = "stickerPackageId and stickerId must be given together"
	msgImages        = "images are not supported yet (see linectl issue 14: images and files)"
	msgLoggedOut     = "linectl is logged out: run 'linectl login qr' (or 'login password') and restart 'linectl notify serve'; nothing was sent"
	msgRateLimited   = "Rate limit exceeded"
	msgTokenFileFail = "linectl cannot read its notify token file"
)

// ServeHTTP routes /api/notify, /api/status and /api/revoke.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	e := Entry{Method: r.Method, Path: r.URL.Path, Remote: r.RemoteAddr}
	switch r.URL.Path {
	case "/api/notify":
		s.serve(w, r, &e, http.MethodPost, s.notify)
	case "/api/status":
		s.serve(w, r, &e, http.MethodGet, s.status)
	case "/api/revoke":
		s.serve(w, r, &e, http.MethodPost, s.revoke)
	default:
		s.answer(w, &e, http.StatusNotFound, "Not found", nil)
	}
	e.Duration = s.now().Sub(start)
	if s.Log != nil {
		s.Log(e)
	}
}

// serve checks the method and the token, then runs h with the token.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, e *Entry, method string,
	h func(http.ResponseWriter, *http.Request, *Entry, Token)) {
	if r.Method != method {
		w.Header().Set("Allow", method)
		s.answer(w, e, http.StatusMethodNotAllowed, "Method not allowed: use "+method, nil)
		return
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="linectl notify"`)
		s.answer(w, e, http.StatusUnauthorized, msgInvalidToken, nil)
		return
	}
	t, ok, err := s.Tokens.Lookup(token)
	if err != nil {
		s.answer(w, e, http.StatusInternalServerError, msgTokenFileFail+": "+err.Error(), nil)
		return
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="linectl notify", error="invalid_token"`)
		s.answer(w, e, http.StatusUnauthorized, msgInvalidToken, nil)
		return
	}
	e.TokenID, e.To = t.ID(), t.To
	h(w, r, e, t)
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 512 {
		return "", false
	}
	return tok, true
}

func (s *Server) notify(w http.ResponseWriter, r *http.Request, e *Entry, t Token) {
	q, ok := s.Limiter.Take(t.Hash)
	if !ok {
		s.answer(w, e, http.StatusTooManyRequests, msgRateLimited, &q)
		return
	}
	n, aerr := s.parse(w, r)
	if aerr != nil {
		s.answer(w, e, aerr.status, aerr.msg, &q)
		return
	}
	if s.Ended != nil && s.Ended() {
		s.answer(w, e, http.StatusInternalServerError, msgLoggedOut, &q)
		return
	}
	ctx := context.WithoutCancel(r.Context()) // a client hanging up does not cut a send in two
	if s.Context != nil {
		ctx = s.Context()
	}
	// With a sticker, Notify posted the message and the sticker: the text
	// first, then the sticker, as two LINE messages.
	cs := []delivery.Content{{Text: n.text}}
	if n.sticker != nil {
		cs = append(cs, delivery.Content{Sticker: n.sticker})
	}
	res, err := s.Sender.SendMessages(ctx, t.To, cs)
	if len(res) > 0 && res[0] != nil {
		e.ReqSeq, e.MessageID, e.E2EE = res[0].ReqSeq, res[0].MessageID, res[0].E2EE
	}
	if len(res) > 1 && res[1] != nil {
		e.StickerReqSeq, e.StickerMessageID = res[1].ReqSeq, res[1].MessageID
	}
	if err != nil {
		msg := SendFailure(err)
		if len(cs) > 1 && len(res) > 1 {
			// The text went out; only the sticker failed. Nothing is resent.
			sent := "the message was sent (LINE message id " + e.MessageID + ")"
			if errors.Is(err, delivery.ErrOutcomeUnknown) {
				msg = sent + "; the sticker may have been delivered: its outcome is unknown and linectl will not send it again (check the chat): " + err.Error()
			} else {
				msg = sent + " but the sticker was not: " + msg
			}
		}
		s.answer(w, e, http.StatusInternalServerError, msg, &q)
		return
	}
	s.answer(w, e, http.StatusOK, msgOK, &q)
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request, e *Entry, t Token) {
	q := s.Limiter.Peek(t.Hash)
	s.setQuota(w, &q)
	e.Status = http.StatusOK
	writeJSON(w, http.StatusOK, struct {
		Status     int    `json:"status"`
		Message    string `json:"message"`
		TargetType string `json:"targetType"`
		Target     string `json:"target"`
	}{http.StatusOK, msgOK, t.TargetType(), t.Target()})
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, e *Entry, t Token) {
	q := s.Limiter.Peek(t.Hash)
	token, _ := bearer(r.Header.Get("Authorization"))
	ok, err := s.Tokens.RevokeToken(token)
	switch {
	case err != nil:
		s.answer(w, e, http.StatusInternalServerError, "linectl could not revoke the token: "+err.Error(), &q)
	case !ok: // revoked by someone else in the meantime
		s.answer(w, e, http.StatusUnauthorized, msgInvalidToken, &q)
	default:
		s.answer(w, e, http.StatusOK, msgOK, &q)
	}
}

// answer writes Notify's {"status":N,"message":…} with the rate-limit
// headers when the request was authenticated (q not nil).
func (s *Server) answer(w http.ResponseWriter, e *Entry, status int, msg string, q *Quota) {
	s.setQuota(w, q)
	e.Status = status
	if status != http.StatusOK {
		e.Error = msg
	}
	writeJSON(w, status, struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}{status, msg})
}

// setQuota sets Notify's X-RateLimit headers. linectl sends no images, so
// the image quota is 0 of 0.
func (s *Server) setQuota(w http.ResponseWriter, q *Quota) {
	if q == nil {
		return
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-RateLimit-ImageLimit", "0")
	h.Set("X-RateLimit-ImageRemaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(q.Reset.Unix(), 10))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// SendFailure is the 500 answer's message for a send that failed: what
// happened, and whether the message may have been delivered.
func SendFailure(err error) string {
	switch {
	case errors.Is(err, delivery.ErrOutcomeUnknown):
		return "the message may have been delivered: its outcome is unknown and linectl will not send it again (check the chat): " + err.Error()
	case IsLoggedOut(err):
		return msgLoggedOut
	case errors.Is(err, delivery.ErrNeedsE2EE), errors.Is(err, delivery.ErrSealingImpossible):
		return "LINE refused the message (Letter Sealing): " + err.Error() + "; nothing was sent"
	}
	return refusal(err)
}
