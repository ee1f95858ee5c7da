package cmd

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/internal/signer"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// agentLine is printed by signer agent.
type agentLine struct {
	Type   string            `json:"type"`  // "signer-agent"
	State  string            `json:"state"` // running | already-running | stopped | not-running
	Socket string            `json:"socket,omitempty"`
	Status *signagent.Status `json:"status,omitempty"`
}

func newCmdSignerAgent(f *factory) *cobra.Command {
	var idle time.Duration
	var stop bool
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Keep LINE's signing module loaded for later runs",
		Long: `Run the signer agent: a process that keeps the imported signing module loaded and signs
for other linectl runs of the same user over a private Unix socket, so that each run
skips loading the module (tens of milliseconds; see docs/signer.md).

With signer.agent: auto (the default) linectl starts an agent by itself when none
answers and another run loaded the module within signer.agentIdle (default 15m); the
agent idles out after that long without requests. Run it
yourself (for example as a systemd user service, with --idle 0) to keep it always up,
or set signer.agent: off (or LINECTL_SIGNER_AGENT=off) to always load the module
in-process. A run whose agent disappears signs with the module itself instead.

The agent exits when idle, when the imported module changes or is removed, on
SIGINT/SIGTERM, and on 'linectl signer agent --stop'. Its socket lives in
$XDG_RUNTIME_DIR/linectl (else /run/user/<uid>/linectl, else <tmp>/linectl-<uid>),
a 0700 directory; both sides refuse a directory others can enter.`,
		Example: `  linectl signer agent                 # in the foreground, until idle for 15m
  linectl signer agent --idle 0        # never idle out (systemd user service)
  linectl signer agent --stop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			if c.Signer.Kind != config.SignerWasm {
				return usageErrorf("the signer agent serves the wasm signer; signer.kind is %q (run 'linectl signer import --auto' first)", c.Signer.Kind)
			}
			if !signagent.Supported {
				return usageErrorf("the signer agent needs a Unix system")
			}
			f.runsAsService("signer agent")
			dir := signer.Dir(c, f.store.Path)
			info, err := wasmsign.ReadInfo(dir)
			if err != nil {
				return withExit(ExitUsage, kindNoSigner, err)
			}
			path, err := signagent.SocketPath(signer.AgentIdentity(dir, info))
			if err != nil {
				return withExit(ExitUsage, kindConfig, err)
			}
			life := agent.Lifecycle[signagent.Status]{
				Socket: path,
				Stop: func(ctx context.Context) (signagent.Status, bool, error) {
					cl, err := signagent.Dial(path)
					if err != nil {
						return signagent.Status{}, false, nil
					}
					defer cl.Close()
					st, err := cl.Stop(ctx)
					return st, true, err
				},
				Report: func(state agent.State, st *signagent.Status) error {
					return f.Out().line(agentLine{Type: "signer-agent", State: string(state), Socket: path, Status: st})
				},
			}
			if stop {
				return life.StopRunning(cmd.Context())
			}
			if !cmd.Flags().Changed("idle") {
				idle = c.Signer.AgentIdleDuration()
			} else if err := checkDuration("--idle", idle, 0, 24*time.Hour); err != nil {
				return err
			}
			// The run's context ends on SIGINT/SIGTERM (Main), also a
			// signal that came while the agent was starting.
			return life.Run(cmd.Context(), func() (signagent.Status, func(context.Context, net.Listener) error, error) {
				s, err := signer.OpenModule(dir, info)
				if err != nil {
					return signagent.Status{}, nil, err
				}
				f.closers = append(f.closers, s.Close)
				infoPath := filepath.Join(dir, "info.json")
				infoSt, err := os.Stat(infoPath)
				if err != nil {
					return signagent.Status{}, nil, withExit(ExitUsage, kindNoSigner, err)
				}
				srv := &signagent.Server{
					Signer: s,
					Status: signagent.Status{PID: os.Getpid(), Module: info.WasmSHA256, Version: info.Version, Since: time.Now().UTC().Truncate(time.Second)},
					Idle:   idle,
					Watch: func() bool { // the import it serves is still there, unchanged
						st, err := os.Stat(infoPath)
						return err == nil && os.SameFile(st, infoSt) && st.ModTime().Equal(infoSt.ModTime())
					},
				}
				return *srv.Status.WithIdle(idle), srv.Serve, nil
			})
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", config.DefaultAgentIdle, "exit after this long without requests (0: never; default signer.agentIdle or 15m)")
	cmd.Flags().BoolVar(&stop, "stop", false, "stop the running agent")
	return cmd
}
