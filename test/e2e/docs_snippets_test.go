package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// The shell snippets of README.md and docs/*.md (docs/commands/ is made by
// `make docs` from --help) run against the sandbox, so the docs cannot go
// stale. Every fenced block labelled sh, bash, shell, console, zsh or cron
// has a marker on the line before it:
//
//	<!-- snippet: run -->               runs as it is
//	<!-- snippet: run login -->         after a login (linectl login qr | linectl sandbox scan)
//	<!-- snippet: run notify -->        after a login, with `linectl notify serve` running and $TOKEN a token
//	<!-- snippet: skip (why not) -->    does not run; the reason is required
//
// A block runs with `sh -e` in a directory of its own (also HOME and
// TMPDIR) holding cat.png, alerts.json, batch.jsonl and uploads/cat.png, with linectl on PATH, LINECTL_CONFIG
// a fresh config, LINECTL_GATEWAY and LINECTL_SIGNER_COMMAND pointing at a
// sandbox of its own, and $ALICE, $BOB, $GROUP set. The docs' placeholders
// are filled in: <url> and <signerCommand> (what `linectl sandbox` prints),
// the example group c0123456789abcdef0123456789abcdef (the sandbox's Family)
// and notify serve's http://127.0.0.1:8093. It must exit 0 within 30 s; with
// notify, every request it made must have been answered 200.

type snippet struct {
	file   string
	line   int // of the opening fence
	lang   string
	text   string
	marker string // "" when missing
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

var (
	fenceRe  = regexp.MustCompile("^\\s*```+\\s*([A-Za-z0-9_-]*)")
	markerRe = regexp.MustCompile(`^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$`)
	shellish = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true, "zsh": true, "cron": true}
)

// docSnippets returns the shell blocks of README.md and docs/*.md.
func docSnippets(t *testing.T) []snippet {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../../README.md"}, files...)
	var out []snippet
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			m := fenceRe.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			start := i
			var body []string
			for i++; i < len(lines) && !fenceRe.MatchString(lines[i]); i++ {
				body = append(body, lines[i])
			}
			if !shellish[m[1]] {
				continue
			}
			s := snippet{file: strings.TrimPrefix(f, "../../"), line: start + 1, lang: m[1], text: strings.Join(body, "\n") + "\n"}
			for j := start - 1; j >= 0; j-- {
				if strings.TrimSpace(lines[j]) == "" {
					continue
				}
				if mm := markerRe.FindStringSubmatch(lines[j]); mm != nil {
					s.marker = mm[1]
				}
				break
			}
			out = append(out, s)
		}
	}
	return out
}

// snippetPlan reads a marker: whether the block runs, and its setup.
func snippetPlan(marker string) (run, login, notify bool, err error) {
	word, rest, _ := strings.Cut(marker, " ")
	switch word {
	case "skip":
		if r := strings.TrimSpace(rest); !strings.HasPrefix(r, "(") || !strings.HasSuffix(r, ")") || len(strings.TrimSpace(r[1:len(r)-1])) < 3 {
			return false, false, false, fmt.Errorf("a skip needs a reason: <!-- snippet: skip (why it cannot run) -->")
		}
		return false, false, false, nil
	case "run":
		for _, w := range strings.Fields(rest) {
			switch w {
			case "login":
				login = true
			case "notify":
				login, notify = true, true
			default:
				return false, false, false, fmt.Errorf("unknown setup %q (login, notify)", w)
			}
		}
		return true, login, notify, nil
	}
	return false, false, false, fmt.Errorf("a shell block needs <!-- snippet: run [login|notify] --> or <!-- snippet: skip (reason) --> on the line before it (see test/e2e/docs_snippets_test.go)")
}

func TestDocsSnippetsRun(t *testing.T) {
	snippets := docSnippets(t)
	if len(snippets) < 10 {
		t.Fatalf("found only %d shell blocks in README.md and docs/*.md", len(snippets))
	}
	for _, s := range snippets {
		run, login, notify, err := snippetPlan(s.marker)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if !run {
			continue
		}
		t.Run(s.String(), func(t *testing.T) { runSnippet(t, s, login, notify) })
	}
}

func runSnippet(t *testing.T, s snippet, login, notify bool) {
	for _, tool := range []string{"jq", "curl"} {
		if _, err := exec.LookPath(tool); err != nil && strings.Contains(s.text, tool+" ") {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed (.ci/run installs it)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	e := newSandboxEnv(t)
	dir := t.TempDir()
	writeSnippetFixtures(t, dir)
	e.extra = append(e.extra, "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+dir, "TMPDIR="+dir, "ALICE="+simgw.AliceMID, "BOB="+simgw.BobMID, "GROUP="+simgw.FamilyMID)
	text := strings.NewReplacer(
		"<url>", e.url,
		`"<signerCommand>"`, `"`+binary+" sandbox signer --key "+testKey+`"`,
		"c0123456789abcdef0123456789abcdef", simgw.FamilyMID,
	).Replace(s.text)
	if login { // as docs/sandbox.md logs in: the phone scans the code, Letter Sealing keys arrive
		c := exec.Command("sh", "-c", "linectl login qr | linectl sandbox scan")
		c.Env = e.environ()
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("login: %v\n%s", err, out)
		}
	}
	var ns *notifyServer
	if notify {
		tok := e.must("", "notify", "token", "add", "--to-name", "Family").first(t, "notifyToken")
		e.extra = append(e.extra, "TOKEN="+tok["token"].(string))
		ns = e.startNotify()
		text = strings.ReplaceAll(text, "http://127.0.0.1:8093", ns.url)
	}
	script := filepath.Join(dir, "snippet.sh")
	if err := os.WriteFile(script, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", script)
	cmd.Dir, cmd.Env = dir, e.environ()
	// Files, not pipes: a process the block leaves in the background
	// (`linectl sandbox &`) must not hold the test; its group is killed after.
	stdout, stderr := tempOut(t, dir, "stdout"), tempOut(t, dir, "stderr")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("%s (%s block) failed: %v\n--- block (as run):\n%s--- stdout:\n%s--- stderr:\n%s", s, s.lang, err, text, readFile(t, stdout.Name()), readFile(t, stderr.Name()))
	}
	if ns != nil {
		// The server prints a request's line as it answers it, and it is
		// read from its stdout in the background: give it a moment.
		for deadline := time.Now().Add(5 * time.Second); len(ns.requestLines()) == 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		n := 0
		for _, l := range ns.lines {
			if l["type"] == "notify" {
				n++
				if l["status"] != float64(200) {
					t.Errorf("%s: notify serve answered %v", s, l)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: the block made no request to notify serve", s)
		}
	}
}

func tempOut(t *testing.T, dir, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// writeSnippetFixtures writes the files the docs' examples name.
func writeSnippetFixtures(t *testing.T, dir string) {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"cat.png":     img.Bytes(),
		"alerts.json": []byte(`{"alerts":[{"chat":"` + simgw.FamilyMID + `","summary":"disk /var 91% full"},{"chat":"` + simgw.BobMID + `","summary":"backup finished"}]}`),
		// the cookbook's repair of media placeholders
		"batch.jsonl":     []byte(`{"to":"` + simgw.FamilyMID + `","text":"nightly graph"}` + "\n" + `{"to":"` + simgw.FamilyMID + `","image":"uploads/cat.png"}` + "\n"),
		"uploads/cat.png": img.Bytes(),
	}
	for name, b := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// The markers are checked too: a shell block without one, or a skip
// without a reason, fails TestDocsSnippetsRun.
func TestDocsSnippetMarkers(t *testing.T) {
	for _, tc := range []struct {
		marker string
		run    bool
		ok     bool
	}{
		{"", false, false},
		{"skip", false, false},
		{"skip ()", false, false},
		{"skip (needs a real LINE account)", false, true},
		{"run", true, true},
		{"run login", true, true},
		{"run notify", true, true},
		{"run sudo", false, false},
		{"maybe", false, false},
	} {
		run, _, _, err := snippetPlan(tc.marker)
		if (err == nil) != tc.ok || (tc.ok && run != tc.run) {
			t.Errorf("marker %q: run %v, err %v", tc.marker, run, err)
		}
	}
}
