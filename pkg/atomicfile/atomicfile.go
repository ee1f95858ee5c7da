// Package atomicfile writes a file so that a reader, or the next run after a
// crash, finds either the old content or the new, never a mix: a 0600
// temporary file in the same directory, fsync, rename, fsync of the
// directory. It is the one copy of that rule, for the config store and every
// file beside it, and for the imported signing module (pkg/lineapi/wasmsign).
//
// It is a public package, not internal/, because pkg/lineapi/wasmsign writes
// with it and a library under pkg/ imports nothing from internal/ (the rule
// internal/deptest checks); it has no dependency beyond the standard library.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, atomically, mode 0600.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	SyncDir(dir)
	return nil
}

// SyncDir flushes a directory's entries (a rename into it) to disk, where
// the system allows it; failures are ignored (not every filesystem can).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
