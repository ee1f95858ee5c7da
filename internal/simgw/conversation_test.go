package simgw

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// plainText posts a plain text from Alice to chat, with extra Message
// fields and metadata, and returns the envelope.
func (m *sim) plainText(from, to, text, metadata, extra string) map[string]any {
	m.t.Helper()
	tt := map[byte]string{'u': "0", 'r': "1", 'c': "2"}[to[0]]
	if metadata == "" {
		metadata = "{}"
	}
	return m.call(from, "sendMessage", `[9,{"from":"`+from+`","to":"`+to+`","toType":`+tt+`,"id":"local-9","createdTime":"1","sessionId":0,"text":`+
		jsonString(text)+`,"contentType":0,"contentMetadata":`+metadata+`,"hasContent":false`+extra+`}]`)
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func (m *sim) sentID(r map[string]any) string {
	m.t.Helper()
	if code(r) != 0 {
		m.t.Fatalf("send refused: %v", r)
	}
	return r["data"].(map[string]any)["id"].(string)
}

func TestReplyShapes(t *testing.T) {
	m := newSim(t)
	s := m.s
	s.SetLetterSealing(AliceMID, false)
	first := m.sentID(m.plainText(AliceMID, FamilyMID, "alert", "", ""))
	other := m.sentID(m.plainText(AliceMID, OpsMID, "other", "", ""))
	rel := func(id string, typ, svc int) string {
		b, _ := json.Marshal(map[string]any{"relatedMessageId": id, "messageRelationType": typ, "relatedMessageServiceCode": svc})
		return "," + strings.Trim(string(b), "{}")
	}
	for _, tc := range []struct {
		name, extra string
		want        int
	}{
		{"reply", rel(first, 3, 1), 0},
		{"relation type 1 (FORWARD)", rel(first, 1, 1), 10102},
		{"service code 2", rel(first, 3, 2), 10102},
		{"only the id", `,"relatedMessageId":"` + first + `"`, 10102},
		{"id not a number", rel("abc", 3, 1), 10102},
		{"another chat's message", rel(other, 3, 1), 0},
		{"unknown message", rel("123", 3, 1), 64},
	} {
		r := m.plainText(AliceMID, FamilyMID, "re", "", tc.extra)
		got := code(r)
		if tc.name == "another chat's message" {
			if got != 0 || r["code"].(float64) != 10051 {
				t.Fatalf("%s: %v", tc.name, r)
			}
			continue
		}
		if got != tc.want {
			t.Fatalf("%s: %v", tc.name, r)
		}
	}
	if n := len(s.Messages()); n != 3 || s.Messages()[2].ReplyTo != first {
		t.Fatalf("stored %+v", s.Messages())
	}
}

func TestMentionShapes(t *testing.T) {
	m := newSim(t)
	m.s.SetLetterSealing(AliceMID, false)
	md := func(entries string) string { return jsonString(`{"MENTIONEES":[` + entries + `]}`) }
	for _, tc := range []struct {
		name, text, md string
		ok             bool
	}{
		{"UTF-16 span", "🔥 @Bob look", md(`{"S":"3","E":"7","M":"` + BobMID + `"}`), true},
		{"byte span (a peer's count)", "🔥 @Bob look", md(`{"S":"5","E":"9","M":"` + BobMID + `"}`), false},
		{"everyone", "@All go", md(`{"S":"0","E":"4","A":"1"}`), true},
		{"numbers, not strings", "@Bob", md(`{"S":0,"E":4,"M":"` + BobMID + `"}`), false},
		{"past the end", "@Bob", md(`{"S":"0","E":"5","M":"` + BobMID + `"}`), false},
		{"not a member", "@Dave", md(`{"S":"0","E":"5","M":"u0da7e000000000000000000000000da7"}`), false},
		{"not JSON", "@Bob", `"{MENTIONEES"`, false},
	} {
		r := m.plainText(AliceMID, FamilyMID, tc.text, `{"MENTION":`+tc.md+`}`, "")
		if (code(r) == 0 && r["code"].(float64) == 0) != tc.ok {
			t.Fatalf("%s: %v", tc.name, r)
		}
	}
}

func TestUnsendReactReadHistory(t *testing.T) {
	m := newSim(t)
	s := m.s
	s.SetLetterSealing(AliceMID, false)
	var ids []string
	for _, text := range []string{"one", "two", "three"} {
		ids = append(ids, m.sentID(m.plainText(AliceMID, FamilyMID, text, "", "")))
	}
	// unsendMessage [seq, messageId]
	for _, tc := range []struct {
		who, body string
		want      int
	}{
		{AliceMID, `[1,"` + ids[0] + `","x"]`, 10102},
		{AliceMID, `[1,` + ids[0] + `]`, 10102},
		{BobMID, `[1,"` + ids[0] + `"]`, 28},
		{CarolMID, `[1,"123"]`, 64},
		{AliceMID, `[1,"` + ids[0] + `"]`, 0},
		{AliceMID, `[1,"` + ids[0] + `"]`, 64}, // already unsent
	} {
		if r := m.call(tc.who, "unsendMessage", tc.body); code(r) != tc.want {
			t.Fatalf("unsendMessage %s: %v", tc.body, r)
		}
	}
	if !s.Unsent(ids[0]) {
		t.Fatal("not unsent")
	}
	// react [{reqSeq, messageId, reactionType:{predefinedReactionType}}]
	for _, tc := range []struct {
		body string
		want int
	}{
		{`[{"reqSeq":1,"messageId":"` + ids[1] + `","reactionType":{"predefinedReactionType":3}}]`, 0},
		{`[{"reqSeq":1,"messageId":"` + ids[1] + `","reactionType":3}]`, 10102},
		{`[{"reqSeq":1,"messageId":"` + ids[1] + `","reactionType":{"predefinedReactionType":9}}]`, 0},
		{`[1,"` + ids[1] + `",3]`, 10102},
		{`[{"reqSeq":1,"messageId":"` + ids[0] + `","reactionType":{"predefinedReactionType":3}}]`, 64},
	} {
		r := m.call(BobMID, "react", tc.body)
		if tc.want == 0 && strings.Contains(tc.body, ":9}") {
			if r["code"].(float64) != 10051 {
				t.Fatalf("react %s: %v", tc.body, r)
			}
			continue
		}
		if code(r) != tc.want {
			t.Fatalf("react %s: %v", tc.body, r)
		}
	}
	if got := s.Reactions(ids[1]); got[BobMID] != 3 {
		t.Fatalf("reactions %v", got)
	}
	if r := m.call(BobMID, "cancelReaction", `[{"reqSeq":2,"messageId":"`+ids[1]+`"}]`); code(r) != 0 || len(s.Reactions(ids[1])) != 0 {
		t.Fatalf("cancelReaction %v %v", r, s.Reactions(ids[1]))
	}
	// History: newest first, unsent ones left out; Dave is in no chat of Alice's.
	r := m.call(AliceMID, "getRecentMessagesV2", `["`+FamilyMID+`",50]`)
	var list []map[string]any
	b, _ := json.Marshal(r["data"])
	_ = json.Unmarshal(b, &list)
	if len(list) != 2 || list[0]["id"] != ids[2] || list[1]["id"] != ids[1] {
		t.Fatalf("recent %v", r)
	}
	if r := m.call(CarolMID, "getRecentMessagesV2", `["`+OpsMID+`",50]`); code(r) != 10 {
		t.Fatalf("history of a chat Carol is not in: %v", r)
	}
	prev := `[{"messageBoxId":"` + FamilyMID + `","endMessageId":{"deliveredTime":"1","messageId":"` + ids[2] + `"},"messagesCount":50},2]`
	r = m.call(AliceMID, "getPreviousMessagesV2WithRequest", prev)
	b, _ = json.Marshal(r["data"])
	_ = json.Unmarshal(b, &list)
	if len(list) != 2 || list[0]["id"] != ids[2] {
		t.Fatalf("previous %v", r)
	}
	if r := m.call(AliceMID, "getPreviousMessagesV2WithRequest", `["`+FamilyMID+`","`+ids[2]+`",50]`); code(r) != 10102 {
		t.Fatalf("previous, wrong shape: %v", r)
	}
	// sendChatChecked [seq, chatMid, lastMessageId]
	if r := m.call(BobMID, "sendChatChecked", `[0,"`+FamilyMID+`","`+ids[2]+`"]`); code(r) != 0 || s.ReadMark(FamilyMID, BobMID) != ids[2] {
		t.Fatalf("sendChatChecked %v", r)
	}
	if r := m.call(BobMID, "sendChatChecked", `[0,"`+FamilyMID+`"]`); code(r) != 10102 {
		t.Fatalf("sendChatChecked without id: %v", r)
	}
	// Too old to unsend.
	s.Advance(25 * time.Hour)
	if r := m.call(AliceMID, "unsendMessage", `[2,"`+ids[2]+`"]`); code(r) != 71 {
		t.Fatalf("old unsend: %v", r)
	}
}

func TestAdminConversation(t *testing.T) {
	m := newSim(t)
	post := func(path, body string) map[string]any {
		t.Helper()
		resp, err := http.Post(m.srv.URL+"/_sandbox/"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	first := post("inject", `{"from":"`+BobMID+`","to":"`+FamilyMID+`","text":"a","contentMetadata":{}}`)["id"].(string)
	reply := post("inject", `{"from":"`+CarolMID+`","to":"`+FamilyMID+`","text":"b","replyTo":"`+first+`"}`)["id"].(string)
	post("react", `{"mid":"`+AliceMID+`","messageId":"`+reply+`","reaction":6}`)
	post("unsend", `{"mid":"`+BobMID+`","messageId":"`+first+`"}`)
	if m.s.Reactions(reply)[AliceMID] != 6 || !m.s.Unsent(first) || m.s.carried.byID[reply]["relatedMessageId"] != first {
		t.Fatalf("reactions %v unsent %v", m.s.Reactions(reply), m.s.Unsent(first))
	}
}
