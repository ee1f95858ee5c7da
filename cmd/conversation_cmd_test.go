package cmd

import (
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// The conversation commands in process, against the simulator: a reply with
// a mention, a reaction, history, a read mark, an unsend, and receive's lines.
func TestConversationInProcess(t *testing.T) {
	h := newCmdHarness(t)
	h.login()
	if r := h.run("", "receive", "--wait", "100ms"); r.code != 0 {
		t.Fatalf("receive: %d %s", r.code, r.stderr)
	}
	bobs := h.sim.InjectConversation(simgw.BobMID, simgw.FamilyMID, "deploy?", "", nil)
	r := h.run("", "send", "--to", simgw.FamilyMID, "--reply-to", bobs, "--mention", simgw.BobMID, "go ahead @")
	if r.code != 0 {
		t.Fatalf("send: %d %s", r.code, r.stderr)
	}
	sent := r.lines(t)[0]
	mine := sent["messageId"].(string)
	if sent["replyTo"] != bobs || h.sim.Messages()[0].Text != "go ahead @Bob" {
		t.Fatalf("sent %v, stored %+v", sent, h.sim.Messages())
	}
	for _, args := range [][]string{
		{"react", bobs, "--reaction", "sad"},
		{"read", "--chat", simgw.FamilyMID},
	} {
		if r := h.run("", args...); r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
	}
	hist := h.run("", "history", "--chat", simgw.FamilyMID).lines(t)
	if len(hist) != 2 || hist[1]["replyTo"] != bobs || hist[1]["mentions"].([]any)[0] != simgw.BobMID {
		t.Fatalf("history %v", hist)
	}
	if r := h.run("", "unsend", mine); r.code != 0 || r.lines(t)[0]["type"] != "unsent" {
		t.Fatalf("unsend: %d %s %s", r.code, r.out, r.stderr)
	}
	if r := h.run("", "unsend", bobs); r.code != ExitRejected {
		t.Fatalf("unsend of Bob's: %d", r.code)
	}
	var types []string
	for _, l := range h.run("", "receive", "--wait", "200ms", "--text-only").lines(t) {
		types = append(types, l["type"].(string))
	}
	if got := strings.Join(types, " "); got != "message message reacted unsent" {
		t.Fatalf("receive: %s", got)
	}
}
