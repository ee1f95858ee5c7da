package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/mediafile"
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
	// had one (sent after the message); ImageMessageID the image's.
	StickerMessageID string
	StickerReqSeq    int64
	ImageMessageID   string
	Remote           string
	Duration         time.Duration
	Error            string // the answer's message, when Status is not 200
}

// Server is LINE Notify's API over a Sender.
type Server struct {
	Tokens  *Store
	Limiter *Limiter
	// Images counts images per token, a quota of its own (X-RateLimit-Image*);
	// nil: DefaultImageRate on Limiter's clock.
	Images  *Limiter
	Sender  Sender
	Log     func(Entry)            // nil: no log
	MaxBody int64                  // 0: DefaultMaxBody
	Now     func() time.Time       // nil: time.Now
	Ended   func() bool            // reports that linectl's session ended; nil: never
	Context func() context.Context // the sends' context; nil: the request's, without its cancel
	// FetchImage fetches imageFullsize; nil: image URLs are refused (400).
	FetchImage func(ctx context.Context, url string) ([]byte, error)

	imagesOnce sync.Once
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
	msgImageURLs     = "image URLs are not fetched: start 'linectl notify serve' with --allow-image-urls, or send the image as imageFile"
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
	s.imageQuota(&q, t.Hash, false)
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
	if n.imageURL != "" {
		if aerr := s.fetchImage(ctx, &n); aerr != nil {
			s.answer(w, e, aerr.status, aerr.msg, &q)
			return
		}
	}
	if n.image != nil && !s.imageQuota(&q, t.Hash, true) {
		s.answer(w, e, http.StatusTooManyRequests, msgRateLimited+" (images: the image quota is spent)", &q)
		return
	}
	// Notify posted the message, then the image and the sticker, as
	// separate LINE messages.
	cs := []delivery.Content{delivery.Text{Text: n.text}}
	names := []string{"message"}
	if n.image != nil {
		cs, names = append(cs, n.image), append(names, "image")
	}
	if n.sticker != nil {
		cs, names = append(cs, delivery.Sticker{Sticker: *n.sticker}), append(names, "sticker")
	}
	res, err := s.Sender.SendMessages(ctx, t.To, cs)
	record(e, res, names)
	if err != nil {
		s.answer(w, e, http.StatusInternalServerError, partialFailure(err, res, names), &q)
		return
	}
	s.answer(w, e, http.StatusOK, msgOK, &q)
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request, e *Entry, t Token) {
	q := s.Limiter.Peek(t.Hash)
	s.imageQuota(&q, t.Hash, false)
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
	s.imageQuota(&q, t.Hash, false)
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

// imageQuota fills q's image counts for token hash, counting one image when
// take (ok is false, and nothing counted, when the images are spent).
func (s *Server) imageQuota(q *Quota, hash string, take bool) (ok bool) {
	s.imagesOnce.Do(func() {
		if s.Images == nil {
			s.Images = &Limiter{Rate: DefaultImageRate, Now: s.Limiter.Now}
		}
	})
	iq, ok := s.Images.Peek(hash), true
	if take {
		iq, ok = s.Images.Take(hash)
	}
	q.ImageLimit, q.ImageRemaining = iq.Limit, iq.Remaining
	return ok
}

// setQuota sets Notify's X-RateLimit headers: the calls' quota, and the
// images' own (LINE Notify: 50 an hour; a call without an image leaves
// ImageRemaining as it was).
func (s *Server) setQuota(w http.ResponseWriter, q *Quota) {
	if q == nil {
		return
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-RateLimit-ImageLimit", strconv.Itoa(q.ImageLimit))
	h.Set("X-RateLimit-ImageRemaining", strconv.Itoa(q.ImageRemaining))
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
	case errors.Is(err, delivery.ErrUploadFailed):
		var ue *delivery.UploadError
		id := ""
		if errors.As(err, &ue) {
			id = ue.MessageID
		}
		return "the image message was delivered (LINE message id " + id + ") but its image could not be uploaded: the chat shows a placeholder; " +
			"linectl will not send it again ('linectl upload --message-id " + id + " --image FILE' completes it): " + err.Error()
	}
	return refusal(err)
}

// record puts the results' ids in the log entry.
func record(e *Entry, res []*delivery.Result, names []string) {
	for i, r := range res {
		if r == nil || i >= len(names) {
			continue
		}
		switch names[i] {
		case "message":
			e.ReqSeq, e.MessageID, e.E2EE = r.ReqSeq, r.MessageID, r.E2EE
		case "image":
			e.ImageMessageID = r.MessageID
		case "sticker":
			e.StickerReqSeq, e.StickerMessageID = r.ReqSeq, r.MessageID
		}
	}
}

// partialFailure is the 500 answer when the send of part i = len(res)-1
// failed: what was sent before it is named, and nothing is resent.
func partialFailure(err error, res []*delivery.Result, names []string) string {
	msg := SendFailure(err)
	i := len(res) - 1
	if i <= 0 || i >= len(names) {
		return msg
	}
	var sent []string
	for j := 0; j < i; j++ {
		if res[j] != nil {
			sent = append(sent, names[j]+" (LINE message id "+res[j].MessageID+")")
		}
	}
	prefix := "the " + strings.Join(sent, " and the ") + " was sent"
	if errors.Is(err, delivery.ErrUploadFailed) {
		return prefix + "; " + msg
	}
	if errors.Is(err, delivery.ErrOutcomeUnknown) {
		return prefix + "; the " + names[i] + " may have been delivered: its outcome is unknown and linectl will not send it again (check the chat): " + err.Error()
	}
	return prefix + " but the " + names[i] + " was not: " + msg
}

// fetchImage fetches imageFullsize, if image URLs are allowed.
func (s *Server) fetchImage(ctx context.Context, n *notification) *apiError {
	if s.FetchImage == nil {
		return &apiError{http.StatusBadRequest, msgImageURLs}
	}
	b, err := s.FetchImage(ctx, n.imageURL)
	if err != nil {
		return &apiError{http.StatusBadRequest, "imageFullsize: " + err.Error()}
	}
	md, err := mediafile.FromBytes(path.Base(n.imageURL), b)
	if err != nil {
		return &apiError{http.StatusBadRequest, "imageFullsize: " + err.Error()}
	}
	n.image = md
	return nil
}
