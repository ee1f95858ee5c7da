package cmd

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The half-block QR code decodes — read by zbarimg from Debian's zbar-tools —
// rendered as a light-themed and as a dark-themed terminal would show it.
func TestQRDecodesOnLightAndDarkTerminals(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg is needed (.ci/run installs zbar-tools)")
		}
		t.Skip("zbarimg not installed")
	}
	const url = "https://line.me/R/au/lgn/sq/abcDEF123?secret=fHKn0wr8TOJuik9aB9eirI1lfSotKqdkE%2BmAbWfV4Hc%3D&e2eeVersion=1"
	var screen bytes.Buffer
	f := newFactory(&iostreams{ErrOut: &screen, ErrTTY: true})
	drawQR(f, "auto", url)
	for _, theme := range []struct {
		name   string
		fg, bg color.Gray
	}{{"light", color.Gray{0}, color.Gray{255}}, {"dark", color.Gray{230}, color.Gray{20}}} {
		img := renderTerminal(t, screen.String(), theme.fg, theme.bg)
		p := filepath.Join(t.TempDir(), theme.name+".png")
		fh, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(fh, img); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		out, err := exec.Command(zbar, "-q", "--raw", p).Output()
		if err != nil || strings.TrimSpace(string(out)) != url {
			t.Fatalf("%s theme: zbarimg read %q (%v)", theme.name, out, err)
		}
	}
}

// renderTerminal paints what a terminal shows for text with half-block
// characters and SGR colours, with the theme's default colours where the
// text sets none: a cell is 1 module wide and 2 (half-block) high, scaled up.
func renderTerminal(t *testing.T, text string, fg, bg color.Gray) *image.Gray {
	t.Helper()
	const scale = 6
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var rows [][][2]color.Gray // per line: cells of (top, bottom)
	width := 0
	for _, line := range lines {
		curFG, curBG := fg, bg
		var cells [][2]color.Gray
		for i := 0; i < len(line); {
			if strings.HasPrefix(line[i:], "\x1b[") {
				end := strings.IndexByte(line[i:], 'm')
				for _, p := range strings.Split(line[i+2:i+end], ";") {
					n, _ := strconv.Atoi(p)
					switch {
					case n == 0:
						curFG, curBG = fg, bg
					case n == 30 || n == 90:
						curFG = color.Gray{0}
					case n == 37 || n == 97:
						curFG = color.Gray{255}
					case n == 40 || n == 100:
						curBG = color.Gray{0}
					case n == 47 || n == 107:
						curBG = color.Gray{255}
					}
				}
				i += end + 1
				continue
			}
			r, size := []rune(line[i:])[0], len(string([]rune(line[i:])[0]))
			i += size
			switch r {
			case '█':
				cells = append(cells, [2]color.Gray{curFG, curFG})
			case '▀':
				cells = append(cells, [2]color.Gray{curFG, curBG})
			case '▄':
				cells = append(cells, [2]color.Gray{curBG, curFG})
			case ' ':
				cells = append(cells, [2]color.Gray{curBG, curBG})
			default:
				t.Fatalf("unexpected character %q in the QR code", r)
			}
		}
		width = max(width, len(cells))
		rows = append(rows, cells)
	}
	img := image.NewGray(image.Rect(0, 0, width*scale, len(rows)*2*scale))
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			img.SetGray(x, y, bg)
		}
	}
	for ry, cells := range rows {
		for cx, c := range cells {
			for half := 0; half < 2; half++ {
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						img.SetGray(cx*scale+dx, (ry*2+half)*scale+dy, c[half])
					}
				}
			}
		}
	}
	return img
}
