package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// A gateway (or anyone in the middle) that lies: revisions, sizes, nesting,
// answers and terminal escapes (issue 18, "From the gateway").

// textsOf returns the texts of stdout's operation lines, and its notice events.
func textsOf(t *testing.T, r result) (texts, notices []string) {
	t.Helper()
	for _, l := range r.lines(t) {
		switch l["type"] {
		case "operation":
			if m, ok := l["message"].(map[string]any); ok {
				texts = append(texts, fmt.Sprint(m["text"]))
			}
		case "notice":
			notices = append(notices, fmt.Sprint(l["event"]))
		}
	}
	return texts, notices
}

func TestHostileRevisionsAreNeverSaved(t *testing.T) {
	for _, tc := range []struct{ name, event, data string }{
		{"far-future operation", "", `{"revision":"9000000000000000000","createdTime":"1","type":26,"reqSeq":0,"param1":"0"}`},
		{"fullSync to max int64", "fullSync", `{"reasons":[1],"nextRevision":"9223372036854775807"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.loginQR()
			e.must("", "receive", "--wait", "200ms")
			e.sim.InjectRawEvent(simgw.AliceMID, tc.event, tc.data)
			e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "after the lie")
			r := e.must("", "receive", "--wait", "300ms")
			texts, notices := textsOf(t, r)
			if strings.Join(texts, "|") != "after the lie" || strings.Join(notices, "|") != "revisionRefused" {
				t.Fatalf("texts %q notices %q\nstderr %s", texts, notices, r.stderr)
			}
			if !strings.Contains(r.stderr, "revisionRefused") {
				t.Fatalf("not reported on stderr: %s", r.stderr)
			}
			// The lie was not saved: later operations still arrive after a restart.
			e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "later")
			r = e.must("", "receive", "--wait", "300ms")
			if texts, _ := textsOf(t, r); strings.Join(texts, "|") != "later" {
				t.Fatalf("after restart: %q\nstderr %s", texts, r.stderr)
			}
		})
	}
}

func TestHostileOversizedAndDeepEventsAreSkipped(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "receive", "--wait", "200ms")
	huge := `{"revision":"%d","createdTime":"1","type":26,"reqSeq":0,"param1":"0","message":{"text":"` + strings.Repeat("x", 5<<20) + `"}}`
	e.sim.InjectRawEvent(simgw.AliceMID, "", fmt.Sprintf(huge, e.sim.Revision()+1))
	deep := `{"revision":"%d","createdTime":"1","type":26,"reqSeq":0,"param1":"0","message":{"text":"x","deep":` +
		strings.Repeat("[", 300000) + strings.Repeat("]", 300000) + `}}`
	e.sim.InjectRawEvent(simgw.AliceMID, "", fmt.Sprintf(deep, e.sim.Revision()+1))
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "after the bombs")
	start := time.Now()
	r := e.must("", "receive", "--wait", "500ms")
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("took %v", d)
	}
	texts, notices := textsOf(t, r)
	if strings.Join(texts, "|") != "after the bombs" || strings.Join(notices, "|") != "skipped|skipped" {
		t.Fatalf("texts %q notices %q\nstderr %s", texts, notices, r.stderr)
	}
	for _, l := range r.lines(t) {
		if l["type"] == "notice" && !strings.Contains(fmt.Sprint(l["detail"]), "(id ") {
			t.Fatalf("skipped notice without its revision: %v", l)
		}
	}
	// Restarting does not stop at the same place.
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "next")
	if texts, _ := textsOf(t, e.must("", "receive", "--wait", "300ms")); strings.Join(texts, "|") != "next" {
		t.Fatalf("after restart: %q", texts)
	}
}

func TestHostileDeepEventDoesNotDelaySIGTERM(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	fw := e.follow(t, "--text-only")
	waitFor(t, func() bool { return count(e.sim.CallNames(), "receive") > 0 })
	for i := 0; i < 3; i++ {
		e.sim.InjectRawEvent(simgw.AliceMID, "", `{"revision":"1","type":26,"message":`+strings.Repeat("[", 300000)+strings.Repeat("]", 300000)+`}`)
	}
	e.sim.InjectMessage(simgw.BobMID, simgw.FamilyMID, "alive")
	for {
		l := fw.next(t)
		if l["type"] == "message" {
			if l["text"] != "alive" {
				t.Fatal(l)
			}
			break
		}
	}
	start := time.Now()
	if code := fw.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("SIGTERM took %v", d)
	}
}

func TestHostileSendAnswersAreOutcomeUnknown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply simgw.Reply
	}{
		{"non-JSON 200", simgw.ReplyNotJSON},
		{"10052 upstream 504", simgw.ReplyUpstream(504)},
		{"HTML 502", simgw.ReplyHTML(502)},
		{"truncated JSON", simgw.ReplyTruncated},
		{"success without data", simgw.ReplyNoData},
		{"success with null data", simgw.ReplyNullData},
		{"success with an empty id", simgw.ReplyEmptyID},
	} {
		t.Run(tc.name+" after processing: settled on the stream, sent once", func(t *testing.T) {
			e := newEnv(t)
			e.loginQR()
			rp := tc.reply
			rp.Process = true
			e.sim.FailReply("sendMessage", rp, 1)
			r := e.must("", "send", "--confirm-timeout", "3s", "--to", simgw.FamilyMID, "once")
			if s := r.first(t, "sent"); s["confirmed"] != true {
				t.Fatalf("sent %v", s)
			}
			if n := len(e.sim.Messages()); n != 1 {
				t.Fatalf("%d messages, want exactly 1", n)
			}
		})
		t.Run(tc.name+" unsettled: exit 6, never a blind resend", func(t *testing.T) {
			e := newEnv(t)
			e.loginQR()
			e.sim.FailReply("sendMessage", tc.reply, 5)
			r := e.run("", "send", "--confirm-timeout", "300ms", "--to", simgw.FamilyMID, "x")
			wantExit(t, r, 6, "outcome_unknown")
			// Resent at most once, with the same reqSeq, and only after the stream search.
			if n := count(e.sim.CallNames(), "sendMessage"); n < 1 || n > 2 || len(e.sim.Messages()) != 0 {
				t.Fatalf("%d sendMessage calls, %d stored", n, len(e.sim.Messages()))
			}
		})
	}
	t.Run("success without a message through the gateway agent: exit 6", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.must("", "send", "--to", simgw.FamilyMID, "cold, direct")
		e.startGatewayAgent()
		e.sim.FailReply("sendMessage", simgw.ReplyNoData, 5)
		r := e.run("", "send", "--debug", "--confirm-timeout", "300ms", "--to", simgw.FamilyMID, "x")
		wantExit(t, r, 6, "outcome_unknown")
		if !strings.Contains(r.stderr, "sendMessage via the agent") || strings.Contains(r.stdout, `"sent"`) {
			t.Fatalf("stdout %s\nstderr %s", r.stdout, r.stderr)
		}
	})
	t.Run("non-JSON 200 to a read: exit 5", func(t *testing.T) {
		e := newEnv(t)
		e.loginQR()
		e.sim.FailReply("getChats", simgw.ReplyNotJSON, 10)
		wantExit(t, e.run("", "chats", "--refresh"), 5, "bad_response")
	})
}

const evil = "evil\u009b31m\u202ename\u2066"

func assertNoSteering(t *testing.T, where, s string) {
	t.Helper()
	for _, r := range []string{"\u009b", "\u202e", "\u2066", "\x1b"} {
		if strings.Contains(s, r) {
			t.Fatalf("%s carries %q raw:\n%q", where, r, s)
		}
	}
}

func TestHostileEscapesNeverReachTheTerminal(t *testing.T) {
	e := newEnv(t)
	evilChat := fmt.Sprintf("c%032x", 0xe71)
	e.sim.AddChat(simgw.Chat{MID: evilChat, Name: evil, Members: []string{simgw.AliceMID, simgw.BobMID}})
	e.loginQR()
	r := e.must("", "chats")
	assertNoSteering(t, "chats stdout", r.stdout)
	if !strings.Contains(r.stdout, `evil\u009b31m\u202ename\u2066`) {
		t.Fatalf("name not escaped as \\uXXXX: %s", r.stdout)
	}
	found := false
	for _, l := range r.lines(t) {
		found = found || l["name"] == evil // a JSON reader gets the name back intact
	}
	if !found {
		t.Fatalf("name lost: %s", r.stdout)
	}

	e.must("", "receive", "--wait", "200ms")
	e.sim.InjectMessage(simgw.BobMID, evilChat, evil)
	e.sim.InjectRawEvent(simgw.AliceMID, "talkException", `{"code":20,"reason":"`+evil+`\u001b[2J"}`)
	e.sim.InjectRawEvent(simgw.AliceMID, "partialFullSync", `{"targetCategories":{"`+evil+`":1}}`)
	e.sim.InjectRawEvent(simgw.AliceMID, "mystery"+evil, `{}`)
	r = e.must("", "receive", "--wait", "300ms")
	assertNoSteering(t, "receive stdout", r.stdout)
	assertNoSteering(t, "receive stderr", r.stderr)
	if texts, _ := textsOf(t, r); len(texts) != 1 || texts[0] != evil {
		t.Fatalf("texts %q", texts)
	}
	e.sim.InjectMessage(simgw.BobMID, evilChat, evil)
	r = e.must("", "receive", "--wait", "300ms", "--text-only")
	assertNoSteering(t, "receive --text-only stdout", r.stdout)
	if l := r.first(t, "message"); l["text"] != evil {
		t.Fatalf("text %v", l)
	}

	e.sim.FailTalk("sendMessage", simgw.FaultTalk, 10, evil, 1)
	r = e.run("", "send", "--to", evilChat, "hi")
	wantExit(t, r, 4, "rejected")
	assertNoSteering(t, "send stdout", r.stdout)
	assertNoSteering(t, "send stderr", r.stderr)
}
