package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

func count(names []string, want string) int {
	n := 0
	for _, c := range names {
		if c == want {
			n++
		}
	}
	return n
}

func TestTokenDueIsRefreshedBeforeTheCall(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.RefreshAfter = time.Second })
	e.loginQR()
	before := e.accessToken()
	time.Sleep(1100 * time.Millisecond) // the token's refresh time passes (by the client's clock)
	e.must("", "whoami")
	calls := e.sim.CallNames()
	i := strings.Index(strings.Join(calls, " "), "tokenRefresh getProfile")
	if i < 0 || count(calls, "tokenRefresh") != 1 {
		t.Fatalf("calls %v", calls)
	}
	if after := e.accessToken(); after == before || after == "" {
		t.Fatal("access token not replaced in the config")
	}
}

func TestExpiredTokenMidCallRefreshedAndRetried(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.ExpireTokens()
	e.must("", "send", "--to", simgw.FamilyMID, "after expiry")
	calls := e.sim.CallNames()
	if count(calls, "tokenRefresh") != 1 || len(e.sim.Messages()) != 1 {
		t.Fatalf("calls %v", calls)
	}
}

func TestTwentyProcessesOneRefresh(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.ExpireTokens()
	var wg sync.WaitGroup
	res := make([]result, 20)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = e.run("", "send", "--to", simgw.FamilyMID, fmt.Sprintf("n%d", i))
		}()
	}
	wg.Wait()
	for _, r := range res {
		wantExit(t, r, 0, "")
	}
	if n := count(e.sim.CallNames(), "tokenRefresh"); n != 1 {
		t.Fatalf("%d refreshes, want exactly 1", n)
	}
	seen := map[string]bool{}
	for _, m := range e.sim.Messages() {
		if seen[m.Text] {
			t.Fatalf("%q sent twice", m.Text)
		}
		seen[m.Text] = true
	}
	if len(seen) != 20 {
		t.Fatalf("%d messages", len(seen))
	}
}

func TestKickedOutSession(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.Kick(simgw.AliceMID)
	r := e.run("", "send", "--to", simgw.FamilyMID, "x")
	wantExit(t, r, 3, "session_ended")
	if !strings.Contains(r.stderr, "another Chrome-extension session") || !strings.Contains(r.stderr, "linectl login") {
		t.Fatalf("stderr %s", r.stderr)
	}
	cfg := e.configText()
	if strings.Contains(cfg, "accessToken") || !strings.Contains(cfg, "certificate:") {
		t.Fatalf("config after kick:\n%s", cfg)
	}
	wantExit(t, e.run("", "whoami"), 3, "login_required")
}

func TestRetryRequiredThenSuccess(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.sim.ExpireTokens()
	e.sim.RefreshRetryRequired(2)
	e.must("", "whoami")
	if n := count(e.sim.CallNames(), "tokenRefresh"); n != 3 {
		t.Fatalf("%d tokenRefresh calls, want 3", n)
	}
	e.must("", "session", "refresh")
}

func TestConfigHygiene(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "session", "refresh") // a second write: the first version goes to .bak
	if err := os.Chmod(e.config, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "whoami")
	wantExit(t, r, 2, "config")
	if !strings.Contains(r.stderr, "chmod 600") {
		t.Fatalf("stderr %s", r.stderr)
	}
	os.Chmod(e.config, 0o600)
	if err := os.WriteFile(e.config, []byte("tokens: [broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantExit(t, e.run("", "whoami"), 2, "config")
	wantExit(t, e.run("", "login", "qr"), 2, "config")
	if e.configText() != "tokens: [broken\n" {
		t.Fatal("corrupt config overwritten")
	}
	if _, err := os.Stat(e.config + ".bak"); err != nil {
		t.Fatal("no backup of the last good config")
	}
}

// A month of hourly cron sends with the simulator's clock moving on: every
// message goes out once and the session is still alive at the end.
func TestSimulatedMonthOfCron(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	e := newEnv(t)
	e.loginQR()
	for h := 0; h < 30*24; h++ {
		e.sim.Advance(time.Hour)
		e.must("", "send", "--to", simgw.FamilyMID, fmt.Sprintf("hour %d", h))
	}
	if n := len(e.sim.Messages()); n != 720 {
		t.Fatalf("%d messages", n)
	}
	e.must("", "whoami")
	if n := count(e.sim.CallNames(), "tokenRefresh"); n < 4 {
		t.Fatalf("%d refreshes in 30 days of 7-day tokens", n)
	}
}
