// Package cmd is linectl's command line.
package cmd

// Main runs linectl and returns the process exit code.
func Main() int { return 0 }
