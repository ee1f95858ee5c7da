package cmd

import (
	"context"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/gwagent"
)

// gatewayAgentLine is printed by gateway-agent.
type gatewayAgentLine struct {
	Type   string          `json:"type"`  // "gateway-agent"
	State  string          `json:"state"` // running | already-running | stopped | not-running
	Socket string          `json:"socket,omitempty"`
	Status *gwagent.Status `json:"status,omitempty"`
}

func newCmdGatewayAgent(f *factory) *cobra.Command {
	var idle time.Duration
	var stop bool
	cmd := &cobra.Command{
		Use:   "gateway-agent",
		Short: "Keep a warm connection to the gateway for later runs",
		Long: `Run the gateway agent: a process that keeps connections to the configured gateway open and
sends requests that other linectl runs of the same user have already built and signed,
over a private Unix socket. A warm 'linectl send' from cron then pays one round trip to
LINE instead of three (TCP and TLS set-up first); see docs/agent.md.

With gatewayAgent: auto (the default) every run sends its calls through an agent when
one is running for its gateway, and directly when none is; with gatewayAgent: start a
run that finds none also starts one (it idles out after 15m); gatewayAgent: off (or
LINECTL_GATEWAY_AGENT=off) never uses one. The operation stream and long polls always
go directly. A run whose agent is gone, or cannot reach the gateway, sends directly
instead: nothing is lost, and a request the agent may have sent is never sent again.

The agent sends only POSTs under /api/ to its own gateway, keeps and logs nothing, and
exits when idle, on SIGINT/SIGTERM and on 'linectl gateway-agent --stop'. Its socket
lives beside the signer agent's, in $XDG_RUNTIME_DIR/linectl (else /run/user/<uid>/linectl,
else <tmp>/linectl-<uid>), a 0700 directory; both sides refuse a directory others can enter.`,
		Example: `  linectl gateway-agent &                # in the background, until idle for 15m
  linectl gateway-agent --idle 0         # never idle out (systemd user service)
  linectl gateway-agent --stop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			if !gwagent.Supported {
				return usageErrorf("the gateway agent needs a Unix system")
			}
			f.runsAsService("gateway agent")
			if err := checkDuration("--idle", idle, 0, 24*time.Hour); err != nil {
				return err
			}
			path, err := gwagent.SocketPath(c.Gateway)
			if err != nil {
				return withExit(ExitUsage, kindConfig, err)
			}
			life := agent.Lifecycle[gwagent.Status]{
				Socket: path,
				Stop: func(ctx context.Context) (gwagent.Status, bool, error) {
					st, err := gwagent.Stop(ctx, path)
					return st, err == nil, nil
				},
				Report: func(state agent.State, st *gwagent.Status) error {
					return f.Out().line(gatewayAgentLine{Type: "gateway-agent", State: string(state), Socket: path, Status: st})
				},
			}
			if stop {
				return life.StopRunning(cmd.Context())
			}
			// The run's context ends on SIGINT/SIGTERM (Main), also a
			// signal that came while the agent was starting.
			return life.Run(cmd.Context(), func() (gwagent.Status, func(context.Context, net.Listener) error, error) {
				srv := &gwagent.Server{
					Gateway: c.Gateway,
					Status:  gwagent.Status{PID: os.Getpid(), Gateway: c.Gateway, Since: time.Now().UTC().Truncate(time.Second)},
					Idle:    idle,
					// Keep gateway connections as long as the agent itself.
					IdleConn: max(idle, config.DefaultAgentIdle),
				}
				st := srv.Status
				if idle > 0 {
					st.Idle = idle.String()
				}
				return st, srv.Serve, nil
			})
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", config.DefaultAgentIdle, "exit after this long without requests (0: never)")
	cmd.Flags().BoolVar(&stop, "stop", false, "stop the running agent")
	return cmd
}
