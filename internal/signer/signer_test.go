package signer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// Which signer a config gets, and the kind of error when it gets none.
func TestOpen(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cases := []struct {
		name string
		c    config.Config
		want string // "none", "command", or the Error's kind
	}{
		{"none", config.Config{Signer: config.Signer{Kind: config.SignerNone}, Gateway: lineapi.DefaultBaseURL}, "none"},
		{"command", config.Config{Signer: config.Signer{Kind: config.SignerCommand, Command: "my-signer --x"}}, "command"},
		{"command without one", config.Config{Signer: config.Signer{Kind: config.SignerCommand}}, KindConfig},
		{"unset for a simulator", config.Config{Gateway: "http://127.0.0.1:8080"}, "none"},
		{"unset for LINE", config.Config{Gateway: lineapi.DefaultBaseURL}, KindNoSigner},
		{"unset for another host", config.Config{Gateway: "https://example.com"}, KindNoSigner},
		{"unknown kind", config.Config{Signer: config.Signer{Kind: "wasmm"}}, KindConfig},
		{"wasm not imported", config.Config{Signer: config.Signer{Kind: config.SignerWasm, Agent: config.AgentOff}}, KindNoSigner},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := Open(&tc.c, Options{ConfigPath: cfgPath})
			var se *Error
			switch {
			case errors.As(err, &se):
				if se.Kind != tc.want || se.Error() != se.Err.Error() {
					t.Fatalf("error %s %v, want %s", se.Kind, se, tc.want)
				}
				return
			case err != nil:
				t.Fatalf("untyped error %v", err)
			}
			defer o.Close()
			got := ""
			switch o.Signer.(type) {
			case lineapi.NoneSigner:
				got = "none"
			case *lineapi.CommandSigner:
				got = "command"
			}
			if got != tc.want {
				t.Fatalf("got %T, want %s", o.Signer, tc.want)
			}
			if _, ok := PingAgent(t.Context(), o); ok {
				t.Fatal("an agent without one")
			}
		})
	}
}

func TestDirAndMode(t *testing.T) {
	cfg := "/home/u/.config/linectl/config.yaml"
	for _, tc := range []struct{ dir, want string }{
		{"", "/home/u/.config/linectl/signer"},
		{"mods/ltsm", "/home/u/.config/linectl/mods/ltsm"},
		{"/opt/ltsm", "/opt/ltsm"},
	} {
		if got := Dir(&config.Config{Signer: config.Signer{Dir: tc.dir}}, cfg); got != tc.want {
			t.Errorf("Dir(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
	for mode, want := range map[string]string{"": config.AgentAuto, "auto": config.AgentAuto, "off": config.AgentOff} {
		if got := AgentMode(&config.Config{Signer: config.Signer{Agent: mode}}); got != want {
			t.Errorf("AgentMode(%q) = %q", mode, got)
		}
	}
	a := AgentIdentity("/d", wasmsign.Info{WasmSHA256: "x", Token: "t", Version: "3.7.2"})
	if b := AgentIdentity("/d", wasmsign.Info{WasmSHA256: "x", Token: "t", Version: "3.7.3"}); a == b || len(a) != 16 {
		t.Errorf("identities %q %q", a, b)
	}
}

func TestIsLoopbackURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:2": true, "http://127.5.0.1": true,
		"https://line-chrome-gw.line-apps.com": false, "http://10.0.0.1": false, "::bad": false,
	} {
		if got := IsLoopbackURL(raw); got != want {
			t.Errorf("IsLoopbackURL(%q) = %v", raw, got)
		}
	}
}

// An agent is started only when another run loaded the module within the
// idle time; a stamp is left either way, and idle 0 never starts one.
func TestRecentLoad(t *testing.T) {
	stamp := filepath.Join(t.TempDir(), "x.last")
	if recentLoad(stamp, time.Hour) {
		t.Fatal("first load counted as recent")
	}
	if !recentLoad(stamp, time.Hour) {
		t.Fatal("second load within the hour not recent")
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stamp, old, old)
	if recentLoad(stamp, time.Hour) {
		t.Fatal("a load two hours ago counted as recent")
	}
	if recentLoad(stamp, 0) {
		t.Fatal("idle 0 starts an agent")
	}
}
