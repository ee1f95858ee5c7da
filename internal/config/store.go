package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

const header = "# linectl configuration. It holds your LINE session (certificate, tokens):\n# keep it private (mode 0600). See docs/configuration.md.\n"

// Store is the config file at one path.
type Store struct {
	Path string
	// Warn, when set, is told what linectl changed on its own (a config
	// directory made private); the command prints it to stderr.
	Warn func(format string, a ...any)
}

// Load reads the file without locking (replacements are atomic, so a
// reader sees either the old or the new file). A config directory of the
// user's that other users can read is made 0700 here already (and Warn told).
func (s *Store) Load() (*Config, error) {
	dir := filepath.Dir(s.Path)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		if note, err := fixDirMode(dir, st); err == nil {
			s.warn(note)
		} // a directory that is not the user's is refused on the first write
	}
	return read(s.Path)
}

func (s *Store) warn(note string) {
	if note != "" && s.Warn != nil {
		s.Warn("%s", note)
	}
}

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
	target, err := writeTarget(s.Path)
	if err != nil {
		return nil, err
	}
	old, st, err := readBounded(target)
	if err != nil {
		return nil, err
	}
	c, err := parse(s.Path, old, st)
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
		if err := writeAtomic(target+".bak", old); err != nil {
			return nil, err
		}
	}
	if err := writeAtomic(target, out); err != nil {
		return nil, err
	}
	return c, nil
}

// Lock takes the exclusive lock of the config (a sibling ".lock" file,
// never opened through a symbolic link), creating the directory 0700 if
// needed or making the user's own directory 0700. It blocks until the lock
// is free.
func (s *Store) Lock() (unlock func(), err error) {
	note, err := ensureDir(filepath.Dir(s.Path))
	if err != nil {
		return nil, err
	}
	s.warn(note)
	return lockFile(s.Path + ".lock")
}

// EnsureDir creates dir with mode 0700 if it does not exist; an existing
// directory of the user's that others can use is made 0700, one of another
// user's is refused (ErrUnsafeDir).
func EnsureDir(dir string) error {
	_, err := ensureDir(dir)
	return err
}

// writeAtomic writes data to path via a 0600 temp file in the same directory,
// fsync and rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	// Only a missing directory is created here: the config directory's mode
	// is checked by Store.Lock, and a linked config's target directory is the
	// user's to choose.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
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
