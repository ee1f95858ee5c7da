package botapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Limits of LINE's Messaging API.
const (
	MaxMessages     = 5    // message objects in one request
	MaxTextLength   = 5000 // a text's characters (UTF-16 code units, as LINE counts)
	MaxMulticastTo  = 500  // recipients of a multicast
	MaxSubstitution = 100  // substitution keys of a textV2
)

// detail is one entry of an error body's details.
type detail struct {
	Message  string `json:"message"`
	Property string `json:"property"`
}

// badRequest is a 400 with LINE's details.
type badRequest struct {
	msg     string
	details []detail
}

func (b *badRequest) add(property, format string, a ...any) {
	b.details = append(b.details, detail{Message: fmt.Sprintf(format, a...), Property: property})
}

func (b *badRequest) err() *apiError {
	if len(b.details) == 0 && b.msg == "" {
		return nil
	}
	msg := b.msg
	if msg == "" {
		msg = fmt.Sprintf("The request body has %d error(s)", len(b.details))
	}
	return &apiError{status: 400, msg: msg, details: b.details}
}

// Message is one message object, checked.
type Message struct {
	Type string
	// Text is a text's (a textV2's with its substitutions made).
	Text string
	// QuoteToken is a text's or textV2's quoteToken: a reply to that message.
	QuoteToken string
	// Mentions are a textV2's mention substitutions, in the order of Text.
	Mentions []Mention
	Sticker  *lineapi.Sticker
	// ImageURL is an image's originalContentUrl (fetched at send time).
	ImageURL string
}

// Mention is one mention of a textV2: at S..E (UTF-16 code units of Text,
// as LINE's MENTION metadata counts), of UserID, or of all (UserID empty).
type Mention struct {
	S, E   int
	UserID string
	All    bool
}

// rawMessage is what a message object may hold (the types linectl sends).
type rawMessage struct {
	Type               string                     `json:"type"`
	Text               *string                    `json:"text"`
	QuoteToken         string                     `json:"quoteToken"`
	Substitution       map[string]json.RawMessage `json:"substitution"`
	PackageID          json.RawMessage            `json:"packageId"`
	StickerID          json.RawMessage            `json:"stickerId"`
	OriginalContentURL string                     `json:"originalContentUrl"`
	PreviewImageURL    string                     `json:"previewImageUrl"`
	Emojis             json.RawMessage            `json:"emojis"`
}

// parseMessages checks messages[1..5]; names gives a mention's name.
func parseMessages(raw []json.RawMessage, b *badRequest, names func(mid string) string) []Message {
	switch {
	case raw == nil:
		b.add("messages", "must be specified")
		return nil
	case len(raw) == 0:
		b.add("messages", "Size must be between 1 and %d", MaxMessages)
		return nil
	case len(raw) > MaxMessages:
		b.add("messages", "Size must be between 1 and %d", MaxMessages)
		return nil
	}
	out := make([]Message, 0, len(raw))
	for i, r := range raw {
		p := "messages[" + strconv.Itoa(i) + "]"
		var rm rawMessage
		if err := json.Unmarshal(r, &rm); err != nil {
			b.add(p, "must be a message object")
			continue
		}
		m, ok := parseMessage(p, rm, b, names)
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func parseMessage(p string, rm rawMessage, b *badRequest, names func(string) string) (Message, bool) {
	m := Message{Type: rm.Type}
	n := len(b.details)
	switch rm.Type {
	case "":
		b.add(p+".type", "must be specified")
	case "text":
		if rm.Text == nil {
			b.add(p+".text", "must be specified")
			break
		}
		m.Text = *rm.Text
		checkText(p+".text", m.Text, b)
		if len(rm.Emojis) > 0 && string(rm.Emojis) != "null" && string(rm.Emojis) != "[]" {
			b.add(p+".emojis", "LINE emojis are not supported by linectl: a personal account sends the text only")
		}
		m.QuoteToken = rm.QuoteToken
		checkQuoteToken(p+".quoteToken", m.QuoteToken, b)
	case "textV2":
		if rm.Text == nil {
			b.add(p+".text", "must be specified")
			break
		}
		m.Text, m.Mentions = substitute(p, *rm.Text, rm.Substitution, b, names)
		checkText(p+".text", m.Text, b)
		m.QuoteToken = rm.QuoteToken
		checkQuoteToken(p+".quoteToken", m.QuoteToken, b)
	case "sticker":
		pkg, ok1 := positiveID(rm.PackageID)
		id, ok2 := positiveID(rm.StickerID)
		if !ok1 {
			b.add(p+".packageId", "must be a sticker package id (a positive number)")
		}
		if !ok2 {
			b.add(p+".stickerId", "must be a sticker id (a positive number)")
		}
		// Version 100, as Notify's stickers: the Messaging API has no such field.
		m.Sticker = &lineapi.Sticker{PackageID: pkg, ID: id, Version: 100}
		m.QuoteToken = rm.QuoteToken
		checkQuoteToken(p+".quoteToken", m.QuoteToken, b)
	case "image":
		for _, f := range []struct{ prop, v string }{{"originalContentUrl", rm.OriginalContentURL}, {"previewImageUrl", rm.PreviewImageURL}} {
			u, err := url.Parse(f.v)
			switch {
			case f.v == "":
				b.add(p+"."+f.prop, "must be specified")
			case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(f.v) > 2000:
				b.add(p+"."+f.prop, "must be an http(s) URL of at most 2000 characters")
			}
		}
		m.ImageURL = rm.OriginalContentURL
	default:
		b.add(p+".type", "the message type %q is not supported by linectl: a personal account sends text, textV2, sticker and image messages", rm.Type)
	}
	return m, len(b.details) == n
}

// positiveID reads a sticker's packageId or stickerId: LINE's are strings
// of digits; a number is taken too.
func positiveID(raw json.RawMessage) (int64, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return 0, false
		}
		s = n.String()
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func checkText(p, s string, b *badRequest) {
	switch {
	case !utf8.ValidString(s):
		b.add(p, "must be valid UTF-8")
	case strings.TrimSpace(s) == "":
		b.add(p, "must not be blank")
	case strings.ContainsRune(s, 0):
		b.add(p, "must not contain NUL")
	case utf16Len(s) > MaxTextLength:
		b.add(p, "Length must be between 0 and %d", MaxTextLength)
	}
}

func checkQuoteToken(p, q string, b *badRequest) {
	if q == "" {
		return
	}
	if _, _, ok := ParseQuoteToken(q); !ok {
		b.add(p, "is not a quote token linectl issued (from sentMessages or a webhook's message event)")
	}
}

var substKey = regexp.MustCompile(`^[a-zA-Z0-9_]{1,20}$`)

// substitution is one entry of a textV2's substitution object.
type substitution struct {
	Type      string `json:"type"`
	Mentionee *struct {
		Type   string `json:"type"`
		UserID string `json:"userId"`
	} `json:"mentionee"`
}

// substitute makes a textV2's text: {key} is replaced by its substitution
// (a mention becomes "@" and the member's name from names, or "@user"), {{ and
// }} stand for { and }. Mentions are returned with their places.
func substitute(p, text string, subs map[string]json.RawMessage, b *badRequest, names func(string) string) (string, []Mention) {
	if len(subs) > MaxSubstitution {
		b.add(p+".substitution", "at most %d keys", MaxSubstitution)
		return "", nil
	}
	parsed := map[string]substitution{}
	for k, raw := range subs {
		if !substKey.MatchString(k) {
			b.add(p+".substitution", "key %q must be 1 to 20 letters, digits or _", k)
			continue
		}
		var s substitution
		if err := json.Unmarshal(raw, &s); err != nil {
			b.add(p+".substitution."+k, "must be a substitution object")
			continue
		}
		switch s.Type {
		case "mention":
			switch {
			case s.Mentionee == nil:
				b.add(p+".substitution."+k+".mentionee", "must be specified")
			case s.Mentionee.Type == "user":
				if t, err := lineapi.ParseMID(s.Mentionee.UserID); err != nil || t != lineapi.ToUser {
					b.add(p+".substitution."+k+".mentionee.userId", "must be a user's MID (u…)")
				}
			case s.Mentionee.Type == "all":
			default:
				b.add(p+".substitution."+k+".mentionee.type", "must be user or all")
			}
		case "emoji":
			b.add(p+".substitution."+k+".type", "LINE emojis are not supported by linectl: a personal account sends the text only")
		default:
			b.add(p+".substitution."+k+".type", "must be mention or emoji")
		}
		parsed[k] = s
	}
	var out strings.Builder
	var mentions []Mention
	pos := 0 // UTF-16 units written
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '{' && i+1 < len(text) && text[i+1] == '{':
			out.WriteByte('{')
			pos++
			i += 2
		case c == '}' && i+1 < len(text) && text[i+1] == '}':
			out.WriteByte('}')
			pos++
			i += 2
		case c == '{':
			end := strings.IndexByte(text[i:], '}')
			if end < 0 {
				b.add(p+".text", "an unclosed { (write {{ for a {)")
				return "", nil
			}
			k := text[i+1 : i+end]
			s, ok := parsed[k]
			if !ok {
				if _, given := subs[k]; !given {
					b.add(p+".text", "{%s} has no substitution", k)
				}
				i += end + 1
				continue
			}
			if s.Type == "mention" && s.Mentionee != nil {
				label := "@user"
				if names != nil {
					if n := names(s.Mentionee.UserID); n != "" {
						label = "@" + n
					}
				}
				m := Mention{S: pos, UserID: s.Mentionee.UserID}
				if s.Mentionee.Type == "all" {
					label, m.UserID, m.All = "@All", "", true
				}
				out.WriteString(label)
				pos += utf16Len(label)
				m.E = pos
				mentions = append(mentions, m)
			}
			i += end + 1
		default:
			r, size := utf8.DecodeRuneInString(text[i:])
			out.WriteString(text[i : i+size])
			pos += utf16.RuneLen(r)
			i += size
		}
	}
	return out.String(), mentions
}

// The quote token of a message linectl sent or heard: "lq1." and the
// base64url of "CHAT MESSAGEID". It names the message to reply to.
const quotePrefix = "lq1."

// QuoteToken is the quote token of the message id in the chat.
func QuoteToken(chat, messageID string) string {
	return quotePrefix + b64(chat+" "+messageID)
}

// ParseQuoteToken returns the chat and the message id of a quote token.
func ParseQuoteToken(q string) (chat, messageID string, ok bool) {
	rest, found := strings.CutPrefix(q, quotePrefix)
	if !found {
		return "", "", false
	}
	raw, err := unb64(rest)
	if err != nil {
		return "", "", false
	}
	chat, messageID, ok = strings.Cut(string(raw), " ")
	if !ok || messageID == "" || strings.Trim(messageID, "0123456789") != "" {
		return "", "", false
	}
	if _, err := lineapi.ParseMID(chat); err != nil {
		return "", "", false
	}
	return chat, messageID, true
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func unb64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
