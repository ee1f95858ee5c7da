package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

type sandboxOptions struct{}

func newCmdSandbox(f *factory, runF func(*sandboxOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:   "sandbox",
		Short: "Run the gateway simulator locally",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return errors.New("not yet") },
	}
}
