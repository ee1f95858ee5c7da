package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// stopGW is a gateway whose calls can be held until released, counting
// what it was asked.
type stopGW struct {
	mu                     sync.Mutex
	probes, sends, uploads int
	hold                   map[string]chan struct{} // method → closed to answer
	entered                chan string
	flow                   int
}

func newStopGW(flow int, held ...string) *stopGW {
	g := &stopGW{hold: map[string]chan struct{}{}, entered: make(chan string, 16), flow: flow}
	for _, m := range held {
		g.hold[m] = make(chan struct{})
	}
	return g
}

// wait answers method's call once released, or fails with ctx.
func (g *stopGW) wait(ctx context.Context, method string) error {
	g.entered <- method
	if ch := g.hold[method]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (g *stopGW) SendMessage(ctx context.Context, _ int64, _ lineapi.OutgoingMessage) (*lineapi.SentMessage, error) {
	g.mu.Lock()
	g.sends++
	g.mu.Unlock()
	// A request written is not cut by the Sender's Stop: ctx here is the
	// send's own.
	if err := g.wait(ctx, "sendMessage"); err != nil {
		return nil, err
	}
	return &lineapi.SentMessage{ID: "m1"}, nil
}

func (g *stopGW) ProbeE2EE(ctx context.Context, _ string) (*lineapi.Probe, error) {
	g.mu.Lock()
	g.probes++
	g.mu.Unlock()
	if err := g.wait(ctx, "probe"); err != nil {
		return nil, err
	}
	return &lineapi.Probe{Usable: true, AllowedTypes: []int{0, 1, 14}, SpecVersion: 2}, nil
}

func (g *stopGW) GetLastOpRevision(context.Context) (int64, error) { return 1, nil }

func (g *stopGW) DetermineMediaMessageFlow(context.Context, string) (*lineapi.MediaFlow, error) {
	return &lineapi.MediaFlow{FlowMap: map[string]int{"14": g.flow}}, nil
}

func (g *stopGW) Upload(ctx context.Context, path string, _ obs.Params, src obs.Source) (string, error) {
	g.mu.Lock()
	g.uploads++
	g.mu.Unlock()
	if err := g.wait(ctx, "upload"); err != nil {
		return "", err
	}
	rc, err := src.Open()
	if err == nil {
		rc.Close()
	}
	return "oid1", err
}

type sealAll struct{}

func (sealAll) Seal(_ context.Context, _ *lineapi.Probe, m *lineapi.OutgoingMessage) (int, error) {
	m.Chunks = []string{"c"}
	return 2, nil
}

// The one rule every sender follows (Sender.Stop): stop before writing,
// finish what is written.
func TestSenderStop(t *testing.T) {
	file := func() Content {
		return &Media{ContentType: lineapi.ContentFile, Name: "a.bin", Source: obs.BytesSource([]byte("data"))}
	}
	for _, tc := range []struct {
		name      string
		gw        *stopGW
		content   Content
		stopAt    string // the call entered when Stop comes ("" = before the send)
		wantErr   error
		wantSends int
	}{
		{"stopped before: nothing asked", newStopGW(lineapi.FlowPlain), Text{Text: "hi"}, "", ErrStopped, 0},
		{"during the probe: not sent", newStopGW(lineapi.FlowPlain, "probe"), Text{Text: "hi"}, "probe", ErrStopped, 0},
		{"during sendMessage: finished", newStopGW(lineapi.FlowPlain, "sendMessage"), Text{Text: "hi"}, "sendMessage", nil, 1},
		{"during a sealed upload: not sent", newStopGW(lineapi.FlowSealed, "upload"), file(), "upload", ErrStopped, 0},
		{"during a plain upload: finished", newStopGW(lineapi.FlowPlain, "upload"), file(), "upload", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop, signal := context.WithCancel(context.Background())
			defer signal()
			s := &Sender{GW: tc.gw, From: "u1a11ce0000000000000000000000a11c", E2EE: E2EEAuto, Encrypter: sealAll{}, Uploader: tc.gw, SavedRevision: 1, Stop: stop}
			done := make(chan error, 1)
			if tc.stopAt == "" {
				signal()
			}
			go func() {
				_, err := s.SendMessage(context.Background(), "u0b0b0000000000000000000000000b0b", tc.content)
				done <- err
			}()
			if tc.stopAt != "" {
			wait:
				for {
					select {
					case m := <-tc.gw.entered:
						if m == tc.stopAt {
							break wait
						}
					case err := <-done:
						t.Fatalf("ended before %s: %v", tc.stopAt, err)
					}
				}
				signal()
				time.Sleep(20 * time.Millisecond) // a stop that would cut the call has happened by now
				close(tc.gw.hold[tc.stopAt])      // what was written gets its answer
			}
			err := <-done
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("ErrStopped does not wrap context.Canceled: %v", err)
			}
			if tc.gw.sends != tc.wantSends {
				t.Fatalf("%d sendMessage calls, want %d", tc.gw.sends, tc.wantSends)
			}
			if tc.stopAt == "" && tc.gw.probes != 0 {
				t.Fatalf("%d probes after Stop", tc.gw.probes)
			}
		})
	}
}
