package deptest

import "testing"

const mod = "github.com/linectl/linectl"

// rules are linectl's import rules (docs/architecture.md, "Layers"): what
// each layer may not depend on.
var rules = []struct {
	name string
	Rule
}{
	{"pkg imports no internal", Rule{
		Roots: []string{mod + "/pkg/..."},
		Bad:   []string{mod + "/internal/...", mod + "/cmd/..."},
		Why:   "pkg/ is a library another Go program uses alone; internal/ is not importable there",
	}},
	{"lineapi has no cli", Rule{
		Roots: []string{mod + "/pkg/..."},
		Bad:   []string{"github.com/spf13/cobra/...", "github.com/spf13/viper/...", "github.com/spf13/pflag/..."},
		Why:   "pkg/lineapi is a library: no cobra, no viper, no flags",
	}},
	{"simulator has no client crypto", Rule{
		Roots: []string{mod + "/internal/simgw/...", mod + "/internal/simsign/..."},
		Bad: []string{mod + "/pkg/lineapi/sealing/...", mod + "/pkg/lineapi/e2ee/...", mod + "/pkg/lineapi/obs/...",
			mod + "/pkg/lineapi/delivery/...", mod + "/pkg/lineapi/wasmsign/...", mod + "/internal/state/..."},
		Why: "the simulator implements the gateway on its own, so a client bug cannot hide behind the same code",
	}},
	{"internal does not import cmd", Rule{
		Roots: []string{mod + "/internal/..."},
		Bad:   []string{mod + "/cmd/..."},
		Why:   "imports go one way: main → cmd → internal → pkg",
	}},
}

func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) { r.Check(t) })
	}
}

func TestMatch(t *testing.T) {
	r := Rule{Bad: []string{"a/b/...", "c"}, Allow: []string{"a/b/ok/..."}}
	for path, want := range map[string]bool{
		"a/b": true, "a/b/c": true, "a/bc": false, "c": true, "c/d": false, "a/b/ok": false, "a/b/ok/x": false,
	} {
		if got := r.forbids(path); got != want {
			t.Errorf("forbids(%q) = %v, want %v", path, got, want)
		}
	}
}
