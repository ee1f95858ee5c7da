package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

const header = "# linectl configuration. It holds your LINE session (certificate, tokens):\n# keep it private (mode 0600). See docs/configuration.md.\n"

// Store is the config file at one path.
type Store struct {
	Path string
}

// Load reads the file without locking (replacements are atomic, so a
// reader sees either the old or the new file).
func (s *Store) Load() (*Config, error) { return read(s.Path) }

// Update runs fn on the freshly read file under the exclusive lock and, if fn
// returns nil, replaces the file atomically. Reading inside the lock is what
// makes concurrent linectl processes safe: no one saves over a newer file.
// The previous contents are kept as <path>.bak.
func (s *Store) Update(fn func(c *Config) error) (*Config, error) {
	unlock, err := s.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	old, rerr := os.ReadFile(s.Path)
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return nil, fmt.Errorf("read config %s: %w", s.Path, rerr)
	}
	c, err := read(s.Path)
	if err != nil {
		return nil, err
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	out = append([]byte(header), out...)
	if bytes.Equal(out, old) {
		return c, nil
	}
	if len(old) > 0 {
		if err := writeAtomic(s.Path+".bak", old); err != nil {
			return nil, err
		}
	}
	if err := writeAtomic(s.Path, out); err != nil {
		return nil, err
	}
	return c, nil
}

// Lock takes the exclusive lock of the config (a sibling ".lock" file),
// creating the directory 0700 if needed. It blocks until the lock is free.
func (s *Store) Lock() (unlock func(), err error) {
	if err := EnsureDir(filepath.Dir(s.Path)); err != nil {
		return nil, err
	}
	return lockFile(s.Path + ".lock")
}

// EnsureDir creates dir with mode 0700 if it does not exist.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	return nil
}

// writeAtomic writes data to path via a 0600 temp file in the same directory,
// fsync and rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := EnsureDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes a 0600 file atomically (for stores beside the config).
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data) }
