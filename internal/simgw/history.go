package simgw

import (
	"encoding/json"
	"sort"
	"strconv"
)

// History and read marks: getRecentMessagesV2, getPreviousMessagesV2WithRequest
// and sendChatChecked (docs/protocol.md §10), over what conversation.go keeps.

// ReadMark returns the last message id mid marked read in chat ("" none).
func (s *convos) ReadMark(chat, mid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conv.read[chat][mid]
}

// historyOf returns the messages of chat that mid sees, oldest first,
// without unsent ones, each with its reactions. Caller holds s.mu.
func (s *convos) historyOf(chat, mid string) ([]map[string]any, error) {
	if c := s.chats[chat]; c != nil {
		if !c.isMember(mid) {
			return nil, talk(10, "not a member")
		}
	} else if toTypeOf(chat) != 0 || s.accounts[chat] == nil {
		return nil, talk(5, "not found")
	}
	var out []map[string]any
	for _, m := range s.carried.msgs {
		id := m["id"].(string)
		if s.conv.unsent[id] || !s.canSee(m, mid) || chatOf(m, mid) != chat {
			continue
		}
		cp := make(map[string]any, len(m)+1)
		for k, v := range m {
			cp[k] = v
		}
		var rs []any
		reactors := make([]string, 0, len(s.conv.reactions[id]))
		for r := range s.conv.reactions[id] {
			reactors = append(reactors, r)
		}
		sort.Strings(reactors)
		for _, r := range reactors {
			rs = append(rs, map[string]any{"fromUserMid": r, "atMillis": strconv.FormatInt(s.conv.reacted[id][r], 10),
				"reactionType": map[string]int{"predefinedReactionType": s.conv.reactions[id][r]}})
		}
		if rs == nil {
			rs = []any{}
		}
		cp["reactions"] = rs
		out = append(out, cp)
	}
	return out, nil
}

// newestFirst returns up to n of msgs (oldest first), newest first.
func newestFirst(msgs []map[string]any, n int) []map[string]any {
	out := []map[string]any{}
	for i := len(msgs) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, msgs[i])
	}
	return out
}

// maxHistoryCount is the most messages a history call returns (the
// extension asks for at most min(50, limit.sync.messages || 100)).
const maxHistoryCount = 100

// getRecentMessagesV2 [messageBoxId, messagesCount] → newest first.
func (s *convos) getRecentMessagesV2(req *request) (any, error) {
	chat, err := argString(req.args[0])
	if err != nil {
		return nil, err
	}
	var n int
	if argInt(req.args[1], &n) != nil || n < 1 || n > maxHistoryCount {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.historyOf(chat, req.mid)
	if err != nil {
		return nil, err
	}
	return newestFirst(msgs, n), nil
}

// getPreviousMessagesV2WithRequest [{messageBoxId, endMessageId:{deliveredTime,
// messageId}, messagesCount}, syncReason] → the messages up to and
// including endMessageId (the extension drops it), newest first.
func (s *convos) getPreviousMessagesV2WithRequest(req *request) (any, error) {
	var in struct {
		MessageBoxID *string `json:"messageBoxId"`
		EndMessageID *struct {
			DeliveredTime json.RawMessage `json:"deliveredTime"`
			MessageID     json.RawMessage `json:"messageId"`
		} `json:"endMessageId"`
		MessagesCount *int `json:"messagesCount"`
	}
	if err := strictObject(req.args[0], &in); err != nil {
		return nil, err
	}
	if err := syncReason(req.args[1]); err != nil {
		return nil, err
	}
	if in.MessageBoxID == nil || in.EndMessageID == nil || in.MessagesCount == nil || *in.MessagesCount < 1 || *in.MessagesCount > maxHistoryCount {
		return nil, gw(10102)
	}
	var dt string
	if json.Unmarshal(in.EndMessageID.DeliveredTime, &dt) != nil || !isDecimal(dt) {
		return nil, gw(10102)
	}
	end, err := argMessageID(in.EndMessageID.MessageID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.historyOf(*in.MessageBoxID, req.mid)
	if err != nil {
		return nil, err
	}
	for i, m := range msgs {
		if m["id"] == end {
			return newestFirst(msgs[:i+1], *in.MessagesCount), nil
		}
	}
	return nil, talk(64, "MESSAGE_NOT_FOUND")
}

// sendChatChecked [seq, chatMid, lastMessageId] (beeper/line; linejs adds an
// optional sessionId, a number): SEND_CHAT_CHECKED (40) on the reader's
// stream (param1 chat, param2 message id), NOTIFIED_READ_MESSAGE (55) on
// the others' (param1 chat, param2 reader, param3 message id). A mark never
// moves back.
func (s *convos) sendChatChecked(req *request) (any, error) {
	if len(req.args) != 3 && len(req.args) != 4 {
		return nil, gw(10102)
	}
	seq, err := argSeq(req.args[0])
	if err != nil {
		return nil, err
	}
	chat, err := argString(req.args[1])
	if err != nil {
		return nil, err
	}
	id, err := argMessageID(req.args[2])
	if err != nil {
		return nil, err
	}
	if len(req.args) == 4 {
		var sid int
		if argInt(req.args[3], &sid) != nil {
			return nil, gw(10102)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, err := s.historyOf(chat, req.mid)
	if err != nil {
		return nil, err
	}
	found := false
	for _, m := range msgs {
		found = found || m["id"] == id
	}
	if !found {
		return nil, talk(64, "MESSAGE_NOT_FOUND")
	}
	if s.conv.read == nil {
		s.conv.read = map[string]map[string]string{}
	}
	if s.conv.read[chat] == nil {
		s.conv.read[chat] = map[string]string{}
	}
	if old := s.conv.read[chat][req.mid]; old != "" && idLess(id, old) || old == id {
		return nil, nil
	}
	s.conv.read[chat][req.mid] = id
	s.appendOp(req.mid, 40, seq, [3]string{chat, id, ""}, nil)
	for _, p := range s.parties(msgs[len(msgs)-1]) {
		if p != req.mid {
			s.appendOp(p, 55, 0, [3]string{chatOf(msgs[len(msgs)-1], p), req.mid, id}, nil)
		}
	}
	return nil, nil
}

func idLess(a, b string) bool {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return x < y
}
