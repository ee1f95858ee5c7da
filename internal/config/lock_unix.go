//go:build !windows

package config

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openLock opens (creating 0600) the lock file at path, never through a
// symbolic link: a link there is refused before the open, and O_NOFOLLOW
// closes the race of one swapped in after the check.
func openLock(path string) (*os.File, error) {
	if err := checkLockPath(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%w: lock file %s is a symbolic link; remove it (rm %s) and run again", ErrSymlink, path, path)
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: lock file %s is not a regular file; remove it and run again", ErrNotRegular, path)
	}
	return f, nil
}

func lockFile(path string) (func(), error) {
	f, err := openLock(path)
	if err != nil {
		return nil, fmt.Errorf("lock config: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock config: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// TryLock takes an exclusive lock on path without waiting; ok is false when
// another process holds it. A path that is a symbolic link is refused.
func TryLock(path string) (unlock func(), ok bool, err error) {
	f, err := openLock(path)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, true, nil
}
