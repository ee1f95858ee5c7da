package mediafile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/testimg"
)

// pngClaiming is a 1×1 PNG whose header (with a valid CRC) claims w×h.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	b := encode(t, "png", 1, 1)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegClaiming is an 8×8 baseline JPEG whose frame header claims w×h.
func jpegClaiming(t *testing.T, w, h uint16) []byte {
	b := encode(t, "jpg", 8, 8)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// allocated is the memory f allocates (all of it, not only the peak: a
// bound on it bounds the peak).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestImageBombs: images crafted to take gigabytes when decoded are refused
// (or sent without a preview) with the memory linectl allocates staying
// under 100 MB, the image's own bytes included.
func TestImageBombs(t *testing.T) {
	cases := []struct {
		name    string
		b       []byte
		refused string // "": accepted, without a preview
	}{
		{"frames.gif", testimg.GIFBomb(4000, 4000, 30), "30 frames of 4000 × 4000"}, // 480 MP in all
		{"canvas.png", pngClaiming(t, 20000, 20000), "20000 × 20000 pixels"},        // 400 MP
		{"canvas.jpg", jpegClaiming(t, 20000, 20000), "20000 × 20000 pixels"},       // 400 MP
		{"decode.png", pngClaiming(t, 9000, 9000), ""},                              // 81 MP: sent, not decoded
		{"decode.jpg", jpegClaiming(t, 8000, 8000), ""},                             // 64 MP: sent, not decoded
		{"frames-ok.gif", testimg.GIFBomb(2000, 2000, 20), ""},                      // 80 MP in all: one frame decoded
	}
	for _, c := range cases {
		var md any
		var err error
		n := allocated(func() {
			m, e := FromBytes(c.name, c.b)
			if e == nil && m.Preview != nil {
				m.Preview()
			}
			md, err = m, e
		})
		if n > 100<<20 {
			t.Errorf("%s (%d bytes): %d MB allocated", c.name, len(c.b), n>>20)
		}
		switch {
		case c.refused != "" && (!errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.refused)):
			t.Errorf("%s: %v, want refused with %q", c.name, err, c.refused)
		case c.refused == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		}
		_ = md
	}
}

func TestGIFFrames(t *testing.T) {
	if n, err := gifFrames(testimg.GIFBomb(10, 10, 7)); n != 7 || err != nil {
		t.Fatalf("frames %d, %v", n, err)
	}
	b := encode(t, "gif", 10, 10) // two frames with a graphic control extension
	if n, err := gifFrames(b); n != 2 || err != nil {
		t.Fatalf("frames %d, %v", n, err)
	}
	if _, err := gifFrames(b[:20]); err == nil {
		t.Fatal("truncated GIF accepted")
	}
	md, err := FromBytes("still.gif", testimg.GIFBomb(10, 10, 1))
	if err != nil || strings.Contains(md.Metadata["MEDIA_CONTENT_INFO"], "animated") {
		t.Fatalf("one frame: %v %v", err, md.Metadata)
	}
}
