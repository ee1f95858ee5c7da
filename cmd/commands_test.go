package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// In-process command tests: the real command tree, run as `run` runs it,
// against the project's gateway simulator standing in for LINE (the fake),
// with the streams in buffers. They cover what the e2e tests cover with the
// built binary, without building it.

type cmdHarness struct {
	t      *testing.T
	sim    *simgw.Server
	url    string
	config string
}

func newCmdHarness(t *testing.T, opts ...func(*simgw.Options)) *cmdHarness {
	t.Helper()
	for _, k := range []string{"LINECTL_CONFIG", "LINECTL_GATEWAY", "LINECTL_SIGNER", "LINECTL_SIGNER_COMMAND", "LINECTL_PASSWORD"} {
		t.Setenv(k, "")
	}
	t.Setenv("LINECTL_SIGNER_AGENT", "off")
	t.Setenv("LINECTL_GATEWAY_AGENT", "off")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	o := simgw.Options{PhoneDelay: time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	sim := simgw.NewSandbox(o)
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	sim.SetLetterSealing(simgw.AliceMID, false)
	return &cmdHarness{t: t, sim: sim, url: url, config: filepath.Join(t.TempDir(), "linectl", "config.yaml")}
}

type cmdResult struct {
	code        int
	out, stderr string
}

func (h *cmdHarness) run(stdin string, args ...string) cmdResult {
	h.t.Helper()
	var out, errb bytes.Buffer
	io := &iostreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errb}
	code := run(context.Background(), io, append([]string{"--config", h.config, "--gateway", h.url}, args...))
	return cmdResult{code, out.String(), errb.String()}
}

// lines decodes stdout's JSON lines.
func (r cmdResult) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func (h *cmdHarness) login() {
	h.t.Helper()
	if r := h.run("", "login", "qr"); r.code != 0 {
		h.t.Fatalf("login: %d %s", r.code, r.stderr)
	}
}

// Each case runs one command line after a login and checks its exit code
// and the types of the lines it printed.
func TestCommandsInProcess(t *testing.T) {
	h := newCmdHarness(t)
	h.login()
	pic := filepath.Join(t.TempDir(), "p.png")
	if err := os.WriteFile(pic, onePixelPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		types []string
	}{
		{"whoami", "", []string{"whoami"}, 0, []string{"whoami"}},
		{"chats", "", []string{"chats"}, 0, []string{"chat", "chat", "chat"}},
		{"contacts", "", []string{"contacts"}, 0, []string{"contact", "contact"}},
		{"probe", "", []string{"probe-e2ee", simgw.FamilyMID, simgw.BobMID}, 0, []string{"e2ee", "e2ee"}},
		{"send text", "", []string{"send", "--to", simgw.FamilyMID, "hello"}, 0, []string{"sent"}},
		{"send stdin", "from stdin\n", []string{"send", "--to-name", "Family"}, 0, []string{"sent"}},
		{"send confirm", "", []string{"send", "--to", simgw.FamilyMID, "--confirm", "x"}, 0, []string{"sent"}},
		{"send two", "", []string{"send", "--to", simgw.FamilyMID, "--to", simgw.RoomMID, "x"}, 0, []string{"sent", "sent"}},
		{"send sticker", "", []string{"send", "--to", simgw.FamilyMID, "--sticker", "446/1988"}, 0, []string{"sent"}},
		{"send image", "", []string{"send", "--to", simgw.FamilyMID, "--image", pic}, 0, []string{"pending", "sent"}},
		{"send file stdin", "bytes", []string{"send", "--to", simgw.FamilyMID, "--file", "-", "--name", "a.txt"}, 0, []string{"pending", "sent"}},
		{"send jsonl", `{"to":"` + simgw.FamilyMID + `","text":"a"}` + "\n" + `{"to":"bad","text":"b"}` + "\n", []string{"send", "--jsonl"}, 0, []string{"sent", "failed"}},
		{"send bad mid", "", []string{"send", "--to", "x", "hi"}, 2, nil},
		{"send not member", "", []string{"send", "--to", "c0000000000000000000000000000dead", "hi"}, 4, []string{"failed"}},
		{"receive", "", []string{"receive", "--wait", "100ms", "--from-start"}, 0, nil},
		{"session refresh", "", []string{"session", "refresh"}, 0, []string{"session"}},
		{"signer status", "", []string{"signer", "status"}, 0, []string{"signer"}},
		{"version", "", []string{"version"}, 0, []string{"version"}},
		{"notify token add", "", []string{"notify", "token", "add", "--to", simgw.FamilyMID}, 0, []string{"notifyToken"}},
		{"notify token list", "", []string{"notify", "token", "list"}, 0, []string{"notifyToken"}},
		{"unknown flag", "", []string{"whoami", "--nope"}, 2, nil},
		{"completion", "", []string{"completion", "bash"}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.run(c.stdin, c.args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", r.code, c.code, r.out, r.stderr)
			}
			if c.types == nil {
				return
			}
			var got []string
			for _, l := range r.lines(t) {
				got = append(got, l["type"].(string))
			}
			if strings.Join(got, ",") != strings.Join(c.types, ",") {
				t.Fatalf("lines %v, want types %v", got, c.types)
			}
		})
	}
	// Logged out, the session commands say so (exit 3).
	if r := h.run("", "logout"); r.code != 0 {
		t.Fatalf("logout: %d %s", r.code, r.stderr)
	}
	if r := h.run("", "whoami"); r.code != 3 {
		t.Fatalf("whoami after logout: %d", r.code)
	}
}

func onePixelPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// scanOnQR passes stdout through and has the simulated phone scan the QR
// URL printed, as 'linectl login qr | linectl sandbox scan' does, so the
// login receives Letter Sealing keys.
type scanOnQR struct {
	w   *bytes.Buffer
	sim *simgw.Server
	t   *testing.T
}

func (s *scanOnQR) Write(p []byte) (int, error) {
	var l struct{ Type, URL string }
	if json.Unmarshal(bytes.TrimSpace(p), &l) == nil && l.Type == "qr" {
		go func() {
			time.Sleep(10 * time.Millisecond)
			if err := s.sim.Scan(l.URL); err != nil {
				s.t.Error(err)
			}
		}()
	}
	return s.w.Write(p)
}

// Letter Sealing in process: a login with keys, sealed text and media to a
// user and a group, receive decrypting, download decrypting.
func TestSealedCommandsInProcess(t *testing.T) {
	h := newCmdHarness(t, func(o *simgw.Options) { o.ManualScan = true })
	h.sim.SetLetterSealing(simgw.AliceMID, true)
	var out, errb bytes.Buffer
	io := &iostreams{In: strings.NewReader(""), Out: &scanOnQR{&out, h.sim, t}, ErrOut: &errb}
	if code := run(context.Background(), io, []string{"--config", h.config, "--gateway", h.url, "login", "qr"}); code != 0 {
		t.Fatalf("login: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"e2eeKeys":true`) {
		t.Fatalf("login without keys: %s", out.String())
	}
	pic := filepath.Join(t.TempDir(), "p.png")
	if err := os.WriteFile(pic, onePixelPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"send", "--e2ee", "require", "--to", simgw.BobMID, "sealed hi"},
		{"send", "--e2ee", "require", "--to", simgw.OpsMID, "sealed group"},
		{"send", "--to", simgw.BobMID, "--image", pic},
		{"send", "--to", simgw.OpsMID, "--file", pic, "--name", "p.bin"},
	} {
		r := h.run("", args...)
		if r.code != 0 || !strings.Contains(r.out, `"e2ee":true`) {
			t.Fatalf("%v: %d %s %s", args, r.code, r.out, r.stderr)
		}
	}
	rev := h.sim.Revision()
	if err := h.sim.InjectSealedMessage(simgw.BobMID, simgw.AliceMID, 2, "from bob", simgw.SealOK); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.AliceMID, ContentType: 1, Name: "b.png", Data: onePixelPNG(t), Sealed: true}); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "receive", "--wait", "200ms", "--from-revision", strconv.FormatInt(rev, 10))
	if r.code != 0 || !strings.Contains(r.out, "from bob") || strings.Count(r.out, `"decrypted":true`) != 2 {
		t.Fatalf("receive: %d %s %s", r.code, r.out, r.stderr)
	}
	dir := t.TempDir()
	d := h.run(r.out, "download", "--dir", dir)
	if d.code != 0 || !strings.Contains(d.out, `"e2ee":true`) {
		t.Fatalf("download: %d %s %s", d.code, d.out, d.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.png")); !bytes.Equal(b, onePixelPNG(t)) {
		t.Fatal("downloaded file differs")
	}
	tx := h.run("", "receive", "--text-only", "--wait", "200ms", "--from-revision", strconv.FormatInt(rev, 10))
	if tx.code != 0 || !strings.Contains(tx.out, `"messageId"`) {
		t.Fatalf("text-only: %s", tx.out)
	}
	if r := h.run("", "logout", "--forget-device"); r.code != 0 {
		t.Fatalf("logout: %d %s", r.code, r.stderr)
	}
}

// Password login, the sandbox's fault and do commands, --jsonl media, and a
// batch whose worst line decides the exit code.
func TestMoreCommandsInProcess(t *testing.T) {
	h := newCmdHarness(t)
	if r := h.run(simgw.DemoPassword+"\n", "login", "password", "--email", simgw.CarolEmail, "--password-stdin"); r.code != 0 {
		t.Fatalf("login password: %d %s", r.code, r.stderr)
	}
	if r := h.run("wrong\n", "login", "password", "--email", simgw.CarolEmail, "--password-stdin"); r.code != 4 {
		t.Fatalf("wrong password: %d %s", r.code, r.stderr)
	}
	if r := h.run("", "login", "password", "--email", "not-an-email", "--password-stdin"); r.code != 2 {
		t.Fatalf("bad email: %d", r.code)
	}
	pic := filepath.Join(t.TempDir(), "p.png")
	if err := os.WriteFile(pic, onePixelPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	jsonl := `{"to":"` + simgw.RoomMID + `","image":"` + pic + `"}` + "\n" +
		`{"to":"` + simgw.RoomMID + `","file":"` + pic + `","name":"x.bin"}` + "\n" +
		`{"to":"` + simgw.RoomMID + `","image":"/nonexistent.png"}` + "\n" +
		`{"to":"` + simgw.RoomMID + `","name":"x"}` + "\n"
	r := h.run(jsonl, "send", "--jsonl")
	if r.code != 0 || strings.Count(r.out, `"type":"sent"`) != 2 || strings.Count(r.out, `"type":"failed"`) != 2 {
		t.Fatalf("jsonl media: %d %s", r.code, r.out)
	}
	for _, args := range [][]string{
		{"sandbox", "fault", "503", "--method", "sendMessage", "--count", "5"},
		{"sandbox", "do", "state"},
		{"sandbox", "do", "inject-media", "--from", simgw.BobMID, "--to", simgw.CarolMID, pic},
	} {
		if r := h.run("", args...); r.code != 0 {
			t.Fatalf("%v: %d %s", args, r.code, r.stderr)
		}
	}
	// sendMessage answers 503 (nothing processed) five times: the send is
	// retried, then fails with 5; the other destination went out first.
	r = h.run("", "send", "--to", simgw.RoomMID, "--to", simgw.FamilyMID, "x")
	if r.code != 5 {
		t.Fatalf("batch: %d %s", r.code, r.out)
	}
	if r := h.run("", "sandbox", "do", "expire-tokens"); r.code != 0 {
		t.Fatalf("expire: %d %s", r.code, r.stderr)
	}
	if r := h.run("", "whoami"); r.code != 0 {
		t.Fatalf("whoami after expiry (refresh): %d %s", r.code, r.stderr)
	}
}

// A run builds one client per kind (and so one signer): asking again
// returns the same one.
func TestFactoryCachesClients(t *testing.T) {
	h := newCmdHarness(t)
	h.login()
	f := newFactory(&iostreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	f.ConfigPath, f.Gateway = h.config, h.url
	defer f.close()
	a, err := f.Client(true)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := f.Client(true)
	c, _ := f.Client(false)
	if a != b || a == c {
		t.Fatal("clients not cached per kind")
	}
}
