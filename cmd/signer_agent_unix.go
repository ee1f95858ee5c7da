//go:build linux || darwin || freebsd

package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// startAgent starts 'linectl signer agent' in the background, detached from
// this run (own session, no stdio), so that later runs find the module
// loaded. Failure only means later runs load it themselves.
func (f *factory) startAgent(idle time.Duration) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	cfg, err := filepath.Abs(f.store.Path)
	if err != nil {
		return
	}
	cmd := exec.Command(exe, "signer", "agent", "--idle", idle.String(), "--config", cfg)
	cmd.Dir = "/" // keep no directory of the caller busy
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		_ = cmd.Process.Release()
	}
}
