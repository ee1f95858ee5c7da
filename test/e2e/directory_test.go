package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

func TestChatsInBatchesAndContacts(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 250; i++ {
		e.sim.AddChat(simgw.Chat{MID: fmt.Sprintf("c%032x", 0xb000+i), Name: fmt.Sprintf("Team %03d", i), Members: []string{simgw.AliceMID, simgw.BobMID}})
	}
	e.loginQR()
	r := e.must("", "chats")
	lines := r.lines(t)
	if len(lines) != 253 {
		t.Fatalf("%d chats, want 253", len(lines))
	}
	if l := lines[0]; l["name"] != "Family" || l["kind"] != "group" || l["members"] != 3.0 || l["invited"] != false {
		t.Fatalf("first chat %v", l)
	}
	if n := count(e.sim.CallNames(), "getChats"); n != 3 {
		t.Fatalf("getChats called %d times, want 3 batches of ≤100", n)
	}
	// A second run reads the cache.
	e.must("", "chats")
	if n := count(e.sim.CallNames(), "getChats"); n != 3 {
		t.Fatalf("cache not used: %d getChats calls", n)
	}
	e.must("", "chats", "--refresh")
	if n := count(e.sim.CallNames(), "getChats"); n != 6 {
		t.Fatalf("--refresh: %d getChats calls", n)
	}
	c := e.must("", "contacts").lines(t)
	if len(c) != 2 || c[0]["displayName"] != "Bob" || c[0]["mid"] != simgw.BobMID {
		t.Fatalf("contacts %v", c)
	}
}

func TestNameResolution(t *testing.T) {
	e := newEnv(t)
	e.sim.AddChat(simgw.Chat{MID: "c00000000000000000000000000000d0b", Name: "Bob", Members: []string{simgw.AliceMID}})
	e.loginQR()
	r := e.must("", "send", "--to-name", "Family", "hi")
	if s := r.first(t, "sent"); s["to"] != simgw.FamilyMID {
		t.Fatalf("sent %v", s)
	}
	// "Bob" is a contact and a group: ambiguous, nothing sent.
	r = e.run("", "send", "--to-name", "Bob", "hi")
	wantExit(t, r, 2, "usage")
	if !strings.Contains(r.stderr, simgw.BobMID) || !strings.Contains(r.stderr, "c00000000000000000000000000000d0b") {
		t.Fatalf("ambiguity not listed: %s", r.stderr)
	}
	// Missing: the cache is refreshed once, then exit 2.
	before := count(e.sim.CallNames(), "getAllChatMids")
	wantExit(t, e.run("", "send", "--to-name", "Nobody", "hi"), 2, "usage")
	if after := count(e.sim.CallNames(), "getAllChatMids"); after != before+1 {
		t.Fatalf("cache refreshed %d times for a missing name", after-before)
	}
	// A chat created since the cache was filled is found after one refresh.
	e.sim.AddChat(simgw.Chat{MID: "c0000000000000000000000000000new1", Name: "New team", Members: []string{simgw.AliceMID}})
	r = e.must("", "send", "--to-name", "New team", "hi")
	if s := r.first(t, "sent"); s["to"] != "c0000000000000000000000000000new1" {
		t.Fatalf("sent %v", s)
	}
	if n := len(e.sim.Messages()); n != 2 {
		t.Fatalf("%d messages", n)
	}
	r = e.must("", "probe-e2ee", "--name", "Family")
	if l := r.first(t, "e2ee"); l["mid"] != simgw.FamilyMID {
		t.Fatalf("probe %v", l)
	}
}

func TestCompletionOfDestinations(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "chats")
	e.must("", "contacts")
	r := e.must("", "__complete", "send", "--to", "c")
	if !strings.Contains(r.stdout, simgw.FamilyMID+"\tFamily") || strings.Contains(r.stdout, simgw.BobMID) {
		t.Fatalf("completion of --to c:\n%s", r.stdout)
	}
	r = e.must("", "__complete", "send", "--to-name", "F")
	if !strings.Contains(r.stdout, "Family\n") || strings.Contains(r.stdout, "Ops alerts") {
		t.Fatalf("completion of --to-name F:\n%s", r.stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out := e.must("", "completion", shell).stdout; len(out) < 100 {
			t.Fatalf("completion %s: %q", shell, out)
		}
	}
}
