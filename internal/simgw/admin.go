package simgw

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// admin serves /_sandbox/: the simulator's own control endpoints (not LINE's),
// for `linectl sandbox` users and for tests that drive a separate process.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL     string `json:"url"`
		PIN     string `json:"pin"`
		From    string `json:"from"`
		To      string `json:"to"`
		Text    string `json:"text"`
		MID     string `json:"mid"`
		Advance string `json:"advance"`
		Method  string `json:"method"`
		Kind    string `json:"kind"`
		Count   int    `json:"count"`
		Code    int    `json:"code"`
		Reason  string `json:"reason"`
		Name    string `json:"name"`
		Data    string `json:"data"`
		Version int    `json:"version"`
		Delay   string `json:"delay"`
		Status  int    `json:"status"`
		Persist bool   `json:"persist"`
		// inject-media
		ContentType int  `json:"contentType"`
		Sealed      bool `json:"sealed"`
		// allowed-types, plain-upload-oid
		Types []int `json:"types"`
		Off   bool  `json:"off"`
		// conversations (conversation.go): reply, unsend, react
		ReplyTo   string            `json:"replyTo"`
		Metadata  map[string]string `json:"contentMetadata"`
		MessageID string            `json:"messageId"`
		Reaction  int               `json:"reaction"`
	}
	if r.Method == http.MethodPost || r.Method == http.MethodDelete { // 32 MiB: inject-media carries a file in base64
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20)).Decode(&in); err != nil && err.Error() != "EOF" {
			writeJSON(w, 400, map[string]any{"error": err.Error()})
			return
		}
	}
	var err error
	switch r.URL.Path {
	case "/_sandbox/state":
		writeJSON(w, 200, s.snapshot())
		return
	case "/_sandbox/scan":
		err = s.Scan(in.URL)
	case "/_sandbox/pin":
		err = s.ConfirmPIN(in.PIN)
	case "/_sandbox/inject":
		if in.ReplyTo != "" || in.Metadata != nil { // a reply, a mention: {"replyTo","contentMetadata"} → its id
			writeJSON(w, 200, map[string]any{"ok": true, "id": s.InjectConversation(in.From, in.To, in.Text, in.ReplyTo, in.Metadata)})
			return
		}
		s.InjectMessage(in.From, in.To, in.Text)
	case "/_sandbox/unsend": // {"mid","messageId"}: mid's app unsends its message
		err = s.Unsend(in.MID, in.MessageID)
	case "/_sandbox/react": // {"mid","messageId","reaction":2–7, 0 = take back}
		err = s.React(in.MID, in.MessageID, in.Reaction)
	case "/_sandbox/inject-sealed":
		if in.Version == 0 {
			in.Version = 2
		}
		err = s.InjectSealed(SealedInjection{From: in.From, To: in.To, Version: in.Version, Text: in.Text})
	case "/_sandbox/inject-media":
		s.adminInjectMedia(w, in.From, in.To, in.ContentType, in.Name, in.Data, in.Sealed)
		return
	case "/_sandbox/rotate-key":
		id, err := s.RotateKey(in.MID)
		if err != nil {
			writeJSON(w, 409, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true, "keyId": id})
		return
	case "/_sandbox/allowed-types":
		// The allowedTypes an account's app (a user MID) or a group's key
		// (a chat MID) answers; e.g. [0,15]: images and files go plain.
		if toTypeOf(in.MID) == 0 {
			s.SetAllowedTypes(in.MID, in.Types)
		} else {
			s.SetChatAllowedTypes(in.MID, in.Types)
		}
	case "/_sandbox/plain-upload-oid":
		s.SetPlainUploadNoOID(in.Off) // off: plain uploads answered without x-obs-oid
	case "/_sandbox/event":
		s.InjectEvent(in.MID, in.Name, in.Data)
	case "/_sandbox/clock":
		var d time.Duration
		if d, err = time.ParseDuration(in.Advance); err == nil {
			s.Advance(d)
		}
	case "/_sandbox/expire-tokens":
		s.ExpireTokens()
	case "/_sandbox/kick":
		s.Kick(in.MID)
	case "/_sandbox/faults":
		switch r.Method {
		case http.MethodGet: // the faults still armed
			writeJSON(w, 200, map[string]any{"faults": s.ArmedFaults()})
			return
		case http.MethodDelete: // disarm them all
			s.ClearFaults()
		default:
			err = s.Arm(ArmedFault{Kind: in.Kind, Method: in.Method, Count: in.Count, Persist: in.Persist,
				Code: in.Code, Reason: in.Reason, Status: in.Status, Delay: in.Delay})
			if errors.Is(err, errUnknownFault) {
				writeJSON(w, 400, map[string]any{"error": err.Error()})
				return
			}
		}
	default:
		writeJSON(w, 404, map[string]any{"error": "unknown sandbox endpoint"})
		return
	}
	if err != nil {
		writeJSON(w, 409, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]any{"ok": true})
}

// adminInjectMedia serves /_sandbox/inject-media {"from","to","contentType"
// (default 1),"name","data" (standard base64),"sealed"} → {"ok","id"}.
func (s *Server) adminInjectMedia(w http.ResponseWriter, from, to string, ct int, name, data string, sealed bool) {
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		writeJSON(w, 400, map[string]any{"error": "data is not standard base64"})
		return
	}
	if ct == 0 {
		ct = ctImage
	}
	m, err := s.InjectMedia(MediaInjection{From: from, To: to, ContentType: ct, Name: name, Data: b, Sealed: sealed})
	if err != nil {
		writeJSON(w, 409, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]any{"ok": true, "id": m.ID})
}

// replyFaults are the hostile answers /_sandbox/faults can arm, by kind.
var replyFaults = map[string]func(status int) Reply{
	"not-json":  func(int) Reply { return ReplyNotJSON },
	"empty":     func(int) Reply { return ReplyEmpty },
	"truncated": func(int) Reply { return ReplyTruncated },
	"html":      func(st int) Reply { return ReplyHTML(orStatus(st, 502)) },
	"upstream":  func(st int) Reply { return ReplyUpstream(orStatus(st, 504)) },
}

func orStatus(st, def int) int {
	if st == 0 {
		return def
	}
	return st
}

func (s *Server) snapshot() map[string]any {
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	accounts := []any{}
	for _, mid := range s.order {
		a := s.accounts[mid]
		accounts = append(accounts, map[string]any{"mid": a.MID, "email": a.Email, "displayName": a.DisplayName, "letterSealing": a.LetterSealing,
			"keyId": a.KeyID})
	}
	chats := []any{}
	for _, mid := range s.chatList {
		c := s.chats[mid]
		chats = append(chats, map[string]any{"mid": c.MID, "name": c.Name, "members": c.Members})
	}
	msgs := []any{}
	for _, m := range s.messages {
		e := map[string]any{"id": m.ID, "reqSeq": m.ReqSeq, "from": m.From, "to": m.To, "toType": m.ToType, "text": m.Text, "e2ee": len(m.Chunks) > 0}
		if isMedia(m.ContentType) {
			e["contentType"], e["mediaName"], e["mediaBytes"], e["mediaUploaded"], e["mediaError"] =
				m.ContentType, m.MediaName, len(m.Media), m.Media != nil, m.MediaErr
		}
		msgs = append(msgs, e)
	}
	return map[string]any{"accounts": accounts, "chats": chats, "messages": msgs, "revision": s.rev}
}
