package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/linectl/linectl/internal/config"
)

// Position is where `receive` resumes: the revision of the last operation
// it wrote and flushed (receive-state.json), and its one-reader lock
// (receive.lock). The caller saves a revision only after its line is
// flushed, so an operation is never lost; operations at or below it are
// never printed again, so none is repeated.
type Position struct {
	path, lock string
}

// receiveState is the file's contents.
type receiveState struct {
	MID      string `json:"mid"`
	Revision string `json:"revision"` // i64 as a string, like LINE's
}

// Position is receive's position beside the config.
func (d *Dir) Position() *Position {
	return &Position{path: d.path(FileReceiveState), lock: d.path(FileReceiveLock)}
}

// Name is the file, for messages.
func (p *Position) Name() string { return p.path }

// ErrLocked is Lock's answer when another process holds the lock.
var ErrLocked = errors.New("another process holds the lock")

// corruptError is a position linectl refuses: it matches config.ErrCorrupt
// (exit 2, kind config) and says how to reset it.
type corruptError struct{ msg string }

func (e *corruptError) Error() string { return e.msg }
func (e *corruptError) Unwrap() error { return config.ErrCorrupt }

// Load returns the account's saved revision and whether there is one
// (another account's position is none). A file that cannot be parsed, or
// holds a bad revision, is an error matching config.ErrCorrupt.
func (p *Position) Load(mid string) (int64, bool, error) {
	b, err := config.ReadFile(p.path)
	if err != nil {
		return 0, false, err
	}
	if b == nil {
		return 0, false, nil
	}
	var st receiveState
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, false, &corruptError{fmt.Sprintf("%s is corrupt (%v): remove it to start from the newest operation", p.path, err)}
	}
	if st.MID != "" && mid != "" && st.MID != mid {
		return 0, false, nil // another account's position
	}
	rev, err := strconv.ParseInt(st.Revision, 10, 64)
	if err != nil || rev < 0 {
		return 0, false, &corruptError{fmt.Sprintf("%s holds a bad revision %q: %s", p.path, st.Revision, ResetHint(p.path))}
	}
	return rev, true, nil
}

// Save records the account's position.
func (p *Position) Save(mid string, rev int64) error {
	b, err := json.Marshal(receiveState{MID: mid, Revision: strconv.FormatInt(rev, 10)})
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(p.path, b)
}

// Lock takes the one-reader lock without waiting (ErrLocked when another
// process holds it), creating the directory 0700 if needed.
func (p *Position) Lock() (unlock func(), err error) { return tryLock(p.lock) }

// tryLock takes the lock file at path without waiting (ErrLocked when
// another process holds it), creating the directory 0700 if needed.
func tryLock(path string) (unlock func(), err error) {
	if err := config.EnsureDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	unlock, ok, err := config.TryLock(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrLocked
	}
	return unlock, nil
}

// ResetHint says how to reset a receive position linectl refuses.
func ResetHint(file string) string {
	return "remove " + file + " to start from the newest operation, or run 'linectl receive --from-revision N' (an operation's revision from an earlier line) to resume there"
}
