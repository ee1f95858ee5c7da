package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/linectl/linectl/internal/config"
)

// receiveState is where `receive` resumes: the revision of the last
// operation it wrote and flushed. It is saved only after the line is
// flushed, so an operation is never lost; operations at or below it are never
// printed again, so none is repeated.
type receiveState struct {
	MID      string `json:"mid"`
	Revision string `json:"revision"` // i64 as a string, like LINE's
}

func receiveStatePath(f *factory) string {
	return filepath.Join(filepath.Dir(f.store.Path), "receive-state.json")
}

// loadReceiveRevision returns the saved revision and whether there is one.
func loadReceiveRevision(f *factory, mid string) (int64, bool, error) {
	b, err := config.ReadFile(receiveStatePath(f))
	if err != nil {
		return 0, false, err
	}
	if b == nil {
		return 0, false, nil
	}
	var st receiveState
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, false, withExit(ExitUsage, "config", fmt.Errorf("%s is corrupt (%v): remove it to start from the newest operation", receiveStatePath(f), err))
	}
	if st.MID != "" && mid != "" && st.MID != mid {
		return 0, false, nil // another account's position
	}
	rev, err := strconv.ParseInt(st.Revision, 10, 64)
	if err != nil {
		return 0, false, withExit(ExitUsage, "config", fmt.Errorf("%s holds a bad revision %q", receiveStatePath(f), st.Revision))
	}
	return rev, true, nil
}

func saveReceiveRevision(f *factory, mid string, rev int64) error {
	b, err := json.Marshal(receiveState{MID: mid, Revision: strconv.FormatInt(rev, 10)})
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(receiveStatePath(f), b)
}

// lockReceive makes sure only one receive runs per config.
func lockReceive(f *factory) (func(), error) {
	p := filepath.Join(filepath.Dir(f.store.Path), "receive.lock")
	if err := config.EnsureDir(filepath.Dir(p)); err != nil {
		return nil, err
	}
	unlock, ok, err := config.TryLock(p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, withExit(ExitUsage, "already_running", errors.New("another 'linectl receive' is already running with this config; only one may read the stream at a time"))
	}
	return unlock, nil
}
