package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

const (
	daveMID   = "u0da7e000000000000000000000000da7"
	sealedMID = "c5ea1ed000000000000000000000005ea"
	freshMID  = "cf4e5h0000000000000000000000f4e5h"
)

// sealedEnv: Bob (Letter Sealing on) is the phone's account; Dave too; the
// group "Sealed" has a group key made by Dave, "Fresh" has none yet.
func sealedEnv(t *testing.T) *env {
	e := newEnv(t, func(o *simgw.Options) { o.PhoneMID = simgw.BobMID; o.ManualScan = true })
	e.sim.AddAccount(simgw.Account{MID: daveMID, Email: "dave@example.com", Password: "p", DisplayName: "Dave", LetterSealing: true})
	e.sim.AddChat(simgw.Chat{MID: sealedMID, Name: "Sealed", Members: []string{simgw.BobMID, daveMID}})
	e.sim.AddChat(simgw.Chat{MID: freshMID, Name: "Fresh", Members: []string{simgw.BobMID, daveMID}})
	if err := e.sim.SetGroupKey(sealedMID, daveMID); err != nil {
		t.Fatal(err)
	}
	return e
}

// loginQRWithKeys logs in by QR while the phone scans the very URL printed,
// so the simulator wraps the account's key chain for the login key.
func (e *env) loginQRWithKeys() result {
	e.t.Helper()
	cmd := exec.Command(binary, "login", "qr")
	cmd.Env = e.environ()
	out, _ := cmd.StdoutPipe()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var all strings.Builder
	scanned := false
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		var l map[string]any
		_ = json.Unmarshal(sc.Bytes(), &l)
		if l["type"] == "qr" && !scanned {
			scanned = true
			go func(u string) {
				time.Sleep(20 * time.Millisecond)
				if err := e.sim.Scan(u); err != nil {
					e.t.Error(err)
				}
			}(l["url"].(string))
		}
	}
	if err := cmd.Wait(); err != nil {
		e.t.Fatalf("login qr: %v\n%s\n%s", err, all.String(), errb.String())
	}
	return result{stdout: all.String(), stderr: errb.String()}
}

func TestLetterSealingSendRoundTrips(t *testing.T) {
	e := sealedEnv(t)
	r := e.loginQRWithKeys()
	if l := r.first(t, "login"); l["e2eeKeys"] != true || l["mid"] != simgw.BobMID {
		t.Fatalf("login %v", l)
	}
	keys := filepath.Join(filepath.Dir(e.config), "e2ee-keys.json")
	if st, err := os.Stat(keys); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key store: %v %v", st, err)
	}
	texts := map[string]string{daveMID: "to dave 😀", sealedMID: "to the sealed group", freshMID: "to a new group"}
	for _, to := range []string{daveMID, sealedMID, freshMID, freshMID} {
		r := e.must("", "send", "--e2ee", "require", "--to", to, texts[to])
		if s := r.first(t, "sent"); s["e2ee"] != true || s["specVersion"] != 2.0 {
			t.Fatalf("sent %v", s)
		}
	}
	msgs := e.sim.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		// The simulator decrypted each with the recipient's key, using its own crypto.
		if len(m.Chunks) != 5 || m.Metadata["e2eeVersion"] != "2" || m.Text != texts[m.To] {
			t.Fatalf("stored %+v", m)
		}
	}
	if n := count(e.sim.CallNames(), "registerE2EEGroupKey"); n != 1 {
		t.Fatalf("registerE2EEGroupKey called %d times, want once (then cached)", n)
	}
	p := e.must("", "probe-e2ee", daveMID, sealedMID).lines(t)
	if p[0]["usable"] != true || p[0]["peerKeyId"] == nil || p[1]["usable"] != true || p[1]["groupKeyId"] == nil {
		t.Fatalf("probe %v", p)
	}
}

func TestLetterSealingReceive(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	e.must("", "receive", "--wait", "200ms")
	e.must("", "send", "--to", daveMID, "my own sealed send")
	for _, c := range []struct {
		to      string
		version int
		text    string
		fault   simgw.SealFault
	}{
		{simgw.BobMID, 2, "v2 テスト", simgw.SealOK},
		{simgw.BobMID, 1, "v1 message", simgw.SealOK},
		{sealedMID, 2, "group v2", simgw.SealOK},
		{simgw.BobMID, 2, "unknown key", simgw.SealBadKeyID},
		{simgw.BobMID, 2, "tampered", simgw.SealTampered},
	} {
		if err := e.sim.InjectSealedMessage(daveMID, c.to, c.version, c.text, c.fault); err != nil {
			t.Fatal(err)
		}
	}
	r := e.must("", "receive", "--wait", "300ms", "--text-only")
	lines := r.lines(t)
	want := []string{"my own sealed send", "v2 テスト", "v1 message", "group v2"}
	if len(lines) != 6 {
		t.Fatalf("%d lines:\n%s\n%s", len(lines), r.stdout, r.stderr)
	}
	for i, w := range want {
		if lines[i]["text"] != w || lines[i]["e2ee"] != true || lines[i]["decrypted"] != true {
			t.Fatalf("line %d = %v, want %q", i, lines[i], w)
		}
	}
	for _, l := range lines[4:] {
		if l["decrypted"] != false || l["decryptError"] == "" || l["text"] != nil {
			t.Fatalf("undecryptable message: %v", l)
		}
	}
	if !strings.Contains(lines[5]["decryptError"].(string), "authentication failed") {
		t.Fatalf("tampered: %v", lines[5])
	}
	e.must("", "logout", "--forget-device")
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.config), "e2ee-keys.json")); !os.IsNotExist(err) {
		t.Fatal("key store kept after --forget-device")
	}
}

// The Letter Sealing password login: type 2 with a client PIN; the person
// types the PIN on the phone; LF1 brings the key chain; confirmE2EELogin.
func TestLetterSealingPasswordLogin(t *testing.T) {
	e := sealedEnv(t)
	cmd := exec.Command(binary, "login", "password", "--email", simgw.BobEmail, "--password-stdin")
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(simgw.DemoPassword + "\n")
	out, _ := cmd.StdoutPipe()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var login map[string]any
	for sc.Scan() {
		var l map[string]any
		_ = json.Unmarshal(sc.Bytes(), &l)
		switch l["type"] {
		case "pin":
			pin := l["pin"].(string)
			if len(pin) != 6 {
				t.Errorf("client PIN %q", pin)
			}
			go func() {
				time.Sleep(20 * time.Millisecond)
				if err := e.sim.ConfirmPIN(pin); err != nil {
					t.Error(err)
				}
			}()
		case "login":
			login = l
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v\n%s", err, errb.String())
	}
	if login["e2eeKeys"] != true || login["mid"] != simgw.BobMID {
		t.Fatalf("login %v", login)
	}
	calls := strings.Join(e.sim.CallNames(), " ")
	if !strings.Contains(calls, "long-polling/LF1 confirmE2EELogin loginV2") {
		t.Fatalf("calls %s", calls)
	}
	r := e.must("", "send", "--e2ee", "require", "--to", daveMID, "sealed after a password login")
	if r.first(t, "sent")["e2ee"] != true || e.sim.Messages()[0].Text != "sealed after a password login" {
		t.Fatalf("send %s", r.stdout)
	}
}

// Named recovery paths: LINE says a key changed (84) or asks for a new group
// key (99): linectl refreshes its keys and seals again, once, same reqSeq.
// And a peer whose app speaks spec version 1 gets a V1 message.
func TestLetterSealingKeyChangesAndV1(t *testing.T) {
	e := sealedEnv(t)
	eve := "u0e7e000000000000000000000000e7e0"
	e.sim.AddAccount(simgw.Account{MID: eve, Email: "eve@example.com", Password: "p", DisplayName: "Eve", LetterSealing: true, SpecVersion: 1})
	e.loginQRWithKeys()

	e.sim.FailTalk("sendMessage", simgw.FaultTalk, 84, "receiver key changed", 1)
	r := e.must("", "send", "--to", daveMID, "after 84")
	s := r.first(t, "sent")
	e.sim.FailTalk("sendMessage", simgw.FaultTalk, 99, "E2EE_RECREATE_GROUP_KEY", 1)
	r2 := e.must("", "send", "--to", sealedMID, "after 99")
	if n := count(e.sim.CallNames(), "registerE2EEGroupKey"); n != 1 {
		t.Fatalf("after 99: %d group key registrations, want 1", n)
	}
	r3 := e.must("", "send", "--to", eve, "v1 please")
	if v := r3.first(t, "sent")["specVersion"]; v != 1.0 {
		t.Fatalf("spec version %v, want 1", v)
	}
	msgs := e.sim.Messages()
	if len(msgs) != 3 || msgs[0].Text != "after 84" || msgs[1].Text != "after 99" || msgs[2].Text != "v1 please" || msgs[2].Metadata["e2eeVersion"] != "1" {
		t.Fatalf("stored %+v", msgs)
	}
	if float64(msgs[0].ReqSeq) != s["reqSeq"] || float64(msgs[1].ReqSeq) != r2.first(t, "sent")["reqSeq"] {
		t.Fatal("the resealed send did not keep its reqSeq")
	}
}
