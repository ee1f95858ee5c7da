//go:build linux || darwin || freebsd

package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// startDetached starts 'linectl <args> --config <this config>' in the
// background, detached from this run (own session, no stdio). Failure only
// means later runs do without what it would have served.
func (f *factory) startDetached(args ...string) {
	exe, err := os.Executable()
	if err != nil || f.store == nil {
		return
	}
	cfg, err := filepath.Abs(f.store.Path)
	if err != nil {
		return
	}
	cmd := exec.Command(exe, append(args, "--config", cfg)...)
	cmd.Dir = "/" // keep no directory of the caller busy
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		_ = cmd.Process.Release()
	}
}
