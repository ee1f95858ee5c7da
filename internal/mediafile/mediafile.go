// Package mediafile describes an image for LINE: its format by content,
// the MEDIA_CONTENT_INFO and MEDIA_THUMB_INFO metadata, and a JPEG preview
// (beeper/line pkg/connector/media.go and send_message.go, verified live by
// its authors; docs/media-protocol.md §2).
package mediafile

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	_ "image/png" // a decoder for the preview
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Bounds. No peer records LINE's limit for images (docs/media-protocol.md
// §5): 50 MiB is linectl's own, far above what a phone's camera produces.
const (
	MaxImageSize   = 50 << 20
	maxPreviewSide = 1280  // beeper/line generateThumbnail
	maxDecodePx    = 100e6 // larger images are sent without a preview
)

// formats are the images LINE takes, by content (sniffed, not by name):
// the MIME type http.DetectContentType gives → the extension.
var formats = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}

// ErrNotImage means the bytes are not a PNG, JPEG or GIF.
var ErrNotImage = errors.New("not a PNG, JPEG or GIF image by its content")

// DescribeImage checks md's bytes (head: the first up to 512) are an image
// LINE takes, gives its name the format's extension (LINE reads the format
// from it: beeper/line found PNGs named .jpg lost their transparency), and
// sets its metadata and preview.
func DescribeImage(md *delivery.Media, head []byte) error {
	ext, ok := formats[http.DetectContentType(head)]
	if !ok {
		return ErrNotImage
	}
	if e := strings.ToLower(strings.TrimPrefix(filepath.Ext(md.Name), ".")); e != ext && !(ext == "jpg" && e == "jpeg") {
		md.Name = strings.TrimSuffix(md.Name, filepath.Ext(md.Name)) + "." + ext
	}
	info := map[string]any{"category": "original", "fileSize": md.Source.Size, "extension": ext}
	if ext == "gif" && animatedGIF(md.Source) {
		info["animated"] = true
	}
	md.Metadata = map[string]string{"MEDIA_CONTENT_INFO": compactJSON(info)}
	if p, w, h := makePreview(md.Source); p != nil {
		md.Preview = p
		md.Metadata["MEDIA_THUMB_INFO"] = compactJSON(map[string]int{"width": w, "height": h})
	}
	return nil
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// readSource reads a whole Source (an image, bounded by MaxImageSize).
func readSource(src obs.Source) ([]byte, error) {
	rc, err := src.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, MaxImageSize))
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
