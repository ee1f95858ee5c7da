package wasmsign

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// TestSnapshotRoundTripAndDamage opens the test module from a mapped file
// three ways — fresh (saving a snapshot), from the snapshot, and from a
// damaged snapshot (which must be ignored, not half-applied) — and checks
// the signatures every time.
func TestSnapshotRoundTripAndDamage(t *testing.T) {
	snapshotUnknownBuilds = true
	defer func() { snapshotUnknownBuilds = false }()
	dir := t.TempDir()
	wasmPath := filepath.Join(dir, "ltsm.wasm")
	if err := os.WriteFile(wasmPath, testModule(t), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	req := lineapi.SignRequest{Path: "/api/talk/thrift/Talk/TalkService/sendMessage", Body: `[1,{"text":"hi"}]`, AccessToken: "tok", Version: "3.7.2"}
	want := b64(reference("test-token", "3.7.2", req.AccessToken, []byte(req.Path+req.Body)))
	sign := func(label string) {
		t.Helper()
		s, err := OpenFile(context.Background(), wasmPath, Options{AllowUnknownBuild: true, Token: "test-token", StateDir: state})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		defer s.Close()
		got, err := s.Sign(context.Background(), req)
		if err != nil || got != want {
			t.Fatalf("%s: got %q, %v; want %s", label, got, err, want)
		}
	}
	sign("fresh")
	snaps, _ := filepath.Glob(filepath.Join(state, "ltsm-*.snap"))
	if len(snaps) != 1 {
		t.Fatalf("want one snapshot, have %v", snaps)
	}
	if st, _ := os.Stat(snaps[0]); st.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot mode %v", st.Mode().Perm())
	}
	sign("from snapshot")
	good, _ := os.ReadFile(snaps[0])
	for name, bad := range map[string][]byte{
		"truncated":    good[:len(good)-1],
		"out of range": append(append([]byte(nil), good[:len(snapshotFormat)+8]...), 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0),
		"wrong format": append([]byte("wasmsign-snapshot-0"), good[len(snapshotFormat):]...),
		"empty":        {},
	} {
		if err := os.WriteFile(snaps[0], bad, 0o600); err != nil {
			t.Fatal(err)
		}
		sign(name)
	}
}
