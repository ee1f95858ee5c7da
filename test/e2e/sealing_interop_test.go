package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// The sandbox as shipped: Alice (the phone's account) and Bob both have
// Letter Sealing on, so what Alice sends Bob is sealed and Bob's answers,
// sealed the way LINE's apps seal (V2 with upper-case MIDs, V1 with the JSON
// payload), read as text.
func TestSandboxAliceAndBobSeal(t *testing.T) {
	e := newSandboxEnv(t, func(o *simgw.Options) { o.ManualScan = true })
	if l := e.loginQRWithKeys().first(t, "login"); l["e2eeKeys"] != true {
		t.Fatalf("login %v", l)
	}
	if p := e.must("", "probe-e2ee", simgw.BobMID).first(t, "e2ee"); p["usable"] != true || p["specVersion"] != 2.0 {
		t.Fatalf("probe to Bob %v", p)
	}
	r := e.must("", "send", "--to", simgw.BobMID, "hello Bob, sealed")
	if s := r.first(t, "sent"); s["e2ee"] != true {
		t.Fatalf("sent %v", s)
	}
	// The simulator opened it as Bob's app would (lower-cased MIDs in the AAD, JSON payload).
	if m := e.sim.Messages(); len(m) != 1 || m[0].Text != "hello Bob, sealed" || len(m[0].Chunks) != 5 {
		t.Fatalf("stored %+v", m)
	}
	for _, in := range []simgw.SealedInjection{
		{From: simgw.BobMID, To: simgw.AliceMID, Version: 2, Text: "v2 from Bob's app 🙂", UpperMIDs: true},
		{From: simgw.BobMID, To: simgw.AliceMID, Version: 1, Text: "v1 from Bob's app"},
		{From: simgw.BobMID, To: simgw.AliceMID, Version: 2, Text: "as carried", UpperMIDs: true, AADAsCarried: true},
	} {
		if err := e.sim.InjectSealed(in); err != nil {
			t.Fatal(err)
		}
	}
	r = e.must("", "--debug", "receive", "--from-start", "--wait", "300ms", "--text-only")
	lines := r.lines(t)
	want := []string{"hello Bob, sealed", "v2 from Bob's app 🙂", "v1 from Bob's app", "as carried"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), r.stdout)
	}
	for i, w := range want {
		if lines[i]["text"] != w || lines[i]["decrypted"] != true {
			t.Fatalf("line %d = %v, want %q", i, lines[i], w)
		}
	}
	// --debug says which AAD form authenticated each message.
	if !strings.Contains(r.stderr, "AAD lower33") || !strings.Contains(r.stderr, "AAD as-carried") {
		t.Fatalf("debug output lacks the AAD forms:\n%s", r.stderr)
	}
}

// Keys that have been rotated away: a message under the sender's older key,
// a group key wrapped with its creator's older key, a message under an older
// group key — each fetched by id.
func TestLetterSealingOlderKeys(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.must("", "receive", "--wait", "200ms")
	old := e.sim.Account(daveMID).KeyID
	if _, err := e.sim.RotateKey(daveMID); err != nil {
		t.Fatal(err)
	}
	oldGroupKey := lastGroupKey(t, e, sealedMID)
	if _, err := e.sim.SetGroupKeyWith(sealedMID, daveMID, simgw.GroupKeyOptions{CreatorKeyID: old}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []simgw.SealedInjection{
		{From: daveMID, To: simgw.BobMID, Version: 2, Text: "under Dave's older key", SenderKeyID: old},
		{From: daveMID, To: sealedMID, Version: 2, Text: "under the older group key", GroupKeyID: oldGroupKey},
		{From: daveMID, To: sealedMID, Version: 2, Text: "under the newest group key"},
	} {
		if err := e.sim.InjectSealed(in); err != nil {
			t.Fatal(err)
		}
	}
	r := e.must("", "receive", "--wait", "300ms", "--text-only")
	lines := r.lines(t)
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s\n%s", len(lines), r.stdout, r.stderr)
	}
	for i, w := range []string{"under Dave's older key", "under the older group key", "under the newest group key"} {
		if lines[i]["text"] != w || lines[i]["decrypted"] != true {
			t.Fatalf("line %d = %v, want %q", i, lines[i], w)
		}
	}
	calls := e.sim.CallNames()
	if count(calls, "getE2EEPublicKey") == 0 || count(calls, "getE2EEGroupSharedKey") == 0 {
		t.Fatalf("keys not fetched by id: %v", calls)
	}
	// Sending to the group unwraps the newest group key, wrapped by Dave's older key.
	r = e.must("", "send", "--e2ee", "require", "--to", sealedMID, "to the group after Dave rotated")
	if s := r.first(t, "sent"); s["e2ee"] != true {
		t.Fatalf("sent %v", s)
	}
	msgs := e.sim.Messages()
	if m := msgs[len(msgs)-1]; m.Text != "to the group after Dave rotated" {
		t.Fatalf("stored %+v", m)
	}
}

func lastGroupKey(t *testing.T, e *env, chat string) int {
	t.Helper()
	r := e.must("", "probe-e2ee", chat)
	id, ok := r.first(t, "e2ee")["groupKeyId"].(float64)
	if !ok {
		t.Fatalf("no group key: %s", r.stdout)
	}
	return int(id)
}

// A group key whose spec version is 1 is sealed with V1, as the extension does.
func TestLetterSealingV1Group(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	if _, err := e.sim.SetGroupKeyWith(freshMID, daveMID, simgw.GroupKeyOptions{SpecVersion: 1}); err != nil {
		t.Fatal(err)
	}
	r := e.must("", "send", "--to", freshMID, "a V1 group")
	if s := r.first(t, "sent"); s["e2ee"] != true || s["specVersion"] != 1.0 {
		t.Fatalf("sent %v", s)
	}
	if m := e.sim.Messages(); m[0].Metadata["e2eeVersion"] != "1" || m[0].Text != "a V1 group" {
		t.Fatalf("stored %+v", m[0])
	}
}

// allowedTypes without text: the extension sends text plain; --e2ee require
// refuses and sends nothing.
func TestLetterSealingAllowedTypes(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.sim.SetAllowedTypes(daveMID, []int{15})
	wantExit(t, e.run("", "send", "--e2ee", "require", "--to", daveMID, "must be sealed"), 4, "e2ee_required")
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages stored after a refusal", n)
	}
	r := e.must("", "send", "--to", daveMID, "plain, as allowedTypes says")
	if s := r.first(t, "sent"); s["e2ee"] != false {
		t.Fatalf("sent %v", s)
	}
	if m := e.sim.Messages(); len(m) != 1 || len(m[0].Chunks) != 0 {
		t.Fatalf("stored %+v", m)
	}
}

// A key store that cannot be read is refused by receive and send, and kept:
// it may hold the only copy of the account's private keys.
func TestCorruptKeyStoreRefusedAndKept(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	keys := filepath.Join(filepath.Dir(e.config), "e2ee-keys.json")
	garbage := []byte(`{"mid":"u0b0b","own":[{"keyId":10`)
	if err := os.WriteFile(keys, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	e.sim.InjectMessage(daveMID, simgw.BobMID, "plain")
	before := len(e.sim.Messages())
	wantExit(t, e.run("", "receive", "--wait", "200ms"), 2, "config")
	wantExit(t, e.run("", "send", "--to", daveMID, "x"), 2, "config")
	if b, _ := os.ReadFile(keys); string(b) != string(garbage) {
		t.Fatalf("key store replaced: %q", b)
	}
	if len(e.sim.Messages()) != before {
		t.Fatal("something was sent")
	}
}

// logout --forget-device while receive --follow runs: when receive stops it
// must not write the keys back.
func TestForgetDeviceWhileReceiving(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	keys := filepath.Join(filepath.Dir(e.config), "e2ee-keys.json")
	e.must("", "receive", "--wait", "200ms") // the position to follow from
	fw := e.follow(t, "--text-only")
	if _, err := e.sim.RotateKey(daveMID); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.InjectSealed(simgw.SealedInjection{From: daveMID, To: simgw.BobMID, Version: 2, Text: "learn Dave's key"}); err != nil {
		t.Fatal(err)
	}
	if l := fw.next(t); l["text"] != "learn Dave's key" {
		t.Fatalf("got %v", l)
	}
	e.must("", "logout", "--forget-device")
	if _, err := os.Stat(keys); !os.IsNotExist(err) {
		t.Fatal("logout kept the key store")
	}
	fw.stop(t)
	if _, err := os.Stat(keys); !os.IsNotExist(err) {
		t.Fatal("receive wrote the forgotten keys back")
	}
}
