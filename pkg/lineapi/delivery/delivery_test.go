package delivery

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

var (
	user  = "u" + strings.Repeat("a", 32)
	group = "c" + strings.Repeat("b", 32)
)

// fakeGW stores messages like LINE (no deduplication) and can fail sends.
type fakeGW struct {
	mu       sync.Mutex
	stored   []int64 // reqSeqs of stored messages
	failures []error // per send attempt; nil = succeed
	commit   []bool  // per attempt: store even though it fails
	probe    *lineapi.Probe
	sends    int
}

func (g *fakeGW) SendMessage(_ context.Context, reqSeq int64, m lineapi.OutgoingMessage) (*lineapi.SentMessage, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := g.sends
	g.sends++
	var err error
	if i < len(g.failures) {
		err = g.failures[i]
	}
	if err == nil || (i < len(g.commit) && g.commit[i]) {
		g.stored = append(g.stored, reqSeq)
	}
	if err != nil {
		return nil, err
	}
	return &lineapi.SentMessage{ID: "srv-1", CreatedTime: 1}, nil
}

func (g *fakeGW) ProbeE2EE(_ context.Context, mid string) (*lineapi.Probe, error) {
	if g.probe != nil {
		return g.probe, nil
	}
	return &lineapi.Probe{MID: mid, SpecVersion: -1, Reason: "peer has Letter Sealing off"}, nil
}

func (g *fakeGW) GetLastOpRevision(context.Context) (int64, error) { return 100, nil }

// finder sees what the gateway stored.
type finder struct{ g *fakeGW }

func (f finder) FindSends(_ context.Context, rev int64, seqs []int64) (map[int64]string, error) {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	out := map[int64]string{}
	for _, s := range seqs {
		for _, st := range f.g.stored {
			if st == s {
				out[s] = "srv-found"
			}
		}
	}
	return out, nil
}

var (
	dropped    = &lineapi.TransportError{Method: "sendMessage", Written: true, Err: errors.New("EOF")}
	notWritten = &lineapi.TransportError{Method: "sendMessage", Err: errors.New("connection refused")}
)

func TestExactlyOnce(t *testing.T) {
	tests := []struct {
		name     string
		failures []error
		commit   []bool
		stored   int
		sends    int
		err      error
		resolved bool
	}{
		{"plain success", nil, nil, 1, 1, nil, false},
		{"drop after commit: found on the stream, not resent", []error{dropped}, []bool{true}, 1, 1, nil, true},
		// LINE may commit a written request later: absence from the stream
		// proves nothing, so it is never sent again.
		{"written, not on the stream: exit 6, never sent again", []error{dropped}, []bool{false}, 0, 1, ErrOutcomeUnknown, false},
		{"late commit after the search: still exactly one", []error{dropped, nil}, []bool{false, true}, 0, 1, ErrOutcomeUnknown, false},
		// Not written: nothing reached LINE (the client itself retries those, same reqSeq).
		{"not written: a temporary failure, nothing sent", []error{notWritten}, nil, 0, 1, notWritten, false},
		{"rejected: no retry", []error{&lineapi.TalkError{Name: "TalkException", Code: 10, Reason: "not a member"}}, nil, 0, 1, lineapi.ErrNotAMember, false},
		{"82: needs Letter Sealing", []error{&lineapi.TalkError{Name: "TalkException", Code: 82}}, nil, 0, 1, ErrNeedsE2EE, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &fakeGW{failures: tc.failures, commit: tc.commit}
			s := &Sender{GW: g, Finder: finder{g}, From: user, E2EE: E2EEAuto}
			r, err := s.Send(context.Background(), group, "hi")
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if len(g.stored) != tc.stored || g.sends != tc.sends {
				t.Fatalf("stored %d (want %d), sends %d (want %d)", len(g.stored), tc.stored, g.sends, tc.sends)
			}
			if len(g.stored) == 1 && g.stored[0] != r.ReqSeq {
				t.Fatalf("stored reqSeq %d, result %d", g.stored[0], r.ReqSeq)
			}
			if tc.err == nil && r.Resolved != tc.resolved {
				t.Fatalf("resolved = %v", r.Resolved)
			}
		})
	}
}

type fakeSealer struct{}

func (fakeSealer) Seal(_ context.Context, p *lineapi.Probe, m *lineapi.OutgoingMessage) (int, error) {
	m.Chunks, m.Text = []string{"x"}, ""
	return p.SpecVersion, nil
}

func TestE2EEModes(t *testing.T) {
	usable := &lineapi.Probe{Usable: true, SpecVersion: 2}
	textAllowed := &lineapi.Probe{Usable: true, SpecVersion: 2, AllowedTypes: []int{0, 15}}
	textNotAllowed := &lineapi.Probe{Usable: true, SpecVersion: 2, AllowedTypes: []int{15}}
	off := &lineapi.Probe{Usable: false, SpecVersion: -1, Reason: "member settings off"}
	for _, tc := range []struct {
		mode   string
		probe  *lineapi.Probe
		sealer Encrypter
		err    error // nil: sent
		sealed bool
	}{
		{E2EEAuto, off, nil, nil, false},
		{E2EERequire, off, nil, ErrSealingImpossible, false},
		{E2EEAuto, usable, nil, ErrNeedsE2EE, false}, // no encrypter: refuse rather than send plain
		{E2EEOff, usable, nil, nil, false},
		{E2EEAuto, textAllowed, fakeSealer{}, nil, true},
		{E2EERequire, textAllowed, fakeSealer{}, nil, true},
		// allowedTypes without the content type: plain, as the extension does; require refuses.
		{E2EEAuto, textNotAllowed, fakeSealer{}, nil, false},
		{E2EERequire, textNotAllowed, fakeSealer{}, ErrSealingImpossible, false},
	} {
		g := &fakeGW{probe: tc.probe}
		s := &Sender{GW: g, Finder: finder{g}, From: user, E2EE: tc.mode, Encrypter: tc.sealer}
		r, err := s.Send(context.Background(), group, "hi")
		if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("mode %s probe %+v: err = %v, want %v", tc.mode, tc.probe, err, tc.err)
			continue
		}
		if tc.err == nil && (r.E2EE != tc.sealed || len(g.stored) != 1) {
			t.Errorf("mode %s probe %+v: sealed %v, stored %d", tc.mode, tc.probe, r.E2EE, len(g.stored))
		}
		if tc.err != nil && g.sends != 0 {
			t.Errorf("mode %s probe %+v: refused but sent", tc.mode, tc.probe)
		}
	}
}

func TestReqSeqCounter(t *testing.T) {
	s := &Sender{}
	a, b := s.NextReqSeq(), s.NextReqSeq()
	if b != a+1 || a <= 0 || a >= 1<<31 {
		t.Fatalf("reqSeq %d, %d", a, b)
	}
}

type memProbes map[string]*lineapi.Probe

func (c memProbes) Probe(mid string) (*lineapi.Probe, bool) { p, ok := c[mid]; return p, ok }
func (c memProbes) SetProbe(mid string, p *lineapi.Probe)   { c[mid] = p }
func (c memProbes) DropProbe(mid string)                    { delete(c, mid) }

// countingGW counts probes and can change what the probe says.
type countingGW struct {
	*fakeGW
	probes int
}

func (g *countingGW) ProbeE2EE(ctx context.Context, mid string) (*lineapi.Probe, error) {
	g.probes++
	return g.fakeGW.ProbeE2EE(ctx, mid)
}

type forgetSealer struct {
	fakeSealer
	forgot []string
}

func (f *forgetSealer) Forget(to string, _ bool) { f.forgot = append(f.forgot, to) }

// A cached probe saves the probe call; each refusal a stale probe explains
// makes the Sender probe afresh and send once more with the same reqSeq.
func TestProbeCache(t *testing.T) {
	plain := &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, SpecVersion: -1}
	sealed := &lineapi.Probe{MID: group, ToType: lineapi.ToGroup, Usable: true, SpecVersion: 2, AllowedTypes: []int{0}, GroupKey: &lineapi.GroupSharedKey{GroupKeyID: 5}}
	talk := func(code int) error { return &lineapi.TalkError{Name: lineapi.ExceptionTalk, Code: code} }
	for _, tc := range []struct {
		name        string
		cached, now *lineapi.Probe
		failures    []error
		probes      int // probe calls made
		sends       int
		sealed      bool
		err         error
	}{
		{"warm: no probe call", plain, plain, nil, 0, 1, false, nil},
		{"cached plain, LINE says 82: probe, seal, same reqSeq", plain, sealed, []error{talk(82)}, 1, 2, true, nil},
		{"cached sealed, LINE says 84: probe, new keys, same reqSeq", sealed, sealed, []error{talk(84)}, 1, 2, true, nil},
		{"cached sealed, 99: recreate the group key", sealed, sealed, []error{talk(99)}, 1, 2, true, nil},
		{"cached, not a member: probe once, then the error", plain, plain, []error{talk(10), talk(10)}, 1, 2, false, lineapi.ErrNotAMember},
		{"cached plain, 82 twice: once only, then e2ee required", plain, plain, []error{talk(82), talk(82)}, 1, 2, false, ErrNeedsE2EE},
		{"no cache, 82: no second try", nil, plain, []error{talk(82)}, 1, 1, false, ErrNeedsE2EE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &countingGW{fakeGW: &fakeGW{failures: tc.failures, probe: tc.now}}
			cache := memProbes{}
			if tc.cached != nil {
				cache[group] = tc.cached
			}
			enc := &forgetSealer{}
			s := &Sender{GW: g, Finder: finder{g.fakeGW}, From: user, E2EE: E2EEAuto, Encrypter: enc, Probes: cache, SavedRevision: 100}
			r, err := s.Send(context.Background(), group, "hi")
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if g.probes != tc.probes || g.sends != tc.sends {
				t.Fatalf("%d probes (want %d), %d sends (want %d)", g.probes, tc.probes, g.sends, tc.sends)
			}
			if tc.err == nil && (r.E2EE != tc.sealed || len(g.stored) != 1 || g.stored[0] != r.ReqSeq) {
				t.Fatalf("sealed %v, stored %v (reqSeq %d)", r.E2EE, g.stored, r.ReqSeq)
			}
			if p, ok := cache[group]; tc.err == nil && (!ok || p != tc.now && tc.probes > 0) {
				t.Fatalf("cache holds %+v after a fresh probe", p)
			}
		})
	}
}

// With a saved revision no getLastOpRevision is made, and an unknown
// outcome is still settled from the stream (exactly one message).
func TestSavedRevisionSettlesUnknownOutcome(t *testing.T) {
	g := &revGW{fakeGW: &fakeGW{failures: []error{dropped}, commit: []bool{true}}}
	s := &Sender{GW: g, Finder: finder{g.fakeGW}, From: user, E2EE: E2EEOff, SavedRevision: 42}
	r, err := s.Send(context.Background(), group, "hi")
	if err != nil || !r.Resolved || len(g.stored) != 1 || g.revCalls != 0 {
		t.Fatalf("err %v, resolved %v, stored %d, getLastOpRevision calls %d", err, r.Resolved, len(g.stored), g.revCalls)
	}
	if rev, _ := s.Revision(context.Background()); rev != 42 {
		t.Fatalf("searched from %d", rev)
	}
}

type revGW struct {
	*fakeGW
	revCalls int
}

func (g *revGW) GetLastOpRevision(ctx context.Context) (int64, error) {
	g.revCalls++
	return g.fakeGW.GetLastOpRevision(ctx)
}
