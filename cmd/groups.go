package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// strictGroups makes every command that has subcommands strict about them, at
// every level of the tree: an unknown subcommand is a usage error (exit 2)
// with the nearest names ("did you mean …?"), and a group that runs nothing
// by itself prints its help on stderr and exits 2. Cobra's default — help on
// stdout and exit 0 — lets a systemd unit with a typo "succeed" and puts
// prose on stdout, which carries JSON lines only.
//
// A command that takes positional arguments of its own (sandbox fault KIND)
// keeps its Args; one without (Args nil) gets the unknown-subcommand check.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
	if !c.HasAvailableSubCommands() {
		return
	}
	if c.Args == nil {
		c.Args = unknownSubcommand
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[strictGroup] = "1"
	}
	c.SuggestionsMinimumDistance = 2 // cobra sets it only on the root, and only on its own path
	if c.Run == nil && c.RunE == nil {
		c.RunE = needsSubcommand
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[groupOnly] = "1"
	}
	if !c.HasParent() {
		// A group's usage shows "group [command]" only: "group [flags]"
		// would say it runs by itself, and it does not (exit 2). Set on the
		// root, the template is every command's.
		c.SetUsageTemplate(strings.Replace(c.UsageTemplate(), "{{if .Runnable}}\n  {{.UseLine}}{{end}}",
			`{{if and .Runnable (not (index .Annotations "`+groupOnly+`"))}}`+"\n  {{.UseLine}}{{end}}", 1))
	}
}

// groupOnly marks a group command that runs nothing by itself (its RunE
// only says a subcommand is needed): the reference pages show no usage line
// of its own (NewRootForDocs).
const groupOnly = "linectl/group-only"

// forDocs makes the group commands of c's tree not runnable, as the
// reference pages describe them: cobra's pages print a command's own usage
// line ("linectl login [flags]") only for a runnable one.
func forDocs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		forDocs(sub)
	}
	if c.Annotations[groupOnly] != "" {
		c.RunE = nil
	}
}

// strictGroup marks a group command whose positional arguments can only be
// mistyped subcommands.
const strictGroup = "linectl/strict-group"

// flagError is every command's flag error. On a group, a flag it does not
// know usually belongs to the subcommand the person meant ("sned --to …"):
// the mistyped subcommand is the error to report, not the flag.
func flagError(c *cobra.Command, err error) error {
	if args := c.Flags().Args(); c.Annotations[strictGroup] != "" && len(args) > 0 {
		return unknownSubcommand(c, args)
	}
	return usageErrorf("%v", err)
}

// unknownSubcommand refuses any positional argument of a group command: it
// can only be a subcommand cobra did not find.
func unknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", quoteJoin(s))
	} else {
		msg += fmt.Sprintf("; its subcommands: %s", strings.Join(subcommandNames(c), ", "))
	}
	return usageErrorf("%s", msg)
}

// needsSubcommand runs a bare group command: its help goes to stderr (stdout
// is for JSON lines) and the run is a usage error.
func needsSubcommand(c *cobra.Command, _ []string) error {
	out := c.OutOrStdout()
	c.SetOut(c.ErrOrStderr())
	defer c.SetOut(out)
	if err := c.Help(); err != nil {
		return err
	}
	return usageErrorf("%s needs a subcommand: %s", c.CommandPath(), strings.Join(subcommandNames(c), ", "))
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return names
}

func quoteJoin(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " or ")
}
