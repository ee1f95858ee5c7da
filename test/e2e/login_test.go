package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

func TestPasswordLoginWithPINThenCertificate(t *testing.T) {
	e := newEnv(t)
	r := e.must(simgw.DemoPassword+"\n", "login", "password", "--email", simgw.AliceEmail, "--password-stdin")
	pin := r.first(t, "pin")
	if len(pin["pin"].(string)) == 0 {
		t.Fatal("empty PIN")
	}
	l := r.first(t, "login")
	if l["mid"] != simgw.AliceMID || l["method"] != "password" || l["usedCertificate"] != false {
		t.Fatalf("login line %v", l)
	}
	st, err := os.Stat(e.config)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, %v", st.Mode().Perm(), err)
	}
	dir, _ := os.Stat(strings.TrimSuffix(e.config, "/config.yaml"))
	if dir.Mode().Perm() != 0o700 {
		t.Fatalf("config dir mode %v", dir.Mode().Perm())
	}
	e.must("", "logout")
	// The certificate survives logout: the next login needs no PIN.
	r = e.must(simgw.DemoPassword+"\n", "login", "password", "--email", simgw.AliceEmail, "--password-stdin")
	if l := r.first(t, "login"); l["usedCertificate"] != true {
		t.Fatalf("second login %v", l)
	}
	for _, l := range r.lines(t) {
		if l["type"] == "pin" {
			t.Fatal("a PIN was shown although the certificate was saved")
		}
	}
}

// The extension's order: the Letter Sealing attempt (type 2) is refused with
// 89 for an account with Letter Sealing off, and a plain login follows with a
// fresh RSA key.
func TestPasswordLoginFallsBackOn89(t *testing.T) {
	e := newEnv(t)
	e.must(simgw.DemoPassword+"\n", "login", "password", "--email", simgw.AliceEmail, "--password-stdin")
	var types []int
	var keys []string
	for _, c := range e.sim.Calls() {
		switch c.Method {
		case "getRSAKeyInfo":
			keys = append(keys, c.Method)
		case "loginV2":
			var args []struct {
				Type       int    `json:"type"`
				Identifier string `json:"identifier"`
			}
			if err := json.Unmarshal([]byte(c.Body), &args); err != nil {
				t.Fatal(err)
			}
			types = append(types, args[0].Type)
		}
	}
	if len(types) != 3 || types[0] != 2 || types[1] != 0 || types[2] != 1 {
		t.Fatalf("loginV2 types %v, want [2 0 1]", types)
	}
	if len(keys) != 2 {
		t.Fatalf("%d RSA keys fetched, want a fresh one per attempt (2)", len(keys))
	}
}

func TestWrongPasswordIsRejected(t *testing.T) {
	e := newEnv(t)
	r := e.run("not-the-password\n", "login", "password", "--email", simgw.AliceEmail, "--password-stdin", "--no-e2ee")
	wantExit(t, r, 4, "wrong_credentials")
	if strings.Contains(r.stderr, "not-the-password") || !strings.Contains(r.stderr, "wrong email or password") {
		t.Fatalf("stderr: %s", r.stderr)
	}
	// The human line speaks the user's words; LINE's code stays in the JSON line.
	human := strings.SplitN(r.stderr, "\n", 2)[0]
	if human != "linectl: login: wrong email or password" || !strings.Contains(r.stderr, `"code":18`) {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

// A phone that never scans is a login that timed out (exit 3: log in again,
// with someone at the phone), not a network error a script would retry.
func TestQRNotScannedInTime(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.ManualScan = true })
	r := e.run("", "login", "qr", "--wait", "2s")
	wantExit(t, r, 3, "login_timeout")
	if !strings.Contains(r.stderr, "not scanned") || !strings.Contains(r.stderr, "within --wait 2s") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

func TestPasswordNeverFromArgv(t *testing.T) {
	e := newEnv(t)
	r := e.run("", "login", "password", "--email", simgw.AliceEmail, "--password", "x")
	wantExit(t, r, 2, "usage")
	r = e.run("", "login", "password", "--email", simgw.AliceEmail) // no TTY, no stdin flag, no env
	wantExit(t, r, 2, "usage")
}

func TestQRLoginWithPINThenCertificate(t *testing.T) {
	e := newEnv(t)
	r := e.must("", "login", "qr")
	qr := r.first(t, "qr")["url"].(string)
	if !strings.HasPrefix(qr, "https://line.me/R/au/lgn/sq/") || !strings.Contains(qr, "?secret=") || !strings.HasSuffix(qr, "&e2eeVersion=1") {
		t.Fatalf("QR URL %q", qr)
	}
	r.first(t, "pin")
	if l := r.first(t, "login"); l["method"] != "qr" || l["usedCertificate"] != false {
		t.Fatalf("login %v", l)
	}
	e.must("", "logout")
	r = e.must("", "login", "qr")
	if l := r.first(t, "login"); l["usedCertificate"] != true {
		t.Fatalf("second QR login %v", l)
	}
	calls := strings.Join(e.sim.CallNames(), " ")
	if strings.Count(calls, "verifyCertificate") != 2 || strings.Count(calls, "createPinCode") != 1 {
		t.Fatalf("calls: %s", calls)
	}
}

func TestQRLoginSurvivesAnExpiredFirstWindow(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.PhoneDelay = 200 * time.Millisecond })
	e.sim.ExpireWindows(1)
	r := e.must("", "login", "qr")
	r.first(t, "login")
	if n := strings.Count(strings.Join(e.sim.CallNames(), " "), "checkQrCodeVerified"); n != 2 {
		t.Fatalf("checkQrCodeVerified called %d times, want 2", n)
	}
}

func TestQRLoginWithManualPhoneThroughAdminEndpoint(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.PhoneDelay = -1 })
	done := make(chan result, 1)
	go func() { done <- e.run("", "login", "qr", "--wait", "20s") }()
	// Scan the very URL the client printed, as a phone would: the simulator
	// checks its secret and e2eeVersion.
	waitFor(t, func() bool { return strings.Contains(strings.Join(e.sim.CallNames(), " "), "checkQrCodeVerified") })
	if err := e.sim.Scan(""); err != nil {
		t.Fatal(err)
	}
	var pin string
	waitFor(t, func() bool { pin = e.sim.PendingPIN(); return pin != "" })
	if err := e.sim.ConfirmPIN(pin); err != nil {
		t.Fatal(err)
	}
	r := <-done
	wantExit(t, r, 0, "")
	if r.first(t, "pin")["pin"] != pin {
		t.Fatal("printed PIN differs from the one the phone saw")
	}
}

func TestNoSessionGatewayDownBadSignature(t *testing.T) {
	e := newEnv(t)
	wantExit(t, e.run("", "whoami"), 3, "login_required")
	wantExit(t, e.run("", "logout"), 3, "login_required")
	wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, "hi"), 3, "login_required")

	e.loginQR()
	down := *e
	down.url = "http://127.0.0.1:1"
	wantExit(t, down.run("", "whoami"), 5, "network")

	bad := *e
	bad.extra = []string{"LINECTL_SIGNER_COMMAND=" + binary + " sandbox signer --key wrong-key"}
	wantExit(t, bad.run("", "whoami"), 4, "bad_signature")
}

func TestLogoutKeepsCertificateForgetDeviceRemovesIt(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	r := e.must("", "logout")
	if l := r.first(t, "logout"); l["remote"] != true {
		t.Fatalf("logout %v", l)
	}
	cfg := e.configText()
	if strings.Contains(cfg, "accessToken") || !strings.Contains(cfg, "certificate:") {
		t.Fatalf("config after logout:\n%s", cfg)
	}
	wantExit(t, e.run("", "logout"), 3, "login_required")
	e.loginQR()
	e.must("", "logout", "--forget-device")
	if strings.Contains(e.configText(), "certificate:") {
		t.Fatal("certificate kept after --forget-device")
	}
}

func TestNoSecretInOutputOrDebugLog(t *testing.T) {
	e := newEnv(t)
	r1 := e.must(simgw.DemoPassword+"\n", "--debug", "login", "password", "--email", simgw.AliceEmail, "--password-stdin")
	r2 := e.must("", "--debug", "whoami")
	r3 := e.must("", "--debug", "send", "--to", simgw.FamilyMID, "hi")
	secrets := append(e.secrets(), simgw.DemoPassword)
	assertNoSecrets(t, secrets, r1.stdout, r1.stderr, r2.stdout, r2.stderr, r3.stdout, r3.stderr)
	if !strings.Contains(r2.stderr, "debug: > POST /api/talk/thrift/Talk/TalkService/getProfile") {
		t.Fatalf("debug log missing:\n%s", r2.stderr)
	}
}
