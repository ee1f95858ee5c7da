// Package mediafile describes an image for LINE: its format by content,
// the MEDIA_CONTENT_INFO and MEDIA_THUMB_INFO metadata, and a JPEG preview
// (beeper/line pkg/connector/media.go and send_message.go, verified live by
// its authors; docs/media-protocol.md §2).
package mediafile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"image"
	_ "image/gif" // a decoder for the preview (the first frame)
	"image/jpeg"
	_ "image/png" // a decoder for the preview
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Bounds. No peer records LINE's limit for images (docs/media-protocol.md
// §5): 50 MiB is linectl's own, far above what a phone's camera produces.
const (
	MaxImageSize = 50 << 20
	// The preview as LINE's extension 3.7.2 makes it for every image (its
	// media preparation's `case B.IMAGE`: Ry with resizeWidth/Height 384,
	// resizeType "contain", image/jpeg, outputQuality .3,
	// keepSizeForSmallerImage): fit within 384×384, a JPEG of quality 30.
	// (beeper/line's generateThumbnail makes 1280 px at 60: 11 times the
	// pixels to encode.)
	previewBox     = 384
	previewQuality = 30
)

// formats are the images LINE takes, by content (sniffed, not by name):
// the MIME type http.DetectContentType gives → the extension.
var formats = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}

// ErrNotImage means the bytes are not a PNG, JPEG or GIF.
var ErrNotImage = errors.New("not a PNG, JPEG or GIF image by its content")

// DescribeImage checks md's bytes (head: the first up to 512) are an image
// LINE takes, gives its name the format's extension (LINE reads the format
// from it: beeper/line found PNGs named .jpg lost their transparency), and
// sets its metadata and preview. An image whose header claims more pixels
// than maxPixels (maxTotalPixels for all a GIF's frames) is refused
// (ErrTooLarge) before anything is decoded.
func DescribeImage(md *delivery.Media, head []byte) error {
	ext, ok := formats[http.DetectContentType(head)]
	if !ok {
		return ErrNotImage
	}
	if e := strings.ToLower(strings.TrimPrefix(filepath.Ext(md.Name), ".")); e != ext && !(ext == "jpg" && e == "jpeg") {
		md.Name = strings.TrimSuffix(md.Name, filepath.Ext(md.Name)) + "." + ext
	}
	info := map[string]any{"category": "original", "fileSize": md.Source.Size, "extension": ext}
	hd, ok, err := describeSource(md.Source, ext)
	if err != nil {
		return err
	}
	if hd.frames > 1 {
		info["animated"] = true
	}
	md.Metadata = map[string]string{"MEDIA_CONTENT_INFO": compactJSON(info)}
	if !ok {
		return nil // a header that does not read: sent as it is, never decoded
	}
	if p, w, h := startPreview(md.Source, hd); p != nil {
		md.Preview, md.StartPreview, md.StopPreview = p.Get, p.Start, p.Stop
		md.Metadata["MEDIA_THUMB_INFO"] = compactJSON(map[string]int{"width": w, "height": h})
	}
	return nil
}

// headerPrefix is how much of an image is read for its header: a PNG's
// IHDR (and PLTE) and a JPEG's frame header come within it but behind
// unusually large metadata. The rest is read only when it is needed: a
// GIF's frames are counted by walking all its blocks, and the preview is
// decoded from the source when it is asked for (the sealed flow) — a plain
// PNG or JPEG is never read whole before its upload.
const headerPrefix = 256 << 10

// describeSource reads src's header (readHeader): from its first
// headerPrefix bytes, or from all of it for a GIF or a header the prefix
// does not hold. ok is false when it does not read (see readHeader).
func describeSource(src obs.Source, ext string) (header, bool, error) {
	b, err := readSource(src, headerPrefix)
	if err != nil {
		return header{}, false, nil // no preview: LINE shows the image without one
	}
	whole := int64(len(b)) < headerPrefix
	hd, ok, err := readHeader(b, ext)
	if whole || err != nil || (ok && ext != "gif") {
		return hd, ok, err
	}
	if b, err = readSource(src, MaxImageSize); err != nil {
		return header{}, false, nil
	}
	return readHeader(b, ext)
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// readSource reads up to limit bytes of src (the whole of an image: limit
// MaxImageSize), into one allocation of the size it needs.
func readSource(src obs.Source, limit int64) ([]byte, error) {
	rc, err := src.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, min(max(src.Size, 0), limit))
	n, err := io.ReadFull(rc, b)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil // shorter than announced: the header says what it says
	}
	return b[:n], err
}

// decodeSlot lets one preview decode run at a time in the process (notify
// serve takes images from many requests at once): with maxDecodeBytes, the
// memory decoding takes stays bounded whatever the number of requests.
var decodeSlot = make(chan struct{}, 1)

// startPreview returns the image's preview, fitted within
// previewBox×previewBox, a JPEG of previewQuality (as the extension). The
// size is known at once (from the image's header, for the message's
// MEDIA_THUMB_INFO); the JPEG is made when asked for — a plain image uploads
// none — or when started early, and a sender that wants it ready in time
// starts it in the background (delivery does, beside the sealed upload). An
// image that does not decode, or is too large to decode safely
// (maxDecodeBytes), gets none (nil): LINE shows the image without it. Only
// the first frame of a GIF is decoded.
func startPreview(src obs.Source, hd header) (p *previewJob, w, h int) {
	if hd.decodeBytes() > maxDecodeBytes {
		return nil, 0, 0
	}
	w, h = previewSize(hd.cfg.Width, hd.cfg.Height, previewBox)
	return &previewJob{src: src, hd: hd, w: w, h: h}, w, h
}

// previewJob makes a preview once, in the background when started; a stop
// ends the making at its next read of the image, and a later Get makes it
// again.
type previewJob struct {
	src  obs.Source
	hd   header
	w, h int
	mu   sync.Mutex
	run  *previewRun // the making under way or done; nil: none yet, or stopped
}

type previewRun struct {
	stop atomic.Bool
	done chan struct{}
	jpg  []byte
}

// Start starts making the preview, if it is not under way or made.
func (p *previewJob) Start() { p.start() }

func (p *previewJob) start() *previewRun {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.run == nil {
		r := &previewRun{done: make(chan struct{})}
		p.run = r
		go func() {
			defer close(r.done)
			r.jpg = makePreview(p.src, p.hd, p.w, p.h, &r.stop)
		}()
	}
	return p.run
}

// Stop stops a making under way (a made preview is kept).
func (p *previewJob) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.run; r != nil {
		select {
		case <-r.done:
			if r.jpg != nil || !r.stop.Load() {
				return // made (or failed for good): kept
			}
		default:
		}
		r.stop.Store(true)
		p.run = nil
	}
}

// Get returns the preview, made now if needed (nil: none).
func (p *previewJob) Get() []byte {
	for {
		r := p.start()
		<-r.done
		if !r.stop.Load() {
			return r.jpg
		}
		// Stopped before it was made: make it again.
	}
}

// stoppable reads r until stop is set.
type stoppable struct {
	r    io.Reader
	stop *atomic.Bool
}

var errPreviewStopped = errors.New("the preview was stopped")

func (s stoppable) Read(b []byte) (int, error) {
	if s.stop.Load() {
		return 0, errPreviewStopped
	}
	return s.r.Read(b)
}

// makePreview decodes src, read as it goes, and encodes its w×h preview
// (nil if it does not decode). A PNG is shrunk row by row as it is read
// (shrinkPNG); the PNGs that reads not, and JPEGs and GIFs, are decoded
// whole by the standard library, then shrunk.
func makePreview(src obs.Source, hd header, w, h int, stop *atomic.Bool) []byte {
	decodeSlot <- struct{}{}
	defer func() { <-decodeSlot }()
	img, err := decodePreview(src, hd.ext == "png", w, h, stop)
	if err != nil {
		return nil
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: previewQuality}); err != nil {
		return nil
	}
	return out.Bytes()
}

func decodePreview(src obs.Source, png bool, w, h int, stop *atomic.Bool) (*image.RGBA, error) {
	read := func(decode func(io.Reader) (*image.RGBA, error)) (*image.RGBA, error) {
		rc, err := src.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return decode(stoppable{io.LimitReader(rc, MaxImageSize), stop})
	}
	if png {
		img, err := read(func(r io.Reader) (*image.RGBA, error) { return shrinkPNG(r, w, h) })
		if err == nil || stop.Load() {
			return img, err
		}
	}
	return read(func(r io.Reader) (*image.RGBA, error) {
		img, _, err := image.Decode(bufio.NewReaderSize(r, 64<<10))
		if err != nil {
			return nil, err
		}
		return shrinkImage(img, w, h), nil
	})
}

// previewSize is w×h fitted within box×box, as the extension's Cy
// "contain" computes it (scale by the smaller ratio, round each side); an
// image that would not shrink keeps its size (keepSizeForSmallerImage).
func previewSize(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	a := math.Min(float64(box)/float64(w), float64(box)/float64(h))
	return max(1, int(math.Round(float64(w)*a))), max(1, int(math.Round(float64(h)*a)))
}

// FromBytes is the image message of b, named name (its extension is set
// from the content).
func FromBytes(name string, b []byte) (*delivery.Media, error) {
	if len(b) == 0 {
		return nil, errors.New("the image is empty")
	}
	if len(b) > MaxImageSize {
		return nil, errors.New("the image is larger than 50 MiB")
	}
	md := &delivery.Media{ContentType: 1, Name: name, Source: obs.BytesSource(b)}
	if err := DescribeImage(md, b[:min(len(b), 512)]); err != nil {
		return nil, err
	}
	return md, nil
}
