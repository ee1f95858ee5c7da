//go:build !windows

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLockRefusesSymlink(t *testing.T) {
	for _, name := range []string{"missing target", "existing target"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "elsewhere")
			if name == "existing target" {
				if err := os.WriteFile(target, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s := &Store{Path: filepath.Join(dir, "config.yaml")}
			if err := os.Symlink(target, s.Path+".lock"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(func(c *Config) error { return nil }); !errors.Is(err, ErrSymlink) || !errors.Is(err, ErrInsecure) {
				t.Fatalf("Update err = %v, want ErrSymlink", err)
			}
			if _, _, err := TryLock(s.Path + ".lock"); !errors.Is(err, ErrSymlink) {
				t.Fatalf("TryLock err = %v, want ErrSymlink", err)
			}
			if name == "missing target" {
				if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a file was created at the link's target: %v", err)
				}
			}
			if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("config written without the lock")
			}
		})
	}
}

func TestSymlinkedConfigWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	realDir := filepath.Join(dir, "dotfiles")
	if err := os.Mkdir(realDir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(realDir, "linectl.yaml")
	if err := os.WriteFile(target, []byte("tokens:\n  accessToken: old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: filepath.Join(dir, "linectl", "config.yaml")}
	if err := os.Mkdir(filepath.Dir(s.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, s.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(func(c *Config) error { c.Tokens.AccessToken = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(s.Path); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", st.Mode(), err)
	}
	b, _ := os.ReadFile(target)
	if !strings.Contains(string(b), "accessToken: new") || strings.Contains(string(b), "accessToken: old") {
		t.Fatalf("target holds %q", b)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Fatalf("target mode %04o", st.Mode().Perm())
	}
	if st, _ := os.Stat(realDir); st.Mode().Perm() != 0o755 {
		t.Fatalf("the target's directory was changed to %04o", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(target + ".bak"); !strings.Contains(string(b), "accessToken: old") {
		t.Fatalf("backup beside the target holds %q", b)
	}
}

func TestDanglingConfigLinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "missing.yaml")
	s := &Store{Path: filepath.Join(dir, "config.yaml")}
	if err := os.Symlink(target, s.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(func(c *Config) error { c.Gateway = "http://127.0.0.1:1"; return nil }); !errors.Is(err, ErrSymlink) {
		t.Fatalf("err = %v, want ErrSymlink", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a file was created through the link")
	}
}

func TestOpenConfigDirMadePrivate(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o755} {
		dir := filepath.Join(t.TempDir(), "linectl")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		var warned []string
		s := &Store{Path: filepath.Join(dir, "config.yaml"), Warn: func(f string, a ...any) { warned = append(warned, f) }}
		for i := 0; i < 2; i++ {
			if _, err := s.Update(func(c *Config) error { c.Tokens.AccessToken = "t"; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
			t.Fatalf("%04o: dir mode now %04o", mode, st.Mode().Perm())
		}
		if len(warned) != 1 {
			t.Fatalf("%04o: warned %d times", mode, len(warned))
		}
	}
}

func TestOnlyRegularFilesOfSaneSizeRead(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("gateway: x\n# "+strings.Repeat("a", MaxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]error{fifo: ErrNotRegular, zero: ErrNotRegular, big: ErrTooLarge} {
		done := make(chan error, 1)
		go func() { _, err := (&Store{Path: path}).Load(); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, want) || !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: err = %v, want %v", filepath.Base(path), err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Load hangs", filepath.Base(path))
		}
		done2 := make(chan error, 1)
		go func() { _, err := (&Store{Path: path}).Update(func(*Config) error { return nil }); done2 <- err }()
		select {
		case err := <-done2:
			if !errors.Is(err, want) {
				t.Errorf("%s: Update err = %v, want %v", filepath.Base(path), err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Update hangs", filepath.Base(path))
		}
	}
}

func TestBadRateInFileRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	for _, v := range []string{".nan", ".inf", "-1", "1e-300", "5000"} {
		if err := os.WriteFile(p, []byte("send:\n  ratePerSecond: "+v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := (&Store{Path: p}).Load(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ratePerSecond %s: err = %v, want ErrCorrupt", v, err)
		}
	}
	if err := os.WriteFile(p, []byte("send:\n  ratePerSecond: 2.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := (&Store{Path: p}).Load(); err != nil || c.Send.RatePerSecond != 2.5 {
		t.Fatalf("Load = %+v, %v", c, err)
	}
}
