// Package testnode runs the independent vector generators (scripts/e2eegen,
// Node.js) from Go tests: Node is required in CI (.ci/run installs it) and
// the test is skipped elsewhere when it is missing.
package testnode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Path returns node's path, or skips the test (fails it under CI).
func Path(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed for the cross-implementation test (.ci/run installs it)")
		}
		t.Skip("node not installed")
	}
	return node
}

// Generator runs `node scripts/e2eegen/<script> <mode>` from the repository
// root (root is the path to it from the test's directory), with stdin
// (through a file: node's readFileSync(0) meets EAGAIN on a pipe), and
// returns its stdout.
func Generator(t *testing.T, root, script, mode string, stdin []byte) []byte {
	t.Helper()
	cmd := exec.Command(Path(t), filepath.Join("scripts", "e2eegen", script), mode)
	cmd.Dir = root
	if stdin != nil {
		p := filepath.Join(t.TempDir(), "stdin.json")
		if err := os.WriteFile(p, stdin, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", script, mode, err, out, stderr.Bytes())
	}
	return out
}

// Committed fails the test unless the file at committed (a path from the
// test's directory) is exactly what `node scripts/e2eegen/<script> generate`
// prints: the committed vectors are the independent generator's output.
func Committed(t *testing.T, root, script, committed string) {
	t.Helper()
	out := Generator(t, root, script, "generate", nil)
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("%s is not what scripts/e2eegen/%s generates", committed, script)
	}
}
