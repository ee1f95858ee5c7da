package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

func newCmdSignerImport(f *factory) *cobra.Command {
	var auto bool
	cmd := &cobra.Command{
		Use:   "import [PATH | --auto]",
		Short: "Import LINE's signing module from the installed Chrome extension",
		Long: `Import LINE's signing module (ltsm.wasm) from an unpacked extension directory, a .crx
file, or a bare ltsm.wasm, or find the installed LINE extension with --auto.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !auto {
				return usageErrorf("give a PATH or --auto")
			}
			return withExit(ExitUsage, "no_signer", errors.New("the wasm signer is not available in this build yet; use the command signer (docs/signer.md)"))
		},
	}
	cmd.Flags().BoolVar(&auto, "auto", false, "find the installed LINE extension in Chrome, Chromium, Brave or Edge profiles")
	return cmd
}
