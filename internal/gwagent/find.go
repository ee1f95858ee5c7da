package gwagent

import (
	"fmt"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// Find is the gatewayAgent policy: the Transport that sends gateway's unary
// calls through its agent, when mode (gatewayAgent: "" or auto, start, off)
// allows it and an agent answers; nil otherwise (the caller sends
// directly). With start, a caller that finds none has start called, to
// start one for the runs after it. Looking, in auto, creates nothing.
func Find(mode, gateway string, start func()) (*Transport, error) {
	switch mode {
	case "", config.AgentAuto:
		mode = config.AgentAuto
	case config.AgentOff, config.AgentStart:
	default:
		return nil, fmt.Errorf("unknown gatewayAgent %q (want auto, start or off)", mode)
	}
	if mode == config.AgentOff || !Supported {
		return nil, nil
	}
	find := existingSocketPath // looking creates nothing
	if mode == config.AgentStart {
		find = SocketPath
	}
	path, err := find(gateway)
	if err != nil {
		return nil, nil // no private socket directory: no agent either
	}
	conn, err := agent.DialSocket(path)
	if err != nil {
		if mode == config.AgentStart && start != nil {
			start()
		}
		return nil, nil
	}
	conn.Close()
	return &Transport{Gateway: gateway, Socket: path, Direct: lineapi.NewTransport()}, nil
}
