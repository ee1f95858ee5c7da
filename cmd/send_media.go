package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linectl/linectl/internal/mediafile"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Images and files for send --image / --file (docs/media-protocol.md).

// parseMediaArgs checks --image, --file and --name (done: the media is
// what is sent).
func parseMediaArgs(f *factory, opts *sendOptions, args []string, stickerSet bool) (done bool, err error) {
	if opts.Image == "" && opts.File == "" {
		if opts.Name != "" {
			return true, usageErrorf("--name goes with --image or --file")
		}
		return false, nil
	}
	switch {
	case opts.Image != "" && opts.File != "":
		return true, usageErrorf("give --image or --file, not both (one message carries one)")
	case stickerSet:
		return true, usageErrorf("give --sticker or --image/--file, not both (one message carries one)")
	case len(args) > 0:
		return true, usageErrorf("an image or file message has no text (LINE takes no caption): send the text with a second 'linectl send'")
	}
	path, ct, flag := opts.File, lineapi.ContentFile, "--file"
	if opts.Image != "" {
		path, ct, flag = opts.Image, lineapi.ContentImage, "--image"
	}
	if path == "-" && f.IO.InTTY {
		return true, usageErrorf("%s - reads the file from stdin, which is a terminal: pipe it in, or give its path", flag)
	}
	if path == "-" && opts.Name == "" {
		return true, usageErrorf("%s - reads stdin: give its name with --name", flag)
	}
	opts.Media, err = loadMedia(path, opts.Name, ct, f.IO.In)
	return true, err
}

// parseJSONLMedia fills j from a --jsonl line's image or file.
func parseJSONLMedia(j *job, n int, image, file, name *string) {
	path, ct := derefOr(file), lineapi.ContentFile
	switch {
	case image != nil && file != nil:
		j.err = usageErrorf("line %d: a line has an image or a file, not both", n)
		return
	case image != nil:
		path, ct = *image, lineapi.ContentImage
	}
	if path == "-" || path == "" {
		j.err = usageErrorf("line %d: give the image or file as a path (stdin carries the lines)", n)
		return
	}
	md, err := loadMedia(path, derefOr(name), ct, nil)
	if err != nil {
		j.err = usageErrorf("line %d: %v", n, err)
		return
	}
	j.media = md
}

// Size bounds. LINE's help centre gives 1 GB for a file; no peer records a
// limit for images (docs/media-protocol.md §5), so linectl's is its own: 50
// MiB, far above what a phone's camera produces.
const (
	maxFileSize  = 1 << 30
	maxImageSize = mediafile.MaxImageSize
)

// loadMedia checks an image or file before anything is sent: it exists, is
// a regular file (or stdin, with name), is readable, within the size bound,
// and an image is a PNG, JPEG or GIF by its content. Each upload attempt
// reopens the file and refuses it if it changed since.
func loadMedia(path, name string, contentType int, stdin io.Reader) (*delivery.Media, error) {
	what := "--file"
	limit := int64(maxFileSize)
	if contentType == lineapi.ContentImage {
		what, limit = "--image", maxImageSize
	}
	src, head, err := openMedia(what, path, stdin, limit)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = filepath.Base(path)
	}
	if err := checkMediaName(what, name); err != nil {
		return nil, err
	}
	md := &delivery.Media{ContentType: contentType, Name: name, Source: src}
	if contentType == lineapi.ContentFile {
		return md, nil
	}
	if err := mediafile.DescribeImage(md, head); err != nil {
		return nil, usageErrorf("%s %s: %v (send other files with --file)", what, path, err)
	}
	return md, nil
}

// openMedia returns the Source of path ("-": stdin, read into memory) and
// its first 512 bytes.
func openMedia(what, path string, stdin io.Reader, limit int64) (obs.Source, []byte, error) {
	if path == "-" && what == "--image" {
		// An image is read whole anyway (its header, its preview).
		b, err := io.ReadAll(io.LimitReader(stdin, limit+1))
		switch {
		case err != nil:
			return obs.Source{}, nil, usageErrorf("%s -: read stdin: %v", what, err)
		case int64(len(b)) > limit:
			return obs.Source{}, nil, usageErrorf("%s -: stdin is larger than the limit of %d bytes", what, limit)
		case len(b) == 0:
			return obs.Source{}, nil, usageErrorf("%s -: stdin is empty", what)
		}
		return obs.BytesSource(b), b[:min(len(b), 512)], nil
	}
	if path == "-" {
		return spoolStdin(what, stdin, limit)
	}
	f, st, err := openRegular(path)
	if err != nil {
		return obs.Source{}, nil, usageErrorf("%s %s: %v", what, path, err)
	}
	defer f.Close()
	switch {
	case st.Size() == 0:
		return obs.Source{}, nil, usageErrorf("%s %s: the file is empty", what, path)
	case st.Size() > limit:
		return obs.Source{}, nil, usageErrorf("%s %s: %d bytes, more than the limit of %d", what, path, st.Size(), limit)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return obs.Source{}, nil, usageErrorf("%s %s: %v", what, path, err)
	}
	size, mod := st.Size(), st.ModTime()
	open := func() (io.ReadCloser, error) {
		f, st, err := openRegular(path)
		if err != nil {
			return nil, err
		}
		if st.Size() != size || !st.ModTime().Equal(mod) {
			f.Close()
			return nil, fmt.Errorf("%s changed while it was being sent", path)
		}
		return f, nil
	}
	return obs.Source{Open: open, Size: size}, head[:n], nil
}

// spoolStdin copies stdin, up to limit, into a private temporary file that
// is removed at once (on Unix the open file lives on, unnamed, until linectl
// exits), so a file of any size up to the limit is sent as a file on disk
// would be — its size known before the message, each upload attempt reading
// it again from the start — without holding it in memory.
func spoolStdin(what string, stdin io.Reader, limit int64) (obs.Source, []byte, error) {
	tmp, err := os.CreateTemp("", ".linectl-stdin-*")
	if err != nil {
		return obs.Source{}, nil, usageErrorf("%s -: a temporary file for stdin: %v", what, err)
	}
	_ = os.Remove(tmp.Name()) // nothing left behind, even after kill -9 (Windows: removed when closed)
	n, err := io.Copy(tmp, io.LimitReader(stdin, limit+1))
	switch {
	case err != nil:
		tmp.Close()
		return obs.Source{}, nil, usageErrorf("%s -: read stdin into a temporary file: %v", what, err)
	case n > limit:
		tmp.Close()
		return obs.Source{}, nil, usageErrorf("%s -: stdin is larger than the limit of %d bytes", what, limit)
	case n == 0:
		tmp.Close()
		return obs.Source{}, nil, usageErrorf("%s -: stdin is empty", what)
	}
	head := make([]byte, min(n, 512))
	if _, err := tmp.ReadAt(head, 0); err != nil {
		tmp.Close()
		return obs.Source{}, nil, usageErrorf("%s -: %v", what, err)
	}
	open := func() (io.ReadCloser, error) { return spoolReader(tmp, n) }
	return obs.Source{Open: open, Size: n}, head, nil
}

// openRegular opens path for reading if it is a regular file (a FIFO or a
// device would block or never end; a directory is a mistake).
func openRegular(path string) (*os.File, os.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, unwrapPath(err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, unwrapPath(err)
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, errors.New("not a regular file")
	}
	return f, st, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkMediaName refuses names LINE would show badly or not at all.
func checkMediaName(what, name string) error {
	switch {
	case name == "" || name == "." || name == "/":
		return usageErrorf("%s: give the file's name with --name", what)
	case !utf8.ValidString(name) || strings.ContainsAny(name, "/\\\x00") || strings.TrimFunc(name, isInvisible) == "":
		return usageErrorf("%s: --name %q must be a visible file name without slashes", what, name)
	case len(name) > 255:
		return usageErrorf("%s: the name is longer than 255 bytes", what)
	}
	return nil
}

// progressSource reports an upload's progress on stderr once it has taken
// more than a second, then at most once a second. A file is handed to the
// connection itself, unwrapped, so that the kernel copies it (sendfile on
// Linux: the bytes never pass through linectl): its progress is its
// offset, read once a second. Any other source is counted as it is read.
func progressSource(f *factory, name string, src obs.Source) obs.Source {
	if f.Quiet {
		return src
	}
	open := src.Open
	src.Open = func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		p := &progress{f: f, name: name, size: src.Size, start: time.Now()}
		if file, ok := rc.(*os.File); ok {
			go p.poll(file)
			return file, nil
		}
		p.next = p.start.Add(time.Second)
		return &progressReader{ReadCloser: rc, p: p}, nil
	}
	return src
}

// progress is what an upload has sent of its size.
type progress struct {
	f     *factory
	name  string
	size  int64
	start time.Time
	next  time.Time // the earliest time of the next line (progressReader)
	shown bool
}

func (p *progress) show(done int64, now time.Time) {
	p.shown = true
	p.f.progress("uploading %s: %d%% (%.1f of %.1f MB, %s)", p.name, done*100/max(p.size, 1),
		float64(done)/1e6, float64(p.size)/1e6, now.Sub(p.start).Round(time.Second))
}

// poll shows file's offset once a second until it is closed or all sent.
func (p *progress) poll(file *os.File) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for now := range t.C {
		off, err := file.Seek(0, io.SeekCurrent)
		if err != nil { // closed: the attempt is over
			return
		}
		p.show(off, now)
		if off >= p.size {
			return
		}
	}
}

type progressReader struct {
	io.ReadCloser
	p    *progress
	done int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	r.done += int64(n)
	if now := time.Now(); now.After(r.p.next) || (r.p.shown && err == io.EOF) {
		r.p.next = now.Add(time.Second)
		r.p.show(r.done, now)
	}
	return n, err
}
