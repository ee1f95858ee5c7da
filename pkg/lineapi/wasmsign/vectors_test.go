package wasmsign

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// TestRealVectors checks the signatures LINE's own module produced
// (shared/testdata/xhmac-vectors.json). It runs when LINECTL_TEST_LTSM_DIR
// holds the real ltsm.wasm.
func TestRealVectors(t *testing.T) {
	wasm := realModule(t)
	b, err := os.ReadFile("../../../../shared/testdata/xhmac-vectors.json")
	if err != nil {
		t.Skipf("vectors: %v", err)
	}
	var vectors []struct {
		Version, AccessToken, Path, Body, XHmac string
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), wasm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, v := range vectors {
		got, err := s.Sign(context.Background(), lineapi.SignRequest{Path: v.Path, Body: v.Body, AccessToken: v.AccessToken, Version: v.Version})
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if got != v.XHmac {
			t.Errorf("vector %d (%s): got %s, want %s", i, v.Path, got, v.XHmac)
		}
	}
}
