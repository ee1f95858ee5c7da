package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

type signerImportLine struct {
	Type    string `json:"type"` // "signer-import"
	Version string `json:"version"`
	SHA256  string `json:"wasmSha256"`
	Source  string `json:"source"`
	Dir     string `json:"dir"`
}

func newCmdSignerImport(f *factory) *cobra.Command {
	var auto, allowUnknown bool
	cmd := &cobra.Command{
		Use:   "import [PATH | --auto]",
		Short: "Import LINE's signing module from the installed Chrome extension",
		Long: `Import LINE's signing module (ltsm.wasm) so linectl can sign requests (signer.kind: wasm).

PATH is an unpacked extension directory, a .crx file (CRX3), a bundle made by 'linectl
signer export' on another machine (the way onto a server without Chrome), or a bare
ltsm.wasm. --auto
finds the installed LINE extension (id ophjlpahpchlmihnnnihgmmeilfjmjjc) in the Chrome,
Chromium, Brave and Edge profiles of this user (Linux, macOS, Windows) and takes the newest.

The module is checked against the builds linectl knows (by SHA-256); the extension's
version (manifest.json, also sent as x-line-chrome-version) and static token (from its
JavaScript) are read from the extension when present. The files are copied into the config
directory (signer/, mode 0600) and the config is switched to signer.kind: wasm. linectl
never ships LINE's module.`,
		Example: `  linectl signer import --auto
  linectl signer import ~/Downloads/line.crx
  linectl signer import ./ltsm.wasm
  linectl signer import linectl-signer.zip     # from 'linectl signer export' on a desktop`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := ""
			switch {
			case len(args) == 1 && auto:
				return usageErrorf("give a PATH or --auto, not both")
			case len(args) == 1:
				src = args[0]
			case auto:
				home, _ := os.UserHomeDir()
				found := wasmsign.Discover(runtime.GOOS, home, os.Getenv)
				if len(found) == 0 {
					return withExit(ExitUsage, kindNoSigner, errors.New("no installed LINE Chrome extension found in Chrome, Chromium, Brave or Edge profiles; give its directory, a .crx or ltsm.wasm as PATH"))
				}
				src = found[0].Dir
				f.info("Found LINE extension %s in %s.", found[0].Version, found[0].Browser)
			default:
				return usageErrorf("give a PATH or --auto")
			}
			st, err := f.Store()
			if err != nil {
				return err
			}
			files, err := f.State()
			if err != nil {
				return err
			}
			dir, err := filepath.Abs(files.SignerDir())
			if err != nil {
				return withExit(ExitUsage, kindConfig, err)
			}
			if err := config.EnsureDir(filepath.Dir(st.Path)); err != nil {
				return err
			}
			info, err := wasmsign.Import(src, dir, allowUnknown)
			if err != nil {
				return withExit(ExitUsage, kindNoSigner, fmt.Errorf("signer import: %w", err))
			}
			if _, err := st.Update(func(c *config.Config) error {
				c.Signer.Kind, c.Signer.Dir = config.SignerWasm, dir
				return nil
			}); err != nil {
				return err
			}
			f.info("Imported LINE's signing module %s; requests are now signed with it.", info.Version)
			return f.Out().line(signerImportLine{Type: "signer-import", Version: info.Version, SHA256: info.WasmSHA256, Source: info.Source, Dir: dir})
		},
	}
	cmd.Flags().BoolVar(&auto, "auto", false, "find the installed LINE extension in Chrome, Chromium, Brave or Edge profiles")
	cmd.Flags().BoolVar(&allowUnknown, "allow-unknown-build", false, "import a module whose hash linectl does not know (it may not work)")
	return cmd
}
