package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// CheckWritable refuses what Update would refuse, and writes nothing.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	s := &Store{Path: filepath.Join(dir, "c", "config.yaml")}
	if err := s.CheckWritable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(s.Path); err == nil {
		t.Fatal("CheckWritable created the config")
	}
	if _, err := os.Lstat(filepath.Join(dir, "c", ".config.yaml.next")); err == nil {
		t.Fatal("the reservation was left behind")
	}
	if err := os.Symlink(filepath.Join(dir, "missing.yaml"), s.Path); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(); !errors.Is(err, ErrSymlink) || !errors.Is(err, ErrInsecure) {
		t.Fatalf("link to a missing file: %v", err)
	}
}
