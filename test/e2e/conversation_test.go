package e2e

import (
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// lastCallBody returns the body of the last call of a method.
func lastCallBody(e *env, method string) string {
	body := ""
	for _, c := range e.sim.Calls() {
		if c.Method == method {
			body = c.Body
		}
	}
	return body
}

func sentID(t *testing.T, r result) string {
	t.Helper()
	id, _ := r.first(t, "sent")["messageId"].(string)
	if id == "" {
		t.Fatalf("no messageId: %s", r.stdout)
	}
	return id
}

func TestReplyPlain(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	alert := sentID(t, e.must("", "send", "--to", simgw.FamilyMID, "disk full"))
	r := e.must("", "send", "--to", simgw.FamilyMID, "--reply-to", alert, "resolved")
	if s := r.first(t, "sent"); s["replyTo"] != alert {
		t.Fatalf("sent %v", s)
	}
	body := lastCallBody(e, "sendMessage")
	if !strings.Contains(body, `"relatedMessageId":"`+alert+`","messageRelationType":3,"relatedMessageServiceCode":1`) {
		t.Fatalf("sendMessage body %s", body)
	}
	msgs := e.sim.Messages()
	if len(msgs) != 2 || msgs[1].ReplyTo != alert || msgs[1].Text != "resolved" {
		t.Fatalf("stored %+v", msgs)
	}
	// --jsonl
	r = e.must(`{"to":"`+simgw.FamilyMID+`","text":"again","replyTo":"`+alert+`"}`+"\n", "send", "--jsonl")
	if s := r.first(t, "sent"); s["replyTo"] != alert {
		t.Fatalf("jsonl sent %v", s)
	}
	// A reply to a message of another chat, or an unknown one: refused, nothing stored.
	for _, id := range []string{alert, "12345"} {
		r = e.run("", "send", "--to", simgw.OpsMID, "--reply-to", id, "wrong chat")
		wantExit(t, r, 4, "rejected")
		if !strings.Contains(r.stderr, "--reply-to") {
			t.Fatalf("stderr does not name --reply-to:\n%s", r.stderr)
		}
	}
	if n := len(e.sim.Messages()); n != 3 {
		t.Fatalf("%d messages stored, want 3", n)
	}
	wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, "--reply-to", "abc", "x"), 2, "usage")
}

func TestReplyAndMentionSealed(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	first := sentID(t, e.must("", "send", "--e2ee", "require", "--to", sealedMID, "firing"))
	r := e.must("", "send", "--e2ee", "require", "--to", sealedMID, "--reply-to", first, "--mention", daveMID, "resolved, @ fyi")
	s := r.first(t, "sent")
	if s["e2ee"] != true || s["replyTo"] != first || len(s["mentions"].([]any)) != 1 {
		t.Fatalf("sent %v", s)
	}
	msgs := e.sim.Messages()
	m := msgs[len(msgs)-1]
	// The simulator opened it: the text is in the sealed payload, the
	// relation and MENTION stay in clear (the extension's encryptWithE2eeChannel).
	if m.Text != "resolved, @Dave fyi" || m.ReplyTo != first || len(m.Chunks) != 5 ||
		m.Metadata["MENTION"] != `{"MENTIONEES":[{"S":"10","E":"15","M":"`+daveMID+`"}]}` {
		t.Fatalf("stored %+v", m)
	}
	if body := lastCallBody(e, "sendMessage"); strings.Contains(body, `"text"`) || !strings.Contains(body, `"relatedMessageId":"`+first+`"`) {
		t.Fatalf("body %s", body)
	}
}

func TestMention(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	// Placeholders, UTF-16 offsets after an emoji (2 code units).
	e.must("", "send", "--to", simgw.FamilyMID, "--mention", simgw.BobMID, "--mention", simgw.CarolMID, "🔥 disk full, @ and @ please look")
	m := e.sim.Messages()[0]
	want := `{"MENTIONEES":[{"S":"14","E":"18","M":"` + simgw.BobMID + `"},{"S":"23","E":"29","M":"` + simgw.CarolMID + `"}]}`
	if m.Text != "🔥 disk full, @Bob and @Carol please look" || m.Metadata["MENTION"] != want {
		t.Fatalf("stored %q %s", m.Text, m.Metadata["MENTION"])
	}
	// No placeholder: at the start. "all": {"A":"1"}.
	r := e.must("", "send", "--to", simgw.FamilyMID, "--mention", "all", "deploy now")
	if s := r.first(t, "sent"); s["mentions"].([]any)[0] != "all" {
		t.Fatalf("sent %v", s)
	}
	m = e.sim.Messages()[1]
	if m.Text != "@All deploy now" || m.Metadata["MENTION"] != `{"MENTIONEES":[{"S":"0","E":"4","A":"1"}]}` {
		t.Fatalf("stored %q %s", m.Text, m.Metadata["MENTION"])
	}
	// --mention-names: names already in the text.
	e.must("", "send", "--to", simgw.FamilyMID, "--mention-names", "@Carol and @Bob: look")
	m = e.sim.Messages()[2]
	want = `{"MENTIONEES":[{"S":"0","E":"6","M":"` + simgw.CarolMID + `"},{"S":"11","E":"15","M":"` + simgw.BobMID + `"}]}`
	if m.Metadata["MENTION"] != want {
		t.Fatalf("stored %s", m.Metadata["MENTION"])
	}
	// --jsonl
	e.must(`{"to":"`+simgw.FamilyMID+`","text":"hey","mentions":["`+simgw.BobMID+`"]}`+"\n", "send", "--jsonl")
	if m = e.sim.Messages()[3]; m.Text != "@Bob hey" {
		t.Fatalf("stored %q", m.Text)
	}
	// A non-member (Carol is not in Ops): exit 2, nothing sent.
	r = e.run("", "send", "--to", simgw.OpsMID, "--mention", simgw.CarolMID, "hey")
	wantExit(t, r, 2, "usage")
	if !strings.Contains(r.stderr, "not a member") {
		t.Fatalf("stderr %s", r.stderr)
	}
	wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, "--mention", simgw.BobMID, "@ and @"), 2, "usage")
	if n := len(e.sim.Messages()); n != 4 {
		t.Fatalf("%d messages stored", n)
	}
}
