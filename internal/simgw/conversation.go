package simgw

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
)

// addRoutes registers the conversation calls.
func (s *convos) addRoutes(r routes) {
	r.thrift(talkSvc, "unsendMessage", s.unsendMessage, 2, true)
	r.thrift(talkSvc, "react", s.react, 1, true)
	r.thrift(talkSvc, "cancelReaction", s.cancelReaction, 1, true)
	r.thrift(talkSvc, "getRecentMessagesV2", s.getRecentMessagesV2, 2, true)
	r.thrift(talkSvc, "getPreviousMessagesV2WithRequest", s.getPreviousMessagesV2WithRequest, 2, true)
	r.thrift(talkSvc, "sendChatChecked", s.sendChatChecked, -1, true)
}

// Conversation calls: replies and mentions (checked inside sendMessage),
// unsendMessage, react, cancelReaction, getRecentMessagesV2,
// getPreviousMessagesV2WithRequest and sendChatChecked, with the shapes of
// docs/protocol.md §10. Anything else is refused as the gateway refuses a
// malformed call (10102 THRIFT_INVALID_ARGUMENT) or as LINE refuses a
// request it understood (a TalkException).

// carried is every message the streams carried (shared state: talk,
// sealing, object storage and conversations all deliver messages).
type carried struct {
	msgs []map[string]any          // as the stream carried them, in order
	byID map[string]map[string]any // id → the same maps
}

// conversations is what the conversation concern keeps beyond the stream.
type conversations struct {
	unsent    map[string]bool           // message id → unsent
	reactions map[string]map[string]int // message id → reactor → predefinedReactionType
	reacted   map[string]map[string]int64
	read      map[string]map[string]string // chat → reader → last message id read
}

// Unsend window: LINE refuses an unsend after 24 hours with 71
// MESSAGE_NOT_DESTRUCTIBLE (beeper/line UNSENDING.md).
const unsendWindow = 24 * time.Hour

// remember keeps a message the stream carried. Caller holds s.mu.
func (s *state) remember(msg map[string]any) {
	c := &s.carried
	if c.byID == nil {
		c.byID = map[string]map[string]any{}
	}
	id, _ := msg["id"].(string)
	if _, dup := c.byID[id]; dup || id == "" {
		return
	}
	c.msgs = append(c.msgs, msg)
	c.byID[id] = msg
}

// chatOf is the chat a message belongs to, as mid sees it: the group or
// room, or for a 1:1 message the other party.
func chatOf(msg map[string]any, mid string) string {
	from, _ := msg["from"].(string)
	to, _ := msg["to"].(string)
	if tt, _ := msg["toType"].(int); tt == 0 && to == mid {
		return from
	}
	return to
}

// canSee reports whether mid is a party of msg's chat. Caller holds s.mu.
func (s *convos) canSee(msg map[string]any, mid string) bool {
	from, _ := msg["from"].(string)
	to, _ := msg["to"].(string)
	if c := s.chats[to]; c != nil {
		return c.isMember(mid)
	}
	return from == mid || to == mid
}

// checkRelation validates a reply's relation fields: all three or none,
// messageRelationType 3 (REPLY), relatedMessageServiceCode 1 (TALK), and a
// related message of the same chat that the sender can see. The gateway's
// answers are a guess (no capture shows a refused reply): 10102 for a
// malformed relation, 64 MESSAGE_NOT_FOUND for an unknown or unsent message,
// 0 ILLEGAL_ARGUMENT for a message of another chat. Caller holds s.mu.
func (s *convos) checkRelation(m *outgoing, from string) error {
	n := 0
	for _, set := range []bool{m.RelatedMessageID != nil, m.MessageRelationType != nil, m.RelatedMessageServiceCode != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil
	case n != 3 || *m.MessageRelationType != 3 || *m.RelatedMessageServiceCode != 1 || !isDecimal(*m.RelatedMessageID):
		return gw(10102)
	}
	rel := s.carried.byID[*m.RelatedMessageID]
	if rel == nil || s.conv.unsent[*m.RelatedMessageID] || !s.canSee(rel, from) {
		return talk(64, "MESSAGE_NOT_FOUND")
	}
	if chatOf(rel, from) != *m.To {
		return talk(0, "illegal argument: the related message is not in this chat")
	}
	return nil
}

// checkMention validates contentMetadata.MENTION against the text the
// recipient reads: a JSON object {"MENTIONEES":[…]}, each entry with S and E
// decimal strings, 0 ≤ S < E ≤ the text's length in UTF-16 code units, the
// span starting with "@", and M a member of the chat (or A "1", everyone).
// LINE's exact checks are not known; this is stricter, so a client that
// counts bytes (one peer does) fails here. Caller holds s.mu.
func (s *convos) checkMention(md map[string]string, text, from, to string) error {
	raw, ok := md["MENTION"]
	if !ok {
		return nil
	}
	var in struct {
		MENTIONEES []map[string]json.RawMessage `json:"MENTIONEES"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || len(in.MENTIONEES) == 0 {
		return talk(0, "illegal argument: MENTION is not {\"MENTIONEES\":[…]}")
	}
	units := utf16.Encode([]rune(text))
	for _, e := range in.MENTIONEES {
		var sv, ev, mv, av string
		for k, v := range e {
			var str string
			if json.Unmarshal(v, &str) != nil {
				return talk(0, "illegal argument: MENTION values are strings")
			}
			switch k {
			case "S":
				sv = str
			case "E":
				ev = str
			case "M":
				mv = str
			case "A":
				av = str
			default:
				return talk(0, "illegal argument: MENTION entry key "+strconv.Quote(k))
			}
		}
		st, err1 := strconv.Atoi(sv)
		en, err2 := strconv.Atoi(ev)
		if err1 != nil || err2 != nil || !isDecimal(sv) || !isDecimal(ev) || st >= en || en > len(units) || units[st] != '@' {
			return talk(0, "illegal argument: MENTION span S="+strconv.Quote(sv)+" E="+strconv.Quote(ev)+" is not an @name of the text (UTF-16 code units, E exclusive)")
		}
		switch {
		case mv == "" && av == "1":
		case mv != "" && av == "":
			if !s.isParty(to, from, mv) {
				return talk(0, "illegal argument: mentioned "+mv+" is not a member of "+to)
			}
		default:
			return talk(0, "illegal argument: a MENTION entry has M or A:\"1\"")
		}
	}
	return nil
}

// isParty reports whether mid is in chat (a group or room), or one of the
// two parties of a 1:1 chat between from and to. Caller holds s.mu.
func (s *convos) isParty(chat, from, mid string) bool {
	if c := s.chats[chat]; c != nil {
		return c.isMember(mid)
	}
	return mid == chat || mid == from
}

func isDecimal(v string) bool {
	if v == "" || len(v) > 19 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// argMessageID reads a message id: a decimal string (an i64, as the
// gateway carries them).
func argMessageID(raw json.RawMessage) (string, error) {
	var id string
	if json.Unmarshal(raw, &id) != nil || !isDecimal(id) {
		return "", gw(10102)
	}
	return id, nil
}

// argSeq reads a request sequence number: a JSON number (an i32).
func argSeq(raw json.RawMessage) (int64, error) {
	var n int64
	if json.Unmarshal(raw, &n) != nil || n < 0 || n > 1<<31-1 {
		return 0, gw(10102)
	}
	return n, nil
}

// strictObject decodes raw into v, refusing unknown fields.
func strictObject(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(v) != nil {
		return gw(10102)
	}
	return nil
}

// ownMessage finds a message mid may act on. Caller holds s.mu.
func (s *convos) visibleMessage(id, mid string) (map[string]any, error) {
	msg := s.carried.byID[id]
	if msg == nil || s.conv.unsent[id] || !s.canSee(msg, mid) {
		return nil, talk(64, "MESSAGE_NOT_FOUND")
	}
	return msg, nil
}

// unsendMessage [seq, messageId]: DESTROY_MESSAGE (64) on the sender's
// stream, NOTIFIED_DESTROY_MESSAGE (65) on the others', param1 the chat (as
// each sees it), param2 the message id.
func (s *convos) unsendMessage(req *request) (any, error) {
	seq, err := argSeq(req.args[0])
	if err != nil {
		return nil, err
	}
	id, err := argMessageID(req.args[1])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.unsend(req.mid, id, seq)
}

// unsend takes back message id of mid. Caller holds s.mu.
func (s *convos) unsend(mid, id string, seq int64) error {
	msg, err := s.visibleMessage(id, mid)
	if err != nil {
		return err
	}
	if msg["from"] != mid {
		return talk(28, "NOT_YOUR_MESSAGE") // a guess: LINE's code for this is not captured
	}
	created, _ := strconv.ParseInt(msg["createdTime"].(string), 10, 64)
	if s.now().Sub(time.UnixMilli(created)) > unsendWindow {
		return talk(71, "message too old")
	}
	if s.conv.unsent == nil {
		s.conv.unsent = map[string]bool{}
	}
	s.conv.unsent[id] = true
	for _, p := range s.parties(msg) {
		typ := 65
		if p == mid {
			typ = 64
		}
		rs := int64(0)
		if p == mid {
			rs = seq
		}
		s.appendOp(p, typ, rs, [3]string{chatOf(msg, p), id, ""}, nil)
	}
	return nil
}

// parties are the accounts that see msg's chat: the group's members, or
// the two of a 1:1 chat. Caller holds s.mu.
func (s *convos) parties(msg map[string]any) []string {
	from, _ := msg["from"].(string)
	to, _ := msg["to"].(string)
	if c := s.chats[to]; c != nil {
		return append([]string(nil), c.Members...)
	}
	out := []string{from}
	if _, ok := s.accounts[to]; ok && to != from {
		out = append(out, to)
	}
	return out
}

// Unsend takes back a message as its sender's app would (tests, sandbox).
func (s *convos) Unsend(mid, messageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unsend(mid, messageID, 0)
}

// react [{reqSeq, messageId, reactionType:{predefinedReactionType}}].
func (s *convos) react(req *request) (any, error) {
	var in struct {
		ReqSeq       *int64          `json:"reqSeq"`
		MessageID    json.RawMessage `json:"messageId"`
		ReactionType *struct {
			PredefinedReactionType *int `json:"predefinedReactionType"`
		} `json:"reactionType"`
	}
	if err := strictObject(req.args[0], &in); err != nil {
		return nil, err
	}
	if in.ReqSeq == nil || in.ReactionType == nil || in.ReactionType.PredefinedReactionType == nil {
		return nil, gw(10102)
	}
	id, err := argMessageID(in.MessageID)
	if err != nil {
		return nil, err
	}
	t := *in.ReactionType.PredefinedReactionType
	if t < 2 || t > 7 {
		return nil, talk(0, "illegal argument: predefinedReactionType "+strconv.Itoa(t))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.setReaction(req.mid, id, t, *in.ReqSeq)
}

// cancelReaction [{reqSeq, messageId}]; cancelling no reaction is not an
// error (a repeat after a lost answer must not fail).
func (s *convos) cancelReaction(req *request) (any, error) {
	var in struct {
		ReqSeq    *int64          `json:"reqSeq"`
		MessageID json.RawMessage `json:"messageId"`
	}
	if err := strictObject(req.args[0], &in); err != nil {
		return nil, err
	}
	if in.ReqSeq == nil {
		return nil, gw(10102)
	}
	id, err := argMessageID(in.MessageID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.setReaction(req.mid, id, 0, *in.ReqSeq)
}

// setReaction sets (t 2–7) or removes (t 0) mid's reaction: SEND_REACTION
// (139) on mid's stream and NOTIFIED_SEND_REACTION (140) on the message's
// sender's, param1 the message id, param2 {"chatMid","curr"} (curr null =
// removed: the extension's handler dispatches it), param3 the reactor.
// Caller holds s.mu.
func (s *convos) setReaction(mid, id string, t int, seq int64) error {
	msg, err := s.visibleMessage(id, mid)
	if err != nil {
		return err
	}
	c := &s.conv
	if c.reactions == nil {
		c.reactions, c.reacted = map[string]map[string]int{}, map[string]map[string]int64{}
	}
	if c.reactions[id] == nil {
		c.reactions[id], c.reacted[id] = map[string]int{}, map[string]int64{}
	}
	old, had := c.reactions[id][mid]
	if t == 0 {
		if !had {
			return nil
		}
		delete(c.reactions[id], mid)
	} else {
		if had && old == t {
			return nil // the same state: nothing happens, as a repeat must
		}
		c.reactions[id][mid], c.reacted[id][mid] = t, s.now().UnixMilli()
	}
	var curr any
	if t != 0 {
		curr = map[string]int{"predefinedReactionType": t}
	}
	emit := func(p string, typ int, rs int64) {
		b, _ := json.Marshal(map[string]any{"chatMid": chatOf(msg, p), "curr": curr})
		s.appendOp(p, typ, rs, [3]string{id, string(b), mid}, nil)
	}
	emit(mid, 139, seq)
	if sender, _ := msg["from"].(string); sender != mid && s.accounts[sender] != nil {
		emit(sender, 140, 0)
	}
	return nil
}

// React sets a reaction as mid's app would (tests, sandbox); t 0 removes it.
func (s *convos) React(mid, messageID string, t int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setReaction(mid, messageID, t, 0)
}

// Reactions returns a message's reactions: reactor → predefinedReactionType.
func (s *convos) Reactions(messageID string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.conv.reactions[messageID] {
		out[k] = v
	}
	return out
}

// Unsent reports whether a message was unsent.
func (s *convos) Unsent(messageID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conv.unsent[messageID]
}

// InjectConversation delivers a text from → to as RECEIVE_MESSAGE, a reply
// to replyTo when not "", with metadata md (a MENTION, say), and returns
// its id. Nothing is checked: it is what another app sent.
func (s *convos) InjectConversation(from, to, text, replyTo string, md map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq += 7919
	id := strconv.FormatInt(s.seq, 10)
	if md == nil {
		md = map[string]string{}
	}
	msg := map[string]any{"from": from, "to": to, "toType": toTypeOf(to), "id": id,
		"createdTime": strconv.FormatInt(s.now().UnixMilli(), 10), "text": text, "hasContent": false, "contentType": 0,
		"contentMetadata": md, "sessionId": 0, "reactions": []any{}}
	if replyTo != "" {
		msg["relatedMessageId"], msg["messageRelationType"], msg["relatedMessageServiceCode"] = replyTo, 3, 1
	}
	s.deliver(from, to, msg)
	return id
}
