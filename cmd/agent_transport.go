package cmd

import (
	"fmt"
	"net/http"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/gwagent"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// gatewayAgentOptions returns the client option that sends unary gateway
// calls through the gateway agent, when gatewayAgent allows it and an agent
// answers for c.Gateway; none otherwise (the client then sends directly).
// With gatewayAgent: start, a run that finds no agent starts one for the
// runs after it.
func (f *factory) gatewayAgentOptions(c *config.Config) ([]lineapi.Option, error) {
	mode := c.GatewayAgent
	switch mode {
	case "", config.AgentAuto:
		mode = config.AgentAuto
	case config.AgentOff, config.AgentStart:
	default:
		return nil, withExit(ExitUsage, kindConfig, fmt.Errorf("unknown gatewayAgent %q (want auto, start or off)", c.GatewayAgent))
	}
	if mode == config.AgentOff || !gwagent.Supported {
		return nil, nil
	}
	find := gwagent.ExistingSocketPath // looking creates nothing
	if mode == config.AgentStart {
		find = gwagent.SocketPath
	}
	path, err := find(c.Gateway)
	if err != nil {
		return nil, nil // no private socket directory: no agent either
	}
	conn, err := signagent.DialSocket(path)
	if err != nil {
		if mode == config.AgentStart {
			f.startDetached("gateway-agent", "--gateway", c.Gateway, "--idle", defaultAgentIdle.String())
		}
		return nil, nil
	}
	conn.Close()
	tr := &gwagent.Transport{Gateway: c.Gateway, Socket: path, Direct: lineapi.NewTransport()}
	if f.Debug {
		tr.Log = f.progress
	}
	return []lineapi.Option{lineapi.WithHTTPClient(&http.Client{Transport: tr})}, nil
}
