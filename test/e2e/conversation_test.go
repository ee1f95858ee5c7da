package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	// A reply is a send: a lost answer is settled on the stream, never sent twice.
	e.sim.Fail("sendMessage", simgw.FaultDropAfter, 1)
	r = e.must("", "send", "--to", simgw.FamilyMID, "--reply-to", alert, "once")
	if s := r.first(t, "sent"); s["confirmed"] != true || s["replyTo"] != alert {
		t.Fatalf("sent %v", s)
	}
	if msgs := e.sim.Messages(); len(msgs) != 4 || msgs[3].ReplyTo != alert {
		t.Fatalf("stored %+v", msgs)
	}
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

func TestUnsend(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	id := sentID(t, e.must("", "send", "--to", simgw.FamilyMID, "wrong alert"))
	r := e.must("", "unsend", id)
	if l := r.first(t, "unsent"); l["messageId"] != id {
		t.Fatalf("unsent %v", l)
	}
	if !e.sim.Unsent(id) || lastCallBody(e, "unsendMessage") == "" {
		t.Fatal("not unsent")
	}
	if body := lastCallBody(e, "unsendMessage"); !strings.HasSuffix(body, `,"`+id+`"]`) {
		t.Fatalf("body %s", body)
	}
	// Again, unknown, someone else's: exit 4, nothing changes.
	other := e.sim.InjectConversation(simgw.BobMID, simgw.FamilyMID, "bob's", "", nil)
	for _, x := range []string{id, "12345", other} {
		wantExit(t, e.run("", "unsend", x), 4, "rejected")
	}
	if e.sim.Unsent(other) {
		t.Fatal("someone else's message unsent")
	}
	wantExit(t, e.run("", "unsend", "abc"), 2, "usage")
	// A lost answer: settled on the stream (DESTROY_MESSAGE), not guessed.
	id2 := sentID(t, e.must("", "send", "--to", simgw.FamilyMID, "second"))
	e.sim.Fail("unsendMessage", simgw.FaultDropAfter, 1)
	r = e.must("", "unsend", id2)
	if l := r.first(t, "unsent"); l["confirmed"] != true || !e.sim.Unsent(id2) {
		t.Fatalf("unsent %v", l)
	}
	// Lost before LINE acted: nothing on the stream → exit 6, never a guess.
	id3 := sentID(t, e.must("", "send", "--to", simgw.FamilyMID, "third"))
	e.sim.Fail("unsendMessage", simgw.FaultDropBefore, 3)
	e.sim.FailReply("unsendMessage", simgw.ReplyHTML(502), 1)
	wantExit(t, e.run("", "unsend", "--confirm-timeout", "500ms", id3), 6, "outcome_unknown")
	if e.sim.Unsent(id3) {
		t.Fatal("unsent although the request never reached LINE")
	}
}

func TestReact(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	id := e.sim.InjectConversation(simgw.BobMID, simgw.FamilyMID, "deploy done", "", nil)
	r := e.must("", "react", id, "--reaction", "love")
	if l := r.first(t, "reacted"); l["messageId"] != id || l["reaction"] != "love" {
		t.Fatalf("reacted %v", l)
	}
	if body := lastCallBody(e, "react"); !strings.Contains(body, `"messageId":"`+id+`","reactionType":{"predefinedReactionType":3}}]`) {
		t.Fatalf("body %s", body)
	}
	if got := e.sim.Reactions(id); got[simgw.AliceMID] != 3 {
		t.Fatalf("reactions %v", got)
	}
	// A lost answer is repeated: the repeat sets the same state.
	e.sim.Fail("react", simgw.FaultDropAfter, 1)
	e.must("", "react", id, "--reaction", "omg")
	if got := e.sim.Reactions(id); got[simgw.AliceMID] != 7 {
		t.Fatalf("reactions %v", got)
	}
	r = e.must("", "react", id, "--cancel")
	if l := r.first(t, "reacted"); l["cancelled"] != true || len(e.sim.Reactions(id)) != 0 {
		t.Fatalf("cancel %v %v", l, e.sim.Reactions(id))
	}
	wantExit(t, e.run("", "react", id, "--reaction", "like"), 2, "usage")
	wantExit(t, e.run("", "react", "12345", "--reaction", "nice"), 4, "rejected")
	// A message of a chat Alice is not in (Bob to Dave's… Carol's 1:1 with Bob).
	hidden := e.sim.InjectConversation(simgw.BobMID, simgw.CarolMID, "private", "", nil)
	wantExit(t, e.run("", "react", hidden, "--reaction", "nice"), 4, "rejected")
}

func TestHistoryAndRead(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	var ids []string
	for i := 0; i < 60; i++ { // more than a page (50)
		ids = append(ids, e.sim.InjectConversation(simgw.BobMID, simgw.FamilyMID, "m"+strconv.Itoa(i), "", nil))
	}
	reply := sentID(t, e.must("", "send", "--to", simgw.FamilyMID, "--reply-to", ids[59], "--mention", simgw.BobMID, "ok"))
	mention := e.sim.InjectConversation(simgw.BobMID, simgw.FamilyMID, "@Alice look", "", map[string]string{
		"MENTION": `{"MENTIONEES":[{"S":"0","E":"6","M":"` + simgw.AliceMID + `"}]}`})
	e.must("", "unsend", reply)
	r := e.must("", "history", "--chat", simgw.FamilyMID, "--limit", "55")
	lines := r.lines(t)
	if len(lines) != 55 || lines[0]["text"] != "m6" || lines[53]["text"] != "m59" || lines[54]["messageId"] != mention ||
		lines[54]["mentionsMe"] != true || lines[0]["revision"] != nil || lines[0]["type"] != "message" {
		t.Fatalf("history: %d lines, first %v, last %v", len(lines), lines[0], lines[len(lines)-1])
	}
	if n := count(e.sim.CallNames(), "getPreviousMessagesV2WithRequest"); n != 1 {
		t.Fatalf("%d previous pages, want 1", n)
	}
	r = e.must("", "history", "--chat", simgw.FamilyMID, "--limit", "2", "--before", ids[10])
	if lines = r.lines(t); len(lines) != 2 || lines[0]["text"] != "m8" || lines[1]["text"] != "m9" {
		t.Fatalf("history --before: %v", lines)
	}
	// Not a member (Carol's room with Alice exists; Ops is Alice and Bob only: log in as Carol? use Dave-less chat).
	e.sim.AddChat(simgw.Chat{MID: "c0000000000000000000000000000beef", Name: "Other", Members: []string{simgw.BobMID, simgw.CarolMID}})
	wantExit(t, e.run("", "history", "--chat", "c0000000000000000000000000000beef"), 4, "rejected")
	// read
	r = e.must("", "read", "--chat", simgw.FamilyMID)
	if l := r.first(t, "read"); l["messageId"] != mention || e.sim.ReadMark(simgw.FamilyMID, simgw.AliceMID) != mention {
		t.Fatalf("read %v", l)
	}
	if body := lastCallBody(e, "sendChatChecked"); body != `[0,"`+simgw.FamilyMID+`","`+mention+`"]` {
		t.Fatalf("body %s", body)
	}
	wantExit(t, e.run("", "read", "--chat", "c0000000000000000000000000000beef"), 4, "rejected")
	// A 1:1 chat: the other person's MID names it, from both sides.
	e.must("", "send", "--to", simgw.BobMID, "hi bob")
	e.sim.InjectConversation(simgw.BobMID, simgw.AliceMID, "hi alice", "", nil)
	lines = e.must("", "history", "--chat", simgw.BobMID).lines(t)
	if len(lines) != 2 || lines[0]["text"] != "hi bob" || lines[1]["text"] != "hi alice" || lines[1]["chat"] != simgw.BobMID {
		t.Fatalf("1:1 history %v", lines)
	}
}

func TestHistorySealed(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.must("", "send", "--e2ee", "require", "--to", sealedMID, "secret one")
	if err := e.sim.InjectSealedMessage(daveMID, sealedMID, 2, "secret two", simgw.SealOK); err != nil {
		t.Fatal(err)
	}
	lines := e.must("", "history", "--chat", sealedMID).lines(t)
	if len(lines) != 2 || lines[0]["text"] != "secret one" || lines[1]["text"] != "secret two" ||
		lines[1]["e2ee"] != true || lines[1]["decrypted"] != true {
		t.Fatalf("history %v", lines)
	}
}

func TestReceiveConversation(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "receive", "--wait", "200ms") // saves the position
	mine := sentID(t, e.must("", "send", "--to", simgw.FamilyMID, "firing"))
	reply := e.sim.InjectConversation(simgw.BobMID, simgw.FamilyMID, "@Alice on it", mine, map[string]string{
		"MENTION": `{"MENTIONEES":[{"S":"0","E":"6","M":"` + simgw.AliceMID + `"}]}`})
	if err := e.sim.React(simgw.BobMID, mine, 2); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.React(simgw.BobMID, mine, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Unsend(simgw.BobMID, reply); err != nil {
		t.Fatal(err)
	}
	lines := e.must("", "receive", "--wait", "300ms", "--text-only").lines(t)
	var got []string
	for _, l := range lines {
		got = append(got, l["type"].(string))
	}
	if strings.Join(got, " ") != "message message reacted reacted unsent" {
		t.Fatalf("lines %v", lines)
	}
	if m := lines[1]; m["replyTo"] != mine || m["mentionsMe"] != true || m["mentions"].([]any)[0] != simgw.AliceMID {
		t.Fatalf("reply line %v", m)
	}
	if l := lines[2]; l["messageId"] != mine || l["reaction"] != "nice" || l["from"] != simgw.BobMID || l["chat"] != simgw.FamilyMID {
		t.Fatalf("reacted %v", l)
	}
	if l := lines[3]; l["cancelled"] != true {
		t.Fatalf("reacted %v", l)
	}
	if l := lines[4]; l["messageId"] != reply || l["chat"] != simgw.FamilyMID {
		t.Fatalf("unsent %v", l)
	}
}

// cookbookScript returns the first sh block after a heading of docs/cookbook.md.
func cookbookScript(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/cookbook.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, heading)
	if i < 0 {
		t.Fatalf("no %q in docs/cookbook.md", heading)
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n") + len("```sh\n")
	end := strings.Index(s[start:], "\n```\n")
	return s[start : start+end+1]
}

// The cookbook's alert script, run as written against the sandbox: the
// firing message mentions the on-call person, the resolve answers it.
func TestCookbookAlertScript(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	dir := t.TempDir()
	script := filepath.Join(dir, "alert-line")
	if err := os.WriteFile(script, []byte(cookbookScript(t, "## An alert that answers itself")), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(bin, "linectl")); err != nil {
		t.Fatal(err)
	}
	oncall := filepath.Join(dir, "oncall")
	if err := os.WriteFile(oncall, []byte(simgw.BobMID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("sh", append([]string{script}, args...)...)
		cmd.Env = append(e.environ(), "PATH="+bin+":"+os.Getenv("PATH"), "GROUP="+simgw.FamilyMID,
			"ONCALL="+oncall, "STATE="+filepath.Join(dir, "state"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("alert-line %v: %v\n%s", args, err, out)
		}
	}
	run("firing", "disk", "/var is 95% full")
	run("resolved", "disk")
	msgs := e.sim.Messages()
	if len(msgs) != 2 {
		t.Fatalf("stored %+v", msgs)
	}
	fire, res := msgs[0], msgs[1]
	if fire.Text != "FIRING disk: /var is 95% full (@Bob please look)" || !strings.Contains(fire.Metadata["MENTION"], simgw.BobMID) {
		t.Fatalf("firing %q %v", fire.Text, fire.Metadata)
	}
	if res.Text != "RESOLVED disk" || res.ReplyTo != fire.ID {
		t.Fatalf("resolved %+v, want a reply to %s", res, fire.ID)
	}
}

// unsend, react, read and receive in a Letter Sealing group.
func TestConversationSealed(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.must("", "receive", "--wait", "200ms") // saves the position
	oops := sentID(t, e.must("", "send", "--e2ee", "require", "--to", sealedMID, "oops"))
	if l := e.must("", "unsend", oops).first(t, "unsent"); l["messageId"] != oops || !e.sim.Unsent(oops) {
		t.Fatalf("unsent %v", l)
	}
	mine := sentID(t, e.must("", "send", "--e2ee", "require", "--to", sealedMID, "deploy?"))
	if err := e.sim.InjectSealedMessage(daveMID, sealedMID, 2, "go ahead", simgw.SealOK); err != nil {
		t.Fatal(err)
	}
	h := e.must("", "history", "--chat", sealedMID).lines(t)
	if len(h) != 2 || h[0]["messageId"] != mine || h[1]["text"] != "go ahead" || h[1]["decrypted"] != true {
		t.Fatalf("history %v", h)
	}
	daves := h[1]["messageId"].(string)
	e.must("", "react", daves, "--reaction", "fun")
	if e.sim.Reactions(daves)[simgw.BobMID] != 4 {
		t.Fatalf("reactions %v", e.sim.Reactions(daves))
	}
	if err := e.sim.React(daveMID, mine, 5); err != nil {
		t.Fatal(err)
	}
	e.sim.Fail("sendChatChecked", simgw.FaultDropAfter, 1) // a lost answer: repeated
	if l := e.must("", "read", "--chat", sealedMID).first(t, "read"); l["messageId"] != daves || e.sim.ReadMark(sealedMID, simgw.BobMID) != daves {
		t.Fatalf("read %v", l)
	}
	var got []string
	for _, l := range e.must("", "receive", "--wait", "300ms", "--text-only").lines(t) {
		got = append(got, l["type"].(string)+":"+fmt.Sprintf("%v %v %v", l["text"], l["reaction"], l["from"]))
	}
	want := "message:oops <nil> " + simgw.BobMID + " unsent:<nil> <nil> <nil> message:deploy? <nil> " + simgw.BobMID +
		" message:go ahead <nil> " + daveMID + " reacted:<nil> fun " + simgw.BobMID + " reacted:<nil> amazing " + daveMID
	if strings.Join(got, " ") != want {
		t.Fatalf("receive\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
