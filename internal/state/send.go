package state

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
)

// What send keeps between runs so that a warm send is one gateway call: the
// probe of each chat (probe-cache.json) and an operation revision to search
// the stream from (send-state.json, or receive's position).

// ProbeTTL is how long a chat's probe is trusted. A Letter Sealing setting, a
// member or a key changes rarely, and every stale answer LINE can notice is
// refused without being processed (82, 83, 84, 99, not a member) and makes
// the sender probe again and resend once; what an hour bounds is the change
// LINE would not refuse — a peer who turned Letter Sealing off still gets a
// sealed message its app cannot open — and a cron job every 15 minutes
// probes once in four runs.
const ProbeTTL = time.Hour

// RevisionTTL is how old a saved revision may be to search the stream from
// for an unknown outcome. How far back LINE replays the stream is not known;
// a day is assumed (an older start may draw a fullSync, which ends the search
// with exit 6: never a wrong answer).
const RevisionTTL = 24 * time.Hour

type probeEntry struct {
	At    int64          `json:"at"` // unix seconds
	Probe *lineapi.Probe `json:"probe,omitempty"`
	// Flow is a chat's determineMediaMessageFlow answer, under the key
	// "media/<mid>": trusted for the hour, or the shorter cacheTtlMillis
	// LINE gives (beeper/line caches it for that long).
	Flow *lineapi.MediaFlow `json:"flow,omitempty"`
}

// flowKey is where a chat's media flow is kept among the probes.
func flowKey(mid string) string { return "media/" + e2ee.NormalizeMID(mid) }

type probeFile struct {
	MID     string                `json:"mid"`
	Entries map[string]probeEntry `json:"entries"`
}

// ProbeCache is one run's probes and media flows of an account
// (delivery.ProbeCache and delivery.MediaFlowCache), merged into
// probe-cache.json by Save.
type ProbeCache struct {
	path, mid string
	now       func() time.Time

	mu      sync.Mutex
	entries map[string]probeEntry
	changed map[string]bool // chats set or dropped in this run
}

// Probes reads the account's probe cache; a missing, unreadable or another
// account's cache is empty (it is only an optimisation).
func (d *Dir) Probes(mid string) *ProbeCache {
	c := &ProbeCache{path: d.path(FileProbeCache), mid: mid, now: d.now, entries: map[string]probeEntry{}, changed: map[string]bool{}}
	var pf probeFile
	if b, err := config.ReadFile(c.path); err == nil && b != nil && json.Unmarshal(b, &pf) == nil && e2ee.SameMID(pf.MID, mid) {
		for k, v := range pf.Entries {
			if v.Probe != nil || v.Flow != nil {
				c.entries[k] = v
			}
		}
	}
	return c
}

// Probe implements delivery.ProbeCache.
func (c *ProbeCache) Probe(mid string) (*lineapi.Probe, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[e2ee.NormalizeMID(mid)]
	if !ok || e.Probe == nil || !c.fresh(e) {
		return nil, false
	}
	return e.Probe, true
}

// SetProbe implements delivery.ProbeCache.
func (c *ProbeCache) SetProbe(mid string, p *lineapi.Probe) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := e2ee.NormalizeMID(mid)
	c.entries[k], c.changed[k] = probeEntry{At: c.now().Unix(), Probe: p}, true
}

// DropProbe implements delivery.ProbeCache.
func (c *ProbeCache) DropProbe(mid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := e2ee.NormalizeMID(mid)
	delete(c.entries, k)
	c.changed[k] = true
}

// MediaFlow implements delivery.MediaFlowCache.
func (c *ProbeCache) MediaFlow(mid string) (*lineapi.MediaFlow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[flowKey(mid)]
	if !ok || e.Flow == nil || !c.fresh(e) {
		return nil, false
	}
	return e.Flow, true
}

// SetMediaFlow implements delivery.MediaFlowCache (nil drops the entry).
func (c *ProbeCache) SetMediaFlow(mid string, f *lineapi.MediaFlow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := flowKey(mid)
	if f == nil {
		delete(c.entries, k)
	} else {
		c.entries[k] = probeEntry{At: c.now().Unix(), Flow: f}
	}
	c.changed[k] = true
}

// fresh reports whether an entry is within its time: ProbeTTL, or a media
// flow's shorter cacheTtlMillis. Caller holds c.mu.
func (c *ProbeCache) fresh(e probeEntry) bool {
	ttl := ProbeTTL
	if e.Flow != nil && e.Flow.CacheTTL > 0 {
		ttl = min(ttl, time.Duration(e.Flow.CacheTTL)*time.Millisecond)
	}
	at := time.Unix(e.At, 0)
	return !c.now().Before(at) && c.now().Sub(at) <= ttl
}

// Save merges this run's changes into the file under its lock (several
// sends may run at once). A failure only costs a probe next time.
func (c *ProbeCache) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.changed) == 0 {
		return nil
	}
	unlock, err := (&config.Store{Path: c.path}).Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var pf probeFile
	if b, err := config.ReadFile(c.path); err == nil && b != nil {
		_ = json.Unmarshal(b, &pf)
	}
	if !e2ee.SameMID(pf.MID, c.mid) || pf.Entries == nil {
		pf = probeFile{MID: c.mid, Entries: map[string]probeEntry{}}
	}
	for k := range c.changed {
		if e, ok := c.entries[k]; ok {
			pf.Entries[k] = e
		} else {
			delete(pf.Entries, k)
		}
	}
	for k, e := range pf.Entries { // expired entries go
		if !c.fresh(e) {
			delete(pf.Entries, k)
		}
	}
	b, err := json.Marshal(pf)
	if err != nil {
		return err
	}
	c.changed = map[string]bool{}
	return config.WriteFileAtomic(c.path, b)
}

type sendState struct {
	MID      string `json:"mid"`
	Revision string `json:"revision"`
	At       int64  `json:"at"` // unix seconds, when LINE said it was the newest
}

// Revision is a revision from before this run to search the stream from,
// no older than RevisionTTL: the newer of the last send's (send-state.json)
// and receive's position (dated by its file). 0 when there is none.
func (d *Dir) Revision(mid string) int64 {
	var best int64
	if b, err := config.ReadFile(d.path(FileSendState)); err == nil && b != nil {
		var st sendState
		if json.Unmarshal(b, &st) == nil && e2ee.SameMID(st.MID, mid) && d.now().Sub(time.Unix(st.At, 0)) <= RevisionTTL {
			best, _ = strconv.ParseInt(st.Revision, 10, 64)
		}
	}
	p := d.Position()
	if fi, err := os.Stat(p.Name()); err == nil && d.now().Sub(fi.ModTime()) <= RevisionTTL {
		if rev, ok, err := p.Load(mid); err == nil && ok && rev > best {
			best = rev
		}
	}
	return max(best, 0)
}

// SaveRevision records a revision LINE gave this run, for later runs.
func (d *Dir) SaveRevision(mid string, rev int64) error {
	p := d.path(FileSendState)
	b, err := json.Marshal(sendState{MID: mid, Revision: strconv.FormatInt(rev, 10), At: d.now().Unix()})
	if err == nil {
		err = config.WriteFileAtomic(p, b)
	}
	if err != nil {
		return fmt.Errorf("%s not saved: %w", p, err)
	}
	return nil
}
