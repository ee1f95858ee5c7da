package botapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// Webhook retries: a webhook that does not answer 2xx is called again
// after Backoff, doubling, WebhookAttempts times in all (with the default
// 1 s: 1+2+…+512 s, about 17 minutes), then given up on (and logged).
const WebhookAttempts = 10

// Sign is X-Line-Signature: base64(HMAC-SHA256(channel secret, body)).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Heard is what an operation tells a webhook, before it is made per token.
type Heard struct {
	Kind      string // message, unsend, join, leave, memberJoined, memberLeft
	Chat      string // the chat (the other user of a 1:1 chat)
	ChatType  lineapi.ToType
	From      string // the user who did it ("" when unknown)
	Timestamp int64
	Revision  int64
	// Message (Kind message): its object as the webhook shows it, without
	// quoteToken (added per event).
	Message   map[string]any
	MessageID string
	Members   []string // memberJoined, memberLeft
}

// Operation types the webhooks read (LINE's OperationType).
const (
	opReceiveMessage        = 26
	opNotifiedDestroy       = 65
	opDeleteSelfFromChat    = 127 // this account left a chat
	opNotifiedDeleteSelf    = 128 // a member left
	opAcceptChatInvitation  = 129 // this account joined a chat
	opNotifiedAcceptInvite  = 130 // a member joined
	opNotifiedDeleteOther   = 133 // a member was removed (param3), maybe this account
	opNotifiedLeaveChat     = 61
	opNotifiedJoinChat      = 60
	contentTypeText         = 0
	contentTypeImage        = 1
	contentTypeSticker      = 7
	contentTypeFile         = 14
	maxWebhookResponseBytes = 64 << 10
)

// HeardOf maps an operation of the account me to what the webhooks are
// told, or nil. text is a sealed message's opened text ("" when plain or
// not opened).
func HeardOf(op *stream.Operation, me string, text string, sealed bool) *Heard {
	h := &Heard{Timestamp: op.CreatedTime, Revision: op.Revision}
	chatOf := func(mid string) {
		h.Chat = mid
		h.ChatType, _ = lineapi.ParseMID(mid)
	}
	switch op.Type {
	case opReceiveMessage:
		m := op.Message
		if m == nil {
			return nil
		}
		from, to := m.From, m.To
		if from == me {
			return nil
		}
		if m.ToType == lineapi.ToUser {
			chatOf(from)
		} else {
			chatOf(to)
		}
		h.Kind, h.From, h.MessageID = "message", from, m.ID
		if t := m.CreatedTime; t > 0 {
			h.Timestamp = t
		}
		msg := map[string]any{"id": h.MessageID}
		md := m.ContentMetadata
		switch m.ContentType {
		case contentTypeText:
			if sealed && text == "" {
				return nil // a sealed text linectl could not open: nothing to tell
			}
			if !sealed {
				text = m.Text
			}
			msg["type"], msg["text"] = "text", text
			if ms, err := lineapi.ParseMention(md["MENTION"]); err == nil && len(ms) > 0 {
				var list []map[string]any
				for _, x := range ms {
					e := map[string]any{"index": x.Start, "length": x.End - x.Start}
					if x.All {
						e["type"] = "all"
					} else {
						e["type"], e["userId"] = "user", x.MID
					}
					list = append(list, e)
				}
				msg["mention"] = map[string]any{"mentionees": list}
			}
		case contentTypeSticker:
			msg["type"] = "sticker"
			msg["packageId"], msg["stickerId"] = md["STKPKGID"], md["STKID"]
			msg["stickerResourceType"] = "STATIC"
		case contentTypeImage:
			msg["type"] = "image"
			msg["contentProvider"] = map[string]any{"type": "line"}
		case contentTypeFile:
			msg["type"] = "file"
			msg["fileName"] = md["FILE_NAME"]
			msg["fileSize"] = m.MetadataInt("FILE_SIZE")
		default:
			return nil
		}
		if r := m.RelatedMessageID; r != "" {
			msg["quotedMessageId"] = r
		}
		h.Message = msg
	case opNotifiedDestroy:
		chatOf(op.Param1.String())
		h.Kind, h.MessageID = "unsend", op.Param2.String()
	case opAcceptChatInvitation, opNotifiedJoinChat:
		if op.Type == opNotifiedJoinChat && op.Param2.String() != me {
			return nil
		}
		chatOf(op.Param1.String())
		h.Kind = "join"
	case opDeleteSelfFromChat:
		chatOf(op.Param1.String())
		h.Kind = "leave"
	case opNotifiedAcceptInvite:
		chatOf(op.Param1.String())
		h.Kind, h.Members = "memberJoined", []string{op.Param2.String()}
	case opNotifiedDeleteSelf, opNotifiedLeaveChat:
		chatOf(op.Param1.String())
		h.Kind, h.Members = "memberLeft", []string{op.Param2.String()}
	case opNotifiedDeleteOther:
		chatOf(op.Param1.String())
		if op.Param3.String() == me {
			h.Kind = "leave"
		} else {
			h.Kind, h.Members = "memberLeft", []string{op.Param3.String()}
		}
	default:
		return nil
	}
	if h.Chat == "" || h.ChatType < 0 {
		return nil
	}
	if _, err := lineapi.ParseMID(h.Chat); err != nil {
		return nil
	}
	return h
}

// EventOf makes the webhook event of h for one token; replyToken is ""
// for events LINE gives none (leave, memberLeft, unsend).
func EventOf(h *Heard, tokenHash, replyToken string, redelivery bool) map[string]any {
	src := map[string]any{}
	switch h.ChatType {
	case lineapi.ToUser:
		src["type"], src["userId"] = "user", h.Chat
	case lineapi.ToRoom:
		src["type"], src["roomId"] = "room", h.Chat
		if h.From != "" {
			src["userId"] = h.From
		}
	default:
		src["type"], src["groupId"] = "group", h.Chat
		if h.From != "" {
			src["userId"] = h.From
		}
	}
	e := map[string]any{
		"type": h.Kind, "mode": "active", "timestamp": h.Timestamp, "source": src,
		"webhookEventId":  eventID(tokenHash, h.Revision),
		"deliveryContext": map[string]any{"isRedelivery": redelivery},
	}
	if replyToken != "" {
		e["replyToken"] = replyToken
	}
	switch h.Kind {
	case "message":
		msg := make(map[string]any, len(h.Message)+1)
		for k, v := range h.Message {
			msg[k] = v
		}
		if t := msg["type"]; t == "text" || t == "sticker" || t == "image" {
			msg["quoteToken"] = QuoteToken(h.Chat, h.MessageID)
		}
		e["message"] = msg
	case "unsend":
		e["unsend"] = map[string]any{"messageId": h.MessageID}
	case "memberJoined", "memberLeft":
		var ms []map[string]any
		for _, m := range h.Members {
			ms = append(ms, map[string]any{"type": "user", "userId": m})
		}
		key := "joined"
		if h.Kind == "memberLeft" {
			key = "left"
		}
		e[key] = map[string]any{"members": ms}
	}
	return e
}

// Replyable reports whether LINE gives events of this kind a reply token.
func (h *Heard) Replyable() bool {
	return h.Kind == "message" || h.Kind == "join" || h.Kind == "memberJoined"
}

// eventID is the event's webhookEventId: the same on every redelivery
// (26 characters, as LINE's ULIDs).
func eventID(tokenHash string, rev int64) string {
	sum := sha256.Sum256([]byte(tokenHash + " " + strconv.FormatInt(rev, 10)))
	return strings.ToUpper(hex.EncodeToString(sum[:]))[:26]
}

// Post makes one webhook call: {destination, events} signed with secret.
// ok is a 2xx answer.
func Post(ctx context.Context, hc *http.Client, url, secret, destination string, events []map[string]any) (status int, err error) {
	body, err := json.Marshal(map[string]any{"destination": destination, "events": events})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "LineBotWebhook/2.0 (linectl)")
	req.Header.Set("X-Line-Signature", Sign(secret, body))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookResponseBytes))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// NewWebhookClient is the HTTP client of the webhook calls: 10 s a call,
// no redirects (LINE follows none).
func NewWebhookClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
