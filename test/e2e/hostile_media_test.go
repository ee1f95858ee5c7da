//go:build unix

package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// gifBomb is a GIF of n frames of w×h pixels sharing a few kilobytes of
// LZW data each: a small file that takes w×h×n bytes to decode whole.
func gifBomb(t *testing.T, w, h, n int) []byte {
	t.Helper()
	var one bytes.Buffer
	if err := gif.Encode(&one, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	b := one.Bytes()
	hdr := 13 + 3<<(b[10]&7+1)
	out := append([]byte{}, b[:hdr]...)
	for range n {
		out = append(out, b[hdr:len(b)-1]...)
	}
	return append(out, 0x3B)
}

// maxRSS is the peak resident memory of a finished process, in bytes.
func maxRSS(t *testing.T, cmd *exec.Cmd) int64 {
	t.Helper()
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage on this system")
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // bytes there, KiB on Linux
	}
	return int64(ru.Maxrss) << 10
}

// runMeasured runs linectl like run, and returns the process's peak memory.
func (e *env) runMeasured(stdin string, args ...string) (result, int64) {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}, maxRSS(e.t, cmd)
}

// A GIF frame bomb (30 frames of 4000×4000: 480 MB to decode whole, a
// 330 kB file) is refused before anything is decoded or sent: exit 2 with
// the reason, and linectl's memory stays under 100 MB.
func TestHostileImageBomb(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	bomb := writeFile(t, "bomb.gif", gifBomb(t, 4000, 4000, 30))
	r, rss := e.runMeasured("", "send", "--to", simgw.FamilyMID, "--image", bomb)
	wantExit(t, r, 2, "usage")
	if !strings.Contains(r.stderr, "30 frames of 4000 × 4000") {
		t.Fatalf("stderr %s", r.stderr)
	}
	if rss > 100<<20 {
		t.Fatalf("peak memory %d MB", rss>>20)
	}
	if len(mediaMessages(e)) != 0 {
		t.Fatal("the bomb was sent")
	}
}
