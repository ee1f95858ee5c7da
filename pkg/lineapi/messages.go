package lineapi

import (
	"context"
	"strconv"
)

// OutgoingMessage is a message to send. Text is omitted from the request
// when Chunks is set (a Letter Sealing message).
type OutgoingMessage struct {
	From            string
	To              string
	ToType          ToType
	Text            string
	ContentType     int
	ContentMetadata map[string]string
	Chunks          []string
}

// sendMessageBody is the Message the extension builds, in its field order.
type sendMessageBody struct {
	From            string            `json:"from"`
	To              string            `json:"to"`
	ToType          ToType            `json:"toType"`
	ID              string            `json:"id"`
	CreatedTime     string            `json:"createdTime"`
	SessionID       int               `json:"sessionId"`
	Text            *string           `json:"text,omitempty"`
	ContentType     int               `json:"contentType"`
	ContentMetadata map[string]string `json:"contentMetadata"`
	HasContent      bool              `json:"hasContent"`
	Chunks          []string          `json:"chunks,omitempty"`
}

// SentMessage is sendMessage's answer: the stored message, without its text.
type SentMessage struct {
	ID            string `json:"id"`
	From          string `json:"from"`
	ToType        ToType `json:"toType"`
	CreatedTime   I64    `json:"createdTime"`
	DeliveredTime I64    `json:"deliveredTime"`
	ContentType   int    `json:"contentType"`
}

// SendMessage sends one message with the given reqSeq. It is not repeated
// when the outcome is unknown (LINE does not deduplicate): the caller must
// confirm through the operation stream before sending again. It is repeated
// only when the request provably never reached LINE (see NotProcessed).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/sendMessage [reqSeq, Message]
func (c *Client) SendMessage(ctx context.Context, reqSeq int64, m OutgoingMessage) (*SentMessage, error) {
	md := m.ContentMetadata
	if md == nil {
		md = map[string]string{}
	}
	body := sendMessageBody{
		From: m.From, To: m.To, ToType: m.ToType,
		ID: "local-" + strconv.FormatInt(reqSeq, 10),
		// The extension sends whole seconds in milliseconds (a capture: "1773625306000").
		CreatedTime:     strconv.FormatInt(c.now().Unix()*1000, 10),
		ContentType:     m.ContentType,
		ContentMetadata: md,
		Chunks:          m.Chunks,
	}
	if len(m.Chunks) == 0 {
		body.Text = &m.Text
	}
	var out SentMessage
	if err := c.thriftCall(ctx, "Talk/TalkService", "sendMessage", []any{reqSeq, body}, &out, true, false); err != nil {
		return nil, err
	}
	return &out, nil
}
