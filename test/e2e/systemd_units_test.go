package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The systemd units the docs show are valid as systemd reads them:
// `systemd-analyze verify` (Debian's systemd package; .ci/run installs it)
// accepts each with nothing to say, with ExecStart pointing at the built
// binary. A mistyped key is only a warning to systemd, so any output fails.
func TestDocsSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is needed (.ci/run installs systemd)")
		}
		t.Skip("systemd-analyze not installed")
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md")
	block := regexp.MustCompile("(?s)```ini\n(.*?)```")
	name := regexp.MustCompile(`(?m)^#\s*\S*?([\w.-]+\.service)\b`)
	dir := t.TempDir()
	units := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllSubmatch(b, -1) {
			text := string(m[1])
			if !strings.Contains(text, "[Service]") {
				continue
			}
			units++
			file := "unit.service"
			if n := name.FindStringSubmatch(text); n != nil {
				file = n[1]
			}
			path := filepath.Join(dir, file)
			text = strings.ReplaceAll(text, "/usr/local/bin/linectl", binary)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", path).CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("%s: %s: systemd-analyze verify: %v\n%s", filepath.Base(doc), file, err, out)
			}
		}
	}
	if units < 3 {
		t.Fatalf("found %d systemd units in the docs, want at least 3 (notify serve, receive, signer agent)", units)
	}
}
