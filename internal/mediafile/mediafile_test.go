package mediafile

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func encode(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h)) // fully transparent
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		p := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
		err = gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{p, p}, Delay: []int{1, 1}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDescribeImage(t *testing.T) {
	cases := []struct {
		format, name, wantName, info string
		w, h                         int
		thumb                        string
	}{
		// fitted within 384×384 as the extension's Cy "contain" (rounded)
		{"png", "chart.jpg", "chart.png", `"extension":"png"`, 2000, 500, `{"height":96,"width":384}`},
		{"png", "tall.png", "tall.png", `"extension":"png"`, 701, 1000, `{"height":384,"width":269}`}, // 269.18
		{"png", "odd.png", "odd.png", `"extension":"png"`, 1000, 781, `{"height":300,"width":384}`},   // 299.9 rounds up
		// smaller: kept (keepSizeForSmallerImage)
		{"jpg", "photo.jpeg", "photo.jpeg", `"extension":"jpg"`, 300, 384, `{"height":384,"width":300}`},
		{"gif", "anim", "anim.gif", `"animated":true`, 10, 10, `{"height":10,"width":10}`},
	}
	for _, c := range cases {
		md, err := FromBytes(c.name, encode(t, c.format, c.w, c.h))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if md.Name != c.wantName || !strings.Contains(md.Metadata["MEDIA_CONTENT_INFO"], c.info) || md.Metadata["MEDIA_THUMB_INFO"] != c.thumb {
			t.Fatalf("%s: name %q metadata %v", c.name, md.Name, md.Metadata)
		}
		p := md.Preview()
		img, err := jpeg.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatalf("%s: preview: %v", c.name, err)
		}
		if c.format == "png" { // transparent → white, not black
			if r, g, b, _ := img.At(5, 5).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
				t.Fatalf("transparent preview pixel %v", img.At(5, 5))
			}
		}
	}
	if _, err := FromBytes("x.png", []byte("%PDF-1.4 not an image")); !errors.Is(err, ErrNotImage) {
		t.Fatalf("pdf: %v", err)
	}
	if _, err := FromBytes("x.png", nil); err == nil {
		t.Fatal("empty accepted")
	}
	// A header that does not read (a wrong CRC) gets no preview (never decoded).
	huge := encode(t, "png", 1, 1)
	copy(huge[16:24], []byte{0, 0, 0x7f, 0xff, 0, 0, 0x7f, 0xff}) // IHDR width, height 32767 (CRC now wrong)
	if md, err := FromBytes("huge.png", huge); err != nil || md.Preview != nil {
		t.Fatalf("huge: %v, preview %v", err, md != nil && md.Preview != nil)
	}
}
