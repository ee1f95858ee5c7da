package main

import "testing"

// TestDocsUpToDate fails when docs/commands no longer matches the commands' help.
func TestDocsUpToDate(t *testing.T) {
	if err := CheckMarkdown("../../docs/commands"); err != nil {
		t.Fatal(err)
	}
}
