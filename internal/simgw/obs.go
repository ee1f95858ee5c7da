package simgw

// LINE's object storage (OBS, https://obs.line-apps.com), where chat media
// lives (docs/media-protocol.md §1, §4). The simulator serves it under /r/
// on its own address. OBS requests are not x-hmac signed and carry an OBS
// token, not the access token. No peer records OBS's refusals, so every
// status below but 415 for a wrong type on em* (BEEPER commit cf2f777) is a
// GUESS.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// addRoutes registers the media calls of the gateway (OBS itself is served by serveOBS).
func (s *objectStore) addRoutes(r routes) {
	r.thrift(talkSvc, "acquireEncryptedAccessToken", s.acquireEncryptedAccessToken, 1, true)
	r.thrift(talkSvc, "determineMediaMessageFlow", s.determineMediaMessageFlow, 1, true)
}

// obsToken is one token acquireEncryptedAccessToken issued.
type obsToken struct {
	mid     string
	expires time.Time
	revoked bool
}

// obsObject is one object uploaded to a sealed SID (emi, emf, emv, ema).
type obsObject struct {
	owner, sid, oid string
	data, preview   []byte
}

// acquireEncryptedAccessToken [featureType]: an OBS token for OBS_GENERAL
// (2), answered as "<ttlSeconds>\x1e<token>" (BEEPER methods.go).
func (s *objectStore) acquireEncryptedAccessToken(req *request) (any, error) {
	var feature int
	if argInt(req.args[0], &feature) != nil {
		return nil, gw(10102)
	}
	if feature != 2 {
		return nil, talk(0, "illegal argument: only OBS_GENERAL (2) is served")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "obs." + randomID(24)
	s.obsTokens[tok] = &obsToken{mid: req.mid, expires: s.now().Add(s.opts.OBSTokenTTL)}
	return strconv.FormatInt(int64(s.opts.OBSTokenTTL/time.Second), 10) + "\x1e" + tok, nil
}

// ExpireOBSTokens makes every OBS token issued so far invalid (OBS answers 401).
func (s *objectStore) ExpireOBSTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.obsTokens {
		t.revoked = true
	}
}

// revokeOBSTokens ends mid's OBS tokens. Caller holds s.mu.
func (s *objectStore) revokeOBSTokens(mid string) {
	for _, t := range s.obsTokens {
		if t.mid == mid {
			t.revoked = true
		}
	}
}

// afterCall revokes an account's OBS tokens when its session changes: a
// token refresh or a logout. BEEPER drops its OBS token cache then, saying
// the rotation invalidates the old token on the server.
func (s *objectStore) afterCall(req *request, data any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.method {
	case "logoutV2":
		s.revokeOBSTokens(req.mid)
	case "tokenRefresh":
		res, _ := data.(map[string]any)
		at, _ := res["accessToken"].(string)
		if t := s.auth.tokens[at]; t != nil {
			s.revokeOBSTokens(t.mid)
		}
	}
}

// obsAnswer is one OBS response.
type obsAnswer struct {
	status int
	header map[string]string
	body   []byte
}

// refuse is an OBS refusal; the plain-text body is the simulator's own.
func refuse(status int, why string) *obsAnswer {
	return &obsAnswer{status: status, body: []byte(why + "\n")}
}

func (a *obsAnswer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.status != 200 {
		w.Header().Set("content-type", "text/plain")
	}
	w.Header().Set("content-length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// serveOBS serves /r/: uploads (POST) and downloads (GET). Faults armed for
// "obs-upload" / "obs-download" apply as for gateway calls.
func (s *objectStore) serveOBS(w http.ResponseWriter, r *http.Request) {
	name := map[string]string{http.MethodPost: "obs-upload", http.MethodGet: "obs-download"}[r.Method]
	if name == "" {
		refuse(405, "method not allowed").write(w) // GUESS
		return
	}
	call := Call{Method: name, Path: r.URL.RequestURI(), Header: r.Header.Clone()}
	if name == "obs-upload" && !s.opts.UnrecordedOBSBodies {
		// Recorded whole, so a test can search every byte a client sent.
		body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxOBSObject+1))
		if err != nil {
			return
		}
		call.Body = string(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	f := s.faults.take(name)
	s.mu.Unlock()
	if preFault(w, f) {
		return
	}
	var a *obsAnswer
	if name == "obs-upload" {
		a = s.obsUpload(r)
	} else {
		a = s.obsDownload(r)
	}
	switch {
	case f.kind == faultDropAfter:
		hangUp(w) // processed; the answer is lost
	case f.kind == FaultReply:
		writeReply(w, f.reply)
	case a.status == 200 && (f.kind == FaultStallBody || f.kind == FaultCutBody || f.kind == FaultLongBody):
		hostileBody(w, r, a, f.kind)
	default:
		a.write(w)
	}
}

// hostileBody sends a download's answer altered by kind (FaultStallBody,
// FaultCutBody, FaultLongBody).
func hostileBody(w http.ResponseWriter, r *http.Request, a *obsAnswer, kind FaultKind) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if kind == FaultLongBody {
		w.WriteHeader(200) // chunked: no length to stop the client
		_, _ = w.Write(a.body)
		junk := make([]byte, 64<<10)
		for range 16 {
			if _, err := w.Write(junk); err != nil {
				return
			}
		}
		return
	}
	w.Header().Set("content-length", strconv.Itoa(len(a.body)))
	w.WriteHeader(200)
	_, _ = w.Write(a.body[:len(a.body)/2])
	w.(http.Flusher).Flush()
	if kind == FaultCutBody {
		hangUp(w)
		return
	}
	<-r.Context().Done() // the client gave up (or the simulator closed)
}

// obsAuth returns the account of the request's OBS token.
func (s *objectStore) obsAuth(r *http.Request) (string, *obsAnswer) {
	s.mu.Lock()
	t := s.obsTokens[r.Header.Get("x-line-access")]
	valid := t != nil && !t.revoked && s.now().Before(t.expires)
	s.mu.Unlock()
	switch {
	case !valid: // unknown, expired, revoked, or an access token: GUESS 401
		return "", refuse(401, "x-line-access is not a valid OBS token")
	case r.Header.Get("x-line-application") == "": // GUESS 400
		return "", refuse(400, "x-line-application missing")
	}
	return t.mid, nil
}

// sealedSIDs are the service ids of Letter-Sealed media (image, file, video, audio).
var sealedSIDs = map[string]bool{"emi": true, "emf": true, "emv": true, "ema": true}

// splitOBSPath splits /r/talk/<sid>/<name>[/<more>].
func splitOBSPath(p string) (sid string, rest []string, ok bool) {
	tail, found := strings.CutPrefix(p, "/r/talk/")
	parts := strings.Split(tail, "/")
	if !found || len(parts) < 2 || parts[1] == "" {
		return "", nil, false
	}
	return parts[0], parts[1:], true
}

// obsParams checks an upload's content-type and X-Obs-Params, and returns
// the params (all string values).
func obsParams(h http.Header) (map[string]string, *obsAnswer) {
	if mt, _, err := mime.ParseMediaType(h.Get("content-type")); err != nil || mt != "application/octet-stream" {
		return nil, refuse(415, "content-type must be application/octet-stream") // GUESS
	}
	raw, err := base64.StdEncoding.DecodeString(h.Get("x-obs-params"))
	var p map[string]string
	if err != nil || json.Unmarshal(raw, &p) != nil || p == nil {
		return nil, refuse(400, "X-Obs-Params is not base64 JSON with string values") // GUESS
	}
	if p["ver"] != "2.0" || p["name"] == "" {
		return nil, refuse(400, `X-Obs-Params needs ver "2.0" and a name`) // GUESS
	}
	switch p["type"] {
	case "image", "video", "audio", "file":
	default:
		return nil, refuse(415, "X-Obs-Params type must be image, video, audio or file") // GUESS
	}
	return p, nil
}

// readOBSBody reads an upload's body, never more than MaxOBSObject+1 bytes:
// one allocation of the announced size, filled by the reads (a
// bytes.Buffer would clear it first — a second pass over every page, as
// long again as the copy for a 5 MB image), then one byte more to see that
// the body ends there.
func (s *objectStore) readOBSBody(r *http.Request) ([]byte, *obsAnswer) {
	lim := io.LimitReader(r.Body, s.opts.MaxOBSObject+1)
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= s.opts.MaxOBSObject {
		// Shorter than announced is an error (net/http ends the body early:
		// a client killed mid-upload), never a shorter object.
		b = make([]byte, n)
		if _, err = io.ReadFull(lim, b); err == nil {
			var more bytes.Buffer
			if _, err = more.ReadFrom(lim); more.Len() > 0 {
				b = append(b, more.Bytes()...) // longer than announced: too large, or refused below
			}
		}
	} else {
		b, err = io.ReadAll(lim)
	}
	switch {
	case err != nil:
		return nil, refuse(400, "body unreadable")
	case len(b) == 0:
		return nil, refuse(400, "empty body") // GUESS
	case int64(len(b)) > s.opts.MaxOBSObject:
		return nil, refuse(413, "object too large") // GUESS: no peer knows OBS's limit
	}
	return b, nil
}

// keep stores body in *dst (an object or its preview; a re-POST replaces
// it) and answers: 201 when the object changed, 200 when the same bytes
// were there already (CHRLINE's note). x-obs-hash's value (hex SHA-256 of
// the body) is a GUESS. Caller holds s.mu.
func keep(dst *[]byte, oid string, body []byte) *obsAnswer {
	changed := !bytes.Equal(*dst, body)
	*dst = body
	sum := sha256.Sum256(body)
	a := &obsAnswer{status: 200, header: map[string]string{"x-obs-oid": oid, "x-obs-hash": hex.EncodeToString(sum[:])}}
	if changed {
		a.status = 201
	}
	return a
}

// obsUpload serves POST /r/talk/m/<id>[__ud-preview] and
// /r/talk/<em*>/{reqid-<uuid>|<OID>__ud-preview}.
func (s *objectStore) obsUpload(r *http.Request) *obsAnswer {
	mid, a := s.obsAuth(r)
	if a != nil {
		return a
	}
	sid, rest, ok := splitOBSPath(r.URL.Path)
	if !ok || len(rest) != 1 || (sid != "m" && !sealedSIDs[sid]) {
		return refuse(404, "no such object path")
	}
	params, a := obsParams(r.Header)
	if a != nil {
		return a
	}
	if sid == "m" {
		return s.uploadPlain(r, mid, rest[0], params)
	}
	if oid, ok := strings.CutSuffix(rest[0], "__ud-preview"); ok {
		return s.uploadSealedPreview(r, mid, sid, oid, params)
	}
	return s.uploadSealed(r, mid, sid, rest[0], params)
}

// uploadPlain stores the bytes of a plain media message its sender sent
// first (docs/media-protocol.md §2.3); a re-POST replaces them.
func (s *objectStore) uploadPlain(r *http.Request, mid, target string, params map[string]string) *obsAnswer {
	id, preview := strings.CutSuffix(target, "__ud-preview")
	s.mu.Lock()
	m := s.messageByID(id)
	mine := m != nil && isMedia(m.ContentType) && len(m.Chunks) == 0 && m.From == mid
	ct := 0
	if mine {
		ct = m.ContentType
	}
	s.mu.Unlock()
	if !mine {
		return refuse(404, "no plain media message of yours with that id") // GUESS
	}
	if params["type"] != obsTypeOf(ct) {
		// BEEPER: the wrong type on m/ showed images as placeholders; the
		// simulator refuses it (GUESS 415, as on em*).
		return refuse(415, "X-Obs-Params type does not match the message")
	}
	body, a := s.readOBSBody(r)
	if a != nil {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m = s.messageByID(id)
	dst := &m.Media
	if preview {
		dst = &m.Preview
	} else {
		m.MediaName = m.Metadata["FILE_NAME"]
		if m.MediaName == "" {
			m.MediaName = params["name"] // an image's metadata has no FILE_NAME (Rb)
		}
	}
	a = keep(dst, id, body)
	if s.noOID {
		delete(a.header, "x-obs-oid")
	}
	return a
}

// SetPlainUploadNoOID makes OBS answer plain uploads without x-obs-oid (on)
// or with it (off), as Options.PlainUploadNoOID.
func (s *objectStore) SetPlainUploadNoOID(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noOID = on
}

var reqIDForm = regexp.MustCompile(`^reqid-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// uploadSealed stores an encrypted object under a new OID; the same account
// re-POSTing the same reqid gets the same OID (docs/media-protocol.md §3.2).
func (s *objectStore) uploadSealed(r *http.Request, mid, sid, reqid string, params map[string]string) *obsAnswer {
	if !reqIDForm.MatchString(reqid) {
		return refuse(400, "expected reqid-<uuid>") // GUESS
	}
	body, a := s.sealedBody(r, params)
	if a != nil {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := mid + "/" + sid + "/" + reqid
	oid, seen := s.obsReqIDs[key]
	if !seen {
		oid = randomHex(16)
		s.objects[sid+"/"+oid] = &obsObject{owner: mid, sid: sid, oid: oid}
		s.obsReqIDs[key] = oid
	}
	return keep(&s.objects[sid+"/"+oid].data, oid, body)
}

// sealedBody reads an encrypted upload, which is always of type "file"
// (BEEPER commit cf2f777: 415 otherwise).
func (s *objectStore) sealedBody(r *http.Request, params map[string]string) ([]byte, *obsAnswer) {
	if params["type"] != "file" {
		return nil, refuse(415, `sealed media is uploaded with type "file"`)
	}
	return s.readOBSBody(r)
}

// uploadSealedPreview stores the encrypted thumbnail of one's own image
// (or video) object.
func (s *objectStore) uploadSealedPreview(r *http.Request, mid, sid, oid string, params map[string]string) *obsAnswer {
	s.mu.Lock()
	o := s.objects[sid+"/"+oid]
	mine := o != nil && o.owner == mid && (sid == "emi" || sid == "emv")
	s.mu.Unlock()
	if !mine {
		return refuse(404, "no object of yours with that OID") // GUESS
	}
	body, a := s.sealedBody(r, params)
	if a != nil {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return keep(&o.preview, oid, body)
}

// obsDownload serves GET /r/talk/m/<id>[/original|/preview] and
// /r/talk/<em*>/<OID>[__ud-preview] (docs/media-protocol.md §4).
func (s *objectStore) obsDownload(r *http.Request) *obsAnswer {
	mid, a := s.obsAuth(r)
	if a != nil {
		return a
	}
	sid, rest, ok := splitOBSPath(r.URL.Path)
	switch {
	case ok && sid == "m":
		return s.downloadPlain(mid, rest)
	case ok && sealedSIDs[sid] && len(rest) == 1:
		return s.downloadSealed(r, mid, sid, rest[0])
	}
	return refuse(404, "no such object path")
}

func (s *objectStore) downloadPlain(mid string, rest []string) *obsAnswer {
	preview := len(rest) == 2 && rest[1] == "preview"
	if len(rest) > 2 || (len(rest) == 2 && !preview && rest[1] != "original") {
		return refuse(404, "no such object path")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messageByID(rest[0])
	switch {
	case m == nil || !isMedia(m.ContentType) || len(m.Chunks) > 0:
		return refuse(404, "no plain media message with that id")
	case !s.mayRead(mid, m):
		return refuse(403, "not a party to that message") // GUESS
	case preview && m.Preview == nil:
		return refuse(404, "no preview") // GUESS
	case preview:
		return octets(m.Preview)
	case m.Media == nil:
		return &obsAnswer{status: 202} // not uploaded yet (BEEPER: 202/404 = not ready)
	}
	return octets(m.Media)
}

// downloadSealed serves an encrypted object to a reader of the sealed
// message named by X-Talk-Meta; the simulator never decrypts it here.
func (s *objectStore) downloadSealed(r *http.Request, mid, sid, name string) *obsAnswer {
	meta := r.Header.Get("x-talk-meta")
	if meta == "" {
		return refuse(400, "X-Talk-Meta missing") // GUESS
	}
	msgID, err := parseTalkMeta(meta)
	if err != nil {
		return refuse(400, "X-Talk-Meta: "+err.Error()) // GUESS
	}
	oid, preview := strings.CutSuffix(name, "__ud-preview")
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[sid+"/"+oid]
	if o == nil {
		return refuse(404, "no such object")
	}
	m := s.messageByID(msgID)
	if m == nil || !isMedia(m.ContentType) || len(m.Chunks) == 0 || m.Metadata["SID"] != sid ||
		m.Metadata["OID"] != oid || !s.mayRead(mid, m) {
		return refuse(403, "X-Talk-Meta names no sealed message of this object you may read") // GUESS
	}
	if preview {
		if o.preview == nil {
			return refuse(404, "no preview") // GUESS
		}
		return octets(o.preview)
	}
	return octets(o.data)
}

func octets(b []byte) *obsAnswer {
	return &obsAnswer{status: 200, header: map[string]string{"content-type": "application/octet-stream"}, body: b}
}

// messageByID finds a stored message; the pointer is valid while s.mu is
// held. Caller holds s.mu.
func (s *state) messageByID(id string) *Message {
	for i := range s.messages {
		if s.messages[i].ID == id {
			return &s.messages[i]
		}
	}
	return nil
}

// mayRead reports whether mid is the sender, the recipient or a member of
// the message's chat. Caller holds s.mu.
func (s *objectStore) mayRead(mid string, m *Message) bool {
	if m.From == mid || (m.ToType == 0 && m.To == mid) {
		return true
	}
	c := s.chats[m.To]
	return c != nil && c.isMember(mid)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
