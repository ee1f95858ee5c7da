package config

import (
	"fmt"
	"time"
)

// DefaultAgentIdle is how long an automatically started agent waits for
// requests before exiting when signer.agentIdle is not set.
const DefaultAgentIdle = 15 * time.Minute

// MaxAgentIdle bounds signer.agentIdle.
const MaxAgentIdle = 24 * time.Hour

// Validate checks the settings' values once, after the file and the
// environment are laid together, so that the commands can use them as they
// are: known enums, durations that parse and are in range. An error wraps
// ErrCorrupt (exit 2, kind config) and names the setting and its
// environment variable.
func (c *Config) Validate() error {
	bad := func(key, env, val, want string) error {
		return fmt.Errorf("%w: %s %q (file or %s): want %s", ErrCorrupt, key, val, env, want)
	}
	switch c.Signer.Kind {
	case "", SignerWasm, SignerCommand, SignerNone:
	default:
		return bad("signer.kind", "LINECTL_SIGNER", c.Signer.Kind, "wasm, command or none")
	}
	switch c.Signer.Agent {
	case "", AgentAuto, AgentOff:
	default:
		return bad("signer.agent", "LINECTL_SIGNER_AGENT", c.Signer.Agent, "auto or off")
	}
	switch c.GatewayAgent {
	case "", AgentAuto, AgentOff, AgentStart:
	default:
		return bad("gatewayAgent", "LINECTL_GATEWAY_AGENT", c.GatewayAgent, "auto, start or off")
	}
	if c.Signer.AgentIdle != "" {
		d, err := time.ParseDuration(c.Signer.AgentIdle)
		if err != nil || d < 0 || d > MaxAgentIdle {
			return bad("signer.agentIdle", "the file only", c.Signer.AgentIdle, "a duration like 15m, from 0 (never idle out) to 24h")
		}
	}
	if r := c.Send.RatePerSecond; r != 0 && !(r >= MinRate && r <= MaxRate) {
		return fmt.Errorf("%w: send.ratePerSecond is %v; use 0 (the default) or %v to %v", ErrCorrupt, r, MinRate, MaxRate)
	}
	return nil
}

// AgentIdleDuration is signer.agentIdle as a duration (DefaultAgentIdle
// when unset); Validate has checked it.
func (s Signer) AgentIdleDuration() time.Duration {
	if d, err := time.ParseDuration(s.AgentIdle); err == nil && s.AgentIdle != "" {
		return d
	}
	return DefaultAgentIdle
}
