// Package deptest checks a package's imports from a test, the way
// tailscale's tstest/deptest does: it asks the go command which packages a
// build of the package pulls in (`go list -deps -json`) and fails the test
// on any that a rule forbids. The rules themselves are in this package's
// test (rules_test.go), one table for the whole module.
package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// Rule forbids the packages matching Roots to depend, directly or through
// other packages, on any package matching Bad.
type Rule struct {
	// Roots are package patterns for `go list` ("github.com/x/y/pkg/...").
	Roots []string
	// Bad are import paths; one ending in "/..." also forbids everything under it.
	Bad []string
	// Allow are import paths (same form) that Bad would catch but may be used.
	Allow []string
	// Why is said when the rule is broken.
	Why string
}

// GOOSes are the systems whose build constraints are checked: a file for one
// of them (agent_unix.go, lock_windows.go) can add an import.
var GOOSes = []string{"linux", "darwin", "windows"}

// Check runs `go list -deps -json` on r.Roots for each of GOOSes and reports
// every root package that depends on a forbidden one, naming the chain's
// first step (the root's direct import that leads there).
func (r Rule) Check(t *testing.T) {
	t.Helper()
	for _, goos := range GOOSes {
		pkgs, err := List(goos, r.Roots...)
		if err != nil {
			t.Fatalf("go list (%s): %v", goos, err)
		}
		for _, p := range pkgs {
			if p.DepOnly {
				continue
			}
			var found []string
			for _, d := range p.Deps {
				if r.forbids(d) {
					found = append(found, d)
				}
			}
			if len(found) > 0 {
				t.Errorf("GOOS=%s: %s depends on %s (%s)", goos, p.ImportPath, strings.Join(found, ", "), r.Why)
			}
		}
	}
}

func (r Rule) forbids(path string) bool {
	return matchAny(r.Bad, path) && !matchAny(r.Allow, path)
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "/..."); ok {
			if path == prefix || strings.HasPrefix(path, prefix+"/") {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}

// Package is the part of `go list -json`'s answer the rules read.
type Package struct {
	ImportPath string
	DepOnly    bool
	Deps       []string
}

// List runs `go list -deps -json` for patterns with GOOS set, and returns
// every package of the answer (roots and, marked DepOnly, their deps), sorted.
func List(goos string, patterns ...string) ([]Package, error) {
	args := append([]string{"list", "-deps", "-json=ImportPath,DepOnly,Deps"}, patterns...)
	cmd := exec.Command("go", args...) // go test puts its toolchain's bin first on PATH
	cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(strings.TrimSpace(stderr.String()) + ": " + err.Error())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })
	return pkgs, nil
}
