package config

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/linectl/linectl/pkg/lineapi"
)

// clearEnv unsets every variable of Keys for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range Keys {
		if k.Env != "" {
			t.Setenv(k.Env, "")
			os.Unsetenv(k.Env)
		}
	}
}

// What wins is decided once, by the table: a flag given, then the
// environment, then the file, then the default.
func TestResolvePrecedence(t *testing.T) {
	file := &Config{Gateway: "http://127.0.0.1:1", Signer: Signer{Agent: AgentOff}, Send: Send{RatePerSecond: 2.5},
		Tokens: Tokens{AccessToken: "kept"}}
	cases := []struct {
		name  string
		file  *Config
		env   map[string]string
		flags []string
		check func(c *Config) bool
	}{
		{"defaults", &Config{}, nil, nil, func(c *Config) bool {
			return c.Gateway == lineapi.DefaultBaseURL && c.Signer.Agent == AgentAuto && c.GatewayAgent == AgentAuto &&
				c.Signer.AgentIdle == "15m0s" && c.Send.RatePerSecond == DefaultRate && c.Signer.Kind == ""
		}},
		{"file", file, nil, nil, func(c *Config) bool {
			return c.Gateway == "http://127.0.0.1:1" && c.Signer.Agent == AgentOff && c.Send.RatePerSecond == 2.5 &&
				c.Tokens.AccessToken == "kept"
		}},
		{"env over file", file, map[string]string{"LINECTL_GATEWAY": "http://127.0.0.1:2", "LINECTL_SIGNER_AGENT": "auto"}, nil,
			func(c *Config) bool { return c.Gateway == "http://127.0.0.1:2" && c.Signer.Agent == AgentAuto }},
		{"flag over env", file, map[string]string{"LINECTL_GATEWAY": "http://127.0.0.1:2"}, []string{"--gateway", "http://127.0.0.1:3", "--rate", "0"},
			func(c *Config) bool { return c.Gateway == "http://127.0.0.1:3" && c.Send.RatePerSecond == 0 }},
		{"empty flag is unset", file, map[string]string{"LINECTL_SIGNER_AGENT": ""}, []string{"--gateway", ""}, func(c *Config) bool {
			return c.Gateway == "http://127.0.0.1:1" && c.Signer.Agent == AgentOff // as an empty variable is
		}},
		{"signer command implies kind", &Config{Signer: Signer{Kind: SignerWasm}}, map[string]string{"LINECTL_SIGNER_COMMAND": "sign"}, nil,
			func(c *Config) bool { return c.Signer.Kind == SignerCommand && c.Signer.Command == "sign" }},
		{"kind from env wins", &Config{}, map[string]string{"LINECTL_SIGNER_COMMAND": "sign", "LINECTL_SIGNER": "none"}, nil,
			func(c *Config) bool { return c.Signer.Kind == SignerNone }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			fs.String("gateway", "", "")
			fs.Float64("rate", DefaultRate, "")
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			before := *tc.file
			c, err := Resolve(tc.file, fs)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("resolved %+v", *c)
			}
			if tc.file.Gateway != before.Gateway || tc.file.Signer != before.Signer || tc.file.Send != before.Send {
				t.Errorf("the file's config changed: %+v", *tc.file)
			}
		})
	}
}

// A bad value is refused whatever its source, naming the key.
func TestResolveRefuses(t *testing.T) {
	cases := []struct {
		file *Config
		env  map[string]string
		want string
	}{
		{&Config{Signer: Signer{Kind: "wasmm"}}, nil, "signer.kind"},
		{&Config{}, map[string]string{"LINECTL_SIGNER": "wasmm"}, "LINECTL_SIGNER"},
		{&Config{}, map[string]string{"LINECTL_GATEWAY_AGENT": "sometimes"}, "want auto, start or off"},
		{&Config{Signer: Signer{AgentIdle: "25h"}}, nil, "signer.agentIdle"},
		{&Config{Send: Send{RatePerSecond: 5000}}, nil, "send.ratePerSecond"},
	}
	for _, tc := range cases {
		clearEnv(t)
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		_, err := Resolve(tc.file, nil)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v %v: %v", tc.file, tc.env, err)
		}
	}
}

func TestPath(t *testing.T) {
	clearEnv(t)
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if p, _ := Path(nil); p != "/xdg/linectl/config.yaml" {
		t.Errorf("default %q", p)
	}
	t.Setenv("LINECTL_CONFIG", "/env.yaml")
	if p, _ := Path(nil); p != "/env.yaml" {
		t.Errorf("env %q", p)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("config", "", "")
	_ = fs.Parse([]string{"--config", "/flag.yaml"})
	if p, _ := Path(fs); p != "/flag.yaml" {
		t.Errorf("flag %q", p)
	}
}

// Every key of the table is documented, with its variable; the send rate's
// default is the one the docs and the example config state (10: send --help,
// notify.md and the cookbook say so too; a comment here once said 5).
func TestKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys {
		if k.Name != "" && !strings.Contains(string(doc), "| `"+k.Name+"` |") {
			t.Errorf("docs/configuration.md has no row for %s", k.Name)
		}
		if k.Env != "" && !strings.Contains(string(doc), "`"+k.Env+"`") {
			t.Errorf("docs/configuration.md does not name %s", k.Env)
		}
	}
	if DefaultRate != 10 {
		t.Errorf("DefaultRate %v; the docs say 10", DefaultRate)
	}
	if !regexp.MustCompile("\\| `send.ratePerSecond` \\|[^|]*\\|[^|]*\\| `10` \\|").Match(doc) {
		t.Error("docs/configuration.md: send.ratePerSecond's default is not 10")
	}
	ex, err := os.ReadFile("../../configs/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ex), "(default 10)") || !strings.Contains(string(ex), "ratePerSecond: 10\n") {
		t.Error("configs/config.example.yaml: send.ratePerSecond's default is not 10")
	}
}
