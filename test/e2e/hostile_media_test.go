//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/testimg"

	"github.com/linectl/linectl/internal/simgw"
)

// maxRSS is the peak resident memory of a finished process, in bytes.
func maxRSS(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss), true // bytes there, KiB on Linux
	}
	return int64(ru.Maxrss) << 10, true
}

// rssHelper, in a re-run of the test binary, runs the linectl command
// named by LINECTL_E2E_RSS_ARGS (JSON) with this process's stdio, writes its
// peak memory to LINECTL_E2E_RSS_OUT and exits with its code. A child's
// ru_maxrss on Linux counts the memory of the process it was forked from
// (the parent's address space up to exec), so linectl is started from this
// small process, not from the test process with its simulators.
func rssHelper() bool {
	spec := os.Getenv("LINECTL_E2E_RSS_ARGS")
	if spec == "" {
		return false
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "rss helper: bad LINECTL_E2E_RSS_ARGS")
		os.Exit(99)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	_ = cmd.Run()
	if cmd.ProcessState == nil {
		os.Exit(99)
	}
	rss, _ := maxRSS(cmd.ProcessState)
	_ = os.WriteFile(os.Getenv("LINECTL_E2E_RSS_OUT"), []byte(strconv.FormatInt(rss, 10)), 0o600)
	os.Exit(cmd.ProcessState.ExitCode())
	return true
}

// runMeasured runs linectl like run, and returns the process's peak memory.
func (e *env) runMeasured(stdin string, args ...string) (result, int64) {
	e.t.Helper()
	spec, _ := json.Marshal(append([]string{binary}, args...))
	out := filepath.Join(e.t.TempDir(), "rss")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(e.environ(), "LINECTL_E2E_RSS_ARGS="+string(spec), "LINECTL_E2E_RSS_OUT="+out)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		e.t.Fatalf("no measure (exit %d): %v\n%s", code, err, errb.String())
	}
	rss, _ := strconv.ParseInt(string(b), 10, 64)
	return result{code: code, stdout: stdout.String(), stderr: errb.String()}, rss
}

// A GIF frame bomb (30 frames of 4000×4000: 480 MB to decode whole, a
// 330 kB file) is refused before anything is decoded or sent: exit 2 with
// the reason, and linectl's memory stays under 100 MB.
func TestHostileImageBomb(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	bomb := writeFile(t, "bomb.gif", testimg.GIFBomb(4000, 4000, 30))
	r, rss := e.runMeasured("", "send", "--to", simgw.FamilyMID, "--image", bomb)
	wantExit(t, r, 2, "usage")
	if !strings.Contains(r.stderr, "30 frames of 4000 × 4000") {
		t.Fatalf("stderr %s", r.stderr)
	}
	t.Logf("peak memory %d MB", rss>>20)
	if rss > 100<<20 {
		t.Fatalf("peak memory %d MB", rss>>20)
	}
	if len(mediaMessages(e)) != 0 {
		t.Fatal("the bomb was sent")
	}
}

// A hostile object server: a body that stalls halfway, one cut halfway,
// one longer than the message announced. Each download fails on its own
// (stall and cut: exit 5, network; too long: exit 4, bad_object), no
// partial file is left, and the next message is still downloaded.
func TestHostileObjectServer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  simgw.FaultKind
		code   int
		kind   string
		stderr string
	}{
		{"stalled halfway", simgw.FaultStallBody, 5, "network", "stopped sending"},
		{"cut halfway", simgw.FaultCutBody, 5, "network", "ended before the object did"},
		{"longer than announced", simgw.FaultLongBody, 4, "bad_object", "the message announced 70 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.loginQR()
			rev := strconv.FormatInt(e.sim.Revision(), 10)
			for _, name := range []string{"first.txt", "second.txt"} {
				data := bytes.Repeat([]byte(name[:1]), 70)
				if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.FamilyMID, ContentType: 14, Name: name, Data: data}); err != nil {
					t.Fatal(err)
				}
			}
			ops := e.must("", "receive", "--from-revision", rev, "--wait", "300ms")
			e.sim.Fail("obs-download", tc.fault, 1)
			dir := t.TempDir()
			r := e.runWithin(20*time.Second, ops.stdout, "download", "--idle-timeout", "1s", "--dir", dir)
			wantExit(t, r, tc.code, tc.kind)
			if !strings.Contains(r.stderr, tc.stderr) || !strings.Contains(r.stderr, "1 of 2 downloads failed") {
				t.Fatalf("stderr %s", r.stderr)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || entries[0].Name() != "second.txt" {
				t.Fatalf("left in the directory: %v", entries)
			}
			if got := r.lines(t); len(got) != 1 || !strings.HasSuffix(fmt.Sprint(got[0]["file"]), "second.txt") {
				t.Fatalf("downloaded %v", got)
			}
		})
	}
}

// killedMidUpload sends file to Family and kills linectl (-9) once it
// printed its first line, while the upload hangs: a placeholder message.
// It returns that line.
func (e *env) killedMidUpload(t *testing.T, file string) ([]byte, error) {
	t.Helper()
	e.sim.Delay("obs-upload", 30*time.Second) // the upload never ends before the kill
	cmd := exec.Command(binary, "send", "--to", simgw.FamilyMID, "--file", file)
	cmd.Env = e.environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	return line, err
}

// kill -9 during a plain upload: the pending line, printed before the
// upload's first byte, names the message; 'linectl upload' completes it.
func TestKillDuringPlainUploadLeavesPending(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	data := bytes.Repeat([]byte("backup "), 1000)
	file := writeFile(t, "backup.tar", data)
	line, err := e.killedMidUpload(t, file)
	l := decode(t, string(line))
	if err != nil || l["type"] != "pending" || l["fileName"] != "backup.tar" || l["fileSize"] != float64(len(data)) || l["contentType"] != 14.0 {
		t.Fatalf("first line %q (%v)", line, err)
	}
	id := l["messageId"].(string)
	m := mediaMessages(e)
	if len(m) != 1 || m[0].ID != id || m[0].Media != nil {
		t.Fatalf("stored %+v", m)
	}
	e.sim.Delay("obs-upload", 0)
	// The placeholder is visible: history of the chat, through download --check.
	check := func() map[string]any {
		t.Helper()
		h := e.must("", "history", "--chat", simgw.FamilyMID, "--limit", "10")
		for _, o := range e.must(h.stdout, "download", "--check").lines(t) {
			if o["messageId"] == id {
				return o
			}
		}
		t.Fatalf("download --check printed nothing for %s; history:\n%s", id, h.stdout)
		return nil
	}
	if o := check(); o["type"] != "object" || o["stored"] != false || o["object"] != "/r/talk/m/"+id {
		t.Fatalf("a placeholder: %v", o)
	}
	size := strconv.FormatInt(int64(l["fileSize"].(float64)), 10)
	// upload checks the file against the size the message announced.
	other := writeFile(t, "backup.tar", append(data, '!'))
	calls := count(e.sim.CallNames(), "obs-upload")
	wantExit(t, e.run("", "upload", "--message-id", id, "--size", size, "--file", other), 2, "usage")
	if count(e.sim.CallNames(), "obs-upload") != calls {
		t.Fatal("a file of another size was uploaded")
	}
	e.must("", "upload", "--message-id", id, "--size", size, "--file", file)
	if m := mediaMessages(e); !bytes.Equal(m[0].Media, data) {
		t.Fatal("not completed by upload")
	}
	if o := check(); o["stored"] != true {
		t.Fatalf("after upload: %v", o)
	}
	// In --jsonl too, before the sent line, with the input line.
	r := e.must(`{"to":"`+simgw.FamilyMID+`","file":"`+file+`"}`+"\n", "send", "--jsonl")
	got := r.lines(t)
	if len(got) != 2 || got[0]["type"] != "pending" || got[0]["line"] != 1.0 || got[1]["type"] != "sent" || got[0]["messageId"] != got[1]["messageId"] {
		t.Fatalf("lines %v", got)
	}
}

// A token refresh slower than --timeout happens before sendMessage is sent:
// nothing was sent, so it is exit 5 (as docs/exit-codes.md says), never 6.
func TestSlowRefreshBeforeSendIsExit5(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "send", "--to", simgw.FamilyMID, "warm") // probe and revision cached: sendMessage is the next call
	e.sim.ExpireTokens()
	e.sim.Delay("tokenRefresh", 3*time.Second)
	r := e.runWithin(60*time.Second, "", "send", "--timeout", "1s", "--confirm-timeout", "300ms", "--to", simgw.FamilyMID, "after a slow refresh")
	wantExit(t, r, 5, "")
	if n := e.messagesWith("after a slow refresh"); n != 0 {
		t.Fatalf("%d stored", n)
	}
}

// Ctrl-C during `linectl upload`: the message is already delivered, so the
// upload that completes it goes on (within --timeout) and is reported; exit
// 130. Nothing is left a placeholder.
func TestUploadFinishesAtASignal(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	data := bytes.Repeat([]byte("report "), 500)
	file := writeFile(t, "report.txt", data)
	line, _ := e.killedMidUpload(t, file)
	id, _ := decode(t, string(line))["messageId"].(string)
	if id == "" {
		t.Fatalf("no pending line: %q", line)
	}
	e.sim.Delay("obs-upload", 1500*time.Millisecond)
	before := count(e.sim.CallNames(), "obs-upload")
	r := runSignalled(t, e, strings.NewReader(""), os.Interrupt, func() bool {
		return count(e.sim.CallNames(), "obs-upload") > before
	}, "upload", "--message-id", id, "--file", file)
	wantExit(t, r, 130, "interrupted")
	if !strings.Contains(r.stdout, `"type":"uploaded"`) || !strings.Contains(r.stderr, "finishing the upload in flight") {
		t.Fatalf("stdout %s\nstderr %s", r.stdout, r.stderr)
	}
	if m := mediaMessages(e); len(m) != 1 || !bytes.Equal(m[0].Media, data) {
		t.Fatal("the upload was cut by the signal")
	}
}
