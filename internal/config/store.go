package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/linectl/linectl/pkg/atomicfile"
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
	c, err := read(s.Path)
	if err == nil {
		for _, k := range c.UnknownKeys() {
			s.warn(fmt.Sprintf("warning: %s: unknown key %q ignored (see docs/configuration.md)", s.Path, k))
		}
	}
	return c, err
}

func (s *Store) warn(note string) {
	if note != "" && s.Warn != nil {
		s.Warn("%s", note)
	}
}

// Update runs fn on the freshly read file under the exclusive lock and, if fn
// returns nil, replaces the file atomically. Reading inside the lock is what
// makes concurrent linectl processes safe: no one saves over a newer file.
//
// Room for the new version is reserved on disk before fn runs (see
// reserve), so what fn did outside — a token refresh LINE cannot undo — is
// never lost to a full disk: a disk that cannot take the reservation fails
// with a *DiskError before fn runs. The new file is written first; the
// previous contents are then kept as <path>.bak, best-effort.
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
	res, err := reserve(target, len(old)+reserveSlack)
	if err != nil {
		return nil, err
	}
	defer res.discard()
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
	if err := res.commit(out); err != nil {
		return nil, err
	}
	if len(old) > 0 {
		if err := writeAtomic(target+".bak", old); err != nil {
			s.warn(fmt.Sprintf("linectl: warning: could not keep the previous config as %s.bak: %v", target, err))
		}
	}
	return c, nil
}

// errCheckOnly ends CheckWritable's Update before anything is written.
var errCheckOnly = errors.New("check only")

// CheckWritable runs everything Update does before it writes — the
// directory, the lock, a link's target, reading and parsing the file, room
// on disk in the target's directory — and writes nothing. A command that
// asks LINE for something it must save (login's tokens and certificate)
// calls it first, so a config that cannot be saved is refused before LINE
// is contacted rather than after.
func (s *Store) CheckWritable() error {
	_, err := s.Update(func(*Config) error { return errCheckOnly })
	if errors.Is(err, errCheckOnly) {
		return nil
	}
	return err
}

// reserveSlack is room reserved beyond the current config's size: a token
// refresh adds at most a few hundred bytes.
const reserveSlack = 16 << 10

// reservation is a file in the config's directory, already allocated on
// disk, that becomes the config's next version. It has a fixed name and is
// only used under the config lock, so a process killed in the middle leaves
// at most one behind, which the next Update reuses.
type reservation struct {
	f      *os.File
	path   string // the reservation file
	target string // the file it replaces
}

// reserve allocates size bytes for the next version of target (writing
// zeros, so that the file system really allocates them) and syncs them.
func reserve(target string, size int) (*reservation, error) {
	dir := filepath.Dir(target)
	p := filepath.Join(dir, "."+filepath.Base(target)+".next")
	if err := checkLockPath(p); err != nil { // a regular file or nothing, never a link
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|openNonBlock, 0o600)
	if err != nil {
		return nil, asDiskError(target, fmt.Errorf("reserve space for %s: %w", target, err))
	}
	fail := func(err error) (*reservation, error) {
		f.Close()
		_ = os.Remove(p)
		return nil, asDiskError(target, fmt.Errorf("reserve space for %s: %w", target, err))
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.WriteAt(make([]byte, size), 0); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	return &reservation{f: f, path: p, target: target}, nil
}

// commit writes data over the reserved bytes and renames the file over the target.
func (r *reservation) commit(data []byte) error {
	f := r.f
	r.f = nil
	fail := func(err error) error {
		f.Close()
		_ = os.Remove(r.path)
		return asDiskError(r.target, fmt.Errorf("write %s: %w", r.target, err))
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return fail(err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(r.path)
		return asDiskError(r.target, fmt.Errorf("write %s: %w", r.target, err))
	}
	if err := os.Rename(r.path, r.target); err != nil {
		_ = os.Remove(r.path)
		return asDiskError(r.target, fmt.Errorf("write %s: %w", r.target, err))
	}
	syncDir(filepath.Dir(r.target))
	return nil
}

// discard gives the reservation back unless it was committed.
func (r *reservation) discard() {
	if r.f != nil {
		r.f.Close()
		_ = os.Remove(r.path)
		r.f = nil
	}
}

func syncDir(dir string) { atomicfile.SyncDir(dir) }

// Lock takes the exclusive lock of the config (a sibling ".lock" file,
// never opened through a symbolic link), creating the directory 0700 if
// needed or making the user's own directory 0700. It blocks until the lock
// is free.
func (s *Store) Lock() (unlock func(), err error) {
	note, err := ensureDir(filepath.Dir(s.Path))
	if err != nil {
		return nil, asDiskError(filepath.Dir(s.Path), err)
	}
	s.warn(note)
	unlock, err = lockFile(s.Path + ".lock")
	return unlock, asDiskError(s.Path+".lock", err)
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
	if err := writeTemp(path, data); err != nil {
		return asDiskError(path, err)
	}
	return nil
}

func writeTemp(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes a 0600 file atomically (for stores beside the config).
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data) }
