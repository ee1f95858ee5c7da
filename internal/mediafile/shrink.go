package mediafile

import (
	"image"
	"image/color"
	"sync"
)

// shrinker makes the preview row by row: each pixel of the source, composed
// over white (JPEG has no alpha: transparent areas would turn black), is
// added to the box of the nw×nh preview it falls in (box x = x·nw/w, box y =
// y·nh/h), and a box's colour is the mean of its pixels — an area average,
// which neither aliases nor blurs at the 3–10× reductions a preview takes.
// Rows are added in order, so a decoder can hand each row over as it reads
// it and never hold the whole image.
type shrinker struct {
	w, h, nw, nh int
	out          *image.RGBA
	start        []int               // the first source column of each box, and w
	sum          []uint32            // r, g, b sums of the boxes of the row being filled
	rows         uint32              // source rows added to it
	oy           int                 // its y
	inv          map[uint32][]uint64 // inverses, by rows
}

func newShrinker(w, h, nw, nh int) *shrinker {
	s := &shrinker{w: w, h: h, nw: nw, nh: nh, out: image.NewRGBA(image.Rect(0, 0, nw, nh)),
		start: make([]int, nw+1), sum: make([]uint32, 3*nw)}
	for b := range nw + 1 {
		// The first x with x·nw/w ≥ b.
		s.start[b] = int((int64(b)*int64(w) + int64(nw) - 1) / int64(nw))
	}
	return s
}

// pixelSums returns the r, g, b sums of the pixels x0 ≤ x < x1 of a row,
// composed over white.
type pixelSums func(x0, x1 int) (r, g, b uint32)

// add adds source row y, whose pixels sums reads.
func (s *shrinker) add(y int, sums pixelSums) {
	if oy := int(int64(y) * int64(s.nh) / int64(s.h)); oy != s.oy {
		s.flush()
		s.oy = oy
	}
	for b := range s.nw {
		r, g, bl := sums(s.start[b], s.start[b+1])
		s.sum[3*b] += r
		s.sum[3*b+1] += g
		s.sum[3*b+2] += bl
	}
	s.rows++
}

// flush writes the row being filled, if any row was added to it.
func (s *shrinker) flush() {
	if s.rows == 0 {
		return
	}
	px := s.out.Pix[s.oy*s.out.Stride:]
	inv := s.inverses()
	for b := range s.nw {
		n := uint64(s.start[b+1]-s.start[b]) * uint64(s.rows)
		m := inv[b]
		for k := range 3 {
			x := uint64(s.sum[3*b+k]) + n/2
			q := x * m >> 32
			if q*n > x {
				q--
			}
			px[4*b+k] = uint8(q)
			s.sum[3*b+k] = 0
		}
		px[4*b+3] = 0xff
	}
	s.rows = 0
}

// inverses is, for each box of a row of s.rows source rows, m = ⌈2³²/n⌉
// (n: the box's pixels), so that (sum + n/2) / n is a multiplication: m
// gives the quotient or one more, which flush takes back. A box's rows are
// one of two counts, so the divisions are made twice, not once a box
// (three divisions a box were a tenth of the preview's time).
func (s *shrinker) inverses() []uint64 {
	if inv, ok := s.inv[s.rows]; ok {
		return inv
	}
	if s.inv == nil {
		s.inv = map[uint32][]uint64{}
	}
	inv := make([]uint64, s.nw)
	for b := range inv {
		n := uint64(s.start[b+1]-s.start[b]) * uint64(s.rows)
		inv[b] = (1<<32 + n - 1) / n
	}
	s.inv[s.rows] = inv
	return inv
}

func (s *shrinker) result() *image.RGBA {
	s.flush()
	return s.out
}

// Pixel sums of a row (pix: the row's bytes from x = 0) by its layout.

// nrgbaSums: 4 bytes a pixel, not premultiplied (image/png's NRGBA): a
// table of every channel value at every alpha (64 KiB, made once) gives
// it over white as overWhite would, without the interface.
func nrgbaSums(pix []byte) pixelSums {
	t := overTable()
	return func(x0, x1 int) (r, g, b uint32) {
		px := pix[4*x0 : 4*x1]
		for i := 0; i+3 < len(px); i += 4 {
			ta := &t[px[i+3]]
			r += uint32(ta[px[i]])
			g += uint32(ta[px[i+1]])
			b += uint32(ta[px[i+2]])
		}
		return r, g, b
	}
}

// greyAlphaSums: 2 bytes a pixel (PNG's grey and alpha; image/png decodes
// it to NRGBA, the same values).
func greyAlphaSums(pix []byte) pixelSums {
	t := overTable()
	return func(x0, x1 int) (r, g, b uint32) {
		px := pix[2*x0 : 2*x1]
		for i := 0; i+1 < len(px); i += 2 {
			r += uint32(t[px[i+1]][px[i]])
		}
		return r, r, r
	}
}

// rgbSums: 3 bytes a pixel, opaque.
func rgbSums(pix []byte) pixelSums {
	return func(x0, x1 int) (r, g, b uint32) {
		px := pix[3*x0 : 3*x1]
		for i := 0; i+2 < len(px); i += 3 {
			r += uint32(px[i])
			g += uint32(px[i+1])
			b += uint32(px[i+2])
		}
		return r, g, b
	}
}

// rgbaSums: 4 bytes a pixel, premultiplied (image.RGBA): over white is
// c + 255 − a.
func rgbaSums(pix []byte) pixelSums {
	return func(x0, x1 int) (r, g, b uint32) {
		px := pix[4*x0 : 4*x1]
		for i := 0; i+3 < len(px); i += 4 {
			k := 0xff - uint32(px[i+3])
			r += uint32(px[i]) + k
			g += uint32(px[i+1]) + k
			b += uint32(px[i+2]) + k
		}
		return r, g, b
	}
}

// greySums: 1 byte a pixel.
func greySums(pix []byte) pixelSums {
	return func(x0, x1 int) (r, g, b uint32) {
		for _, v := range pix[x0:x1] {
			r += uint32(v)
		}
		return r, r, r
	}
}

// paletteSums: 1 byte a pixel, an index into lut (paletteOverWhite).
func paletteSums(pix []byte, lut *[256][3]byte) pixelSums {
	return func(x0, x1 int) (r, g, b uint32) {
		for _, i := range pix[x0:x1] {
			c := &lut[i]
			r += uint32(c[0])
			g += uint32(c[1])
			b += uint32(c[2])
		}
		return r, g, b
	}
}

// overTable[a][c] is channel c at alpha a over white, as color.NRGBA.RGBA
// and overWhite compute it (16-bit premultiplied, then over white);
// overTable[255][c] is c.
var overTable = sync.OnceValue(func() *[256][256]byte {
	var t [256][256]byte
	for a := range uint32(256) {
		k := 0xffff - (a | a<<8)
		for c := range uint32(256) {
			t[a][c] = uint8(((c|c<<8)*a/0xff + k) >> 8)
		}
	}
	return &t
})

// overWhite is c composed over white, 8 bits a channel (the same arithmetic
// for every source: image/png's and the streaming decoder's pixels give the
// same preview).
func overWhite(c color.Color) [3]byte {
	r, g, b, a := c.RGBA() // premultiplied, 16 bits
	k := 0xffff - a
	return [3]byte{uint8((r + k) >> 8), uint8((g + k) >> 8), uint8((b + k) >> 8)}
}

// shrinkImage is the preview of a decoded image: the types image/jpeg,
// image/png and image/gif decode to, row by row; any other (rare: 16-bit
// PNGs, CMYK JPEGs) through image.Image's At.
func shrinkImage(img image.Image, nw, nh int) *image.RGBA {
	b := img.Bounds()
	s := newShrinker(b.Dx(), b.Dy(), nw, nh)
	var lut *[256][3]byte
	if m, ok := img.(*image.Paletted); ok {
		lut = paletteOverWhite(m.Palette)
	}
	for y := range b.Dy() {
		sy := b.Min.Y + y
		var sums pixelSums
		switch m := img.(type) {
		case *image.NRGBA:
			sums = nrgbaSums(m.Pix[m.PixOffset(b.Min.X, sy):][:4*b.Dx()])
		case *image.RGBA:
			sums = rgbaSums(m.Pix[m.PixOffset(b.Min.X, sy):][:4*b.Dx()])
		case *image.Gray:
			sums = greySums(m.Pix[m.PixOffset(b.Min.X, sy):][:b.Dx()])
		case *image.Paletted:
			sums = paletteSums(m.Pix[m.PixOffset(b.Min.X, sy):][:b.Dx()], lut)
		case *image.YCbCr:
			sums = func(x0, x1 int) (r, g, bl uint32) {
				for x := b.Min.X + x0; x < b.Min.X+x1; x++ {
					yi, ci := m.YOffset(x, sy), m.COffset(x, sy)
					cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
					r, g, bl = r+uint32(cr), g+uint32(cg), bl+uint32(cb)
				}
				return r, g, bl
			}
		default:
			sums = func(x0, x1 int) (r, g, bl uint32) {
				for x := b.Min.X + x0; x < b.Min.X+x1; x++ {
					c := overWhite(img.At(x, sy))
					r, g, bl = r+uint32(c[0]), g+uint32(c[1]), bl+uint32(c[2])
				}
				return r, g, bl
			}
		}
		s.add(y, sums)
	}
	return s.result()
}

// paletteOverWhite is each palette entry composed over white; an index
// beyond the palette is black, as image/png and image/gif decode it (they
// refuse such an index; a preview does not).
func paletteOverWhite(p color.Palette) *[256][3]byte {
	var lut [256][3]byte
	for i := range lut {
		if i < len(p) {
			lut[i] = overWhite(p[i])
		}
	}
	return &lut
}
