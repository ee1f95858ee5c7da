package botapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/mediafile"
	"github.com/linectl/linectl/internal/notify"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// DefaultMaxBody bounds a request body (LINE's own bound is not
// published; five messages of 5000 characters fit many times over).
const DefaultMaxBody = 1 << 20

// ReplyTokenTTL is how long a webhook event's reply token may be used.
const ReplyTokenTTL = 5 * time.Minute

// Backend is what the server calls besides sending: the search of the
// operation stream for a send whose outcome was unknown, and the reads.
type Backend interface {
	notify.Sender
	// Revision is where the stream is searched from for this run's sends.
	Revision(ctx context.Context) (int64, error)
	// FindSends searches the stream from a revision for SEND_MESSAGE
	// operations with these reqSeqs, within the server's search window.
	FindSends(ctx context.Context, from int64, reqSeqs []int64) (map[int64]string, error)
	Profile(ctx context.Context, mid string) (*lineapi.Contact, error)
	Chat(ctx context.Context, mid string) (*lineapi.Chat, error)
	Me(ctx context.Context) (*lineapi.Profile, error)
	// Content is a message's image or file (opened when sealed); ok false
	// when the message is not one the server heard.
	Content(ctx context.Context, messageID string) (data []byte, contentType string, chat string, err error)
}

// ErrNotFound means no such user, chat or message content (404).
var ErrNotFound = errors.New("not found")

// Entry is what the server says about one request (linectl prints it as a
// JSON line). It never holds the token or a message's text.
type Entry struct {
	Method     string
	Path       string
	Status     int
	RequestID  string
	TokenID    string
	To         []string
	MessageIDs []string
	RetryKey   string
	Remote     string
	Duration   time.Duration
	Error      string
}

// Server is the Messaging API subset over a Backend.
type Server struct {
	Tokens  *Store
	Retry   *RetryStore
	Backend Backend
	Log     func(Entry)
	MaxBody int64
	Now     func() time.Time
	Ended   func() bool
	// FetchImage fetches an image message's URL; nil: image messages are refused (400).
	FetchImage func(ctx context.Context, url string) ([]byte, error)
	// Compose makes the content of a reply (quoteToken) or a textV2 with
	// mentions; nil: they are refused with a 400.
	Compose func(m Message, chat string) (delivery.Content, error)
	// MentionName is the name a textV2 mention shows ("@" and it); nil or
	// "": "@user".
	MentionName func(mid string) string

	replyMu sync.Mutex
	replies map[string]*replyToken
}

type replyToken struct {
	token   string // the bot token's hash
	chat    string
	expires time.Time
	used    bool
}

// apiError is an answer other than 200.
type apiError struct {
	status  int
	msg     string
	details []detail
}

func (e *apiError) Error() string { return e.msg }

// Messages of the answers, LINE's where LINE has one.
const (
	msgAuth        = "Authentication failed. Confirm that the access token in the authorization header is valid."
	msgNotFound    = "Not found"
	msgBroadcast   = "a personal account does not broadcast: linectl serves push, multicast and reply only"
	msgRetryAgain  = "The retry key is already accepted"
	msgLoggedOut   = "linectl is logged out: run 'linectl login qr' (or 'login password') and restart 'linectl serve'; nothing was sent"
	msgNotYet      = "not supported yet by linectl serve: nothing was sent"
	msgImageURLs   = "image URLs are not fetched: start 'linectl serve' with --allow-image-urls; nothing was sent"
	msgInvalidJSON = "The request body is not valid JSON"
)

// AddReplyToken makes a reply token for an event of chat heard by the
// bot token (hash).
func (s *Server) AddReplyToken(tokenHash, chat string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	rt := hex.EncodeToString(b)
	s.replyMu.Lock()
	defer s.replyMu.Unlock()
	if s.replies == nil {
		s.replies = map[string]*replyToken{}
	}
	now := s.now()
	for k, r := range s.replies {
		if now.After(r.expires) {
			delete(s.replies, k)
		}
	}
	s.replies[rt] = &replyToken{token: tokenHash, chat: chat, expires: now.Add(ReplyTokenTTL)}
	return rt
}

// takeReplyToken uses a reply token up: ok is false when it is unknown,
// another token's, used or expired.
func (s *Server) takeReplyToken(tokenHash, rt string) (chat string, ok bool) {
	s.replyMu.Lock()
	defer s.replyMu.Unlock()
	r := s.replies[rt]
	if r == nil || r.token != tokenHash || r.used || s.now().After(r.expires) {
		return "", false
	}
	r.used = true
	return r.chat, true
}

// ServeHTTP routes /v2/bot/….
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	e := Entry{Method: r.Method, Path: r.URL.Path, Remote: r.RemoteAddr, RequestID: newRequestID()}
	w.Header().Set("X-Line-Request-Id", e.RequestID)
	p := r.URL.Path
	parts := strings.Split(strings.TrimPrefix(p, "/v2/bot/"), "/")
	post, get := r.Method == http.MethodPost, r.Method == http.MethodGet
	switch {
	case p == "/v2/bot/message/push" && post:
		s.auth(w, r, &e, s.push)
	case p == "/v2/bot/message/multicast" && post:
		s.auth(w, r, &e, s.multicast)
	case p == "/v2/bot/message/reply" && post:
		s.auth(w, r, &e, s.reply)
	case (p == "/v2/bot/message/broadcast" || p == "/v2/bot/message/narrowcast") && post:
		s.auth(w, r, &e, func(w http.ResponseWriter, _ *http.Request, e *Entry, _ Token) {
			s.fail(w, e, &apiError{status: http.StatusForbidden, msg: msgBroadcast})
		})
	case p == "/v2/bot/info" && get:
		s.auth(w, r, &e, s.info)
	case len(parts) == 2 && parts[0] == "profile" && get:
		s.auth(w, r, &e, func(w http.ResponseWriter, r *http.Request, e *Entry, t Token) { s.profile(w, r, e, t, parts[1]) })
	case len(parts) == 3 && parts[0] == "group" && parts[2] == "summary" && get:
		s.auth(w, r, &e, func(w http.ResponseWriter, r *http.Request, e *Entry, t Token) { s.groupSummary(w, r, e, t, parts[1]) })
	case len(parts) == 4 && parts[0] == "group" && parts[2] == "members" && parts[3] == "ids" && get:
		s.auth(w, r, &e, func(w http.ResponseWriter, r *http.Request, e *Entry, t Token) { s.memberIDs(w, r, e, t, parts[1]) })
	case len(parts) == 3 && parts[0] == "message" && parts[2] == "content" && get:
		s.auth(w, r, &e, func(w http.ResponseWriter, r *http.Request, e *Entry, t Token) { s.content(w, r, e, t, parts[1]) })
	default:
		s.fail(w, &e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
	}
	e.Duration = s.now().Sub(start)
	if s.Log != nil {
		s.Log(e)
	}
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// auth checks the channel access token, then runs h with it.
func (s *Server) auth(w http.ResponseWriter, r *http.Request, e *Entry, h func(http.ResponseWriter, *http.Request, *Entry, Token)) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 512 {
		s.fail(w, e, &apiError{status: http.StatusUnauthorized, msg: msgAuth})
		return
	}
	t, found, err := s.Tokens.Lookup(tok)
	if err != nil {
		s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: "linectl cannot read its bot token file: " + err.Error()})
		return
	}
	if !found {
		s.fail(w, e, &apiError{status: http.StatusUnauthorized, msg: msgAuth})
		return
	}
	e.TokenID = t.ID()
	if k := r.Header.Get("X-Line-Retry-Key"); k != "" && r.URL.Path != "/v2/bot/message/push" && r.URL.Path != "/v2/bot/message/multicast" {
		// LINE: a retry key on an API that does not support it is a 400.
		s.fail(w, e, &apiError{status: http.StatusBadRequest, msg: "X-Line-Retry-Key is not supported by this API"})
		return
	}
	h(w, r, e, t)
}

// readJSON reads a JSON object body into v.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	limit := s.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("The request body is larger than %d bytes", limit)}
	case err != nil:
		return &apiError{status: http.StatusBadRequest, msg: "The request body could not be read: " + err.Error()}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &apiError{status: http.StatusBadRequest, msg: msgInvalidJSON, details: []detail{{Message: err.Error(), Property: ""}}}
	}
	return nil
}

type sendRequest struct {
	To                   json.RawMessage   `json:"to"`
	ReplyToken           *string           `json:"replyToken"`
	Messages             []json.RawMessage `json:"messages"`
	NotificationDisabled *bool             `json:"notificationDisabled"`
}

// sentMessage is one entry of sentMessages.
type sentMessage struct {
	ID         string `json:"id"`
	QuoteToken string `json:"quoteToken"`
}

func (s *Server) push(w http.ResponseWriter, r *http.Request, e *Entry, t Token) {
	var req sendRequest
	if aerr := s.readJSON(w, r, &req); aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	var b badRequest
	var to string
	if req.To == nil {
		b.add("to", "must be specified")
	} else if err := json.Unmarshal(req.To, &to); err != nil {
		b.add("to", "must be a string")
	} else {
		checkTo("to", to, false, &b)
	}
	msgs := parseMessages(req.Messages, &b, s.MentionName)
	if aerr := b.err(); aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	e.To = []string{to}
	if !t.May(to) {
		s.fail(w, e, &apiError{status: http.StatusForbidden, msg: "this token may not send to " + to + " (see 'linectl bot token list')"})
		return
	}
	s.send(w, r, e, t, []string{to}, msgs, true)
}

func (s *Server) multicast(w http.ResponseWriter, r *http.Request, e *Entry, t Token) {
	var req sendRequest
	if aerr := s.readJSON(w, r, &req); aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	var b badRequest
	var to []string
	if req.To == nil {
		b.add("to", "must be specified")
	} else if err := json.Unmarshal(req.To, &to); err != nil {
		b.add("to", "must be an array of user IDs")
	} else if len(to) == 0 || len(to) > MaxMulticastTo {
		b.add("to", "Size must be between 1 and %d", MaxMulticastTo)
	} else {
		seen := map[string]bool{}
		for i, m := range to {
			checkTo("to["+strconv.Itoa(i)+"]", m, true, &b)
			if seen[m] {
				b.add("to["+strconv.Itoa(i)+"]", "a user ID given twice")
			}
			seen[m] = true
		}
	}
	msgs := parseMessages(req.Messages, &b, s.MentionName)
	if aerr := b.err(); aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	e.To = to
	for _, m := range to {
		if !t.May(m) {
			s.fail(w, e, &apiError{status: http.StatusForbidden, msg: "this token may not send to " + m + " (see 'linectl bot token list')"})
			return
		}
	}
	s.send(w, r, e, t, to, msgs, false)
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, e *Entry, t Token) {
	var req sendRequest
	if aerr := s.readJSON(w, r, &req); aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	var b badRequest
	if req.ReplyToken == nil || *req.ReplyToken == "" {
		b.add("replyToken", "must be specified")
	}
	msgs := parseMessages(req.Messages, &b, s.MentionName)
	if aerr := b.err(); aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	chat, ok := s.takeReplyToken(t.Hash, *req.ReplyToken)
	if !ok {
		s.fail(w, e, &apiError{status: http.StatusBadRequest, msg: "Invalid reply token", details: []detail{{Message: "unknown, used, expired or another token's reply token", Property: "replyToken"}}})
		return
	}
	e.To = []string{chat}
	s.send(w, r, e, t, []string{chat}, msgs, true)
}

// checkTo checks a destination: a MID (users only when users).
func checkTo(p, to string, users bool, b *badRequest) {
	tt, err := lineapi.ParseMID(to)
	switch {
	case err != nil:
		b.add(p, "must be a LINE MID (u…, c… or r… and 32 hex digits): linectl's user, group and room IDs are MIDs")
	case users && tt != lineapi.ToUser:
		b.add(p, "must be a user's MID (u…)")
	}
}

// send sends msgs to each chat of to, in order, exactly once each, with
// the request's retry key; withSent answers sentMessages (push, reply),
// else {} (multicast).
func (s *Server) send(w http.ResponseWriter, r *http.Request, e *Entry, t Token, to []string, msgs []Message, withSent bool) {
	key := r.Header.Get("X-Line-Retry-Key")
	ctx := context.WithoutCancel(r.Context()) // a client hanging up does not cut a send in two
	rec := &Record{Token: t.Hash, Path: r.URL.Path, RequestID: e.RequestID, Created: s.now()}
	for _, chat := range to {
		for i := range msgs {
			rec.Parts = append(rec.Parts, Part{To: chat, Index: i, State: partPending})
		}
	}
	store := s.Retry
	if key != "" {
		if !retryKeyRE.MatchString(key) {
			s.fail(w, e, &apiError{status: http.StatusBadRequest, msg: "X-Line-Retry-Key must be a UUID in hexadecimal (such as 123e4567-e89b-12d3-a456-426614174000)"})
			return
		}
		e.RetryKey = key
		old, release, err := store.Acquire(t.Hash, key)
		if err != nil {
			s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: "linectl cannot read its retry keys: " + err.Error() + "; nothing was sent"})
			return
		}
		defer release()
		if old != nil {
			s.retry(ctx, w, e, t, key, old, msgs, withSent)
			return
		}
		rec.Key = key
	} else {
		store = nil
	}
	if s.Ended != nil && s.Ended() {
		s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: msgLoggedOut})
		return
	}
	contents, aerr := s.contents(ctx, msgs, to)
	if aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	s.sendParts(ctx, w, e, store, rec, contents, withSent, false)
}

// retry answers a request whose key has a record: settled, 409; unknown
// parts searched for on the stream; what is proven not sent, sent.
func (s *Server) retry(ctx context.Context, w http.ResponseWriter, e *Entry, t Token, key string, rec *Record, msgs []Message, withSent bool) {
	if rec.Path != e.Path || len(rec.Parts)%max(len(msgs), 1) != 0 {
		s.fail(w, e, &apiError{status: http.StatusConflict, msg: msgRetryAgain + " (for another request)"})
		return
	}
	// Settle the unknown parts from the stream.
	var searchErr error
	var seqs []int64
	from := int64(-1)
	for _, p := range rec.Parts {
		if p.State == partUnknown {
			seqs = append(seqs, p.ReqSeq)
			if from < 0 || p.Revision < from {
				from = p.Revision
			}
		}
	}
	if len(seqs) > 0 {
		found, err := s.Backend.FindSends(ctx, from, seqs)
		changed := false
		for i := range rec.Parts {
			p := &rec.Parts[i]
			if id := found[p.ReqSeq]; p.State == partUnknown && id != "" {
				p.State, p.MessageID, changed = partSent, id, true
			}
		}
		if changed {
			if perr := s.Retry.Put(t.Hash, key, rec); perr != nil {
				s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: "linectl could not save its retry key: " + perr.Error()})
				return
			}
		}
		if err != nil {
			searchErr = err
		}
	}
	for _, p := range rec.Parts {
		if p.State == partUnknown || p.State == partAttempting {
			msg := "the outcome of an earlier request with this X-Line-Retry-Key is still unknown: its message may have been delivered and is not on the operation stream yet; nothing was sent again; retry later with the same key"
			if p.State == partAttempting {
				msg = "the outcome of an earlier request with this X-Line-Retry-Key is still unknown: linectl stopped while sending it, so it may have been delivered; nothing is sent again for this key"
			}
			if searchErr != nil {
				msg += " (the stream search: " + searchErr.Error() + ")"
			}
			s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: msg})
			return
		}
	}
	if rec.Done() {
		w.Header().Set("X-Line-Accepted-Request-Id", rec.RequestID)
		e.Status = http.StatusConflict
		e.Error = msgRetryAgain
		e.MessageIDs = messageIDs(rec)
		body := map[string]any{"message": msgRetryAgain}
		if withSent {
			body["sentMessages"] = sentMessages(rec)
		}
		writeJSON(w, http.StatusConflict, body)
		return
	}
	// What is left is proven not sent: send it now.
	if s.Ended != nil && s.Ended() {
		s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: msgLoggedOut})
		return
	}
	var to []string
	for _, p := range rec.Parts {
		if p.Index == 0 {
			to = append(to, p.To)
		}
	}
	contents, aerr := s.contents(ctx, msgs, to)
	if aerr != nil {
		s.fail(w, e, aerr)
		return
	}
	s.sendParts(ctx, w, e, s.Retry, rec, contents, withSent, true)
}

// contents turns the messages into what the sender sends (fetching image
// URLs); the same for every chat but for replies.
func (s *Server) contents(ctx context.Context, msgs []Message, to []string) ([]delivery.Content, *apiError) {
	out := make([]delivery.Content, len(msgs))
	for i, m := range msgs {
		p := "messages[" + strconv.Itoa(i) + "]"
		switch {
		case m.QuoteToken != "" || len(m.Mentions) > 0:
			if s.Compose == nil {
				what := "quoteToken (a reply)"
				if m.QuoteToken == "" {
					what = "mention substitutions"
				}
				return nil, &apiError{status: http.StatusBadRequest, msg: what + " " + msgNotYet, details: []detail{{Message: msgNotYet, Property: p}}}
			}
			if m.QuoteToken != "" {
				chat, _, _ := ParseQuoteToken(m.QuoteToken)
				for _, t := range to {
					if t != chat {
						return nil, &apiError{status: http.StatusBadRequest, msg: "The request body has 1 error(s)", details: []detail{{Message: "quotes a message of another chat", Property: p + ".quoteToken"}}}
					}
				}
			}
			c, err := s.Compose(m, to[0])
			if err != nil {
				return nil, &apiError{status: http.StatusBadRequest, msg: err.Error(), details: []detail{{Message: err.Error(), Property: p}}}
			}
			out[i] = c
		case m.Sticker != nil:
			out[i] = delivery.Sticker{Sticker: *m.Sticker}
		case m.ImageURL != "":
			if s.FetchImage == nil {
				return nil, &apiError{status: http.StatusBadRequest, msg: msgImageURLs, details: []detail{{Message: msgImageURLs, Property: p + ".originalContentUrl"}}}
			}
			b, err := s.FetchImage(ctx, m.ImageURL)
			if err != nil {
				return nil, &apiError{status: http.StatusBadRequest, msg: "The request body has 1 error(s)", details: []detail{{Message: notify.ErrFetch.Error() + "; nothing was sent", Property: p + ".originalContentUrl"}}}
			}
			md, err := mediafile.FromBytes(path.Base(m.ImageURL), b)
			if err != nil {
				return nil, &apiError{status: http.StatusBadRequest, msg: "The request body has 1 error(s)", details: []detail{{Message: err.Error() + "; nothing was sent", Property: p + ".originalContentUrl"}}}
			}
			out[i] = md
		default:
			out[i] = delivery.Text{Text: m.Text}
		}
	}
	return out, nil
}

// sendParts sends the pending parts of rec, chat by chat (each chat's
// messages in one turn of the sender), stopping at the first failure, and
// records every outcome before answering.
func (s *Server) sendParts(ctx context.Context, w http.ResponseWriter, e *Entry, store *RetryStore, rec *Record, contents []delivery.Content, withSent, retried bool) {
	save := func() error {
		if store == nil {
			return nil
		}
		if !rec.Started() {
			return store.Put(rec.Token, rec.Key, nil) // nothing reached LINE: the key is free again
		}
		// The outcome, once the sends have ended: not waiting for its disk
		// sync (Note) — the record Put before each send is what keeps a
		// retry from sending twice.
		return store.Note(rec.Token, rec.Key, rec)
	}
	var sendErr error
	for start := 0; start < len(rec.Parts) && sendErr == nil; {
		chat := rec.Parts[start].To
		end := start
		var idx []int
		var cs []delivery.Content
		for end < len(rec.Parts) && rec.Parts[end].To == chat {
			if rec.Parts[end].State == partPending {
				idx = append(idx, end)
				cs = append(cs, contents[rec.Parts[end].Index])
			}
			end++
		}
		start = end
		if len(cs) == 0 {
			continue
		}
		if store != nil {
			for _, i := range idx {
				rec.Parts[i].State = partAttempting
			}
			if err := store.Put(rec.Token, rec.Key, rec); err != nil {
				for _, i := range idx {
					rec.Parts[i].State = partPending
				}
				sendErr = fmt.Errorf("linectl could not save its retry key (%w); nothing was sent", err)
				break
			}
		}
		rev, _ := s.Backend.Revision(ctx)
		res, err := s.Backend.SendMessages(ctx, chat, cs)
		for j, i := range idx {
			p := &rec.Parts[i]
			p.State = partPending
			if j >= len(res) || res[j] == nil {
				continue
			}
			switch {
			case res[j].MessageID != "":
				p.State, p.MessageID = partSent, res[j].MessageID
			case j == len(res)-1 && err != nil && errors.Is(err, delivery.ErrOutcomeUnknown):
				p.State, p.ReqSeq, p.Revision = partUnknown, res[j].ReqSeq, rev
			}
		}
		sendErr = err
	}
	if err := save(); err != nil && sendErr == nil {
		sendErr = fmt.Errorf("the messages were sent but linectl could not save the retry key: %w", err)
	}
	e.MessageIDs = messageIDs(rec)
	if sendErr != nil {
		s.fail(w, e, failure(sendErr, rec, store != nil))
		return
	}
	e.Status = http.StatusOK
	if withSent {
		writeJSON(w, http.StatusOK, map[string]any{"sentMessages": sentMessages(rec)})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func messageIDs(rec *Record) []string {
	var ids []string
	for _, p := range rec.Parts {
		if p.MessageID != "" {
			ids = append(ids, p.MessageID)
		}
	}
	return ids
}

func sentMessages(rec *Record) []sentMessage {
	out := []sentMessage{}
	for _, p := range rec.Parts {
		if p.State == partSent {
			out = append(out, sentMessage{ID: p.MessageID, QuoteToken: QuoteToken(p.To, p.MessageID)})
		}
	}
	return out
}

// failure is the answer to a send that failed: LINE's status for it, and
// what was sent before it.
func failure(err error, rec *Record, keyed bool) *apiError {
	sent := len(messageIDs(rec))
	prefix := ""
	if sent > 0 {
		prefix = fmt.Sprintf("%d of the %d messages were sent (LINE message ids %s); then: ", sent, len(rec.Parts), strings.Join(messageIDs(rec), ", "))
	}
	var te *lineapi.TalkError
	switch {
	case errors.Is(err, delivery.ErrOutcomeUnknown):
		hint := "linectl will not send it again; a retry with an X-Line-Retry-Key could have settled it"
		if keyed {
			hint = "retry with the same X-Line-Retry-Key: linectl answers 409 once it finds it delivered and sends it only if it is proven not delivered"
		}
		return &apiError{status: http.StatusInternalServerError, msg: prefix + "the message may have been delivered: " + hint + ": " + err.Error()}
	case notify.IsLoggedOut(err):
		return &apiError{status: http.StatusInternalServerError, msg: prefix + msgLoggedOut}
	case lineapi.IsRateLimited(err):
		return &apiError{status: http.StatusTooManyRequests, msg: prefix + "LINE is throttling linectl's sends; the rest was not sent, try again later: " + err.Error()}
	case errors.Is(err, delivery.ErrNeedsE2EE), errors.Is(err, delivery.ErrSealingImpossible), errors.As(err, &te):
		return &apiError{status: http.StatusBadRequest, msg: prefix + "Failed to send messages", details: []detail{{Message: notify.SendFailure(err), Property: "to"}}}
	case errors.Is(err, delivery.ErrUploadFailed):
		return &apiError{status: http.StatusInternalServerError, msg: prefix + notify.SendFailure(err)}
	}
	return &apiError{status: http.StatusInternalServerError, msg: prefix + notify.SendFailure(err)}
}

// fail writes LINE's error body {"message","details"}.
func (s *Server) fail(w http.ResponseWriter, e *Entry, a *apiError) {
	e.Status, e.Error = a.status, a.msg
	body := struct {
		Message string   `json:"message"`
		Details []detail `json:"details,omitempty"`
	}{a.msg, a.details}
	writeJSON(w, a.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
