package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUpdateCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "linectl")
	s := &Store{Path: filepath.Join(dir, "config.yaml")}
	if _, err := s.Update(func(c *Config) error { c.Tokens.AccessToken = "tok"; return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %04o, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(dir)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %04o, want 0700", dst.Mode().Perm())
	}
	c, err := s.Load()
	if err != nil || c.Tokens.AccessToken != "tok" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), "config.yaml")}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Update(func(c *Config) error { c.Tokens.TokenIssueTimeEpochSec++; return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Tokens.TokenIssueTimeEpochSec != 20 {
		t.Fatalf("counter = %d, want 20", c.Tokens.TokenIssueTimeEpochSec)
	}
}

func TestWorldReadableWithSecretsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte("tokens:\n  accessToken: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := (&Store{Path: p}).Load()
	if !errors.Is(err, ErrInsecure) {
		t.Fatalf("err = %v, want ErrInsecure", err)
	}
	// Without secrets a readable file is fine (an example config, say).
	if err := os.WriteFile(p, []byte("gateway: http://127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Store{Path: p}).Load(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptConfigKept(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	bad := []byte("tokens: [unclosed\n")
	if err := os.WriteFile(p, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: p}
	if _, err := s.Load(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load err = %v, want ErrCorrupt", err)
	}
	if _, err := s.Update(func(c *Config) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Update err = %v, want ErrCorrupt", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != string(bad) {
		t.Fatal("corrupt config was overwritten")
	}
}

func TestBackupKept(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), "config.yaml")}
	for _, tok := range []string{"one", "two"} {
		if _, err := s.Update(func(c *Config) error { c.Tokens.AccessToken = tok; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(s.Path + ".bak")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "accessToken: one") {
		t.Fatalf("backup holds %q", b)
	}
	st, _ := os.Stat(s.Path + ".bak")
	if st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %04o", st.Mode().Perm())
	}
}

// A misspelt key is reported, not silently ignored (a "gatway:" once looked
// like "not logged in").
func TestUnknownKeysReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte("gatway: http://127.0.0.1:1\nsigner:\n  kind: none\n  comand: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var warned []string
	s := &Store{Path: p, Warn: func(format string, a ...any) { warned = append(warned, fmt.Sprintf(format, a...)) }}
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.UnknownKeys(); len(got) != 2 || got[0] != "gatway" || got[1] != "signer.comand" {
		t.Fatalf("unknown keys %v", got)
	}
	if len(warned) != 2 || !strings.Contains(warned[0], `unknown key "gatway"`) {
		t.Fatalf("warnings %q", warned)
	}
}

// Settings are checked once, file and environment together.
func TestValidate(t *testing.T) {
	good := []Config{{}, {Signer: Signer{Kind: SignerWasm, Agent: AgentOff, AgentIdle: "0"}, GatewayAgent: AgentStart},
		{Signer: Signer{Kind: SignerCommand, AgentIdle: "24h"}, Send: Send{RatePerSecond: 0.5}}}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := []Config{{Signer: Signer{Kind: "wasmm"}}, {Signer: Signer{Agent: "on"}}, {GatewayAgent: "sometimes"},
		{Signer: Signer{AgentIdle: "15"}}, {Signer: Signer{AgentIdle: "-1m"}}, {Signer: Signer{AgentIdle: "25h"}},
		{Send: Send{RatePerSecond: 5000}}}
	for _, c := range bad {
		if err := c.Validate(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if d := (Signer{}).AgentIdleDuration(); d != DefaultAgentIdle {
		t.Errorf("default idle %v", d)
	}
	if d := (Signer{AgentIdle: "2m"}).AgentIdleDuration(); d != 2*time.Minute {
		t.Errorf("idle %v", d)
	}
}
