package cmd

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signagent"
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
			dir := signerDir(f, c)
			info, err := wasmsign.ReadInfo(dir)
			if err != nil {
				return withExit(ExitUsage, kindNoSigner, err)
			}
			path, err := signagent.SocketPath(agentIdentity(dir, info))
			if err != nil {
				return withExit(ExitUsage, kindConfig, err)
			}
			if stop {
				cl, err := signagent.Dial(path)
				if err != nil {
					return f.Out().line(agentLine{Type: "signer-agent", State: "not-running", Socket: path})
				}
				defer cl.Close()
				st, err := cl.Stop(cmd.Context())
				if err != nil {
					return err
				}
				return f.Out().line(agentLine{Type: "signer-agent", State: "stopped", Socket: path, Status: &st})
			}
			if !cmd.Flags().Changed("idle") {
				if idle, err = agentIdle(c); err != nil {
					return err
				}
			} else if err := checkDuration("--idle", idle, 0, 24*time.Hour); err != nil {
				return err
			}
			ln, closeFn, err := signagent.Listen(path)
			if errors.Is(err, signagent.ErrRunning) {
				return f.Out().line(agentLine{Type: "signer-agent", State: "already-running", Socket: path})
			}
			if err != nil {
				return withExit(ExitUsage, kindConfig, err)
			}
			defer closeFn()
			s, err := f.openWasm(dir, info)
			if err != nil {
				return err
			}
			infoPath := filepath.Join(dir, "info.json")
			infoSt, err := os.Stat(infoPath)
			if err != nil {
				return withExit(ExitUsage, kindNoSigner, err)
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
			if err := f.Out().line(agentLine{Type: "signer-agent", State: "running", Socket: path, Status: srv.Status.WithIdle(idle)}); err != nil {
				return err
			}
			// The run's context ends on SIGINT/SIGTERM (Main), also a
			// signal that came while the agent was starting.
			ctx := cmd.Context()
			return srv.Serve(ctx, ln)
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", defaultAgentIdle, "exit after this long without requests (0: never; default signer.agentIdle or 15m)")
	cmd.Flags().BoolVar(&stop, "stop", false, "stop the running agent")
	return cmd
}
