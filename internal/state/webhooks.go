package state

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/linectl/linectl/internal/config"
)

// Webhooks is where `serve` resumes calling webhooks: its stream position
// (bot-webhooks.json), with the operation whose events went out at least
// once (attempted, redelivered after a restart), and its one-dispatcher
// lock (bot-webhooks.lock).
type Webhooks struct {
	path, lock string
}

// webhookState is bot-webhooks.json.
type webhookState struct {
	MID       string `json:"mid"`
	Revision  string `json:"revision"`
	Attempted string `json:"attempted,omitempty"`
}

// Webhooks is serve's webhook position beside the config.
func (d *Dir) Webhooks() *Webhooks {
	return &Webhooks{path: d.path(FileBotWebhooks), lock: d.path(FileBotHooksLock)}
}

// Name is the file, for messages.
func (w *Webhooks) Name() string { return w.path }

// Load returns the account's saved position and attempted operation (0:
// none), and whether there is a position (another account's is none). A
// file that cannot be parsed, or holds a bad revision, is an error matching
// config.ErrCorrupt.
func (w *Webhooks) Load(mid string) (rev, attempted int64, saved bool, err error) {
	raw, err := config.ReadFile(w.path)
	if err != nil || raw == nil {
		return 0, 0, false, err
	}
	var st webhookState
	if err := json.Unmarshal(raw, &st); err != nil {
		return 0, 0, false, &corruptError{fmt.Sprintf("%s is corrupt (%v): remove it to start from the newest operation", w.path, err)}
	}
	if st.MID != mid {
		return 0, 0, false, nil
	}
	rev, err = strconv.ParseInt(st.Revision, 10, 64)
	if err != nil || rev < 0 {
		return 0, 0, false, &corruptError{fmt.Sprintf("%s holds a bad revision %q: remove it to start from the newest operation", w.path, st.Revision)}
	}
	attempted, _ = strconv.ParseInt(st.Attempted, 10, 64)
	return rev, attempted, true, nil
}

// Save records the account's position and, when it is past rev, the
// operation being delivered.
func (w *Webhooks) Save(mid string, rev, attempted int64) error {
	st := webhookState{MID: mid, Revision: strconv.FormatInt(rev, 10)}
	if attempted > rev {
		st.Attempted = strconv.FormatInt(attempted, 10)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(w.path, raw)
}

// Lock takes the one-dispatcher lock without waiting (ErrLocked when
// another process holds it).
func (w *Webhooks) Lock() (unlock func(), err error) { return tryLock(w.lock) }
