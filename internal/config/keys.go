package config

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Key is one setting: its place in the file, its environment variable, the
// command-line flag that sets it, its default and the values it accepts.
// Keys is the one list of them; Resolve registers it with viper, which
// decides what wins (flag > environment > file > default), and
// docs/configuration.md documents each row (a test holds the two together).
type Key struct {
	// Name is the key's dotted path in config.yaml and in Config's
	// mapstructure tags ("signer.agent"); "" for a setting not in the file.
	Name string
	// Env is its environment variable, "" for none.
	Env string
	// Flag is the command-line flag bound to it, on the commands that define
	// one (Resolve binds it when the running command has it), "" for none.
	Flag string
	// Default is its value when nothing sets it (nil: the zero value).
	Default any
	// Check, when set, accepts or refuses the resolved value; its error says
	// what is wanted ("auto or off").
	Check func(c *Config) (value any, err error)
	// OnLoad: the file's value is also checked when the file is read (a value
	// that must never be saved or used: it makes the file not valid).
	OnLoad bool
}

// DefaultRate is send.ratePerSecond's default: sendMessage calls per second
// (send --rate, notify serve). docs/configuration.md, configs/config.example.yaml
// and send --help say 10; a test holds them to this constant.
const DefaultRate = 10.0

// Keys is every setting linectl reads. Adding one: a row here, the field in
// Config (config.go), a line in docs/configuration.md.
var Keys = []Key{
	{Name: "gateway", Env: "LINECTL_GATEWAY", Flag: "gateway", Default: lineapi.DefaultBaseURL},
	{Name: "signer.kind", Env: "LINECTL_SIGNER",
		Check: func(c *Config) (any, error) {
			return c.Signer.Kind, oneOf(c.Signer.Kind, "", SignerWasm, SignerCommand, SignerNone)
		}},
	{Name: "signer.command", Env: "LINECTL_SIGNER_COMMAND"},
	{Name: "signer.dir"},
	{Name: "signer.agent", Env: "LINECTL_SIGNER_AGENT", Default: AgentAuto,
		Check: func(c *Config) (any, error) { return c.Signer.Agent, oneOf(c.Signer.Agent, "", AgentAuto, AgentOff) }},
	{Name: "signer.agentIdle", Default: DefaultAgentIdle.String(),
		Check: func(c *Config) (any, error) {
			if c.Signer.AgentIdle == "" {
				return "", nil
			}
			d, err := time.ParseDuration(c.Signer.AgentIdle)
			if err != nil || d < 0 || d > MaxAgentIdle {
				return c.Signer.AgentIdle, fmt.Errorf("a duration like 15m, from 0 (never idle out) to %v", MaxAgentIdle)
			}
			return nil, nil
		}},
	{Name: "gatewayAgent", Env: "LINECTL_GATEWAY_AGENT", Default: AgentAuto,
		Check: func(c *Config) (any, error) {
			return c.GatewayAgent, oneOf(c.GatewayAgent, "", AgentAuto, AgentStart, AgentOff)
		}},
	// The flag's 0 is "no limit"; the file's 0 (or no key) is the default.
	{Name: "send.ratePerSecond", Flag: "rate", Default: DefaultRate, OnLoad: true,
		Check: func(c *Config) (any, error) {
			if r := c.Send.RatePerSecond; r != 0 && !(r >= MinRate && r <= MaxRate) {
				return r, fmt.Errorf("0 or %v to %v", MinRate, MaxRate)
			}
			return nil, nil
		}},
	// Where the file is: not a key in it.
	{Env: "LINECTL_CONFIG", Flag: "config"},
}

// oneOf accepts v if it is one of want ("" is the unset value; it is not named).
func oneOf(v string, want ...string) error {
	if slices.Contains(want, v) {
		return nil
	}
	var named []string
	for _, w := range want {
		if w != "" {
			named = append(named, w)
		}
	}
	return fmt.Errorf("%s or %s", strings.Join(named[:len(named)-1], ", "), named[len(named)-1])
}

// Validate checks the settings' values once, after the file, the environment
// and the flags are laid together, so that the commands can use them as they
// are: known enums, durations that parse and are in range. An error wraps
// ErrCorrupt (exit 2, kind config) and names the setting and where it can
// come from.
func (c *Config) Validate() error {
	for _, k := range Keys {
		if err := k.check(c); err != nil {
			return err
		}
	}
	return nil
}

func (k Key) check(c *Config) error {
	if k.Check == nil {
		return nil
	}
	v, err := k.Check(c)
	if err == nil {
		return nil
	}
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		v = fmt.Sprint(f)
	}
	return fmt.Errorf("%w: %s %q (%s): want %v", ErrCorrupt, k.Name, fmt.Sprint(v), k.sources(), err)
}

// sources says where the key's value can come from, for messages.
func (k Key) sources() string {
	where := []string{"file"}
	if k.Env != "" {
		where = append(where, k.Env)
	}
	if k.Flag != "" {
		where = append(where, "--"+k.Flag)
	}
	return strings.Join(where, ", ")
}

// checkOnLoad checks the file's values of the keys marked OnLoad.
func checkOnLoad(c *Config) error {
	for _, k := range Keys {
		if k.OnLoad {
			if err := k.check(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Resolve lays the environment and the running command's flags (nil: none)
// over the file's settings, fills in the defaults and validates the result:
// the settings a command uses. viper decides what wins — a flag the user
// gave, then the environment, then the file, then the default. The file's
// own Config is left as it is (Store.Update saves the file, never this).
func Resolve(file *Config, flags *pflag.FlagSet) (*Config, error) {
	v, err := settings(file, flags)
	if err != nil {
		return nil, err
	}
	out := *file
	if err := v.Unmarshal(&out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	// A signer command from the environment means "use it", unless the
	// environment also names the kind.
	if os.Getenv("LINECTL_SIGNER_COMMAND") != "" && os.Getenv("LINECTL_SIGNER") == "" {
		out.Signer.Kind = SignerCommand
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

// Path is where the config file is: --config, LINECTL_CONFIG, else DefaultPath.
func Path(flags *pflag.FlagSet) (string, error) {
	v, err := settings(&Config{}, flags)
	if err != nil {
		return "", err
	}
	if p := v.GetString(pathKey); p != "" {
		return p, nil
	}
	return DefaultPath()
}

// pathKey is the viper name of the one setting not in the file.
const pathKey = "configPath"

// settings is a viper instance with Keys registered: defaults, environment
// variables, the flags of flags that Keys names, and file's values as the
// config layer (only the values it sets: yaml's omitempty leaves the rest out).
func settings(file *Config, flags *pflag.FlagSet) (*viper.Viper, error) {
	v := viper.New()
	for _, k := range Keys {
		name := k.Name
		if name == "" {
			name = pathKey
		}
		if k.Default != nil {
			v.SetDefault(name, k.Default)
		}
		if k.Env != "" {
			if err := v.BindEnv(name, k.Env); err != nil {
				return nil, err
			}
		}
		if k.Flag != "" && flags != nil {
			// An empty flag is unset, as an empty variable is (--gateway "").
			if fl := flags.Lookup(k.Flag); fl != nil && fl.Value.String() != "" {
				if err := v.BindPFlag(name, fl); err != nil {
					return nil, err
				}
			}
		}
	}
	b, err := yaml.Marshal(file)
	if err != nil {
		return nil, err
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return v, nil
}
