// Package testimg makes hostile images for tests.
package testimg

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
)

// GIFBomb is a GIF of n frames of w×h pixels, each frame the same few
// kilobytes of LZW data: the shape of a frame bomb, a small file that takes
// w×h×n bytes to decode whole.
func GIFBomb(w, h, n int) []byte {
	var one bytes.Buffer
	frame := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	if err := gif.Encode(&one, frame, nil); err != nil {
		panic(err) // encoding to memory fails only on a bug
	}
	b := one.Bytes()
	hdr := 13 + 3<<(b[10]&7+1) // header, screen descriptor, global colour table
	out := append([]byte{}, b[:hdr]...)
	for range n {
		out = append(out, b[hdr:len(b)-1]...) // every block but the trailer
	}
	return append(out, 0x3B)
}
