package lineapi

import (
	"errors"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi/internal/jsondepth"
)

// Message is a received message, as the operation stream's
// RECEIVE_MESSAGE/SEND_MESSAGE operations and the history calls carry it
// (docs/protocol.md §6). It is decoded once and owns its data.
type Message struct {
	ID     string
	From   string
	To     string
	ToType ToType
	// ContentType is LINE's content type (0 text, 1 image, 7 sticker, 14 file…).
	ContentType int
	// Text is the message's text as carried: empty for a sealed one (its
	// text is in Chunks; e2ee opens it).
	Text string
	// ContentMetadata holds the message's metadata, every value as a string.
	ContentMetadata map[string]string
	// Chunks is a Letter Sealing message's sealed payload (base64); nil when
	// the message is not sealed.
	Chunks        []string
	CreatedTime   int64
	DeliveredTime int64
	// RelatedMessageID and RelationType: the message this one relates to
	// and how (RelationReply: a reply).
	RelatedMessageID string
	RelationType     int
	// JSON is the message object as LINE sent it (every field, also those
	// not decoded above).
	JSON []byte
}

// Sealed reports whether the message is a Letter Sealing one (it has chunks).
func (m *Message) Sealed() bool { return m.Chunks != nil }

// ErrBadMessage is data that is not a message object.
var ErrBadMessage = errors.New("malformed message")

// messageMaxDepth bounds how deeply a message's JSON may nest (LINE's nest
// three levels: message → contentMetadata/chunks).
const messageMaxDepth = 64

// ParseMessage decodes a message object. The result keeps a copy of data.
// i64 fields may be strings or numbers. It never panics; anything that is
// not a JSON object is ErrBadMessage.
func ParseMessage(data []byte) (*Message, error) {
	if !jsondepth.Within(data, messageMaxDepth) || !gjson.ValidBytes(data) {
		return nil, ErrBadMessage
	}
	r := gjson.ParseBytes(data) // a copy: the strings below point into it
	if !r.IsObject() {
		return nil, ErrBadMessage
	}
	m := &Message{JSON: append([]byte(nil), data...)}
	r.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			m.ID = v.String()
		case "from":
			m.From = v.String()
		case "to":
			m.To = v.String()
		case "toType":
			m.ToType = ToType(v.Int())
		case "contentType":
			m.ContentType = int(v.Int())
		case "text":
			m.Text = v.String()
		case "createdTime":
			m.CreatedTime = v.Int()
		case "deliveredTime":
			m.DeliveredTime = v.Int()
		case "relatedMessageId":
			m.RelatedMessageID = v.String()
		case "messageRelationType":
			m.RelationType = int(v.Int())
		case "contentMetadata":
			if v.IsObject() {
				m.ContentMetadata = map[string]string{}
				v.ForEach(func(k, v gjson.Result) bool {
					m.ContentMetadata[k.String()] = v.String()
					return true
				})
			}
		case "chunks":
			if v.IsArray() {
				m.Chunks = []string{}
				for _, c := range v.Array() {
					m.Chunks = append(m.Chunks, c.String())
				}
			}
		}
		return true
	})
	return m, nil
}

// MetadataInt reads a metadata value as a decimal integer (0 when absent
// or not a number).
func (m *Message) MetadataInt(key string) int64 {
	n, _ := strconv.ParseInt(m.ContentMetadata[key], 10, 64)
	return n
}
