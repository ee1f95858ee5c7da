package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signer"
)

// send's rate comes from config.Keys through the running command's flags:
// --rate, else the file, else the default; no command decides it by hand.
func TestSendRateFromKeys(t *testing.T) {
	dir := t.TempDir()
	withFile := filepath.Join(dir, "a", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(withFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(withFile, []byte("send:\n  ratePerSecond: 2.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "b", "config.yaml")
	for _, k := range config.Keys {
		if k.Env != "" {
			t.Setenv(k.Env, "")
		}
	}
	cases := []struct {
		args []string
		want float64
	}{
		{[]string{"--config", empty}, config.DefaultRate},
		{[]string{"--config", withFile}, 2.5},
		{[]string{"--config", withFile, "--rate", "7"}, 7},
		{[]string{"--config", withFile, "--rate", "0"}, 0},
	}
	for _, tc := range cases {
		f := newFactory(&iostreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
		root := newRootCmd(f)
		send, _, err := root.Find([]string{"send"})
		if err != nil {
			t.Fatal(err)
		}
		var got float64 = -1
		send.RunE = func(*cobra.Command, []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			got = c.Send.RatePerSecond
			return nil
		}
		root.SetArgs(append([]string{"send", "--gateway", "http://127.0.0.1:9"}, tc.args...))
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got != tc.want {
			t.Errorf("%v: rate %v, want %v", tc.args, got, tc.want)
		}
	}
	if d := newCmdSend(newFactory(&iostreams{}), nil).Flags().Lookup("rate").DefValue; d != "10" {
		t.Errorf("send --rate default %s, want the table's 10", d)
	}
}

// internal/signer and internal/agent return typed errors; classify gives
// them the exit codes and kinds the factory used to attach by hand.
func TestSignerAndAgentErrorsClassified(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind string
	}{
		{&signer.Error{Kind: signer.KindNoSigner, Err: errors.New("no module")}, kindNoSigner},
		{fmt.Errorf("open: %w", &signer.Error{Kind: signer.KindConfig, Err: errors.New("bad kind")}), kindConfig},
		{&agent.SocketError{Err: errors.New("lock")}, kindConfig},
	} {
		if c := classify(tc.err); c.code != ExitUsage || c.kind != tc.kind {
			t.Errorf("%v: %d %s, want 2 %s", tc.err, c.code, c.kind, tc.kind)
		}
	}
	if signer.KindNoSigner != kindNoSigner || signer.KindConfig != kindConfig {
		t.Error("signer's kinds are not the exit kinds")
	}
}

// A flag config.Keys binds means that key wherever it is defined: no other
// command may reuse the name for something else (Resolve would bind it).
func TestKeyFlagsAreTheKeys(t *testing.T) {
	want := map[string][]string{"gateway": {"linectl"}, "config": {"linectl"}, "rate": {"linectl send"}}
	got := map[string][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, k := range config.Keys {
			if k.Flag == "" {
				continue
			}
			if c.LocalNonPersistentFlags().Lookup(k.Flag) != nil || c.PersistentFlags().Lookup(k.Flag) != nil {
				got[k.Flag] = append(got[k.Flag], c.CommandPath())
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd(newFactory(&iostreams{})))
	for flag, cmds := range want {
		if strings.Join(got[flag], ",") != strings.Join(cmds, ",") {
			t.Errorf("--%s defined by %v, want %v", flag, got[flag], cmds)
		}
	}
	if len(got) != len(want) {
		t.Errorf("flags of config.Keys: %v", got)
	}
}
