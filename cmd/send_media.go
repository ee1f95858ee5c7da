package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	_ "image/png" // a decoder for the preview
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

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
	path, ct := opts.File, lineapi.ContentFile
	if opts.Image != "" {
		path, ct = opts.Image, lineapi.ContentImage
	}
	if path == "-" && opts.Name == "" {
		return true, usageErrorf("%s - reads stdin: give its name with --name", map[int]string{lineapi.ContentImage: "--image", lineapi.ContentFile: "--file"}[ct])
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
	maxFileSize    = 1 << 30
	maxImageSize   = 50 << 20
	maxStdinMedia  = maxImageSize // stdin is held in memory
	maxPreviewSide = 1280         // beeper/line generateThumbnail
	maxDecodePx    = 100e6        // larger images are sent without a preview
)

// imageFormats are the images send --image takes, by content (sniffed, not
// by name): the MIME type http.DetectContentType gives → the extension.
var imageFormats = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}

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
	ext, ok := imageFormats[http.DetectContentType(head)]
	if !ok {
		return nil, usageErrorf("%s %s: not a PNG, JPEG or GIF image by its content (send other files with --file)", what, path)
	}
	// LINE reads the format from the name's extension (beeper/line: PNGs
	// named .jpg lost their transparency).
	if e := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), ".")); e != ext && !(ext == "jpg" && e == "jpeg") {
		md.Name = strings.TrimSuffix(name, filepath.Ext(name)) + "." + ext
	}
	info := map[string]any{"category": "original", "fileSize": src.Size, "extension": ext}
	if ext == "gif" && animatedGIF(src) {
		info["animated"] = true
	}
	md.Metadata = map[string]string{"MEDIA_CONTENT_INFO": compactJSON(info)}
	if p, w, h := makePreview(src); p != nil {
		md.Preview = p
		md.Metadata["MEDIA_THUMB_INFO"] = compactJSON(map[string]int{"width": w, "height": h})
	}
	return md, nil
}

// openMedia returns the Source of path ("-": stdin, read into memory) and
// its first 512 bytes.
func openMedia(what, path string, stdin io.Reader, limit int64) (obs.Source, []byte, error) {
	if path == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, min(limit, maxStdinMedia)+1))
		switch {
		case err != nil:
			return obs.Source{}, nil, usageErrorf("%s -: read stdin: %v", what, err)
		case int64(len(b)) > min(limit, maxStdinMedia):
			return obs.Source{}, nil, usageErrorf("%s -: stdin is larger than %d bytes (give a file name for larger files)", what, min(limit, maxStdinMedia))
		case len(b) == 0:
			return obs.Source{}, nil, usageErrorf("%s -: stdin is empty", what)
		}
		return obs.BytesSource(b), b[:min(len(b), 512)], nil
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

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// readSource reads a whole Source (an image, bounded by maxImageSize).
func readSource(src obs.Source) ([]byte, error) {
	rc, err := src.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxImageSize))
}

// animatedGIF reports whether a GIF has more than one frame.
func animatedGIF(src obs.Source) bool {
	b, err := readSource(src)
	if err != nil {
		return false
	}
	g, err := gif.DecodeAll(bytes.NewReader(b))
	return err == nil && len(g.Image) > 1
}

// makePreview is the image scaled to at most maxPreviewSide on its long
// side, as a JPEG of quality 60 (beeper/line generateThumbnail), with its
// size. An image that does not decode, or is too large to decode safely,
// gets none: LINE shows the image without it.
func makePreview(src obs.Source) ([]byte, int, int) {
	b, err := readSource(src)
	if err != nil {
		return nil, 0, 0
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || float64(cfg.Width)*float64(cfg.Height) > maxDecodePx || cfg.Width == 0 || cfg.Height == 0 {
		return nil, 0, 0
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0
	}
	small := scaleDown(img, maxPreviewSide)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, small, &jpeg.Options{Quality: 60}); err != nil {
		return nil, 0, 0
	}
	r := small.Bounds()
	return out.Bytes(), r.Dx(), r.Dy()
}

// scaleDown shrinks img so its long side is at most side, averaging the
// source pixels each output pixel covers; transparent areas go white (JPEG
// has no alpha).
func scaleDown(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		side = max(w, h)
	}
	nw, nh := w, h
	if w >= h {
		nw, nh = side, max(1, h*side/w)
	} else {
		nw, nh = max(1, w*side/h), side
	}
	out := image.NewRGBA(image.Rect(0, 0, nw, nh))
	for y := 0; y < nh; y++ {
		y0, y1 := b.Min.Y+y*h/nh, b.Min.Y+max((y+1)*h/nh, y*h/nh+1)
		for x := 0; x < nw; x++ {
			x0, x1 := b.Min.X+x*w/nw, b.Min.X+max((x+1)*w/nw, x*w/nw+1)
			var r, g, bl, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := img.At(sx, sy).RGBA()
					white := 0xffff - uint64(ca) // over white
					r, g, bl, n = r+uint64(cr)+white, g+uint64(cg)+white, bl+uint64(cb)+white, n+1
				}
			}
			out.Set(x, y, color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(bl / n), A: 0xffff})
		}
	}
	return out
}

// progressSource reports an upload's progress on stderr once it has taken
// more than a second, then at most once a second.
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
		now := time.Now()
		return &progressReader{ReadCloser: rc, f: f, name: name, size: src.Size, start: now, next: now.Add(time.Second)}, nil
	}
	return src
}

type progressReader struct {
	io.ReadCloser
	f          *factory
	name       string
	size, done int64
	start      time.Time
	next       time.Time
	shown      bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.done += int64(n)
	if now := time.Now(); now.After(p.next) || (p.shown && err == io.EOF) {
		p.next, p.shown = now.Add(time.Second), true
		p.f.progress("uploading %s: %d%% (%.1f of %.1f MB, %s)", p.name, p.done*100/max(p.size, 1),
			float64(p.done)/1e6, float64(p.size)/1e6, now.Sub(p.start).Round(time.Second))
	}
	return n, err
}
