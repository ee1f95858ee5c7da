package mediafile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// Pixel bounds, checked from the image's header before anything is decoded
// (an image bomb is a small file that claims a huge canvas, or a GIF of
// thousands of frames: decoding it would take gigabytes).
const (
	// maxPixels bounds width × height of an image (a 200-megapixel camera
	// makes 16320 × 12240, 199.8 MP).
	maxPixels = 200e6
	// maxTotalPixels bounds width × height × frames of an animated GIF.
	maxTotalPixels = 400e6
	// maxDecodeBytes bounds the memory a preview's decode may take; a larger
	// image is sent without a preview.
	maxDecodeBytes = 48 << 20
)

// ErrTooLarge means the image's header claims more pixels than linectl
// sends (maxPixels, maxTotalPixels).
var ErrTooLarge = errors.New("the image is too large")

// header is what an image's header says, read without decoding pixels.
type header struct {
	cfg         image.Config
	frames      int    // 1 but for a GIF
	progressive bool   // a progressive JPEG (its decode holds every coefficient)
	ext         string // png, jpg, gif
}

// readHeader reads an image's header (its dimensions; a GIF's frame count by
// walking its blocks, a JPEG's coding by its frame marker) and refuses one
// over the pixel bounds. ok is false when the header cannot be read: the
// image is then sent as it is, without a preview, and never decoded.
func readHeader(b []byte, ext string) (h header, ok bool, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return header{}, false, nil
	}
	h = header{cfg: cfg, frames: 1, ext: ext}
	switch ext {
	case "gif":
		n, err := gifFrames(b)
		if err != nil {
			return header{}, false, nil
		}
		h.frames = max(n, 1)
	case "jpg":
		h.progressive = jpegProgressive(b)
	}
	px := float64(cfg.Width) * float64(cfg.Height)
	switch {
	case px > maxPixels:
		return h, true, fmt.Errorf("%w: %d × %d pixels, more than linectl's limit of %.0f million", ErrTooLarge, cfg.Width, cfg.Height, maxPixels/1e6)
	case px*float64(h.frames) > maxTotalPixels:
		return h, true, fmt.Errorf("%w: %d frames of %d × %d pixels, more than linectl's limit of %.0f million pixels in all frames",
			ErrTooLarge, h.frames, cfg.Width, cfg.Height, maxTotalPixels/1e6)
	}
	return h, true, nil
}

// decodeBytes estimates the memory decoding the image's first frame takes.
func (h header) decodeBytes() float64 {
	per := 4.0 // RGBA, NRGBA, CMYK, YCbCr (3 at most) and the rest
	switch h.cfg.ColorModel {
	case color.GrayModel:
		per = 1
	case color.Gray16Model:
		per = 2
	case color.RGBA64Model, color.NRGBA64Model:
		per = 8
	}
	if _, ok := h.cfg.ColorModel.(color.Palette); ok {
		per = 1
	}
	if h.progressive {
		per += 3 * 4 * 2 // every coefficient of three components, int32, with margin for subsampled padding
	}
	return float64(h.cfg.Width) * float64(h.cfg.Height) * per
}

// gifFrames counts a GIF's frames by walking its blocks (GIF89a spec §§17–27)
// without decoding any pixel. A frame that does not lie inside the logical
// screen is an error (Go's decoder refuses it too).
func gifFrames(b []byte) (int, error) {
	bad := errors.New("malformed GIF")
	if len(b) < 13 {
		return 0, bad
	}
	sw, sh := int(binary.LittleEndian.Uint16(b[6:])), int(binary.LittleEndian.Uint16(b[8:]))
	p := 13
	if b[10]&0x80 != 0 { // global colour table
		p += 3 << (b[10]&7 + 1)
	}
	// skipSubBlocks skips data sub-blocks up to and including the terminator.
	skipSubBlocks := func() bool {
		for p < len(b) {
			n := int(b[p])
			p++
			if n == 0 {
				return true
			}
			p += n
		}
		return false
	}
	frames := 0
	for p < len(b) {
		switch b[p] {
		case 0x3B: // trailer
			return frames, nil
		case 0x21: // extension: label, then sub-blocks
			p += 2
			if !skipSubBlocks() {
				return 0, bad
			}
		case 0x2C: // image descriptor
			if p+10 > len(b) {
				return 0, bad
			}
			l, t := int(binary.LittleEndian.Uint16(b[p+1:])), int(binary.LittleEndian.Uint16(b[p+3:]))
			w, h := int(binary.LittleEndian.Uint16(b[p+5:])), int(binary.LittleEndian.Uint16(b[p+7:]))
			if l+w > sw || t+h > sh {
				return 0, errors.New("a GIF frame lies outside the image")
			}
			flags := b[p+9]
			p += 10
			if flags&0x80 != 0 { // local colour table
				p += 3 << (flags&7 + 1)
			}
			p++ // LZW minimum code size
			if !skipSubBlocks() {
				return 0, bad
			}
			frames++
		default:
			return 0, bad
		}
	}
	// No trailer: Go's decoder takes the frames read so far.
	return frames, nil
}

// jpegProgressive reports whether a JPEG's frame is progressive (SOF2, SOF6,
// SOF10, SOF14), reading its markers up to the first frame header.
func jpegProgressive(b []byte) bool {
	p := 2 // SOI
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			return false
		}
		m := b[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8): // no length
			p += 2
			continue
		}
		p += 2 + int(binary.BigEndian.Uint16(b[p+2:]))
	}
	return false
}
