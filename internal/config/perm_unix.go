//go:build !windows

package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openNonBlock keeps an open of a FIFO swapped in after the check from blocking.
const (
	openNonBlock = syscall.O_NONBLOCK
	openNoFollow = syscall.O_NOFOLLOW
)

func fixDirMode(dir string, st fs.FileInfo) (string, error) {
	perm := st.Mode().Perm()
	if perm&0o077 == 0 {
		return "", nil
	}
	owned := false
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		owned = int(sys.Uid) == os.Geteuid()
	}
	if !owned {
		return "", fmt.Errorf("%w: %s has mode %04o and belongs to another user; use a config directory of your own (--config or LINECTL_CONFIG)",
			ErrUnsafeDir, dir, perm)
	}
	if home, err := os.UserHomeDir(); err == nil && sameDir(home, dir) {
		if perm&0o022 != 0 {
			return "", fmt.Errorf("%w: your home directory %s has mode %04o (others can write to it); run: chmod go-w %s",
				ErrUnsafeDir, dir, perm, dir)
		}
		return "", nil // the files are 0600; a home directory's mode is the user's choice
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("%w: %s has mode %04o and could not be made private: %v", ErrUnsafeDir, dir, perm, err)
	}
	return fmt.Sprintf("linectl: config directory %s had mode %04o; changed it to 0700 (it holds your LINE session)", dir, perm), nil
}

func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(filepath.Clean(b))
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
