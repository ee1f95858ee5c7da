//go:build !(linux || darwin || freebsd)

package cmd

import "github.com/linectl/linectl/internal/config"

// startAgent: the signer agent needs a Unix system.
func (f *factory) startAgent(*config.Config) {}
