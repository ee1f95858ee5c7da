package cmd

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Version is set at build time: -ldflags "-X github.com/linectl/linectl/cmd.Version=v1.2.3".
var Version = "dev"

type versionLine struct {
	Type             string `json:"type"` // "version"
	Version          string `json:"version"`
	Commit           string `json:"commit,omitempty"`
	Go               string `json:"go"`
	ExtensionVersion string `json:"extensionVersion"`
}

func newCmdVersion(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print linectl's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l := versionLine{Type: "version", Version: Version, Go: runtime.Version(), ExtensionVersion: lineapi.ExtensionVersion}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						l.Commit = s.Value
					}
				}
			}
			return f.Out().line(l)
		},
	}
}
