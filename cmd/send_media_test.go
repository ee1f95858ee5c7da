package cmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

type slowReader struct{ n int }

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	s.n--
	time.Sleep(600 * time.Millisecond)
	return copy(p, "abcd"), nil
}

// An upload that takes more than a second reports its progress on stderr;
// --quiet silences it.
func TestUploadProgress(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var errb bytes.Buffer
		f := newFactory(&iostreams{Out: io.Discard, ErrOut: &errb})
		f.Quiet = quiet
		reads := 3
		if quiet {
			reads = 1
		}
		src := obs.Source{Size: 12, Open: func() (io.ReadCloser, error) { return io.NopCloser(&slowReader{n: reads}), nil }}
		rc, err := progressSource(f, "graph.png", src).Open()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(rc)
		got := errb.String()
		if quiet != (got == "") || (!quiet && !strings.Contains(got, "uploading graph.png: ") || strings.Contains(got, "abcd")) {
			t.Fatalf("quiet=%v stderr %q", quiet, got)
		}
	}
}

// A file goes to the connection unwrapped (sendfile: the kernel copies
// it), and its progress is still shown, from its offset.
func TestUploadProgressOfAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(path, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	errb := &lockedBuffer{}
	f := newFactory(&iostreams{Out: io.Discard, ErrOut: errb})
	src := obs.Source{Size: 1000, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
	rc, err := progressSource(f, "big.bin", src).Open()
	if err != nil {
		t.Fatal(err)
	}
	file, ok := rc.(*os.File)
	if !ok {
		t.Fatalf("the file is wrapped (%T): no sendfile", rc)
	}
	if _, err := io.ReadFull(file, make([]byte, 250)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(errb.String(), "uploading big.bin: 25% "); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr %q", errb.String())
		}
	}
	file.Close() // the attempt is over: no more lines
	time.Sleep(1200 * time.Millisecond)
	if n := strings.Count(errb.String(), "uploading"); n > 2 {
		t.Fatalf("%d lines after the file was closed: %q", n, errb.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers and readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd": "passwd", "..": "", ".hidden": "hidden", "a\x1b[31mb.png": "a[31mb.png",
		`C:\Users\x\report.pdf`: "report.pdf", "ok name.txt": "ok name.txt", "\u202egnp.exe": "gnp.exe",
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Lines given to download come from the network (via receive): they never
// panic, and a storage path is built only from safe segments.
func FuzzReadMediaRefs(f *testing.F) {
	f.Add(`{"type":"operation","message":{"id":"605311889450205372","contentType":1,"contentMetadata":{"OID":"ab","SID":"emi"},"chunks":["a"]}}`)
	f.Add(`{"id":"1","contentType":14,"contentMetadata":{"OID":"../x"}}`)
	f.Add(`{"message":{"id":"-1","contentType":1}}`)
	f.Fuzz(func(t *testing.T, in string) {
		refs, err := readMediaRefs(strings.NewReader(in))
		for _, r := range refs {
			if err != nil || strings.Contains(r.path, "..") || !strings.HasPrefix(r.path, "/r/talk/") {
				t.Fatalf("ref %+v (err %v)", r, err)
			}
		}
	})
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// send --file - is not capped at 50 MiB: stdin is spooled to a temporary
// file (not memory), up to the file limit, and read again from the start
// by each upload attempt.
func TestFileStdinBeyondImageLimit(t *testing.T) {
	size := int64(maxImageSize) + 1
	md, err := loadMedia("-", "dump.sql.gz", lineapi.ContentFile, io.LimitReader(zeros{}, size))
	if err != nil {
		t.Fatal(err)
	}
	if md.Source.Size != size {
		t.Fatalf("size %d", md.Source.Size)
	}
	for range 2 { // two attempts read the same bytes
		rc, err := md.Source.Open()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != size {
			t.Fatalf("read %d, %v", n, err)
		}
	}
	if _, _, err := spoolStdin("--file", io.LimitReader(zeros{}, 101), 100); err == nil || !strings.Contains(err.Error(), "larger than the limit of 100") {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := loadMedia("-", "x.png", lineapi.ContentImage, io.LimitReader(zeros{}, size)); err == nil {
		t.Fatal("an image over 50 MiB from stdin accepted")
	}
}

// Stdin is spooled to an unnamed file; every upload attempt reads it whole
// from its start (the first one's reading, or closing, changes nothing for
// the next), and on Unix as an *os.File, which the kernel copies.
func TestSpooledStdinEachAttemptWhole(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789"), 10000)
	src, head, err := spoolStdin("--file", bytes.NewReader(want), 1<<20)
	if err != nil || !bytes.Equal(head, want[:512]) {
		t.Fatalf("spool: %v", err)
	}
	for attempt := range 3 {
		rc, err := src.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rc.(*os.File); !ok && runtime.GOOS != "windows" {
			t.Fatalf("attempt %d: %T, not a file: no sendfile", attempt, rc)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("attempt %d: %d bytes, %v", attempt, len(got), err)
		}
	}
	// An attempt cut short leaves the next one whole.
	rc, _ := src.Open()
	_, _ = io.ReadFull(rc, make([]byte, 777))
	rc.Close()
	rc, _ = src.Open()
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, want) {
		t.Fatalf("after a cut attempt: %d bytes", len(got))
	}
}
