package mediafile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// testPNG writes a PNG of w×h pixels of colour type ctype at depth bits a
// sample (pix: the rows' bytes, unfiltered), filtering row y with filter
// y%5 — every filter, which image/png's encoder does not promise to use —
// with pal (and a tRNS of its alphas when one is below 255) for ctype 3.
func testPNG(w, h int, ctype, depth byte, interlace byte, pix []byte, pal []color.NRGBA) []byte {
	var out bytes.Buffer
	out.WriteString(pngSignature)
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(typ)
		out.Write(data)
		_ = binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	chunk("IHDR", append(ihdr, depth, ctype, 0, 0, interlace))
	chunk("tEXt", []byte("Comment\x00an ancillary chunk before the palette"))
	if pal != nil {
		var p, a []byte
		for _, c := range pal {
			p, a = append(p, c.R, c.G, c.B), append(a, c.A)
		}
		chunk("PLTE", p)
		if bytes.Count(a, []byte{0xff}) < len(a) {
			chunk("tRNS", a)
		}
	}
	bpp := max(1, int(pngBytesPerPixel[ctype])*int(depth)/8)
	stride := len(pix) / h
	var raw bytes.Buffer
	prev := make([]byte, stride)
	for y := range h {
		cur := pix[y*stride : (y+1)*stride]
		f := byte(y % 5)
		raw.WriteByte(f)
		for i := range cur {
			var a, b, c int
			if i >= bpp {
				a, c = int(cur[i-bpp]), int(prev[i-bpp])
			}
			b = int(prev[i])
			var p int
			switch f {
			case 1:
				p = a
			case 2:
				p = b
			case 3:
				p = (a + b) / 2
			case 4:
				pa, pb, pc := abs(b-c), abs(a-c), abs(a+b-2*c)
				switch {
				case pa <= pb && pa <= pc:
					p = a
				case pb <= pc:
					p = b
				default:
					p = c
				}
			}
			raw.WriteByte(cur[i] - byte(p))
		}
		prev = cur
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	// The pixels in two IDAT chunks, as encoders split them.
	half := z.Len() / 2
	chunk("IDAT", z.Bytes()[:half])
	chunk("IDAT", z.Bytes()[half:])
	chunk("IEND", nil)
	return out.Bytes()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// stdlibPreview is the preview of b decoded whole by image/png.
func stdlibPreview(b []byte, nw, nh int) (*image.RGBA, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return shrinkImage(img, nw, nh), nil
}

// Every colour type shrinkPNG reads, with every filter, gives exactly the
// preview of image/png's decode; those it does not read are errPNGOther,
// and their preview comes from image/png.
func TestShrinkPNGMatchesImagePNG(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const w, h, nw, nh = 101, 67, 37, 25 // boxes of 2 and 3 columns and rows
	pal := make([]color.NRGBA, 200)
	for i := range pal {
		pal[i] = color.NRGBA{uint8(r.Uint32()), uint8(r.Uint32()), uint8(r.Uint32()), uint8(max(0, int(r.Uint32()%512)-256))}
	}
	opaque := make([]color.NRGBA, len(pal))
	for i, c := range pal {
		c.A = 0xff
		opaque[i] = c
	}
	for _, c := range []struct {
		name  string
		ctype byte
		pal   []color.NRGBA
	}{{"grey", 0, nil}, {"rgb", 2, nil}, {"paletted", 3, opaque}, {"paletted+tRNS", 3, pal}, {"grey+alpha", 4, nil}, {"rgba", 6, nil}} {
		pix := make([]byte, w*h*pngBytesPerPixel[c.ctype])
		for i := range pix {
			pix[i] = uint8(r.Uint32())
			if c.ctype == 3 {
				pix[i] %= uint8(len(c.pal))
			}
		}
		// Some smooth runs too: Sub/Up/Average/Paeth then predict well.
		for i := 0; i < len(pix)/3; i++ {
			pix[i] = uint8(i / 7)
		}
		b := testPNG(w, h, c.ctype, 8, 0, pix, c.pal)
		want, err := stdlibPreview(b, nw, nh)
		if err != nil {
			t.Fatalf("%s: image/png: %v", c.name, err)
		}
		got, err := shrinkPNG(bytes.NewReader(b), nw, nh)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("%s: the preview differs from image/png's", c.name)
		}
	}
	// Interlaced and 16 bits a sample: image/png's (testPNG does not lay
	// out interlaced passes: only the refusal is checked for it).
	if _, err := shrinkPNG(bytes.NewReader(testPNG(w, h, 0, 8, 1, make([]byte, w*h), nil)), nw, nh); err != errPNGOther {
		t.Fatalf("shrinkPNG of an interlaced PNG: %v", err)
	}
	grey16 := testPNG(w, h, 0, 16, 0, make([]byte, w*h*2), nil)
	if _, err := shrinkPNG(bytes.NewReader(grey16), nw, nh); err != errPNGOther {
		t.Fatalf("shrinkPNG of a 16-bit PNG: %v", err)
	}
	if img, err := decodePreview(obs.BytesSource(grey16), true, nw, nh, new(atomic.Bool)); err != nil || img.Bounds().Dx() != nw {
		t.Fatalf("decodePreview of a 16-bit PNG: %v", err)
	}
}

// A PNG read from the network (an image URL given to notify serve) or a
// user's file: shrinkPNG never panics, and where image/png decodes it too,
// the previews are the same.
func FuzzShrinkPNG(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, ct := range []byte{0, 2, 4, 6} {
		pix := make([]byte, 9*7*pngBytesPerPixel[ct])
		for i := range pix {
			pix[i] = uint8(r.Uint32())
		}
		f.Add(testPNG(9, 7, ct, 8, 0, pix, nil))
	}
	f.Add(testPNG(9, 7, 3, 8, 0, make([]byte, 63), []color.NRGBA{{1, 2, 3, 4}, {5, 6, 7, 255}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := shrinkPNG(bytes.NewReader(b), 4, 3)
		if err != nil {
			return
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width*cfg.Height > 1<<16 {
			return
		}
		want, err := stdlibPreview(b, 4, 3)
		if err == nil && !bytes.Equal(got.Pix, want.Pix) {
			t.Fatalf("the preview differs from image/png's")
		}
	})
}

// The word-wide byte arithmetic of the filters is the byte arithmetic, for
// every pair of bytes in every lane.
func TestBytesInAWord(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			for lane := range 4 {
				sh := 8 * lane
				wa, wb := uint32(a)<<sh|0x5a<<((sh+8)%32), uint32(b)<<sh|0xa5<<((sh+8)%32)
				if got := uint8(addBytes(wa, wb) >> sh); got != uint8(a+b) {
					t.Fatalf("addBytes %d+%d lane %d: %d", a, b, lane, got)
				}
				if got := uint8(meanBytes(wa, wb) >> sh); got != uint8((a+b)/2) {
					t.Fatalf("meanBytes %d,%d lane %d: %d", a, b, lane, got)
				}
				if got := uint8(addBytes64(uint64(wa)<<32|uint64(wa), uint64(wb)<<32|uint64(wb)) >> (sh + 32)); got != uint8(a+b) {
					t.Fatalf("addBytes64 %d+%d lane %d: %d", a, b, lane, got)
				}
			}
		}
	}
}
