//go:build windows

package config

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

func lock(path string, flags uint32) (func(), bool, error) {
	if err := checkLockPath(path); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	ol := new(windows.Overlapped)
	if err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol); err != nil {
		f.Close()
		if err == windows.ERROR_LOCK_VIOLATION {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { _ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol); f.Close() }, true, nil
}

func lockFile(path string) (func(), error) {
	u, _, err := lock(path, windows.LOCKFILE_EXCLUSIVE_LOCK)
	if err != nil {
		return nil, fmt.Errorf("lock config: %w", err)
	}
	return u, nil
}

// TryLock takes an exclusive lock on path without waiting.
func TryLock(path string) (func(), bool, error) {
	return lock(path, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
}
