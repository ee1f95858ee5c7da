package lineapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
	"github.com/linectl/linectl/pkg/lineapi"
)

// A Letter Sealing password login with the library alone: the client's PIN
// is shown, confirmed on the (simulated) phone, LF1 brings the key chain,
// confirmE2EELogin answers it, and the session unwraps the account's keys.
func TestLetterSealingPasswordLogin(t *testing.T) {
	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond, PhoneMID: simgw.BobMID, ManualScan: true})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	anon, _ := lineapi.New(url)
	var shown string
	ls := &lineapi.LetterSealingLogin{}
	s, err := anon.LoginWithPassword(context.Background(), lineapi.PasswordLogin{
		Email: simgw.BobEmail, Password: simgw.DemoPassword, E2EE: ls,
		Events: lineapi.LoginEvents{PIN: func(pin string) {
			shown = pin
			go func() { _ = sim.ConfirmPIN(pin) }()
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(shown) != 6 || s.MID != simgw.BobMID || s.LoginKey == nil || s.LoginKey != ls.LoginKey() {
		t.Fatalf("pin %q, session %s, login key %v", shown, s.MID, s.LoginKey != nil)
	}
	if calls := strings.Join(sim.CallNames(), " "); !strings.Contains(calls, "long-polling/LF1 confirmE2EELogin loginV2") {
		t.Fatalf("calls %s", calls)
	}
	keys, err := s.LetterSealingKeys()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %d, %v", len(keys), err)
	}

	// A key chain that is not base64, or not for this login key.
	bad := *s
	bad.E2EE = &lineapi.E2EEMetadata{PublicKey: s.E2EE.PublicKey, EncryptedKeyChain: "%%"}
	var kce *lineapi.KeyChainError
	if _, err := bad.LetterSealingKeys(); !errors.As(err, &kce) || !kce.Malformed {
		t.Fatalf("malformed chain: %v", err)
	}
	bad.E2EE = &lineapi.E2EEMetadata{PublicKey: s.E2EE.PublicKey, EncryptedKeyChain: base64.StdEncoding.EncodeToString(make([]byte, 48))}
	if _, err := bad.LetterSealingKeys(); !errors.As(err, &kce) || kce.Malformed {
		t.Fatalf("foreign chain: %v", err)
	}
}

// A plain login brings no key chain.
func TestLetterSealingKeysNone(t *testing.T) {
	_, _, s := carolSession(t, simgw.Options{})
	if _, err := s.LetterSealingKeys(); !errors.Is(err, lineapi.ErrNoKeyChain) {
		t.Fatalf("plain login: %v", err)
	}
	if _, err := (&lineapi.LetterSealingLogin{}).Finish(&lineapi.E2EEMetadata{PublicKey: "a", EncryptedKeyChain: "b"}); err == nil {
		t.Fatal("Finish before Begin")
	}
}
