package simgw

import (
	"strings"
	"testing"
)

// TestSendMessageKinds runs each content type's checks (the kinds table)
// through the gateway: what LINE refuses for a kind is refused, with the
// answer of its check, and a well-formed message of each kind is taken.
func TestSendMessageKinds(t *testing.T) {
	m := newSim(t)
	m.s.SetLetterSealing(AliceMID, false) // plain: the shape checks, not sealing, decide
	send := func(ct int, fields string) map[string]any {
		return m.call(AliceMID, "sendMessage", `[9,{"from":"`+AliceMID+`","to":"`+FamilyMID+`","toType":2,"id":"local-9",`+
			`"createdTime":"1","sessionId":0,"contentType":`+itoa(ct)+`,`+fields+`}]`)
	}
	sticker := `"contentMetadata":{"STKID":"52002734","STKPKGID":"11537","STKVER":"1"},"hasContent":true`
	tests := []struct {
		name   string
		ct     int
		fields string
		code   int
		reason string // part of the refusal's reason; "" = taken
	}{
		{"text", ctText, `"text":"hi","contentMetadata":{},"hasContent":false`, 0, ""},
		{"text with hasContent", ctText, `"text":"hi","contentMetadata":{},"hasContent":true`, 0, "illegal argument"},
		{"empty text", ctText, `"text":"","contentMetadata":{},"hasContent":false`, 0, "empty text"},
		{"no text", ctText, `"contentMetadata":{},"hasContent":false`, 0, "empty text"},
		{"text too long", ctText, `"text":"` + strings.Repeat("x", 10001) + `","contentMetadata":{},"hasContent":false`, 6, "Invalid Length"},
		{"sticker", ctSticker, sticker, 0, ""},
		{"sticker with text", ctSticker, `"text":"hi",` + sticker, 0, "no text"},
		{"sticker without STKVER", ctSticker, `"contentMetadata":{"STKID":"1","STKPKGID":"2"},"hasContent":true`, 0, "STKVER"},
		{"file without FILE_NAME", ctFile, `"contentMetadata":{"FILE_SIZE":"3"},"hasContent":true`, 0, "FILE_NAME"},
		{"image with text", ctImage, `"text":"caption","contentMetadata":{},"hasContent":true`, 0, "no text"},
		{"video: not a kind the simulator takes", 2, `"contentMetadata":{},"hasContent":true`, 0, "illegal argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(tt.ct, tt.fields)
			if tt.reason == "" {
				if code(r) != 0 || r["data"] == nil {
					t.Fatalf("refused: %v", r)
				}
				return
			}
			d, _ := r["data"].(map[string]any)
			if r["code"] != float64(10051) || code(r) != tt.code || !strings.Contains(d["reason"].(string), tt.reason) {
				t.Fatalf("got %v, want TalkException %d %q", r, tt.code, tt.reason)
			}
		})
	}
}

// TestRoutes checks the route table the concerns fill: every gateway call
// once, named as Calls and faults name it.
func TestRoutes(t *testing.T) {
	s := New(Options{})
	if len(s.routes) != 35 {
		t.Errorf("%d routes, want 35 (a call added? update this count)", len(s.routes))
	}
	for path, h := range s.routes {
		if h.fn == nil || (h.http != "POST" && h.http != "GET") {
			t.Errorf("%s: incomplete handler %+v", path, h)
		}
		if svc, ok := strings.CutPrefix(path, thriftPrefix); ok && !strings.HasSuffix(svc, "/"+h.name) {
			t.Errorf("%s named %q", path, h.name)
		}
	}
}
