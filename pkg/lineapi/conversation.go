package lineapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Conversation calls: replies, mentions, unsend, reactions, history and read
// marks (docs/protocol.md §10 names the evidence for each shape).

// The reply relation of a Message (linejs line.thrift Message fields 21/22/24;
// beeper/line send_message.go; the extension's forward builder deletes
// exactly these three fields).
const (
	RelationReply   = 3 // messageRelationType REPLY
	serviceCodeTalk = 1 // relatedMessageServiceCode TALK
)

// Mentionee is one entry of a MENTION metadata: the span [Start, End) of
// the text, in UTF-16 code units as the extension counts (JavaScript string
// length), and the MID mentioned, or All for everyone ({"A":"1"}).
type Mentionee struct {
	Start, End int
	MID        string
	All        bool
}

type mentionJSON struct {
	S string `json:"S"`
	E string `json:"E"`
	M string `json:"M,omitempty"`
	A string `json:"A,omitempty"`
}

// MentionMetadata is contentMetadata.MENTION for ms: the JSON string
// {"MENTIONEES":[{"S":"0","E":"6","M":"u…"}]}, S and E decimal strings (the
// extension's $g builds {S:String(r),E:String(r+n.length),…data}).
func MentionMetadata(ms []Mentionee) string {
	out := struct {
		MENTIONEES []mentionJSON `json:"MENTIONEES"`
	}{}
	for _, m := range ms {
		e := mentionJSON{S: strconv.Itoa(m.Start), E: strconv.Itoa(m.End), M: m.MID}
		if m.All {
			e.M, e.A = "", "1"
		}
		out.MENTIONEES = append(out.MENTIONEES, e)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// ParseMention reads a MENTION metadata value, sorted by Start. Entries
// whose S or E is not a number are dropped (LINE's apps skip them too).
func ParseMention(md string) ([]Mentionee, error) {
	var in struct {
		MENTIONEES []struct {
			S, E, M, A json.RawMessage
		} `json:"MENTIONEES"`
	}
	if err := json.Unmarshal([]byte(md), &in); err != nil {
		return nil, fmt.Errorf("MENTION: %w", err)
	}
	var out []Mentionee
	for _, e := range in.MENTIONEES {
		var s, en I64
		if s.UnmarshalJSON(e.S) != nil || en.UnmarshalJSON(e.E) != nil {
			continue
		}
		m := Mentionee{Start: int(s), End: int(en)}
		var a string
		_ = json.Unmarshal(e.M, &m.MID)
		_ = json.Unmarshal(e.A, &a)
		m.All = m.MID == "" && a == "1"
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, nil
}

// Reactions are LINE's six predefined reactions (MessageReactionType of
// linejs line.thrift: NICE 2, LOVE 3, FUN 4, AMAZING 5, SAD 6, OMG 7).
var Reactions = []string{"nice", "love", "fun", "amazing", "sad", "omg"}

// ReactionType returns the predefinedReactionType of a reaction name.
func ReactionType(name string) (int, bool) {
	for i, n := range Reactions {
		if n == name {
			return i + 2, true
		}
	}
	return 0, false
}

// ReactionName returns the name of a predefinedReactionType ("" if unknown).
func ReactionName(t int) string {
	if t >= 2 && t < 2+len(Reactions) {
		return Reactions[t-2]
	}
	return ""
}

// ErrMessageNotFound (64 MESSAGE_NOT_FOUND) answers an unsend of a message
// LINE does not know; ErrMessageNotDestructible (71) one older than LINE
// lets be unsent (24 h for most accounts: beeper/line UNSENDING.md).
var (
	ErrMessageNotFound        = &TalkError{Name: ExceptionTalk, Code: 64}
	ErrMessageNotDestructible = &TalkError{Name: ExceptionTalk, Code: 71}
	ErrNotYourMessage         = &TalkError{Name: ExceptionTalk, Code: 28}
	ErrIllegalArgument        = &TalkError{Name: ExceptionTalk, Code: 0}
)

// UnsendMessage takes back one of the account's messages. It is not
// repeated when the answer is lost: the caller settles that on the stream
// (DESTROY_MESSAGE, 64, param2 = the message id).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/unsendMessage [seq, messageId]
func (c *Client) UnsendMessage(ctx context.Context, seq int64, messageID string) error {
	return c.thriftCall(ctx, "Talk/TalkService", "unsendMessage", []any{seq, messageID}, nil, true, false)
}

type reactionType struct {
	PredefinedReactionType int `json:"predefinedReactionType"`
}

// React sets the account's reaction to a message (one per account and
// message: a second replaces the first). Setting a state, it is repeated
// after a lost answer: a repeat sets the same reaction.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/react [{reqSeq, messageId, reactionType:{predefinedReactionType}}]
func (c *Client) React(ctx context.Context, seq int64, messageID string, reaction int) error {
	arg := struct {
		ReqSeq       int64        `json:"reqSeq"`
		MessageID    string       `json:"messageId"`
		ReactionType reactionType `json:"reactionType"`
	}{seq, messageID, reactionType{reaction}}
	return c.thriftCall(ctx, "Talk/TalkService", "react", []any{arg}, nil, true, true)
}

// CancelReaction takes the account's reaction back (repeated after a lost
// answer, as React).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/cancelReaction [{reqSeq, messageId}]
func (c *Client) CancelReaction(ctx context.Context, seq int64, messageID string) error {
	arg := struct {
		ReqSeq    int64  `json:"reqSeq"`
		MessageID string `json:"messageId"`
	}{seq, messageID}
	return c.thriftCall(ctx, "Talk/TalkService", "cancelReaction", []any{arg}, nil, true, true)
}

// SendChatChecked marks a chat read up to lastMessageID (a read mark only
// moves forward, so a repeat after a lost answer changes nothing). seq is 0,
// as beeper/line sends it.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/sendChatChecked [0, chatMid, lastMessageId]
func (c *Client) SendChatChecked(ctx context.Context, chat, lastMessageID string) error {
	return c.thriftCall(ctx, "Talk/TalkService", "sendChatChecked", []any{0, chat, lastMessageID}, nil, true, true)
}

// MaxMessagesPerPage is the most messages one history call asks for (the
// extension: min(pageSizeForMessage || 50, limit.sync.messages || 100)).
const MaxMessagesPerPage = 50

// MessageBoxMessageID names a message as history paging does.
type MessageBoxMessageID struct {
	DeliveredTime I64    `json:"deliveredTime"`
	MessageID     string `json:"messageId"`
}

// GetRecentMessages returns a chat's newest messages, newest first, each
// decoded as the receive stream's are (a sealed one still sealed: e2ee
// opens it).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getRecentMessagesV2 [messageBoxId, messagesCount]
func (c *Client) GetRecentMessages(ctx context.Context, chat string, count int) ([]*Message, error) {
	var raw []json.RawMessage
	if err := c.thriftCall(ctx, "Talk/TalkService", "getRecentMessagesV2", []any{chat, count}, &raw, true, true); err != nil {
		return nil, err
	}
	return parseMessages("getRecentMessagesV2", raw, "")
}

// parseMessages decodes a history answer, leaving out the message skip.
func parseMessages(call string, raw []json.RawMessage, skip string) ([]*Message, error) {
	out := make([]*Message, 0, len(raw))
	for i, r := range raw {
		m, err := ParseMessage(r)
		if err != nil {
			return nil, fmt.Errorf("%s: message %d: %w", call, i, err)
		}
		if skip != "" && m.ID == skip {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// GetPreviousMessages returns up to count messages before end, newest
// first. LINE's answer may include end itself (the extension filters it
// out); so does this method.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getPreviousMessagesV2WithRequest [{messageBoxId, endMessageId:{deliveredTime, messageId}, messagesCount}, syncReason]
func (c *Client) GetPreviousMessages(ctx context.Context, chat string, end MessageBoxMessageID, count int) ([]*Message, error) {
	arg := struct {
		MessageBoxID  string              `json:"messageBoxId"`
		EndMessageID  MessageBoxMessageID `json:"endMessageId"`
		MessagesCount int                 `json:"messagesCount"`
	}{chat, end, count}
	var raw []json.RawMessage
	if err := c.thriftCall(ctx, "Talk/TalkService", "getPreviousMessagesV2WithRequest", []any{arg, 2}, &raw, true, true); err != nil {
		return nil, err
	}
	return parseMessages("getPreviousMessagesV2WithRequest", raw, end.MessageID)
}
