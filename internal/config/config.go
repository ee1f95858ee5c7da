// Package config holds linectl's configuration file: the gateway, the signer
// settings, and the saved session (MID, certificate, tokens). viper is used
// here and nowhere else; the rest of linectl sees typed structs.
//
// The file holds secrets. It is created 0600 in a 0700 directory, replaced
// atomically (temp file + rename) under an exclusive lock on a sibling lock
// file, and a file other users can read is refused while it holds secrets.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Signer kinds.
const (
	SignerWasm    = "wasm"
	SignerCommand = "command"
	SignerNone    = "none"
)

// Config is the whole file, as typed data.
type Config struct {
	Gateway string  `yaml:"gateway,omitempty" mapstructure:"gateway"`
	Signer  Signer  `yaml:"signer,omitempty" mapstructure:"signer"`
	Account Account `yaml:"account,omitempty" mapstructure:"account"`
	Tokens  Tokens  `yaml:"tokens,omitempty" mapstructure:"tokens"`
	Send    Send    `yaml:"send,omitempty" mapstructure:"send"`

	// GatewayAgent: "auto" (default: send through a running gateway agent),
	// "off" (never), "start" (also start one when none answers).
	GatewayAgent string `yaml:"gatewayAgent,omitempty" mapstructure:"gatewayAgent"`

	unknown []string // keys in the file linectl does not know (a typo: "gatway")
}

// UnknownKeys are the file's keys linectl does not know, sorted; they are
// ignored (and not written back when linectl saves the file).
func (c *Config) UnknownKeys() []string { return c.unknown }

// Signer says how requests get their x-hmac.
type Signer struct {
	Kind    string `yaml:"kind,omitempty" mapstructure:"kind"`       // wasm | command | none
	Command string `yaml:"command,omitempty" mapstructure:"command"` // for kind command
	Dir     string `yaml:"dir,omitempty" mapstructure:"dir"`         // for kind wasm: imported module directory
	// Agent, for kind wasm: "auto" (default: use a running signer agent,
	// start one when none answers) or "off" (always load the module in-process).
	Agent string `yaml:"agent,omitempty" mapstructure:"agent"`
	// AgentIdle is how long an automatically started agent waits for requests before exiting (default 15m).
	AgentIdle string `yaml:"agentIdle,omitempty" mapstructure:"agentIdle"`
}

// Signer and gateway agent modes.
const (
	AgentAuto  = "auto"
	AgentOff   = "off"
	AgentStart = "start" // gatewayAgent only: start one when none answers
)

// Account is the device identity that survives logouts.
type Account struct {
	MID         string `yaml:"mid,omitempty" mapstructure:"mid"`
	Certificate string `yaml:"certificate,omitempty" mapstructure:"certificate"`
	LoginMethod string `yaml:"loginMethod,omitempty" mapstructure:"loginMethod"`
	LoggedInAt  string `yaml:"loggedInAt,omitempty" mapstructure:"loggedInAt"`
}

// Tokens is the saved token set (PROTOCOL.md §5).
type Tokens struct {
	AccessToken               string       `yaml:"accessToken,omitempty" mapstructure:"accessToken"`
	RefreshToken              string       `yaml:"refreshToken,omitempty" mapstructure:"refreshToken"`
	TokenIssueTimeEpochSec    int64        `yaml:"tokenIssueTimeEpochSec,omitempty" mapstructure:"tokenIssueTimeEpochSec"`
	DurationUntilRefreshInSec int64        `yaml:"durationUntilRefreshInSec,omitempty" mapstructure:"durationUntilRefreshInSec"`
	RefreshDue                string       `yaml:"refreshDue,omitempty" mapstructure:"refreshDue"` // RFC 3339, informational
	LoginSessionID            string       `yaml:"loginSessionId,omitempty" mapstructure:"loginSessionId"`
	RetryPolicy               *RetryPolicy `yaml:"refreshApiRetryPolicy,omitempty" mapstructure:"refreshApiRetryPolicy"`
}

// RetryPolicy mirrors lineapi.RetryPolicy.
type RetryPolicy struct {
	InitialDelayInMillis int64   `yaml:"initialDelayInMillis" mapstructure:"initialDelayInMillis"`
	MaxDelayInMillis     int64   `yaml:"maxDelayInMillis" mapstructure:"maxDelayInMillis"`
	Multiplier           float64 `yaml:"multiplier" mapstructure:"multiplier"`
	JitterRate           float64 `yaml:"jitterRate" mapstructure:"jitterRate"`
}

// Send holds sending limits.
type Send struct {
	// RatePerSecond caps sendMessage calls per second: in the file, 0 (or no
	// key) is the default, DefaultRate (10); once resolved (Resolve), 0 is
	// "no limit" (send --rate 0).
	RatePerSecond float64 `yaml:"ratePerSecond,omitempty" mapstructure:"ratePerSecond"`
}

// LoggedIn reports whether an access token is saved.
func (t Tokens) LoggedIn() bool { return t.AccessToken != "" }

// Due returns when the token should be refreshed (zero if unknown).
func (t Tokens) Due() time.Time {
	if t.TokenIssueTimeEpochSec == 0 || t.DurationUntilRefreshInSec == 0 {
		return time.Time{}
	}
	return time.Unix(t.TokenIssueTimeEpochSec+t.DurationUntilRefreshInSec, 0)
}

func (c *Config) hasSecrets() bool {
	return c.Tokens.AccessToken != "" || c.Tokens.RefreshToken != "" || c.Account.Certificate != ""
}

// Errors a caller maps to exit codes.
var (
	// ErrInsecure: the file holds secrets and other users can read it.
	ErrInsecure = errors.New("config file is readable by other users")
	// ErrCorrupt: the file exists but cannot be parsed; it is never overwritten.
	ErrCorrupt = errors.New("config file is not valid")
)

// DefaultPath returns $XDG_CONFIG_HOME/linectl/config.yaml (or the OS's user config dir).
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("cannot find a config directory (set --config or LINECTL_CONFIG): %w", err)
		}
	}
	return filepath.Join(dir, "linectl", "config.yaml"), nil
}

// read parses the file at path. A missing file is an empty Config.
func read(path string) (*Config, error) {
	b, st, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return parse(path, b, st)
}

// parse decodes the contents b of the file at path (nil: it does not exist).
func parse(path string, b []byte, st fs.FileInfo) (*Config, error) {
	var cfg Config
	if b == nil {
		return &cfg, nil
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (fix it or move it away; linectl will not overwrite it)", ErrCorrupt, path, err)
	}
	var md mapstructure.Metadata
	if err := v.Unmarshal(&cfg, func(dc *mapstructure.DecoderConfig) { dc.Metadata = &md }); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (fix it or move it away; linectl will not overwrite it)", ErrCorrupt, path, err)
	}
	sort.Strings(md.Unused)
	cfg.unknown = md.Unused
	if err := checkOnLoad(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.hasSecrets() && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o and holds your LINE session; run: chmod 600 %s",
			ErrInsecure, path, st.Mode().Perm(), path)
	}
	return &cfg, nil
}

// Send rates linectl accepts (per second), in flags and in the file; 0 is
// "no limit" for the flag and "the default" in the file (see Keys).
const (
	MinRate = 0.01
	MaxRate = 1000
)

// DefaultAgentIdle is how long an automatically started agent waits for
// requests before exiting when signer.agentIdle is not set.
const DefaultAgentIdle = 15 * time.Minute

// MaxAgentIdle bounds signer.agentIdle.
const MaxAgentIdle = 24 * time.Hour

// AgentIdleDuration is signer.agentIdle as a duration (DefaultAgentIdle
// when unset); Validate has checked it.
func (s Signer) AgentIdleDuration() time.Duration {
	if d, err := time.ParseDuration(s.AgentIdle); err == nil && s.AgentIdle != "" {
		return d
	}
	return DefaultAgentIdle
}
