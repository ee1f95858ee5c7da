package delivery

import (
	"fmt"
	"maps"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Content is one message's kind — a text, a sticker, an image or a file
// (*Media), or any of them as a Reply — and what the Sender asks it. A kind
// is a value: a caller builds it, and the Sender never looks inside one
// (whatsmeow's message kinds as fields of one value are the model). Adding
// a kind is a type here with these three methods (docs/architecture.md).
type Content interface {
	// Type is LINE's content type (lineapi.Content*): allowedTypes, the
	// media flow and the result line are per content type.
	Type() int
	// Message is the kind's part of the message sent: Text, ContentType,
	// ContentMetadata (a map of its own, which the Sealer may change),
	// SealedPayload when the sealed plaintext is not {"text":…}, and
	// RelatedMessageID. The Sender sets From, To and ToType.
	Message() lineapi.OutgoingMessage
	// Sealable reports whether the kind is sealed in a chat whose probe
	// found a key (p.Usable): false sends it plain there (or refuses it with
	// --e2ee require); err, when sealing is asked for, refuses it instead
	// (nothing sent), as for a kind whose sealed form is not established.
	Sealable(p *lineapi.Probe) (bool, error)
}

// Text is a text message. Mention is its MENTION metadata
// (lineapi.MentionMetadata): a mention belongs to a text (it marks ranges
// of it), so it is the text's field, never another kind's. It stays in
// clear when the message is sealed, as the extension keeps it.
type Text struct {
	Text    string
	Mention string
}

// Type is lineapi.ContentText.
func (Text) Type() int { return lineapi.ContentText }

// Message is the text with its MENTION metadata.
func (t Text) Message() lineapi.OutgoingMessage {
	m := lineapi.OutgoingMessage{Text: t.Text, ContentType: lineapi.ContentText}
	if t.Mention != "" {
		m.ContentMetadata = map[string]string{"MENTION": t.Mention}
	}
	return m
}

// Sealable: a text is sealed wherever allowedTypes lists it, or lists none
// (a group with no key yet): the extension's encryptMessage.
func (Text) Sealable(p *lineapi.Probe) (bool, error) { return p.Allows(lineapi.ContentText), nil }

// Sticker is a sticker message: no text, the sticker's metadata.
type Sticker struct {
	Sticker lineapi.Sticker
}

// Type is lineapi.ContentSticker.
func (Sticker) Type() int { return lineapi.ContentSticker }

// Message is the sticker's contentMetadata (the extension's Cb), no text.
func (s Sticker) Message() lineapi.OutgoingMessage {
	return lineapi.OutgoingMessage{ContentType: lineapi.ContentSticker, ContentMetadata: s.Sticker.Metadata()}
}

// Sealable: a sticker goes plain unless allowedTypes lists content type 7
// (a probe without allowedTypes says nothing about stickers: they go plain,
// as beeper/line sends them, and LINE answers 82 if it wants them sealed,
// nothing then sent); where it lists it, ErrStickerSealing.
func (Sticker) Sealable(p *lineapi.Probe) (bool, error) {
	if p.AllowedTypes == nil || !p.Allows(lineapi.ContentSticker) {
		return false, nil
	}
	return true, ErrStickerSealing
}

// ErrStickerSealing means LINE lists stickers among the content types to
// seal in a chat: no peer seals a sticker (beeper/line sends its native
// stickers plain; CHRLINE seals text and location only), so how a sealed
// sticker looks is not established and linectl does not guess.
var ErrStickerSealing = fmt.Errorf("%w: LINE asks for stickers (content type 7) to be sealed in this chat, and how a sealed sticker looks is not established; not sent", ErrNeedsE2EE)

// Reply makes any kind a reply to the message To of the same chat: a reply
// is a relation of a message (relatedMessageId, messageRelationType 3,
// relatedMessageServiceCode 1), not a kind of its own, and stays in clear
// when the message is sealed. linectl sends replies with a text or a
// sticker (what send --reply-to and the Messaging API's quoteToken offer);
// the Sender refuses a Reply of an image or a file: its media path builds
// the message that names the object, and a reply there is not established.
type Reply struct {
	To string
	Content
}

// Message is the Content's message with the reply relation.
func (r Reply) Message() lineapi.OutgoingMessage {
	m := r.Content.Message()
	m.RelatedMessageID = r.To
	return m
}

// Type is lineapi.ContentImage or lineapi.ContentFile.
func (md *Media) Type() int { return md.ContentType }

// Message is the plain message's metadata (before its object exists: the
// Sender builds the message that names the object, plain or sealed).
func (md *Media) Message() lineapi.OutgoingMessage {
	return lineapi.OutgoingMessage{ContentType: md.ContentType, ContentMetadata: plainMetadata(md)}
}

// Sealable: media is sealed where allowedTypes lists its type (the media
// flow decides first: decideMedia).
func (md *Media) Sealable(p *lineapi.Probe) (bool, error) { return p.Allows(md.ContentType), nil }

// prepared is a media message once its flow is decided: the message that
// names its object (plain: its metadata; sealed: the uploaded object and
// the sealed payload), sealed exactly when flow is FlowSealed.
type prepared struct {
	m    lineapi.OutgoingMessage
	flow int
}

func (p prepared) Type() int { return p.m.ContentType }

func (p prepared) Message() lineapi.OutgoingMessage {
	m := p.m
	m.ContentMetadata = maps.Clone(p.m.ContentMetadata)
	return m
}

func (p prepared) Sealable(pr *lineapi.Probe) (bool, error) { return pr.Allows(p.m.ContentType), nil }

// mediaFlowOf is a content's media flow: a prepared media message's, else 0
// (probed and sealed as its kind says).
func mediaFlowOf(c Content) int {
	if p, ok := c.(prepared); ok {
		return p.flow
	}
	return 0
}
