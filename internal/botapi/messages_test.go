package botapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func parseOne(t *testing.T, js string) (Message, *apiError) {
	t.Helper()
	var b badRequest
	ms := parseMessages([]json.RawMessage{json.RawMessage(js)}, &b, nil)
	if aerr := b.err(); aerr != nil {
		return Message{}, aerr
	}
	return ms[0], nil
}

func TestTextV2Substitution(t *testing.T) {
	m, aerr := parseOne(t, `{"type":"textV2","text":"{{hi}} {u1}, see {all}!","substitution":{
		"u1":{"type":"mention","mentionee":{"type":"user","userId":"u0b0b0000000000000000000000000b0b"}},
		"all":{"type":"mention","mentionee":{"type":"all"}}}}`)
	if aerr != nil {
		t.Fatal(aerr.msg, aerr.details)
	}
	if m.Text != "{hi} @user, see @All!" || len(m.Mentions) != 2 {
		t.Fatalf("%q %+v", m.Text, m.Mentions)
	}
	if u := m.Mentions[0]; u.S != 5 || u.E != 10 || u.UserID != "u0b0b0000000000000000000000000b0b" {
		t.Fatalf("%+v", u)
	}
	if a := m.Mentions[1]; !a.All || a.S != 16 || a.E != 20 {
		t.Fatalf("%+v", a)
	}
	for js, want := range map[string]string{
		`{"type":"textV2","text":"hi {x}"}`:                                                         "{x} has no substitution",
		`{"type":"textV2","text":"hi {x","substitution":{}}`:                                        "unclosed",
		`{"type":"textV2","text":"{e}","substitution":{"e":{"type":"emoji","productId":"1"}}}`:      "LINE emojis",
		`{"type":"textV2","text":"{m}","substitution":{"m":{"type":"mention","mentionee":{}}}}`:     "must be user or all",
		`{"type":"text","text":"x","quoteToken":"abc"}`:                                             "not a quote token",
		`{"type":"video","originalContentUrl":"https://x/y.mp4"}`:                                   `"video" is not supported`,
		`{"type":"sticker","packageId":"0","stickerId":"1"}`:                                        "packageId",
		`{"type":"image","originalContentUrl":"ftp://x/y.png","previewImageUrl":"https://x/y.png"}`: "originalContentUrl",
	} {
		_, aerr := parseOne(t, js)
		if aerr == nil || aerr.status != 400 || !strings.Contains(aerr.details[0].Message+aerr.details[0].Property, want) {
			t.Errorf("%s: %+v, want %q", js, aerr, want)
		}
	}
}

// LINE counts a text's 5000 characters in UTF-16 code units.
func TestTextLength(t *testing.T) {
	if _, aerr := parseOne(t, `{"type":"text","text":"`+strings.Repeat("界", 5000)+`"}`); aerr != nil {
		t.Fatal(aerr.msg)
	}
	if _, aerr := parseOne(t, `{"type":"text","text":"`+strings.Repeat("😀", 2501)+`"}`); aerr == nil {
		t.Fatal("5002 UTF-16 units accepted")
	}
}

func TestQuoteToken(t *testing.T) {
	q := QuoteToken("cfa0117000000000000000000000fa011", "605311889450205372")
	chat, id, ok := ParseQuoteToken(q)
	if !ok || chat != "cfa0117000000000000000000000fa011" || id != "605311889450205372" {
		t.Fatal(chat, id, ok)
	}
}
