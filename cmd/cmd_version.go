package cmd

import (
	"runtime"
	"runtime/debug"
	"strings"

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
			v, commit := buildVersion()
			return f.Out().line(versionLine{Type: "version", Version: v, Commit: commit, Go: runtime.Version(), ExtensionVersion: lineapi.ExtensionVersion})
		},
	}
}

// buildVersion is the version set at link time (make build, releases), else
// the module version `go install …@v1.2.3` records, else "dev"; and the
// commit when the build recorded one.
func buildVersion() (version, commit string) {
	version = Version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, ""
	}
	if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return version, commit
}

// versionTemplate is what `linectl --version` prints: the version line.
func versionTemplate() string {
	v, commit := buildVersion()
	b, err := marshalLine(versionLine{Type: "version", Version: v, Commit: commit, Go: runtime.Version(), ExtensionVersion: lineapi.ExtensionVersion})
	if err != nil {
		return "{{.Version}}\n"
	}
	// A template: braces in the line are literal text.
	return strings.NewReplacer("{{", `{{"{{"}}`).Replace(string(b))
}
