//go:build !(linux || darwin || freebsd)

package cmd

// startDetached: agents need a Unix system.
func (f *factory) startDetached(...string) {}
