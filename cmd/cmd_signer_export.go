package cmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/signer"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

type signerExportLine struct {
	Type    string `json:"type"` // "signer-export"
	Version string `json:"version"`
	SHA256  string `json:"wasmSha256"`
	File    string `json:"file"`
}

func newCmdSignerExport(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "export FILE",
		Short: "Write the imported signing module to a bundle, to import it on a server without Chrome",
		Long: `Writes the signing module 'linectl signer import' took from your LINE Chrome extension as a
bundle (a ZIP of ltsm.wasm and its version and static token — nothing of your session), so a
server without Chrome can import it: copy the file there and run 'linectl signer import FILE'.

FILE is created with mode 0600 (refused if it exists); '-' writes the bundle to stdout when
stdout is not a terminal. The bundle holds LINE's code from your own extension: keep it to
yourself, as you would the extension. docs/signer.md has the steps for a cron server.`,
		Example: `  linectl signer export linectl-signer.zip
  scp linectl-signer.zip server:
  ssh server linectl signer import linectl-signer.zip`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			if c.Signer.Kind != config.SignerWasm {
				return withExit(ExitUsage, kindNoSigner, fmt.Errorf("nothing to export: signer.kind is %q (run 'linectl signer import --auto' first)", c.Signer.Kind))
			}
			dir := signer.Dir(c, f.store.Path)
			var b bytes.Buffer
			if err := wasmsign.Export(dir, &b); err != nil {
				return withExit(ExitUsage, kindNoSigner, fmt.Errorf("signer export: %w", err))
			}
			info, _ := wasmsign.ReadInfo(dir)
			if args[0] == "-" {
				if fh, ok := f.IO.Out.(*os.File); ok && term.IsTerminal(int(fh.Fd())) {
					return usageErrorf("the bundle is binary: give a FILE, or redirect stdout")
				}
				_, err := f.IO.Out.Write(b.Bytes())
				return err
			}
			p, err := filepath.Abs(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return usageErrorf("signer export: %v", err)
			}
			if _, err := fh.Write(b.Bytes()); err != nil {
				fh.Close()
				os.Remove(p)
				return err
			}
			if err := fh.Close(); err != nil {
				os.Remove(p)
				return err
			}
			f.info("Wrote %s; on the server: linectl signer import %s", p, filepath.Base(p))
			return f.Out().line(signerExportLine{Type: "signer-export", Version: info.Version, SHA256: info.WasmSHA256, File: p})
		},
	}
}
