package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// notifyServer is a running `linectl notify serve`.
type notifyServer struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	code int

	mu     sync.Mutex
	lines  []map[string]any
	raw    bytes.Buffer // stdout
	stderr bytes.Buffer
}

// startNotify starts `linectl notify serve --listen 127.0.0.1:0 args…` and
// reads the URL from its notify-serve line.
func (e *env) startNotify(args ...string) *notifyServer {
	e.t.Helper()
	return e.startServing([]string{"notify", "serve"}, "notify-serve", args...)
}

// startServing starts `linectl CMD… --listen 127.0.0.1:0 args…` and reads
// the URL from its first line, of type ready.
func (e *env) startServing(command []string, ready string, args ...string) *notifyServer {
	e.t.Helper()
	ns := &notifyServer{t: e.t, done: make(chan struct{})}
	ns.cmd = exec.Command(binary, append(append(command, "--listen", "127.0.0.1:0"), args...)...)
	ns.cmd.Env = e.environ()
	ns.cmd.Stderr = &lockedWriter{mu: &ns.mu, w: &ns.stderr}
	out, err := ns.cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := ns.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	readyURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]any
			ns.mu.Lock()
			ns.raw.Write(append(sc.Bytes(), '\n'))
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"type": "NOT JSON", "line": sc.Text()}
			}
			ns.lines = append(ns.lines, m)
			ns.mu.Unlock()
			if m["type"] == ready {
				readyURL <- m["url"].(string)
			}
		}
		err := ns.cmd.Wait()
		ns.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			ns.code = ee.ExitCode()
		}
		close(ns.done)
	}()
	select {
	case ns.url = <-readyURL:
	case <-ns.done:
		e.t.Fatalf("notify serve exited %d before listening\nstderr:\n%s", ns.code, ns.stderrText())
	case <-time.After(15 * time.Second):
		_ = ns.cmd.Process.Kill()
		e.t.Fatal("notify serve did not listen within 15s")
	}
	e.t.Cleanup(func() {
		select {
		case <-ns.done:
		default:
			_ = ns.cmd.Process.Kill()
			<-ns.done
		}
	})
	return ns
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (ns *notifyServer) stderrText() string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.stderr.String()
}

func (ns *notifyServer) stdoutText() string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.raw.String()
}

// requestLines returns the notify lines printed so far.
func (ns *notifyServer) requestLines() []map[string]any {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var out []map[string]any
	for _, l := range ns.lines {
		if l["type"] != "notify-serve" && l["type"] != "serve" {
			out = append(out, l)
		}
	}
	return out
}

// stop sends SIGTERM and returns the exit code.
func (ns *notifyServer) stop() int {
	ns.t.Helper()
	_ = ns.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ns.done:
	case <-time.After(30 * time.Second):
		_ = ns.cmd.Process.Kill()
		ns.t.Fatal("notify serve did not exit within 30s of SIGTERM")
	}
	return ns.code
}

// curlAnswer is what curl saw.
type curlAnswer struct {
	status int
	body   map[string]any
	header map[string]string // lower-case names
}

// curl runs curl as an old Notify integration did: curl -H "Authorization:
// Bearer TOKEN" [args…] URL.
func curl(t *testing.T, token, url string, args ...string) curlAnswer {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	argv := []string{"-sS", "-i", "--max-time", "60"}
	if token != "" {
		argv = append(argv, "-H", "Authorization: Bearer "+token)
	}
	argv = append(append(argv, args...), url)
	out, err := exec.Command("curl", argv...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	head, body, ok := strings.Cut(string(out), "\r\n\r\n")
	for ok && strings.HasPrefix(body, "HTTP/") { // "100 Continue" first
		head, body, ok = strings.Cut(body, "\r\n\r\n")
	}
	if !ok {
		t.Fatalf("curl: no header/body: %q", out)
	}
	lines := strings.Split(head, "\r\n")
	a := curlAnswer{header: map[string]string{}}
	if f := strings.Fields(lines[0]); len(f) >= 2 {
		a.status, _ = strconv.Atoi(f[1])
	}
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			a.header[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	if err := json.Unmarshal([]byte(body), &a.body); err != nil {
		t.Fatalf("curl: body %q is not JSON", body)
	}
	if a.body["status"] != float64(a.status) {
		t.Fatalf("body status %v, HTTP %d", a.body["status"], a.status)
	}
	return a
}

func wantNotify(t *testing.T, a curlAnswer, status int, msg string) {
	t.Helper()
	if a.status != status || !strings.Contains(fmt.Sprint(a.body["message"]), msg) {
		t.Fatalf("answer %d %v, want %d with %q", a.status, a.body, status, msg)
	}
}

// addToken runs notify token add and returns the token line.
func (e *env) addToken(args ...string) (token, id string) {
	e.t.Helper()
	r := e.must("", append([]string{"notify", "token", "add"}, args...)...)
	l := r.first(e.t, "notifyToken")
	return l["token"].(string), l["id"].(string)
}

// storedTexts counts the simulator's messages by text.
func storedTexts(e *env) map[string]int {
	n := map[string]int{}
	for _, m := range e.sim.Messages() {
		n[m.Text]++
	}
	return n
}

func TestNotifyServeWithCurl(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	opsTok, _ := e.addToken("--to-name", "Ops alerts") // fills the name cache
	famTok, famID := e.addToken("--to", simgw.FamilyMID)
	bobTok, _ := e.addToken("--to", simgw.BobMID)
	list := e.must("", "notify", "token", "list")
	if ls := list.lines(t); len(ls) != 3 || ls[1]["id"] != famID || ls[1]["name"] != "Family" || ls[0]["to"] != simgw.OpsMID {
		t.Fatalf("list %v", ls)
	}
	for _, tok := range []string{opsTok, famTok, bobTok} {
		if strings.Contains(list.stdout, tok) || strings.Contains(e.configText(), tok) {
			t.Fatal("a token was shown by list or stored")
		}
	}
	ns := e.startNotify("--rate-limit", "10/h")
	api := ns.url + "/api/notify"

	// Fields, as integrations send them.
	wantNotify(t, curl(t, famTok, api, "-F", "message=backup finished"), 200, "ok")
	wantNotify(t, curl(t, famTok, api, "--data-urlencode", "message=disk 95% & rising"), 200, "ok")
	wantNotify(t, curl(t, famTok, api, "-F", "message=quiet one", "-F", "notificationDisabled=true"), 200, "ok")
	wantNotify(t, curl(t, famTok, api, "-F", "message="+strings.Repeat("界", 1000)), 200, "ok")
	wantNotify(t, curl(t, famTok, api, "-F", "message="+strings.Repeat("界", 1001)), 400, "limit is 1000")
	wantNotify(t, curl(t, famTok, api, "-F", "message=sticker", "-F", "stickerPackageId=446", "-F", "stickerId=1988"), 200, "ok")
	pic := testPNG(t, 40, 30)
	wantNotify(t, curl(t, famTok, api, "-F", "message=pic", "-F", "imageFile=@"+writeFile(t, "graph.png", pic)), 200, "ok")
	wantNotify(t, curl(t, famTok, api, "-F", "message=pic", "-F", "imageFile=@"+writeFile(t, "fake.png", []byte("GIF? no"))), 400, "not a PNG, JPEG or GIF")
	if m := mediaMessages(e); len(m) != 1 || !bytes.Equal(m[0].Media, pic) || m[0].To != simgw.FamilyMID {
		t.Fatalf("image messages %+v", m)
	}
	a := curl(t, famTok, api, "-F", "notificationDisabled=false")
	wantNotify(t, a, 400, "message")
	if a.header["x-ratelimit-limit"] != "10" || a.header["x-ratelimit-remaining"] != "1" ||
		a.header["x-ratelimit-imagelimit"] != "50" || a.header["x-ratelimit-imageremaining"] != "49" { // one image sent: its own quota
		t.Fatalf("headers %v", a.header)
	}
	reset, err := strconv.ParseInt(a.header["x-ratelimit-reset"], 10, 64)
	if now := time.Now().Unix(); err != nil || reset < now+3500 || reset > now+3601 {
		t.Fatalf("X-RateLimit-Reset %q", a.header["x-ratelimit-reset"])
	}
	wantNotify(t, curl(t, famTok, api, "-F", "message=last of the hour"), 200, "ok")
	a = curl(t, famTok, api, "-F", "message=one too many")
	wantNotify(t, a, 429, "Rate limit")
	if a.header["x-ratelimit-remaining"] != "0" {
		t.Fatalf("headers %v", a.header)
	}

	// 401s, without rate-limit headers.
	for _, tok := range []string{"", "not-a-token", famTok + "x"} {
		a := curl(t, tok, api, "-F", "message=x")
		wantNotify(t, a, 401, "Invalid access token")
		if a.header["x-ratelimit-limit"] != "" {
			t.Fatalf("rate-limit headers on a 401: %v", a.header)
		}
	}

	// Status: targetType and target.
	a = curl(t, famTok, ns.url+"/api/status")
	if a.status != 200 || a.body["targetType"] != "GROUP" || a.body["target"] != "Family" || a.header["x-ratelimit-limit"] != "10" {
		t.Fatalf("status %d %v %v", a.status, a.body, a.header)
	}
	if a = curl(t, bobTok, ns.url+"/api/status"); a.body["targetType"] != "USER" || a.body["target"] != "Bob" {
		t.Fatalf("status %v", a.body)
	}

	// A token added while the server runs works at once; one revoked by the CLI stops at once.
	newTok, newID := e.addToken("--to", simgw.FamilyMID)
	wantNotify(t, curl(t, newTok, api, "-F", "message=from a new token"), 200, "ok")
	e.must("", "notify", "token", "revoke", newID)
	wantNotify(t, curl(t, newTok, api, "-F", "message=revoked"), 401, "Invalid access token")

	// POST /api/revoke.
	wantNotify(t, curl(t, opsTok, ns.url+"/api/revoke", "-X", "POST"), 200, "ok")
	wantNotify(t, curl(t, opsTok, api, "-F", "message=after revoke"), 401, "Invalid access token")
	if ls := e.must("", "notify", "token", "list").lines(t); len(ls) != 2 {
		t.Fatalf("list after revoke %v", ls)
	}

	// A chat the account is not in: LINE's refusal, 500.
	ghost := "c" + strings.Repeat("0", 31) + "1"
	ghostTok, _ := e.addToken("--to", ghost)
	wantNotify(t, curl(t, ghostTok, api, "-F", "message=to nowhere"), 500, "not a member")

	stored := storedTexts(e)
	for _, text := range []string{"backup finished", "disk 95% & rising", "quiet one", strings.Repeat("界", 1000), "sticker", "pic", "last of the hour", "from a new token"} {
		if stored[text] != 1 {
			t.Fatalf("%q stored %d times (%v)", text, stored[text], stored)
		}
	}
	if len(e.sim.Messages()) != 10 { // 8 texts, the sticker and the image
		t.Fatalf("%d messages stored", len(e.sim.Messages()))
	}

	// stdout: one notify line per request, never a token, never a text.
	waitFor(t, func() bool { return len(ns.requestLines()) == 21 })
	out := ns.stdoutText()
	for _, secret := range []string{famTok, opsTok, bobTok, newTok, "backup finished", "quiet one"} {
		if strings.Contains(out, secret) {
			t.Fatalf("stdout holds %q:\n%s", secret, out)
		}
	}
	first := ns.requestLines()[0]
	if first["type"] != "notify" || first["status"] != 200.0 || first["to"] != simgw.FamilyMID || first["messageId"] == "" ||
		first["path"] != "/api/notify" || !strings.HasPrefix(first["remote"].(string), "127.0.0.1:") || first["tokenId"] != famID {
		t.Fatalf("first line %v", first)
	}
	if code := ns.stop(); code != 0 {
		t.Fatalf("exit %d after SIGTERM\nstderr:\n%s", code, ns.stderrText())
	}
}

// 10 concurrent requests: each delivered once.
func TestNotifyConcurrentRequestsDeliveredOnce(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	ns := e.startNotify()
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = curl(t, tok, ns.url+"/api/notify", "-F", fmt.Sprintf("message=alert %d", i)).status
		}()
	}
	wg.Wait()
	stored := storedTexts(e)
	for i := range 10 {
		if codes[i] != 200 || stored[fmt.Sprintf("alert %d", i)] != 1 {
			t.Fatalf("request %d: %d, stored %d times", i, codes[i], stored[fmt.Sprintf("alert %d", i)])
		}
	}
	if n := len(e.sim.Messages()); n != 10 {
		t.Fatalf("%d messages stored", n)
	}
}

// A lost answer: settled on the stream (200, once) when LINE stored it; 500
// "may have been delivered" when it cannot be settled — and never resent.
func TestNotifyLostAnswers(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	ns := e.startNotify("--confirm-timeout", "1s")
	e.sim.Fail("sendMessage", simgw.FaultDropAfter, 1)
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=dropped after"), 200, "ok")
	e.sim.FailReply("sendMessage", simgw.ReplyHTML(502), 1)
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=bad gateway"), 500, "may have been delivered")
	if s := storedTexts(e); s["dropped after"] != 1 || countCalls(e, "sendMessage") != 2 {
		t.Fatalf("stored %v, %d sendMessage calls", s, countCalls(e, "sendMessage"))
	}
}

// SIGTERM during a send: the send is finished and answered, then exit 0 (a service stopped by SIGTERM);
// the restarted server keeps the tokens.
func TestNotifyGracefulShutdownAndRestart(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	ns := e.startNotify()
	e.sim.Delay("sendMessage", 700*time.Millisecond)
	answered := make(chan curlAnswer, 1)
	go func() { answered <- curl(t, tok, ns.url+"/api/notify", "-F", "message=in flight") }()
	waitFor(t, func() bool { return countCalls(e, "sendMessage") == 1 })
	if code := ns.stop(); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, ns.stderrText())
	}
	wantNotify(t, <-answered, 200, "ok")
	e.sim.Delay("sendMessage", 0)
	if s := storedTexts(e); s["in flight"] != 1 {
		t.Fatalf("stored %v", s)
	}
	ns = e.startNotify()
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=after restart"), 200, "ok")
	if s := storedTexts(e); s["after restart"] != 1 {
		t.Fatalf("stored %v", s)
	}
}

// LINE ends the session: 500 "linectl is logged out", and nothing more is tried.
func TestNotifySessionEnded(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	ns := e.startNotify()
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=before"), 200, "ok")
	e.sim.Kick(simgw.AliceMID)
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=kicked"), 500, "linectl is logged out")
	calls := len(e.sim.CallNames())
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=still kicked"), 500, "linectl is logged out")
	if len(e.sim.CallNames()) != calls {
		t.Fatal("the gateway was called after the session ended")
	}
	if e.accessToken() != "" {
		t.Fatal("the ended session's tokens were kept in the config")
	}
}

func TestNotifyServeRefusals(t *testing.T) {
	e := newEnv(t)
	for _, listen := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8093"} {
		r := e.run("", "notify", "serve", "--listen", listen)
		wantExit(t, r, 2, "usage")
		if !strings.Contains(r.stderr, "not a loopback address") {
			t.Fatalf("stderr %q", r.stderr)
		}
	}
	wantExit(t, e.run("", "notify", "serve", "--listen", "0.0.0.0:0", "--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"), 2, "usage")
	wantExit(t, e.run("", "notify", "serve", "--rate-limit", "lots"), 2, "usage")
	wantExit(t, e.run("", "notify", "serve", "--listen", "127.0.0.1:0"), 3, "login_required")
	wantExit(t, e.run("", "notify", "token", "add", "--to", "nonsense"), 2, "usage")
	wantExit(t, e.run("", "notify", "token", "revoke", "deadbeef"), 2, "usage")
}

// A public address with --tls-cert/--tls-key serves HTTPS (here on loopback).
func TestNotifyServeTLS(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	dir := t.TempDir()
	cert, key := dir+"/cert.pem", dir+"/key.pem"
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1").CombinedOutput(); err != nil {
		t.Skipf("openssl: %v %s", err, out)
	}
	ns := e.startNotify("--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(ns.url, "https://127.0.0.1:") {
		t.Fatalf("url %q", ns.url)
	}
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "--cacert", cert, "-F", "message=over TLS"), 200, "ok")
	if s := storedTexts(e); s["over TLS"] != 1 {
		t.Fatalf("stored %v", s)
	}
}

// A chat that needs Letter Sealing gets the message sealed, as with send.
func TestNotifySealedChat(t *testing.T) {
	e := newSandboxEnv(t)
	e.loginQRWithKeys()
	tok, _ := e.addToken("--to", simgw.BobMID)
	ns := e.startNotify()
	wantNotify(t, curl(t, tok, ns.url+"/api/notify", "-F", "message=sealed alert"), 200, "ok")
	waitFor(t, func() bool { return len(ns.requestLines()) == 1 })
	if l := ns.requestLines()[0]; l["e2ee"] != true || l["status"] != 200.0 {
		t.Fatalf("line %v\nstderr:\n%s", l, ns.stderrText())
	}
	if n := len(e.sim.Messages()); n != 1 {
		t.Fatalf("%d messages stored", n)
	}
}
