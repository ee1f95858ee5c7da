package wasmsign

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// TestRealVectors checks the signatures LINE's own module produced
// (testdata/ltsm/xhmac-vectors.json). It runs when LINECTL_TEST_LTSM_DIR
// holds the real ltsm.wasm.
func TestRealVectors(t *testing.T) {
	wasm := realModule(t)
	b, err := os.ReadFile("../../../testdata/ltsm/xhmac-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Version, AccessToken, Path, Body, XHmac string
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	for _, run := range []string{"fresh", "snapshot saved", "from snapshot"} {
		opts := Options{}
		if run != "fresh" {
			opts.StateDir = state
		}
		s, err := Open(context.Background(), wasm, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkVectors(t, run, s, vectors)
		s.Close()
	}
}

func checkVectors(t *testing.T, run string, s *Signer, vectors []struct{ Version, AccessToken, Path, Body, XHmac string }) {
	for i, v := range vectors {
		got, err := s.Sign(context.Background(), lineapi.SignRequest{Path: v.Path, Body: v.Body, AccessToken: v.AccessToken, Version: v.Version})
		if err != nil {
			t.Fatalf("%s: vector %d: %v", run, i, err)
		}
		if got != v.XHmac {
			t.Errorf("%s: vector %d (%s): got %s, want %s", run, i, v.Path, got, v.XHmac)
		}
	}
}
