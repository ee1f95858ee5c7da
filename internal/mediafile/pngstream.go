package mediafile

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"io"
	"strconv"
)

// shrinkPNG makes the preview of a PNG as it reads it: each row is
// inflated, unfiltered and added to the preview (shrinker), so neither the
// file nor its pixels are ever held whole — image/png would allocate the
// whole canvas (5 MB for a 1150×1150 screenshot) and check two checksums a
// preview has no use for (the header was checked with image/png before; a
// damaged body makes a damaged preview, or none). It reads what most PNGs
// are — not interlaced, 8 bits a sample, any colour type — and returns
// errPNGOther for the rest (interlaced, 1/2/4/16 bits, a tRNS colour key),
// which the caller decodes with image/png. The same pixels give the same
// preview as image/png's (TestShrinkPNGMatchesImagePNG, FuzzShrinkPNG).
func shrinkPNG(r io.Reader, nw, nh int) (*image.RGBA, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var head [8]byte
	if _, err := io.ReadFull(br, head[:]); err != nil || string(head[:]) != pngSignature {
		return nil, errors.New("not a PNG")
	}
	var (
		w, h, ctype int
		pal         color.Palette
		sawIHDR     bool
	)
	for {
		length, typ, err := pngChunk(br)
		if err != nil {
			return nil, err
		}
		switch {
		case !sawIHDR && typ != "IHDR":
			return nil, errors.New("PNG: no IHDR first")
		case typ == "IHDR":
			if sawIHDR || length != 13 {
				return nil, errors.New("PNG: bad IHDR")
			}
			var b [13 + 4]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return nil, err
			}
			w, h = int(binary.BigEndian.Uint32(b[0:])), int(binary.BigEndian.Uint32(b[4:]))
			depth, interlace := b[8], b[12]
			ctype = int(b[9])
			if w <= 0 || h <= 0 || float64(w)*float64(h) > maxPixels {
				return nil, errors.New("PNG: bad size")
			}
			if depth != 8 || interlace != 0 || ctype >= len(pngBytesPerPixel) || pngBytesPerPixel[ctype] == 0 {
				return nil, errPNGOther
			}
			sawIHDR = true
		case typ == "PLTE":
			if length%3 != 0 || length > 3*256 {
				return nil, errors.New("PNG: bad PLTE")
			}
			b := make([]byte, length+4)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, err
			}
			pal = make(color.Palette, length/3)
			for i := range pal {
				pal[i] = color.NRGBA{b[3*i], b[3*i+1], b[3*i+2], 0xff}
			}
		case typ == "tRNS":
			if ctype != pngPaletted || length > uint32(len(pal)) {
				return nil, errPNGOther // a colour key (grey, RGB), or a broken one
			}
			b := make([]byte, length+4)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, err
			}
			for i := range length {
				c := pal[i].(color.NRGBA)
				c.A = b[i]
				pal[i] = c
			}
		case typ == "IDAT":
			if ctype == pngPaletted && len(pal) == 0 {
				return nil, errors.New("PNG: no PLTE")
			}
			return shrinkPNGRows(&idatReader{r: br, left: length}, w, h, ctype, pal, nw, nh)
		case typ == "IEND":
			return nil, errors.New("PNG: no IDAT")
		default: // ancillary chunks: not needed for the pixels
			if _, err := br.Discard(int(length) + 4); err != nil {
				return nil, err
			}
		}
	}
}

const (
	pngSignature = "\x89PNG\r\n\x1a\n"
	pngPaletted  = 3
)

// errPNGOther: a PNG shrinkPNG does not read (image/png does).
var errPNGOther = errors.New("PNG: decoded by image/png")

// pngBytesPerPixel at 8 bits a sample, by colour type (0: one it does not read).
var pngBytesPerPixel = [7]int{0: 1, 2: 3, pngPaletted: 1, 4: 2, 6: 4}

// pngChunk reads a chunk's length and type.
func pngChunk(r io.Reader) (uint32, string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, "", err
	}
	n := binary.BigEndian.Uint32(b[:4])
	if n > 0x7fffffff {
		return 0, "", errors.New("PNG: bad chunk length")
	}
	return n, string(b[4:]), nil
}

// idatReader reads the data of consecutive IDAT chunks as one stream (the
// zlib stream of the pixels), skipping their CRCs.
type idatReader struct {
	r    *bufio.Reader
	left uint32 // bytes left in the current chunk
	done bool   // a chunk other than IDAT came
}

func (d *idatReader) Read(p []byte) (int, error) {
	for d.left == 0 {
		if d.done {
			return 0, io.EOF
		}
		if _, err := d.r.Discard(4); err != nil { // the CRC
			return 0, err
		}
		n, typ, err := pngChunk(d.r)
		if err != nil {
			return 0, err
		}
		if typ != "IDAT" {
			d.done = true
			return 0, io.EOF
		}
		d.left = n
	}
	n, err := d.r.Read(p[:min(len(p), int(d.left))])
	d.left -= uint32(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// shrinkPNGRows inflates, unfilters and shrinks the rows of the zlib
// stream z.
func shrinkPNGRows(z io.Reader, w, h, ctype int, pal color.Palette, nw, nh int) (*image.RGBA, error) {
	var zh [2]byte // zlib header: deflate, no preset dictionary
	if _, err := io.ReadFull(z, zh[:]); err != nil {
		return nil, err
	}
	if zh[0]&0x0f != 8 || zh[1]&0x20 != 0 || (uint(zh[0])<<8|uint(zh[1]))%31 != 0 {
		return nil, errors.New("PNG: bad zlib header")
	}
	fr := flate.NewReader(z) // the Adler-32 after it is not read
	defer fr.Close()
	bpp := pngBytesPerPixel[ctype]
	stride := w * bpp
	cur, prev := make([]byte, 1+stride), make([]byte, 1+stride)
	var lut *[256][3]byte
	if ctype == pngPaletted {
		lut = paletteOverWhite(pal)
	}
	s := newShrinker(w, h, nw, nh)
	for y := range h {
		if _, err := io.ReadFull(fr, cur); err != nil {
			return nil, err
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], bpp); err != nil {
			return nil, err
		}
		row := cur[1:]
		var sums pixelSums
		switch ctype {
		case 0: // grey
			sums = greySums(row)
		case 2: // RGB
			sums = rgbSums(row)
		case pngPaletted:
			sums = paletteSums(row, lut)
		case 4: // grey and alpha: as image/png decodes it (NRGBA)
			sums = greyAlphaSums(row)
		case 6: // RGBA, not premultiplied
			sums = nrgbaSums(row)
		}
		s.add(y, sums)
		cur, prev = prev, cur
	}
	return s.result(), nil
}

// unfilter reverses a row's filter (PNG spec §9) in place; prev is the
// previous row, unfiltered (zeros before the first).
func unfilter(f byte, cur, prev []byte, bpp int) error {
	switch f {
	case 0:
	case 1: // Sub
		if bpp == 4 { // a pixel at a time: four byte additions in one word
			for i := 4; i+4 <= len(cur); i += 4 {
				put32(cur[i:], addBytes(le32(cur[i:]), le32(cur[i-4:])))
			}
			break
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2: // Up: eight bytes at a time
		i := 0
		for ; i+8 <= len(cur); i += 8 {
			binary.LittleEndian.PutUint64(cur[i:], addBytes64(binary.LittleEndian.Uint64(cur[i:]), binary.LittleEndian.Uint64(prev[i:])))
		}
		for ; i < len(cur); i++ {
			cur[i] += prev[i]
		}
	case 3: // Average
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		if bpp == 4 {
			for i := 4; i+4 <= len(cur); i += 4 {
				put32(cur[i:], addBytes(le32(cur[i:]), meanBytes(le32(cur[i-4:]), le32(prev[i:]))))
			}
			break
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4: // Paeth
		for i := range bpp {
			cur[i] += prev[i] // Paeth of (0, b, 0) is b
		}
		// Byte by byte, so that the bpp channels' chains (each byte waits
		// for the one bpp before it) overlap; selected without branches
		// (conditional moves): the choice is unpredictable in a photo or
		// noise, and mispredicted branches cost more than the arithmetic.
		for i := bpp; i < len(cur); i++ {
			a, b, c := int(cur[i-bpp]), int(prev[i]), int(prev[i-bpp])
			pa, pb, pc := absInt(b-c), absInt(a-c), absInt(a+b-2*c)
			p := c
			if pb <= pc {
				p = b
			}
			if pa <= min(pb, pc) {
				p = a
			}
			cur[i] += uint8(p)
		}
	default:
		return errors.New("PNG: bad filter")
	}
	return nil
}

// absInt is |x| without a branch.
func absInt(x int) int {
	m := x >> (strconv.IntSize - 1)
	return (x ^ m) - m
}

// Bytes in a word, added or averaged byte by byte (no carry between them):
// what a filter does to each byte of a pixel, for the four at once.

func le32(b []byte) uint32     { return binary.LittleEndian.Uint32(b) }
func put32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

// addBytes is a+b in each byte, mod 256.
func addBytes(a, b uint32) uint32 {
	const low7, high = 0x7f7f7f7f, 0x80808080
	return ((a & low7) + (b & low7)) ^ ((a ^ b) & high)
}

func addBytes64(a, b uint64) uint64 {
	const low7, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	return ((a & low7) + (b & low7)) ^ ((a ^ b) & high)
}

// meanBytes is ⌊(a+b)/2⌋ in each byte.
func meanBytes(a, b uint32) uint32 {
	return (a & b) + ((a ^ b) & 0xfefefefe >> 1)
}
