package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// readmeCronLine is the crontab line README.md shows, without its schedule.
func readmeCronLine(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(?:\S+ ){5}(/usr/local/bin/check-disk \| .*linectl send .*)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("README.md has no cron line `*/15 * * * * /usr/local/bin/check-disk | … linectl send …`")
	}
	return m[1]
}

// The README's cron line, run as cron runs it — `env -i` with only PATH and
// HOME, no LINECTL_* variables — after a login made against the sandbox as
// docs/sandbox.md says (LINECTL_GATEWAY and LINECTL_SIGNER_COMMAND set for
// the login only). The login must leave a config later runs use as they are.
func TestReadmeCronLineAgainstTheSandbox(t *testing.T) {
	e := newSandboxEnv(t)
	home := t.TempDir()
	bin := filepath.Dir(binary)
	login := exec.Command("sh", "-c", "linectl login qr | linectl sandbox scan")
	login.Env = []string{"HOME=" + home, "PATH=" + bin + ":/usr/bin:/bin", "LINECTL_GATEWAY=" + e.url,
		"LINECTL_SIGNER_COMMAND=" + binary + " sandbox signer --key " + testKey}
	if coverDir != "" {
		login.Env = append(login.Env, "GOCOVERDIR="+coverDir)
	}
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	cron := readmeCronLine(t)
	cron = strings.Replace(cron, "/usr/local/bin/check-disk", `echo "disk /var 91% full"`, 1)
	cron = strings.Replace(cron, "/usr/local/bin/linectl", binary, 1)
	cron = strings.Replace(cron, "logger ", "echo logger: ", 1) // its failure branch, seen in the output
	cron = regexp.MustCompile(`--to c[0-9a-f]{32}`).ReplaceAllString(cron, "--to "+simgw.FamilyMID)
	run := func(cmdline string) (string, error) {
		c := exec.Command("env", "-i", "PATH=/usr/bin:/bin", "HOME="+home, "sh", "-c", cmdline)
		if coverDir != "" {
			c.Args = append(c.Args[:3], append([]string{"GOCOVERDIR=" + coverDir}, c.Args[3:]...)...)
		}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if out, err := run(cron); err != nil || strings.Contains(out, "logger:") {
		t.Fatalf("the README's cron line: %v\n%s\nconfig:\n%s", err, out, readFile(t, filepath.Join(home, ".config", "linectl", "config.yaml")))
	}
	st := e.must("", "sandbox", "do", "state").first(t, "sandbox-state")
	msgs := st["messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("the sandbox got %d messages, want 1", len(msgs))
	}
	if m := msgs[0].(map[string]any); m["text"] != "disk /var 91% full" || m["to"] != simgw.FamilyMID {
		t.Fatalf("the sandbox got %v", m)
	}
	// Later runs of any kind use the saved settings as they are.
	if out, err := run(binary + " whoami"); err != nil || !strings.Contains(out, `"type":"whoami"`) {
		t.Fatalf("whoami under env -i: %v\n%s", err, out)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, _ := os.ReadFile(p)
	return string(b)
}
