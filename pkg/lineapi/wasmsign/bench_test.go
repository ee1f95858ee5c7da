package wasmsign

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/linectl/linectl/pkg/lineapi"
)

func BenchmarkSign(b *testing.B) {
	dir := os.Getenv("LINECTL_TEST_LTSM_DIR")
	if dir == "" {
		b.Skip("LINECTL_TEST_LTSM_DIR not set")
	}
	wasm, _ := os.ReadFile(filepath.Join(dir, "ltsm.wasm"))
	s, err := Open(context.Background(), wasm, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := lineapi.SignRequest{Path: "/api/talk/thrift/Talk/TalkService/sendMessage", Body: `[1,{"text":"hello"}]`, AccessToken: "tok", Version: "3.7.2"}
	s.Sign(context.Background(), r)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Sign(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStartupPhases logs how long each start-up phase takes (cold and warm cache).
func TestStartupPhases(t *testing.T) {
	dir := os.Getenv("LINECTL_TEST_LTSM_DIR")
	if dir == "" {
		t.Skip("LINECTL_TEST_LTSM_DIR not set")
	}
	wasm, _ := os.ReadFile(filepath.Join(dir, "ltsm.wasm"))
	cache, _ := wazero.NewCompilationCacheWithDir(t.TempDir())
	state := t.TempDir()
	for _, label := range []string{"cold", "warm"} {
		t0 := time.Now()
		s, err := Open(context.Background(), wasm, Options{Cache: cache, StateDir: state})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		s.Sign(context.Background(), lineapi.SignRequest{Path: "/x", Version: "3.7.2"})
		t2 := time.Now()
		s.Sign(context.Background(), lineapi.SignRequest{Path: "/y", Version: "3.7.2"})
		t.Logf("%s: open %v, first sign %v, next sign %v", label, t1.Sub(t0), t2.Sub(t1), time.Since(t2))
		s.Close()
	}
}
