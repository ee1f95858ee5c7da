package tokenfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/config"
)

type tok struct {
	Hash string `json:"sha256"`
	Note string `json:"note"`
}

func (t tok) TokenHash() string { return t.Hash }

var errNone, errMany = errors.New("none"), errors.New("many")

// Tokens are stored by hash; a second File on the same path (another
// process) sees an addition at its next Lookup; a revoked id needs IDLength
// digits and one match; a corrupt file is refused, not replaced.
func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	a, b := &File[tok]{Path: path, What: "test token"}, &File[tok]{Path: path, What: "test token"}
	if _, ok, err := b.Lookup("x"); ok || err != nil {
		t.Fatalf("empty store: %v %v", ok, err)
	}
	secret, err := New(nil)
	if err != nil || len(secret) != 43 {
		t.Fatalf("token %q %v", secret, err)
	}
	if err := a.Update(func(ts []tok) ([]tok, error) { return append(ts, tok{Hash(secret), "first"}), nil }); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Lookup(secret); !ok || err != nil || got.Note != "first" {
		t.Fatalf("the other File: %v %v %v", got, ok, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	b2, _ := os.ReadFile(path)
	if string(b2) == "" || strings.Contains(string(b2), secret) {
		t.Fatal("the token itself is in the file")
	}
	toks, _ := a.List()
	h := Hash(secret)
	for _, c := range []struct {
		id   string
		want error
	}{{h[:IDLength-1], errNone}, {"ffffffff", errNone}, {h[:IDLength], nil}} {
		if _, err := ByID(toks, c.id, errNone, errMany); !errors.Is(err, c.want) {
			t.Fatalf("ByID(%q): %v, want %v", c.id, err, c.want)
		}
	}
	if _, err := ByID(append(toks, toks[0]), h[:IDLength], errNone, errMany); !errors.Is(err, errMany) {
		t.Fatalf("two matches: %v", err)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Lookup(secret); !errors.Is(err, config.ErrCorrupt) {
		t.Fatalf("corrupt file: %v", err)
	}
}
