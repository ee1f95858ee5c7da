package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/linectl/linectl/cmd"
)

// docsRoot builds the command tree for documentation.
func docsRoot() *cobra.Command {
	root := cmd.NewRootForDocs()
	root.DisableAutoGenTag = true
	return root
}

// GenerateMarkdown writes one Markdown page per command into dir.
func GenerateMarkdown(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return doc.GenMarkdownTree(docsRoot(), dir)
}

// GenerateMan writes man pages into dir.
func GenerateMan(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h := &doc.GenManHeader{Title: "LINECTL", Section: "1", Source: "linectl", Manual: "linectl manual"}
	return doc.GenManTree(docsRoot(), h, dir)
}

// MarkdownPages returns the generated pages by file name, for the docs test.
func MarkdownPages() (map[string][]byte, error) {
	out := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		if err := doc.GenMarkdown(c, &buf); err != nil {
			return err
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		out[name] = buf.Bytes()
		return nil
	}
	return out, walk(docsRoot())
}

// CheckMarkdown reports pages in dir that differ from the generated ones.
func CheckMarkdown(dir string) error {
	pages, err := MarkdownPages()
	if err != nil {
		return err
	}
	var stale []string
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("docs out of date (run 'make docs'): %s", strings.Join(stale, ", "))
	}
	return nil
}
