package botapi

import (
	"encoding/json"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi/stream"
)

const (
	me    = "u1a11ce0000000000000000000000a11c"
	bob   = "u0b0b0000000000000000000000000b0b"
	group = "cfa0117000000000000000000000fa011"
)

func op(t *testing.T, raw string) *stream.Operation {
	t.Helper()
	o, err := stream.ParseOperation([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return &o
}

func eventJSON(t *testing.T, h *Heard, rt string) map[string]any {
	t.Helper()
	b, err := json.Marshal(EventOf(h, "hash", rt, false))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func TestWebhookEvents(t *testing.T) {
	// A sticker in a group: source group with the sender, a quote token.
	h := HeardOf(op(t, `{"revision":"10","createdTime":"5","type":26,"reqSeq":0,"param1":"0","message":{"from":"`+bob+`","to":"`+group+`","toType":2,"id":"77","contentType":7,"contentMetadata":{"STKID":"1988","STKPKGID":"446","STKVER":"100"}}}`), me, "", false)
	e := eventJSON(t, h, "rt")
	msg, src := e["message"].(map[string]any), e["source"].(map[string]any)
	if msg["type"] != "sticker" || msg["packageId"] != "446" || msg["stickerId"] != "1988" || msg["quoteToken"] == nil ||
		src["type"] != "group" || src["groupId"] != group || src["userId"] != bob || e["replyToken"] != "rt" || e["timestamp"] != float64(5) {
		t.Fatalf("sticker event %v", e)
	}
	// A text with a mention and a reply relation; a sealed text opened.
	h = HeardOf(op(t, `{"revision":"11","createdTime":"5","type":26,"reqSeq":0,"param1":"0","message":{"from":"`+bob+`","to":"`+me+`","toType":0,"id":"78","contentType":0,"chunks":["x"],"relatedMessageId":"70","contentMetadata":{"e2eeVersion":"2","MENTION":"{\"MENTIONEES\":[{\"S\":\"0\",\"E\":\"4\",\"M\":\"`+me+`\"}]}"}}}`), me, "@me hi", true)
	e = eventJSON(t, h, "")
	msg = e["message"].(map[string]any)
	if msg["text"] != "@me hi" || msg["quotedMessageId"] != "70" || e["source"].(map[string]any)["userId"] != bob {
		t.Fatalf("text event %v", e)
	}
	if m := msg["mention"].(map[string]any)["mentionees"].([]any)[0].(map[string]any); m["index"] != float64(0) || m["length"] != float64(4) || m["userId"] != me {
		t.Fatalf("mention %v", msg["mention"])
	}
	// A sealed text linectl could not open is not an event; nor is the account's own message.
	if HeardOf(op(t, `{"revision":"12","createdTime":"5","type":26,"reqSeq":0,"param1":"0","message":{"from":"`+bob+`","to":"`+me+`","toType":0,"id":"79","contentType":0,"chunks":["x"],"contentMetadata":{}}}`), me, "", true) != nil {
		t.Fatal("an unopened sealed text became an event")
	}
	if HeardOf(op(t, `{"revision":"13","createdTime":"5","type":26,"reqSeq":0,"param1":"0","message":{"from":"`+me+`","to":"`+group+`","toType":2,"id":"80","text":"mine","contentMetadata":{}}}`), me, "", false) != nil {
		t.Fatal("the account's own message became an event")
	}
	// Removed from a group: leave; another member removed: memberLeft.
	if h := HeardOf(op(t, `{"revision":"14","createdTime":"5","type":133,"reqSeq":0,"param1":"`+group+`","param2":"`+bob+`","param3":"`+me+`"}`), me, "", false); h == nil || h.Kind != "leave" || h.Replyable() {
		t.Fatalf("kicked: %+v", h)
	}
	h = HeardOf(op(t, `{"revision":"15","createdTime":"5","type":133,"reqSeq":0,"param1":"`+group+`","param2":"`+me+`","param3":"`+bob+`"}`), me, "", false)
	if e := eventJSON(t, h, ""); e["type"] != "memberLeft" || e["left"].(map[string]any)["members"].([]any)[0].(map[string]any)["userId"] != bob {
		t.Fatalf("memberLeft %v", e)
	}
	// The event id stays the same on redelivery, and differs per token.
	first := eventID("a", 15)
	if again := eventID("a", 15); again != first || first == eventID("b", 15) || len(first) != 26 {
		t.Fatal("webhookEventId")
	}
}

// X-Line-Signature is base64(HMAC-SHA256(channel secret, body)).
func TestSign(t *testing.T) {
	// echo -n '{"events":[]}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef -binary | base64
	if got := Sign("0123456789abcdef0123456789abcdef", []byte(`{"events":[]}`)); got != signVector {
		t.Fatalf("Sign = %s", got)
	}
}

const signVector = "uOXhYS9SZTuRd9ahsldz+RDpMX+x899j8NDPLv38AqM="
