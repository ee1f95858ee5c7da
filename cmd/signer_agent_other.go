//go:build !(linux || darwin || freebsd)

package cmd

import "time"

// startAgent: the signer agent needs a Unix system.
func (f *factory) startAgent(time.Duration) {}
