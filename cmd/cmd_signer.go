package cmd

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/internal/signer"
	"github.com/linectl/linectl/pkg/lineapi"
)

func newCmdSigner(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "signer",
		Short: "Set up and check x-hmac request signing",
		Long: `LINE's gateway rejects every request without a valid x-hmac signature (error 10005).
The signature is computed by LINE's own WebAssembly module (ltsm.wasm) inside the Chrome
extension; linectl does not ship it. Two ways to sign:

  wasm     the module from your installed LINE extension: 'linectl signer import --auto'
  command  any program speaking linectl's signer protocol: one JSON line in
           ({"path","body","accessToken","version"}), one base64 signature line out;
           set signer.kind: command and signer.command (or LINECTL_SIGNER_COMMAND)

Loading LINE's module costs a run tens of milliseconds, so after two runs in a row a
signer agent keeps it loaded for the next ones ('linectl signer agent --help';
signer.agent: off to never leave a process behind). See docs/signer.md.`,
	}
	cmd.AddCommand(newCmdSignerStatus(f), newCmdSignerSign(f), newCmdSignerImport(f), newCmdSignerExport(f), newCmdSignerAgent(f))
	return cmd
}

type signerStatusLine struct {
	Type      string `json:"type"` // "signer"
	Kind      string `json:"kind"`
	Command   string `json:"command,omitempty"`
	Dir       string `json:"dir,omitempty"`
	Gateway   string `json:"gateway"`
	Version   string `json:"version"`
	Ready     bool   `json:"ready"`
	Signature string `json:"testSignature,omitempty"`
	Problem   string `json:"problem,omitempty"`
	// AgentMode and Agent, for kind wasm: signer.agent and the agent that signed, if any.
	AgentMode string            `json:"agentMode,omitempty"`
	Agent     *signagent.Status `json:"agent,omitempty"`
}

func newCmdSignerStatus(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show which signer is configured and whether it signs",
		Long: `Show the configured signer and try it on a test request (no network call is made).
"ready": false comes with the problem and the fix, and exit 2 (kind no_signer), so it
works as a health check: exit 0 means requests can be signed.`,
		Example: `  linectl signer status
  linectl signer status >/dev/null || echo "linectl cannot sign: run 'linectl signer import --auto'"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			l := signerStatusLine{Type: "signer", Kind: c.Signer.Kind, Command: c.Signer.Command, Dir: c.Signer.Dir,
				Gateway: c.Gateway, Version: lineapi.ExtensionVersion}
			if l.Kind == "" {
				l.Kind = "(none configured)"
			}
			s, err := f.signer(c)
			if err == nil {
				l.Signature, err = s.Sign(cmd.Context(), lineapi.SignRequest{Path: "/api/talk/thrift/Talk/TalkService/getProfile", Body: "[2]", Version: lineapi.ExtensionVersion})
			}
			if err == nil {
				if st, ok := signer.PingAgent(cmd.Context(), s); ok {
					l.Agent = &st
				}
			}
			if l.Kind == config.SignerWasm {
				l.AgentMode = signer.AgentMode(c)
			}
			if err != nil {
				l.Problem = err.Error()
			} else {
				l.Ready = true
				if _, none := s.(lineapi.NoneSigner); none {
					l.Ready = c.Signer.Kind == config.SignerNone || signer.IsLoopbackURL(c.Gateway)
					l.Problem = "requests are not signed: only a simulator that does not check accepts them"
				}
			}
			if err := f.Out().line(l); err != nil {
				return err
			}
			if !l.Ready {
				return withExit(ExitUsage, kindNoSigner, fmt.Errorf("signing is not ready: %s", l.Problem))
			}
			return nil
		},
	}
}

func newCmdSignerSign(f *factory) *cobra.Command {
	var path, body string
	var tokenStdin bool
	cmd := &cobra.Command{
		Use:   "sign --path PATH --body BODY",
		Short: "Print the x-hmac signature of one request",
		Long: `Print the x-hmac the configured signer computes for a request path (with its query) and
body, to check a setup against known signatures. The access token, if any, is read from
stdin with --access-token-stdin (never from a flag).`,
		Example: `  linectl signer sign --path /api/talk/thrift/Talk/TalkService/getProfile --body '[2]'
  printf '%s' "$TOKEN" | linectl signer sign --path /api/operation/receive --body '' --access-token-stdin`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.HasPrefix(path, "/") {
				return usageErrorf("--path must start with / (the request URI after the host)")
			}
			token := ""
			if tokenStdin {
				line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
				token = strings.TrimRight(line, "\r\n")
			}
			c, err := f.Config()
			if err != nil {
				return err
			}
			s, err := f.signer(c)
			if err != nil {
				return err
			}
			sig, err := s.Sign(cmd.Context(), lineapi.SignRequest{Path: path, Body: body, AccessToken: token, Version: lineapi.ExtensionVersion})
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			return f.Out().line(signatureLine{Type: "signature", Path: path, HMAC: sig})
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "request URI after the host, with the query (required)")
	cmd.Flags().StringVar(&body, "body", "", "exact request body")
	cmd.Flags().BoolVar(&tokenStdin, "access-token-stdin", false, "read the access token from stdin")
	return cmd
}

// signatureLine is printed by signer sign.
type signatureLine struct {
	Type string `json:"type"` // "signature"
	Path string `json:"path"`
	HMAC string `json:"xHmac"`
}
