package wasmsign

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func realModule(t *testing.T) []byte {
	dir := os.Getenv("LINECTL_TEST_LTSM_DIR")
	if dir == "" {
		t.Skip("LINECTL_TEST_LTSM_DIR not set (directory with LINE's ltsm.wasm and ltsmSandbox.js)")
	}
	b, err := os.ReadFile(filepath.Join(dir, "ltsm.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDescribeRealModule(t *testing.T) {
	b := realModule(t)
	in, err := instantiate(context.Background(), b, "chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.close(context.Background())
	t.Log("\n" + in.describe())
}
