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
// CHRLINE-era bots and linejs's sendSticker send ("100"). LINE's extension
// sends the version its sticker catalogue knows; linectl has no catalogue.
const DefaultStickerVersion = 100

// Sticker is a LINE sticker: its package (pack) id, its id in the package
// and the package version, all positive, and what else LINE's extension
// 3.7.2 sends of a sticker when it knows it (its builder Cb).
type Sticker struct {
	PackageID, ID, Version int64
	// Text is STKTXT, the sticker's alt text (e.g. "[OK]"): LINE's apps show
	// it in a notification and a chat list preview.
	Text string
	// Option is STKOPT (the sticker's kind as the catalogue says: e.g. "A"
	// animated, "S" with sound); Hash is STKHASH; ImageText is STK_IMG_TXT
	// (a message sticker's own text). "" = not known, not sent.
	Option, Hash, ImageText string
}

// Metadata is a sticker message's contentMetadata as the extension's Cb
// builds it: of STKPKGID, STKID, STKTXT, STKVER, STKOPT, STKHASH and
// STK_IMG_TXT, exactly those with a non-empty string value (ids and version
// as decimal strings).
func (s Sticker) Metadata() map[string]string {
	md := map[string]string{}
	for k, v := range map[string]string{
		"STKPKGID": decimalOrEmpty(s.PackageID), "STKID": decimalOrEmpty(s.ID), "STKTXT": s.Text,
		"STKVER": decimalOrEmpty(s.Version), "STKOPT": s.Option, "STKHASH": s.Hash, "STK_IMG_TXT": s.ImageText,
	} {
		if v != "" {
			md[k] = v
		}
	}
	return md
}

func decimalOrEmpty(n int64) string {
	if n <= 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
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
		// The extension sends whole seconds in milliseconds, rounded up (Tb:
		// String(Wg()), Wg = the clock ceiled to 1000 ms; a capture: "1773625306000").
		CreatedTime:     strconv.FormatInt((c.now().UnixMilli()+999)/1000*1000, 10),
		ContentType:     m.ContentType,
		ContentMetadata: md,
		Chunks:          m.Chunks,
	}
	if len(m.Chunks) == 0 && m.ContentType != ContentSticker && !IsMedia(m.ContentType) {
		body.Text = &m.Text
	}
	// hasContent: false for a text (the extension's Mb), true for a sticker
	// (Cb) and for media (Rb).
	body.HasContent = IsMedia(m.ContentType) || m.ContentType == ContentSticker
	if m.RelatedMessageID != "" {
		body.RelatedMessageID = m.RelatedMessageID
		body.MessageRelationType, body.RelatedMessageServiceCode = RelationReply, serviceCodeTalk
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
