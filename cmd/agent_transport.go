package cmd

import (
	"net/http"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/gwagent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// gatewayAgentOptions returns the client option that sends unary gateway
// calls through the gateway agent, when gatewayAgent allows it and an agent
// answers for c.Gateway (gwagent.Find is the policy); none otherwise. With
// gatewayAgent: start, a run that finds none starts one for the runs after it.
func (f *factory) gatewayAgentOptions(c *config.Config) ([]lineapi.Option, error) {
	tr, err := gwagent.Find(c.GatewayAgent, c.Gateway, func() {
		if f.store != nil {
			agent.StartDetached(f.store.Path, "gateway-agent", "--gateway", c.Gateway, "--idle", config.DefaultAgentIdle.String())
		}
	})
	if err != nil {
		return nil, withExit(ExitUsage, kindConfig, err)
	}
	if tr == nil {
		return nil, nil
	}
	if f.Debug {
		tr.Log = f.progress
	}
	return []lineapi.Option{lineapi.WithHTTPClient(&http.Client{Transport: tr})}, nil
}
