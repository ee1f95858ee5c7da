package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

const other = "u1a11ce0000000000000000000000a11c"

// newDir is a Dir beside a config in a fresh directory, on a clock the
// test moves.
func newDir(t *testing.T) (*Dir, *time.Time) {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	return Open(filepath.Join(t.TempDir(), "linectl", "config.yaml"), func() time.Time { return now }), &now
}

// Every file is written 0600 in a 0700 directory created on first use:
// no method needs another to have run first.
func TestFilesArePrivateWhateverIsUsedFirst(t *testing.T) {
	for name, write := range map[string]func(d *Dir) error{
		FileProbeCache: func(d *Dir) error {
			c := d.Probes(me)
			c.SetProbe(other, &lineapi.Probe{})
			return c.Save()
		},
		FileSendState:    func(d *Dir) error { return d.SaveRevision(me, 5) },
		FileReceiveState: func(d *Dir) error { return d.Position().Save(me, 5) },
		FileDirectory:    func(d *Dir) error { return d.SaveNames(&Names{MID: me}) },
		FileBotWebhooks:  func(d *Dir) error { return d.Webhooks().Save(me, 5, 6) },
		FileOBSToken:     func(d *Dir) error { d.SaveOBSToken("access", "tok", time.Now()); return nil },
		FileE2EEKeys:     func(d *Dir) error { return d.SetOwnKeys(me, own()) },
	} {
		t.Run(name, func(t *testing.T) {
			d, _ := newDir(t)
			if err := write(d); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(d.path(name))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v %v", name, st, err)
			}
			if ds, _ := os.Stat(d.dir); ds.Mode().Perm() != 0o700 {
				t.Fatalf("directory mode %v", ds.Mode())
			}
		})
	}
}

// A probe is trusted for ProbeTTL; a media flow for its own shorter TTL;
// another account's cache is empty; Save merges with another run's.
func TestProbeCache(t *testing.T) {
	d, now := newDir(t)
	c := d.Probes(me)
	c.SetProbe(other, &lineapi.Probe{})
	c.SetMediaFlow(other, &lineapi.MediaFlow{CacheTTL: 60_000})
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	run2 := d.Probes(me)
	run2.SetProbe("c0b0b0000000000000000000000000b0b", &lineapi.Probe{})
	if err := run2.Save(); err != nil {
		t.Fatal(err)
	}
	c = d.Probes(me)
	if _, ok := c.Probe(other); !ok {
		t.Fatal("first run's probe lost by the second run's save")
	}
	if _, ok := c.MediaFlow(other); !ok {
		t.Fatal("media flow not kept")
	}
	if _, ok := d.Probes(other).Probe(other); ok {
		t.Fatal("another account's probe used")
	}
	*now = now.Add(2 * time.Minute)
	if _, ok := d.Probes(me).MediaFlow(other); ok {
		t.Fatal("media flow used past its cacheTtlMillis")
	}
	*now = now.Add(ProbeTTL)
	if _, ok := d.Probes(me).Probe(other); ok {
		t.Fatal("probe used past ProbeTTL")
	}
}

// The revision to search from is the newer of send's and receive's, for
// this account, no older than RevisionTTL.
func TestRevision(t *testing.T) {
	d, now := newDir(t)
	if got := d.Revision(me); got != 0 {
		t.Fatalf("nothing saved: %d", got)
	}
	if err := d.SaveRevision(me, 100); err != nil {
		t.Fatal(err)
	}
	if got := d.Revision(me); got != 100 {
		t.Fatalf("send's revision: %d", got)
	}
	if got := d.Revision(other); got != 0 {
		t.Fatalf("another account's revision used: %d", got)
	}
	if err := d.Position().Save(me, 200); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(d.path(FileReceiveState), *now, *now); err != nil {
		t.Fatal(err)
	}
	if got := d.Revision(me); got != 200 {
		t.Fatalf("receive's newer position not used: %d", got)
	}
	*now = now.Add(RevisionTTL + time.Second)
	if got := d.Revision(me); got != 0 {
		t.Fatalf("a revision older than a day used: %d", got)
	}
}

// A position that cannot be used is refused as corrupt (exit 2) with how
// to reset it; another account's is none; one reader holds the lock.
func TestPosition(t *testing.T) {
	d, _ := newDir(t)
	p := d.Position()
	if _, ok, err := p.Load(me); ok || err != nil {
		t.Fatalf("no file: %v %v", ok, err)
	}
	if err := p.Save(me, 42); err != nil {
		t.Fatal(err)
	}
	if rev, ok, err := p.Load(me); rev != 42 || !ok || err != nil {
		t.Fatalf("%d %v %v", rev, ok, err)
	}
	if _, ok, err := p.Load(other); ok || err != nil {
		t.Fatalf("another account's position: %v %v", ok, err)
	}
	for _, bad := range []string{`{"mid":`, `{"revision":"-1"}`} {
		if err := os.WriteFile(p.Name(), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := p.Load(me)
		if !errors.Is(err, config.ErrCorrupt) || !strings.Contains(err.Error(), p.Name()) || !strings.Contains(err.Error(), "remove ") {
			t.Fatalf("%s: %v", bad, err)
		}
	}
	unlock, err := p.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Position().Lock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second reader: %v", err)
	}
	unlock()
	unlock, err = p.Lock()
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock()
}

// A FIFO in place of a state file is never opened (no hang): it reads as
// nothing.
func TestFIFOIsNotRead(t *testing.T) {
	d, _ := newDir(t)
	if err := config.EnsureDir(d.dir); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(d.path(FileDirectory)); err != nil {
		t.Skip(err)
	}
	if n := d.Names(); len(n.Chats) != 0 || n.MID != "" {
		t.Fatalf("%+v", n)
	}
}

// The names cache round-trips as it is.
func TestNames(t *testing.T) {
	d, now := newDir(t)
	in := &Names{MID: me, ChatsAt: now.UTC(), Chats: []Chat{{Type: "chat", MID: "c1", Name: "Family", Kind: "group", Members: 3}},
		Contacts: []Contact{{Type: "contact", MID: "u1", DisplayName: "Bob"}}}
	if err := d.SaveNames(in); err != nil {
		t.Fatal(err)
	}
	out := d.Names()
	if out.MID != me || len(out.Chats) != 1 || out.Chats[0] != in.Chats[0] || out.Contacts[0] != in.Contacts[0] || !out.ChatsAt.Equal(in.ChatsAt) {
		t.Fatalf("%+v", out)
	}
}

// The object-storage token is kept for the access token it was issued
// under (a hash of it, never the access token), refused when others may
// read the file, and removed at logout.
func TestOBSToken(t *testing.T) {
	d, now := newDir(t)
	until := now.Add(time.Hour)
	d.SaveOBSToken("access-1", "obs", until)
	if tok, u := d.OBSToken("access-1"); tok != "obs" || !u.Equal(until) {
		t.Fatalf("%q %v", tok, u)
	}
	if tok, _ := d.OBSToken("access-2"); tok != "" {
		t.Fatal("token used under another access token")
	}
	if b, _ := os.ReadFile(d.path(FileOBSToken)); strings.Contains(string(b), "access-1") {
		t.Fatal("the access token is in the file")
	}
	if err := os.Chmod(d.path(FileOBSToken), 0o644); err != nil {
		t.Fatal(err)
	}
	if tok, _ := d.OBSToken("access-1"); tok != "" {
		t.Fatal("a token others may read was used")
	}
	if err := d.RemoveOBSToken(); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveOBSToken(); err != nil {
		t.Fatalf("removing a missing token: %v", err)
	}
}

// serve's webhook position: the operation being delivered is kept past the
// position (redelivered after a restart); another account's is none; a bad
// file is ErrCorrupt; one dispatcher holds the lock.
func TestWebhooks(t *testing.T) {
	d, _ := newDir(t)
	w := d.Webhooks()
	if _, _, saved, err := w.Load(me); saved || err != nil {
		t.Fatalf("no file: %v %v", saved, err)
	}
	if err := w.Save(me, 9, 10); err != nil {
		t.Fatal(err)
	}
	if rev, att, saved, err := w.Load(me); rev != 9 || att != 10 || !saved || err != nil {
		t.Fatalf("%d %d %v %v", rev, att, saved, err)
	}
	if err := w.Save(me, 10, 0); err != nil {
		t.Fatal(err)
	}
	if rev, att, _, _ := w.Load(me); rev != 10 || att != 0 {
		t.Fatalf("delivered: %d %d", rev, att)
	}
	if _, _, saved, err := w.Load(other); saved || err != nil {
		t.Fatalf("another account's position: %v %v", saved, err)
	}
	if err := os.WriteFile(w.Name(), []byte(`{"mid":"`+me+`","revision":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := w.Load(me); !errors.Is(err, config.ErrCorrupt) || !strings.Contains(err.Error(), "bad revision") {
		t.Fatalf("bad revision: %v", err)
	}
	unlock, err := w.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := d.Webhooks().Lock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second dispatcher: %v", err)
	}
	if u, err := d.Position().Lock(); err != nil {
		t.Fatalf("receive's lock is its own: %v", err)
	} else {
		u()
	}
}
