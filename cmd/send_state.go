package cmd

import (
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// sendStateStore is what send keeps between runs: each chat's probe (and
// media flow), and the revision to search the stream from
// (internal/state; memory in tests).
type sendStateStore interface {
	Probes(mid string) probeStore
	Revision(mid string) int64
	SaveRevision(mid string, rev int64) error
}

// probeStore is a run's probe cache, saved at its end.
type probeStore interface {
	delivery.ProbeCache
	Save() error
}

// fileSendState is the factory's state.Dir. Without one (no config path)
// there is nothing saved: an empty cache, no revision.
type fileSendState struct{ f *factory }

func (s fileSendState) Probes(mid string) probeStore {
	st, err := s.f.State()
	if err != nil {
		return noProbes{}
	}
	return st.Probes(mid)
}

func (s fileSendState) Revision(mid string) int64 {
	st, err := s.f.State()
	if err != nil {
		return 0
	}
	return st.Revision(mid)
}

func (s fileSendState) SaveRevision(mid string, rev int64) error {
	st, err := s.f.State()
	if err != nil {
		return err
	}
	return st.SaveRevision(mid, rev)
}

// noProbes is a cache that keeps nothing.
type noProbes struct{}

func (noProbes) Probe(string) (*lineapi.Probe, bool) { return nil, false }
func (noProbes) SetProbe(string, *lineapi.Probe)     {}
func (noProbes) DropProbe(string)                    {}
func (noProbes) Save() error                         { return nil }
