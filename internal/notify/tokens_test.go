package notify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokenStore(t *testing.T) {
	p := filepath.Join(t.TempDir(), "linectl", TokenFileName)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &Store{Path: p, Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 64)), Now: func() time.Time { return now }}
	tok, tk, err := s.Add(groupMID, "Family")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v", tok, len(raw), err)
	}
	if tk.Hash != HashToken(tok) || tk.To != groupMID || tk.Name != "Family" || !tk.CreatedAt.Equal(now) || len(tk.ID()) != 8 {
		t.Fatalf("token %+v", tk)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), tok) || !strings.Contains(string(b), tk.Hash) {
		t.Fatalf("file holds the token or not its hash:\n%s", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if _, ok, _ := s.Lookup(tok); !ok {
		t.Fatal("token not found")
	}
	if _, ok, _ := s.Lookup(tok + "x"); ok {
		t.Fatal("wrong token found")
	}
	// Tokens are random: a second one differs.
	s.Rand = nil
	tok2, _, err := s.Add(userMID, "")
	if err != nil || tok2 == tok {
		t.Fatalf("second token %q, %v", tok2, err)
	}
	if toks, _ := s.List(); len(toks) != 2 {
		t.Fatalf("list %+v", toks)
	}
	if _, err := s.Revoke("abc"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("short id: %v", err)
	}
	if _, err := s.Revoke("00000000"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("unknown id: %v", err)
	}
	gone, err := s.Revoke(strings.ToUpper(tk.ID()))
	if err != nil || gone.Hash != tk.Hash {
		t.Fatalf("revoke: %+v %v", gone, err)
	}
	if _, ok, _ := s.Lookup(tok); ok {
		t.Fatal("revoked token still found")
	}
	if _, ok, _ := s.Lookup(tok2); !ok {
		t.Fatal("the other token is gone")
	}
	if _, _, err := s.Add("not-a-mid", ""); err == nil {
		t.Fatal("bad MID accepted")
	}
}

func TestTokenStoreCorruptFileKept(t *testing.T) {
	p := filepath.Join(t.TempDir(), TokenFileName)
	if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Store{Path: p}
	if _, _, err := s.Add(groupMID, ""); err == nil {
		t.Fatal("added over a corrupt file")
	}
	if b, _ := os.ReadFile(p); string(b) != "garbage" {
		t.Fatal("corrupt file replaced")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"1000/h": DefaultRate, "5/s": {5, time.Second}, "100/m": {100, time.Minute}, "1/d": {1, 24 * time.Hour}} {
		r, err := ParseRate(in)
		if err != nil || r != want || r.String() != in {
			t.Fatalf("%q: %v %v %q", in, r, err, r.String())
		}
	}
	for _, bad := range []string{"", "1000", "0/h", "-1/h", "x/h", "10/w", "1/", "99999999999/h"} {
		if _, err := ParseRate(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}
