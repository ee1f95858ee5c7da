package cmd

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// What receive and history add for conversations: a reply's "replyTo", a
// mention's "mentions" and "mentionsMe" on a message line, and the lines of
// an unsend (DESTROY_MESSAGE 64, NOTIFIED_DESTROY_MESSAGE 65) and of a
// reaction (SEND_REACTION 139, NOTIFIED_SEND_REACTION 140).

// appendConversation writes "replyTo", "mentions" (the MIDs, "all") and
// "mentionsMe" of a message.
func appendConversation(b []byte, m *lineapi.Message, me string) []byte {
	if m.RelatedMessageID != "" && m.RelationType == lineapi.RelationReply {
		b = append(b, `,"replyTo":`...)
		b = appendString(b, m.RelatedMessageID)
	}
	md, ok := m.ContentMetadata["MENTION"]
	if !ok {
		return b
	}
	ms, err := lineapi.ParseMention(md)
	if err != nil || len(ms) == 0 {
		return b
	}
	mine := false
	b = append(b, `,"mentions":[`...)
	for i, x := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		if x.All {
			b = appendString(b, mentionAll)
		} else {
			b = appendString(b, x.MID)
		}
		mine = mine || x.All || (me != "" && x.MID == me)
	}
	b = append(b, ']')
	if mine {
		b = append(b, `,"mentionsMe":true`...)
	}
	return b
}

// appendConversationOp writes the line of an unsend or reaction operation,
// or returns ok false for any other operation.
//
//	{"type":"unsent","messageId":…,"chat":…,"revision":…}
//	{"type":"reacted","messageId":…,"reaction":"nice"|"cancelled":true,"chat":…,"from":…,"revision":…}
func appendConversationOp(b []byte, op *stream.Operation) ([]byte, bool) {
	rev := strconv.FormatInt(op.Revision, 10)
	switch op.Type {
	case stream.OpDestroyMessage, stream.OpNotifiedDestroyMessage:
		l, err := marshalLine(unsentLine{Type: "unsent", MessageID: op.Param2.String(), Chat: op.Param1.String(), Revision: rev})
		return append(b, l...), err == nil
	case stream.OpSendReaction, stream.OpNotifiedSendReaction:
		// param2 is a JSON string {"chatMid","curr":{"predefinedReactionType":N}};
		// curr null: taken back (the extension's handler dispatches it so).
		p := gjson.Parse(op.Param2.String())
		l := reactedLine{Type: "reacted", MessageID: op.Param1.String(), Chat: p.Get("chatMid").String(),
			From: op.Param3.String(), Revision: rev}
		if curr := p.Get("curr"); curr.IsObject() {
			t := int(curr.Get("predefinedReactionType").Int())
			if l.Reaction = lineapi.ReactionName(t); l.Reaction == "" {
				l.Reaction = "type" + strconv.Itoa(t) // a reaction linectl has no name for (a paid one)
			}
		} else {
			l.Cancelled = true
		}
		out, err := marshalLine(l)
		return append(b, out...), err == nil
	}
	return b, false
}

func isConversationOp(t stream.OpType) bool {
	switch t {
	case stream.OpDestroyMessage, stream.OpNotifiedDestroyMessage, stream.OpSendReaction, stream.OpNotifiedSendReaction:
		return true
	}
	return false
}

// opChat is the chat of an operation without a message: param1, but a
// reaction's param1 is the message id and its chat is in param2.
func opChat(op *stream.Operation) string {
	if op.Type == stream.OpSendReaction || op.Type == stream.OpNotifiedSendReaction {
		return gjson.Parse(op.Param2.String()).Get("chatMid").String()
	}
	return op.Param1.String()
}
