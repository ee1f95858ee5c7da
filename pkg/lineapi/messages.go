package lineapi

import (
	"context"
	"strconv"
)

// Content types linectl sends (LINE's ContentType enum: linejs
// line_types.ts "STICKER": 7; beeper/line pkg/connector/consts.go).
const (
	ContentText    = 0
	ContentSticker = 7
)

// DefaultStickerVersion is the STKVER sent when none is given: the value
// CHRLINE-era bots and linejs's sendSticker send ("100"). beeper/line sends
// the pack's latestVersion from the sticker shop instead.
const DefaultStickerVersion = 100

// Sticker is a LINE sticker: its package (pack) id, its id in the package
// and the package version, all positive.
type Sticker struct {
	PackageID, ID, Version int64
}

// Metadata is a sticker message's contentMetadata: STKID, STKPKGID and
// STKVER as decimal strings — the keys every peer sends (beeper/line
// lineSticker.metadata, linejs, CHRLINE-era sendSticker). beeper/line adds
// STKTXT (the pack name, a preview text) and STKOPT/STKHASH from the shop
// catalogue; linectl knows neither and sends neither.
func (s Sticker) Metadata() map[string]string {
	return map[string]string{
		"STKID":    strconv.FormatInt(s.ID, 10),
		"STKPKGID": strconv.FormatInt(s.PackageID, 10),
		"STKVER":   strconv.FormatInt(s.Version, 10),
	}
}

// String is the sticker as linectl's users write it: PKG/ID.
func (s Sticker) String() string {
	return strconv.FormatInt(s.PackageID, 10) + "/" + strconv.FormatInt(s.ID, 10)
}

// OutgoingMessage is a message to send. Text is omitted from the request
// when Chunks is set (a Letter Sealing message), for a sticker (ContentType
// 7) and for media (1, 14), which have no text.
type OutgoingMessage struct {
	From            string
	To              string
	ToType          ToType
	Text            string
	ContentType     int
	ContentMetadata map[string]string
	Chunks          []string
	// SealedPayload, when set, is the Letter Sealing plaintext instead of
	// {"text":…}: a media message's {"keyMaterial":…,"fileName":…}.
	SealedPayload []byte
	// RelatedMessageID makes the message a reply to that message (of the
	// same chat): relatedMessageId, messageRelationType 3 (REPLY),
	// relatedMessageServiceCode 1 (TALK). They stay in clear when the
	// message is sealed (conversation.go).
	RelatedMessageID string
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
	// The extension spreads the reply relation after hasContent (enqueueTextMessage).
	RelatedMessageID          string   `json:"relatedMessageId,omitempty"`
	MessageRelationType       int      `json:"messageRelationType,omitempty"`
	RelatedMessageServiceCode int      `json:"relatedMessageServiceCode,omitempty"`
	Chunks                    []string `json:"chunks,omitempty"`
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

// SendMessage sends one message with the given reqSeq. A success answer
// without the stored message's id is a *BadResponseError (outcome unknown).
// It is not repeated
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
	if len(m.Chunks) == 0 && m.ContentType != ContentSticker && !IsMedia(m.ContentType) {
		body.Text = &m.Text
	}
	// hasContent: the message refers to an object on LINE's storage
	// (beeper/line send_message.go: true for media).
	body.HasContent = IsMedia(m.ContentType)
	if m.RelatedMessageID != "" {
		body.RelatedMessageID = m.RelatedMessageID
		body.MessageRelationType, body.RelatedMessageServiceCode = RelationReply, ServiceCodeTalk
	}
	var out SentMessage
	if err := c.thriftCall(ctx, "Talk/TalkService", "sendMessage", []any{reqSeq, body}, &out, true, false); err != nil {
		return nil, err
	}
	if out.ID == "" {
		// A success envelope that does not show the stored message ({},
		// null, no id) proves nothing: the outcome is unknown, never "sent".
		return nil, &BadResponseError{Method: "sendMessage", HTTPStatus: 200, Reason: "a success answer without the message's id"}
	}
	return &out, nil
}
