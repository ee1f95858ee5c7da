package simgw

import (
	"fmt"
	"strings"
	"testing"
)

// A sticker is contentType 7 with numeric STKID/STKPKGID/STKVER and no text;
// anything else is refused (TalkException 0, a guess: see checkSticker).
func TestStickerAcceptedAndRefused(t *testing.T) {
	m := newSim(t)
	sticker := func(to, extra, md string) map[string]any {
		body := fmt.Sprintf(`[21,{"from":%q,"to":%q,"toType":%d,"id":"local-21","createdTime":"1","sessionId":0,%s"contentType":7,`+
			`"contentMetadata":%s,"hasContent":false}]`, AliceMID, to, toTypeOf(to), extra, md)
		return m.call(AliceMID, "sendMessage", body)
	}
	good := `{"STKID":"1988","STKPKGID":"446","STKVER":"100"}`
	for _, tc := range []struct {
		name, to, extra, md string
		want                int
		reason              string
	}{
		{"group", FamilyMID, "", good, 0, ""},
		{"user", BobMID, "", good, 0, ""},
		{"with text", FamilyMID, `"text":"hi",`, good, 0, "has no text"},
		{"empty text tolerated", FamilyMID, `"text":"",`, good, 0, ""},
		{"no STKVER", FamilyMID, "", `{"STKID":"1988","STKPKGID":"446"}`, 0, "STKVER"},
		{"STKID not numeric", FamilyMID, "", `{"STKID":"abc","STKPKGID":"446","STKVER":"100"}`, 0, "STKID"},
		{"STKPKGID signed", FamilyMID, "", `{"STKID":"1988","STKPKGID":"+446","STKVER":"100"}`, 0, "STKPKGID"},
		{"sealed", FamilyMID, `"chunks":["a","b","c","d","e"],`, `{"STKID":"1988","STKPKGID":"446","STKVER":"100","e2eeVersion":"2"}`, 0, "not sealed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sticker(tc.to, tc.extra, tc.md)
			if tc.reason == "" {
				if code(r) != 0 {
					t.Fatalf("refused: %v", r)
				}
				d := r["data"].(map[string]any)
				if d["contentType"].(float64) != 7 {
					t.Fatalf("answer %v", d)
				}
				return
			}
			if code(r) != tc.want || !strings.Contains(reason(r), tc.reason) {
				t.Fatalf("answer %v, want TalkException %d %q", r, tc.want, tc.reason)
			}
		})
	}
	msgs := m.s.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d stored, want 3", len(msgs))
	}
	st := msgs[0]
	if st.ContentType != 7 || st.Text != "" || st.Metadata["STKID"] != "1988" || st.Metadata["STKPKGID"] != "446" || st.Metadata["STKVER"] != "100" {
		t.Fatalf("stored %+v", st)
	}
	// Delivered on the members' streams as a contentType 7 operation.
	m.s.mu.Lock()
	ops := m.s.ops[BobMID]
	m.s.mu.Unlock()
	found := false
	for _, o := range ops {
		if strings.Contains(string(o.data), `"contentType":7`) && strings.Contains(string(o.data), `"STKID":"1988"`) && !strings.Contains(string(o.data), `"text"`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no sticker operation on Bob's stream")
	}
}

// Where every member has Letter Sealing, text must be sealed (82) but a
// sticker goes plain: the default allowedTypes does not list 7.
func TestStickerPlainInSealedChats(t *testing.T) {
	m := newSim(t)
	for _, mid := range []string{AliceMID, BobMID, CarolMID} {
		m.s.SetLetterSealing(mid, true)
	}
	for _, to := range []string{FamilyMID, BobMID} {
		text := fmt.Sprintf(`[5,{"from":%q,"to":%q,"toType":%d,"id":"local-5","createdTime":"1","sessionId":0,"text":"hi","contentType":0,"contentMetadata":{},"hasContent":false}]`,
			AliceMID, to, toTypeOf(to))
		if r := m.call(AliceMID, "sendMessage", text); code(r) != 82 {
			t.Fatalf("plain text to sealed %s: %v", to, r)
		}
		st := fmt.Sprintf(`[6,{"from":%q,"to":%q,"toType":%d,"id":"local-6","createdTime":"1","sessionId":0,"contentType":7,"contentMetadata":{"STKID":"1","STKPKGID":"1","STKVER":"100"},"hasContent":false}]`,
			AliceMID, to, toTypeOf(to))
		if r := m.call(AliceMID, "sendMessage", st); code(r) != 0 {
			t.Fatalf("plain sticker to sealed %s: %v", to, r)
		}
	}
	// A peer whose app takes stickers sealed: a plain one is refused.
	m.s.SetAllowedTypes(BobMID, []int{0, 7, 15})
	st := fmt.Sprintf(`[8,{"from":%q,"to":%q,"toType":0,"id":"local-8","createdTime":"1","sessionId":0,"contentType":7,"contentMetadata":{"STKID":"1","STKPKGID":"1","STKVER":"100"},"hasContent":false}]`, AliceMID, BobMID)
	if r := m.call(AliceMID, "sendMessage", st); code(r) != 82 {
		t.Fatalf("plain sticker where 7 is allowed sealed: %v", r)
	}
}
