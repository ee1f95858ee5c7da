package simgw

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Message is a message the simulator stored.
type Message struct {
	ID          string
	ReqSeq      int64
	From        string
	To          string
	ToType      int
	ContentType int               // 0 text, 1 image, 7 sticker, 14 file
	HasContent  bool              // as sent: false for text, true for stickers (EXT Cb) and media
	Text        string            // what the recipient reads; "" for a sticker and media
	Metadata    map[string]string // contentMetadata
	Chunks      []string          // Letter Sealing chunks
	Created     int64
	// Media is the file as the recipient gets it: a plain message's bytes
	// once uploaded (nil before), a sealed one's object decrypted with the
	// sealed keyMaterial (nil if that failed: see MediaErr).
	Media     []byte
	MediaName string // FILE_NAME, or the sealed payload's fileName
	// MediaErr is why the recipient could not open a sealed object ("" = it could).
	MediaErr string
	Preview  []byte // the uploaded preview (decrypted when sealed), if any
	ReplyTo  string // relatedMessageId of a reply
}

// textOf is what the recipient reads: the opened text of a sealed
// message, else the text sent.
func (m *Message) textOf(sent *string) string {
	if sent != nil {
		return *sent
	}
	return m.Text
}

// Messages returns every stored message, in order. LINE does not
// deduplicate, so a reqSeq sent twice is stored twice.
func (s *state) Messages() []Message {
	s.settle()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

type op struct {
	rev  int64
	data []byte // the operation JSON, as the gateway sends it
	name string // SSE event name: "" for an operation
}

// appendOp adds an operation to mid's stream. Caller holds s.mu.
func (s *state) appendOp(mid string, typ int, reqSeq int64, params [3]string, msg map[string]any) {
	s.rev++
	o := map[string]any{"revision": strconv.FormatInt(s.rev, 10), "createdTime": strconv.FormatInt(s.now().UnixMilli(), 10),
		"type": typ, "reqSeq": reqSeq, "param1": params[0]}
	if params[1] != "" {
		o["param2"] = params[1]
	}
	if params[2] != "" {
		o["param3"] = params[2]
	}
	if msg != nil {
		o["message"] = msg
	}
	b, _ := json.Marshal(o)
	s.ops[mid] = append(s.ops[mid], op{rev: s.rev, data: asciiJSON(b)})
	s.broadcast()
}

// asciiJSON writes non-ASCII characters as \uXXXX escapes, as the gateway does.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r < utf8.RuneSelf {
			out.WriteByte(b[0])
		} else {
			for _, u := range utf16.Encode([]rune{r}) {
				out.WriteString(`\u`)
				out.WriteString(strconv.FormatUint(uint64(u)|0x10000, 16)[1:])
			}
		}
		b = b[size:]
	}
	return out.Bytes()
}

// outgoing is the Message the extension sends; every field is required.
type outgoing struct {
	From            *string           `json:"from"`
	To              *string           `json:"to"`
	ToType          *int              `json:"toType"`
	ID              *string           `json:"id"`
	CreatedTime     *string           `json:"createdTime"`
	SessionID       *int              `json:"sessionId"`
	Text            *string           `json:"text"`
	ContentType     *int              `json:"contentType"`
	ContentMetadata map[string]string `json:"contentMetadata"`
	HasContent      *bool             `json:"hasContent"`
	Chunks          []string          `json:"chunks"`
	// A reply's relation (conversation.go checkRelation).
	RelatedMessageID          *string `json:"relatedMessageId"`
	MessageRelationType       *int    `json:"messageRelationType"`
	RelatedMessageServiceCode *int    `json:"relatedMessageServiceCode"`
}

func (s *talkStream) sendMessage(req *request) (any, error) {
	var reqSeq int64
	if err := json.Unmarshal(req.args[0], &reqSeq); err != nil {
		return nil, gw(10102)
	}
	var m outgoing
	if err := json.Unmarshal(req.args[1], &m); err != nil || m.From == nil || m.To == nil || m.ToType == nil ||
		m.ID == nil || m.CreatedTime == nil || m.SessionID == nil || m.ContentType == nil || m.ContentMetadata == nil || m.HasContent == nil {
		return nil, gw(10102)
	}
	if _, err := strconv.ParseInt(*m.CreatedTime, 10, 64); err != nil {
		return nil, gw(10102)
	}
	ct := *m.ContentType
	k, known := kinds[ct]
	if *m.ID != "local-"+strconv.FormatInt(reqSeq, 10) || *m.SessionID != 0 || !known {
		return nil, talk(0, "illegal argument")
	}
	sealed := m.ContentMetadata["e2eeVersion"] != "" && len(m.Chunks) > 0
	if err := k.check(&m, sealed); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if *m.From != req.mid {
		return nil, talk(0, "from is not the session's account")
	}
	to := *m.To
	if len(to) < 2 || toTypeOf(to) != *m.ToType {
		return nil, talk(9, "invalid mid")
	}
	var recipients []string
	sealedChat := false
	switch *m.ToType {
	case 0:
		peer := s.accounts[to]
		if peer == nil {
			return nil, talk(5, "not found")
		}
		recipients = []string{to}
		// A content type the peer's app does not take sealed goes plain.
		sealedChat = peer.LetterSealing && s.accounts[req.mid].LetterSealing && allows(peer.allowedTypes(), *m.ContentType)
	default:
		c := s.chats[to]
		if c == nil {
			return nil, talk(5, "not found")
		}
		if !c.isMember(req.mid) {
			return nil, talk(10, "not a member")
		}
		// The group key's allowedTypes (seal.go answerFor) decide as a
		// peer's do: a type not listed goes plain.
		sealedChat = allows(s.seal.chatAllowedTypes(to), ct)
		for _, mem := range c.Members {
			if a := s.accounts[mem]; a == nil || !a.LetterSealing {
				sealedChat = false
			}
			if mem != req.mid {
				recipients = append(recipients, mem)
			}
		}
	}
	if isMedia(ct) {
		// Sealed media need both: the chat's flowMap and the allowedTypes
		// (EXT encryptMessage); a type allowedTypes does not list goes plain.
		flowSealed, _ := s.obs.mediaSealed(req.mid, to)
		sealedChat = flowSealed && sealedChat
		if err := mediaFlow(sealedChat, sealed); err != nil {
			return nil, err
		}
	}
	if sealedChat && !sealed {
		return nil, talk(82, "can not send using plain mode")
	}
	if err := s.convs.checkRelation(&m, req.mid); err != nil {
		return nil, err
	}
	stored := Message{ReqSeq: reqSeq, From: req.mid, To: to, ToType: *m.ToType, ContentType: ct, HasContent: *m.HasContent,
		Metadata: m.ContentMetadata, Chunks: m.Chunks}
	var decrypt func(*Message)
	if sealed {
		var err error
		if decrypt, err = s.openInto(&stored); err != nil {
			return nil, err
		}
	}
	if err := s.convs.checkMention(m.ContentMetadata, stored.textOf(m.Text), req.mid, to); err != nil {
		return nil, err
	}
	s.seq += 7919
	id := strconv.FormatInt(s.seq, 10)
	created := s.now().UnixMilli()
	stored.ID, stored.Created = id, created
	msg := map[string]any{"from": req.mid, "to": to, "toType": *m.ToType, "id": id, "createdTime": strconv.FormatInt(created, 10),
		"hasContent": *m.HasContent, "contentType": ct, "contentMetadata": m.ContentMetadata, "sessionId": 0, "reactions": []any{}}
	if m.Text != nil {
		stored.Text, msg["text"] = *m.Text, *m.Text
	}
	if len(m.Chunks) > 0 {
		msg["chunks"] = m.Chunks
	}
	if m.RelatedMessageID != nil {
		stored.ReplyTo = *m.RelatedMessageID
		msg["relatedMessageId"], msg["messageRelationType"], msg["relatedMessageServiceCode"] = *m.RelatedMessageID, 3, 1
	}
	s.remember(msg)
	s.messages = append(s.messages, stored)
	if decrypt != nil {
		s.decryptLater(id, decrypt)
	}
	s.appendOp(req.mid, 25, reqSeq, [3]string{"0", "", ""}, msg)
	for _, r := range recipients {
		if _, ok := s.accounts[r]; ok {
			s.appendOp(r, 26, 0, [3]string{"0", "", ""}, msg)
		}
	}
	return map[string]any{"from": req.mid, "toType": *m.ToType, "id": id, "createdTime": strconv.FormatInt(created, 10),
		"deliveredTime": "0", "hasContent": *m.HasContent, "contentType": ct, "sessionId": 0, "reactions": []any{}}, nil
}

// openInto opens a sealed message as its recipient's device would and
// records what it reads: the text, or the media — whose object is
// decrypted after the answer (decryptLater). Caller holds s.mu.
func (s *talkStream) openInto(m *Message) (decrypt func(*Message), err error) {
	var o *obsObject
	if isMedia(m.ContentType) {
		if o, err = s.obs.sealedObject(m.From, m.ContentType, m.Metadata); err != nil {
			return nil, err
		}
	}
	plain, err := s.seal.openSealed(m.From, m.To, m.Metadata["e2eeVersion"], m.Chunks, m.ContentType)
	if err != nil {
		return nil, err
	}
	if o != nil {
		return openMedia(m, plain, o)
	}
	m.Text, err = textOf(plain)
	return nil, err
}

// decryptLater records that a stored sealed medium (message id) is to be
// decrypted as its recipient's device would: not while answering the send
// (the real server does no such work, and a benchmark would time it), but
// when the stored messages are read (settle). Caller holds s.mu.
func (s *state) decryptLater(id string, decrypt func(*Message)) {
	s.unopened = append(s.unopened, unopened{id, decrypt})
}

// unopened is a stored sealed medium not decrypted yet.
type unopened struct {
	id      string
	decrypt func(*Message)
}

// settle decrypts the sealed media not decrypted yet, before the stored
// messages are read. Caller does not hold s.mu.
func (s *state) settle() {
	s.settling.Lock() // a second reader waits for the first one's work
	defer s.settling.Unlock()
	s.mu.Lock()
	todo := s.unopened
	s.unopened = nil
	s.mu.Unlock()
	for _, u := range todo {
		var m Message
		u.decrypt(&m)
		s.mu.Lock()
		for i := range s.messages {
			if s.messages[i].ID == u.id {
				s.messages[i].Media, s.messages[i].MediaErr, s.messages[i].Preview = m.Media, m.MediaErr, m.Preview
			}
		}
		s.mu.Unlock()
	}
}

// Content types the simulator takes (media: media.go).
const (
	ctText    = 0
	ctSticker = 7
)

// kinds are the content types sendMessage takes, each with the checks of
// its shape made before anything is looked up (who may send where, sealing:
// sendMessage itself). A type not listed is refused. Adding a kind is a row
// here and its check; the reply and mention of any kind are conversation.go's.
var kinds = map[int]struct {
	check func(m *outgoing, sealed bool) error
}{
	ctText:    {checkText},
	ctSticker: {checkSticker},
	ctImage:   {checkMedia},
	ctFile:    {checkMedia},
}

// checkText refuses a text message LINE would not take: hasContent true
// (EXT Mb sends false), a sealed one that still carries its text, a plain
// one without text, or more than 10,000 UTF-16 units.
func checkText(m *outgoing, sealed bool) error {
	switch {
	case *m.HasContent:
		return talk(0, "illegal argument")
	case sealed && m.Text != nil:
		return talk(0, "text must be removed from a sealed message")
	case !sealed && (m.Text == nil || *m.Text == ""):
		return talk(0, "empty text")
	case m.Text != nil && utf16Len(*m.Text) > 10000:
		return talk(6, "Invalid Length")
	}
	return nil
}

// checkSticker refuses a sticker message LINE would not take: one with a
// text, sealed, or without numeric STKID, STKPKGID and STKVER. hasContent
// is true for stickers (EXT Cb); one with false is taken (older clients sent
// it, and LINE is not known to refuse it) and stored as sent. The answers
// are a guess — no capture shows LINE refusing a sticker: TalkException 0
// ILLEGAL_ARGUMENT, as for any other malformed message here.
func checkSticker(m *outgoing, sealed bool) error {
	switch {
	case m.Text != nil && *m.Text != "":
		return talk(0, "illegal argument: a sticker message has no text")
	case sealed || len(m.Chunks) > 0:
		return talk(0, "illegal argument: content type 7 is not sealed (allowedTypes does not list it)")
	}
	for _, k := range []string{"STKID", "STKPKGID", "STKVER"} {
		v := m.ContentMetadata[k]
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
			return talk(0, "illegal argument: sticker metadata "+k+" must be a decimal number (got "+strconv.Quote(v)+")")
		}
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += len(utf16.Encode([]rune{r}))
	}
	return n
}

// InjectMessage delivers a message from → to as a RECEIVE_MESSAGE operation
// on the streams of the recipients (to, or every member of chat to but from).
func (s *talkStream) InjectMessage(from, to, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq += 7919
	tt := toTypeOf(to)
	msg := map[string]any{"from": from, "to": to, "toType": tt, "id": strconv.FormatInt(s.seq, 10),
		"createdTime": strconv.FormatInt(s.now().UnixMilli(), 10), "text": text, "hasContent": false, "contentType": 0,
		"contentMetadata": map[string]string{}, "sessionId": 0, "reactions": []any{}}
	s.deliver(from, to, msg)
}

// deliver appends a RECEIVE_MESSAGE to the streams of to (a user) or of every
// member of chat to but from. Caller holds s.mu.
func (s *state) deliver(from, to string, msg map[string]any) {
	s.remember(msg)
	targets := []string{to}
	if c := s.chats[to]; c != nil {
		targets = nil
		for _, m := range c.Members {
			if m != from {
				targets = append(targets, m)
			}
		}
	}
	for _, t := range targets {
		s.appendOp(t, 26, 0, [3]string{"0", "", ""}, msg)
	}
}

// InjectEvent queues a raw SSE event (name "" = unnamed) on mid's stream, as
// the next thing it sends; data is sent as is (it may be malformed on purpose).
// A fullSync moves the server's revision to its nextRevision.
func (s *state) InjectEvent(mid, name, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev++
	s.ops[mid] = append(s.ops[mid], op{rev: s.rev, name: name, data: []byte(data)})
	if name == "fullSync" {
		var fs struct {
			NextRevision json.RawMessage `json:"nextRevision"`
		}
		if json.Unmarshal([]byte(data), &fs) == nil {
			if n, err := argI64(fs.NextRevision); err == nil && n > s.rev {
				s.rev = n
			}
		}
	}
	s.broadcast()
}

// Revision returns the newest revision.
func (s *state) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// memberChat returns a chat mid is a member of, or NOT_A_MEMBER. Caller holds s.mu.
func (s *state) memberChat(chat, mid string) (*Chat, error) {
	c := s.chats[chat]
	if c == nil || !c.isMember(mid) {
		return nil, talk(10, "not a member")
	}
	return c, nil
}

// InjectOperation appends an operation of type typ with its params to the
// stream of mid (chat membership events: 129 ACCEPT_CHAT_INVITATION, 130
// NOTIFIED_ACCEPT_CHAT_INVITATION, 128 NOTIFIED_DELETE_SELF_FROM_CHAT, …).
func (s *talkStream) InjectOperation(mid string, typ int, param1, param2, param3 string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendOp(mid, typ, 0, [3]string{param1, param2, param3}, nil)
}
