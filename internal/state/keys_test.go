package state

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

const me = "u0b0b0000000000000000000000000b0b"

func own() []sealing.KeyPair {
	return []sealing.KeyPair{{KeyID: 7, Private: make([]byte, 32), Public: make([]byte, 32)}}
}

func newStore(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "linectl", "e2ee-keys.json")
	if err := setOwnKeys(p, me, own()); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSetOwnCreatesPrivateFile(t *testing.T) {
	p := newStore(t)
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", st, err)
	}
	if d, _ := os.Stat(filepath.Dir(p)); d.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", d.Mode())
	}
	f, err := openKeys(p)
	if err != nil || len(f.OwnKeys()) != 1 || f.MID() != me {
		t.Fatalf("%v %v", f, err)
	}
}

// A corrupt or unreadable store is refused and kept: it may hold the only
// copy of the account's private keys.
func TestCorruptRefusedAndKept(t *testing.T) {
	p := newStore(t)
	if err := os.WriteFile(p, []byte(`{"mid":"u1","own":[{"keyId":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openKeys(p); !errors.Is(err, config.ErrCorrupt) {
		t.Fatalf("open corrupt: %v", err)
	}
	if err := setOwnKeys(p, me, own()); !errors.Is(err, config.ErrCorrupt) {
		t.Fatalf("login over a corrupt store: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != `{"mid":"u1","own":[{"keyId":` {
		t.Fatalf("corrupt store replaced: %q", b)
	}
}

func TestUnsafeFilesRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "e2ee-keys.json")
	// World-readable.
	if err := os.WriteFile(p, []byte(`{"mid":"u1","own":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openKeys(p); !errors.Is(err, config.ErrInsecure) {
		t.Fatalf("0644: %v", err)
	}
	os.Remove(p)
	// A symlink (to a good file) is not followed.
	good := filepath.Join(dir, "elsewhere.json")
	if err := os.WriteFile(good, []byte(`{"mid":"u1","own":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(good, p); err != nil {
		t.Fatal(err)
	}
	if _, err := openKeys(p); !errors.Is(err, config.ErrCorrupt) {
		t.Fatalf("symlink: %v", err)
	}
	os.Remove(p)
	// A FIFO is refused at once, not read (which would hang).
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() { _, err := openKeys(p); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, config.ErrCorrupt) {
			t.Fatalf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open hung on a FIFO")
	}
}

// Caches learnt by concurrent processes are merged, none lost; the own keys
// are never rewritten by a cache save.
func TestConcurrentSavesMerge(t *testing.T) {
	p := newStore(t)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f, err := openKeys(p)
			if err != nil {
				t.Error(err)
				return
			}
			f.SetPeerKey("U00000000000000000000000000000000", 100+i, []byte{byte(i)})
			f.SetGroupKey("c00000000000000000000000000000000", 200+i, []byte{byte(i)})
			if err := f.Save(); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	f, err := openKeys(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		// Cached under the normalized MID: the lower-case form finds it.
		if _, ok := f.PeerKey("u00000000000000000000000000000000", 100+i); !ok {
			t.Fatalf("peer key %d lost", 100+i)
		}
		if _, ok := f.GroupKey("c00000000000000000000000000000000", 200+i); !ok {
			t.Fatalf("group key %d lost", 200+i)
		}
	}
	if len(f.OwnKeys()) != 1 {
		t.Fatal("own keys changed")
	}
}

// logout --forget-device while another process holds the store open: that
// process's later save must not bring the keys back.
func TestRemovedStoreNotWrittenBack(t *testing.T) {
	p := newStore(t)
	f, err := openKeys(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := removeKeys(p); err != nil {
		t.Fatal(err)
	}
	f.SetPeerKey(me, 1, []byte{1})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("keys written back after forget-device: %v", err)
	}
}

// A store that now belongs to another account (a new login) is not merged
// into; forgotten keys go from the file too.
func TestSaveRespectsNewLoginAndForget(t *testing.T) {
	p := newStore(t)
	f, _ := openKeys(p)
	f.SetPeerKey("u1", 1, []byte{1})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	g, _ := openKeys(p)
	g.Forget("U1")
	if err := g.Save(); err != nil {
		t.Fatal(err)
	}
	if h, _ := openKeys(p); func() bool { _, ok := h.PeerKey("u1", 1); return ok }() {
		t.Fatal("forgotten key still in the file")
	}
	if err := setOwnKeys(p, "u9", own()); err != nil {
		t.Fatal(err)
	}
	f.SetPeerKey("u2", 2, []byte{2})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if h, _ := openKeys(p); h.MID() != "u9" || func() bool { _, ok := h.PeerKey("u2", 2); return ok }() {
		t.Fatal("a save of the old account's cache went into the new account's store")
	}
}
