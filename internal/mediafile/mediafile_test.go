package mediafile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
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

// countingSource is a Source of b that counts the bytes read from it.
func countingSource(b []byte, read *int64) obs.Source {
	return obs.Source{Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(&countingReader{r: bytes.NewReader(b), n: read}), nil
	}}
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	*c.n += int64(k)
	return k, err
}

// A PNG or JPEG is described from its first headerPrefix bytes: a plain
// send (no preview) never reads the rest before the upload. The preview,
// when asked for, reads it as it decodes.
func TestDescribeReadsOnlyTheHeader(t *testing.T) {
	for _, format := range []string{"png", "jpg"} {
		b := noise(t, format, 700, 700)
		if len(b) <= 2*headerPrefix {
			t.Fatalf("%s: %d bytes: too small for the test", format, len(b))
		}
		var read int64
		md := &delivery.Media{ContentType: 1, Name: "x." + format, Source: countingSource(b, &read)}
		if err := DescribeImage(md, b[:512]); err != nil {
			t.Fatal(err)
		}
		if read > headerPrefix || md.Metadata["MEDIA_THUMB_INFO"] != `{"height":384,"width":384}` {
			t.Fatalf("%s: read %d bytes of %d to describe it; metadata %v", format, read, len(b), md.Metadata)
		}
		if p := md.Preview(); p == nil {
			t.Fatalf("%s: no preview", format)
		}
	}
}

// A header behind more than headerPrefix bytes of metadata (a JPEG's
// APPn segments, a paletted PNG's PLTE behind a large chunk) and a GIF's
// frames beyond it are read from the whole image.
func TestDescribeHeaderBeyondPrefix(t *testing.T) {
	// JPEG: SOI, then 6 APP2 segments of 65533 bytes (an ICC profile's
	// size), then the rest of a small JPEG.
	j := encode(t, "jpg", 500, 300)
	var b bytes.Buffer
	b.Write(j[:2])
	for range 6 {
		b.Write([]byte{0xFF, 0xE2, 0xFF, 0xFF})
		b.Write(make([]byte, 0xFFFF-2))
	}
	b.Write(j[2:])
	// PNG, paletted: IHDR, a 300 KB private chunk, then PLTE and the rest.
	pal := image.NewPaletted(image.Rect(0, 0, 500, 300), color.Palette{color.Black, color.White})
	var pb bytes.Buffer
	if err := png.Encode(&pb, pal); err != nil {
		t.Fatal(err)
	}
	p := pb.Bytes()
	big := make([]byte, 300<<10)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(big)))
	chunk = append(chunk, "prVt"...)
	chunk = append(chunk, big...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(append([]byte("prVt"), big...)))
	p = append(append(append([]byte{}, p[:33]...), chunk...), p[33:]...) // 8 signature + 25 IHDR
	for name, img := range map[string][]byte{"app.jpg": b.Bytes(), "pal.png": p} {
		md, err := FromBytes(name, img)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if md.Metadata["MEDIA_THUMB_INFO"] != `{"height":230,"width":384}` || md.Preview() == nil {
			t.Fatalf("%s: metadata %v", name, md.Metadata)
		}
	}
	// GIF: two frames of noise, the second beyond the prefix.
	g := noise(t, "gif", 700, 700)
	if len(g) <= headerPrefix {
		t.Fatalf("gif: %d bytes: too small for the test", len(g))
	}
	md, err := FromBytes("anim.gif", g)
	if err != nil || !strings.Contains(md.Metadata["MEDIA_CONTENT_INFO"], `"animated":true`) {
		t.Fatalf("gif: %v %v", err, md.Metadata)
	}
}

// noise is a w×h image of random pixels (it does not compress) in format
// (a GIF has two frames).
func noise(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	var err error
	switch format {
	case "gif":
		pal := make(color.Palette, 256)
		for i := range pal {
			pal[i] = color.RGBA{uint8(i), uint8(255 - i), uint8(i * 7), 255}
		}
		g := &gif.GIF{}
		for range 2 {
			p := image.NewPaletted(image.Rect(0, 0, w, h), pal)
			for i := range p.Pix {
				p.Pix[i] = uint8(r.Uint32())
			}
			g.Image, g.Delay = append(g.Image, p), append(g.Delay, 1)
		}
		err = gif.EncodeAll(&b, g)
	default:
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.Uint32())
		}
		if format == "png" {
			err = png.Encode(&b, img)
		} else {
			err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A preview started early and stopped ends at its next read of the image;
// asked for later, it is made again, whole.
func TestPreviewStopAndAgain(t *testing.T) {
	b := noise(t, "png", 300, 300)
	gate := make(chan struct{})
	var reads atomic.Int64
	src := obs.Source{Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(readFunc(func(p []byte) (int, error) {
			if reads.Add(1) == 2 {
				<-gate // the first making waits here, after its first read
			}
			return 0, nil
		})), nil
	}}
	var read int64
	real := countingSource(b, &read)
	md := &delivery.Media{ContentType: 1, Name: "x.png", Source: real}
	if err := DescribeImage(md, b[:512]); err != nil {
		t.Fatal(err)
	}
	job := &previewJob{src: src, hd: header{cfg: image.Config{Width: 300, Height: 300}, ext: "png"}, w: 300, h: 300}
	job.Start()
	for reads.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	run := job.run
	job.Stop()
	close(gate)
	<-run.done
	if run.jpg != nil || !run.stop.Load() {
		t.Fatal("a stopped making made a preview")
	}
	job.src = real // the image readable again: Get makes it
	if p := job.Get(); p == nil {
		t.Fatal("no preview after a stop")
	}
	// Through the Media: start, stop, then Preview makes it.
	md.StartPreview()
	md.StopPreview()
	if md.Preview() == nil {
		t.Fatal("Media: no preview after a stop")
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
