package wasmsign

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/linectl/linectl/pkg/atomicfile"
)

// ExtensionID is the LINE Chrome extension's id.
const ExtensionID = "ophjlpahpchlmihnnnihgmmeilfjmjjc"

// Info describes an imported module; it is saved as info.json beside it.
type Info struct {
	Version    string `json:"version"`
	Token      string `json:"token"` // the extension's static token (not a user secret, but not printed)
	WasmSHA256 string `json:"wasmSha256"`
	Source     string `json:"source"`
	ImportedAt string `json:"importedAt"`
}

// extension is what Import found in a source.
type extension struct {
	wasm     []byte
	manifest []byte
	scripts  [][]byte
}

// Import reads LINE's module from src — an unpacked extension directory, a
// .crx file (CRX3), a bundle made by Export, or a bare ltsm.wasm — checks it is a known build (unless
// allowUnknown), and writes ltsm.wasm and info.json into destDir (0700
// directory, 0600 files, atomic).
func Import(src, destDir string, allowUnknown bool) (Info, error) {
	st, err := os.Stat(src)
	if err != nil {
		return Info{}, err
	}
	var ext extension
	var bundled *Info
	switch {
	case st.IsDir():
		ext, err = fromDir(src)
	case strings.HasSuffix(strings.ToLower(src), ".crx"):
		ext, err = fromCRX(src)
	default:
		var b []byte
		if b, err = os.ReadFile(src); err == nil && isBundle(b) {
			ext, bundled, err = fromBundle(b)
		} else {
			ext.wasm = b
		}
	}
	if err != nil {
		return Info{}, err
	}
	if len(ext.wasm) < 8 || string(ext.wasm[:4]) != "\x00asm" {
		return Info{}, fmt.Errorf("no ltsm.wasm (WebAssembly) found in %s", src)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(ext.wasm))
	known, ok := KnownBuilds[sum]
	if !ok && !allowUnknown {
		return Info{}, fmt.Errorf("%w (sha256 %s)", ErrUnknownBuild, sum)
	}
	info := Info{WasmSHA256: sum, Source: src, ImportedAt: time.Now().UTC().Format(time.RFC3339), Version: known, Token: DefaultToken}
	if v := manifestVersion(ext.manifest); v != "" {
		info.Version = v
	}
	if info.Version == "" {
		info.Version = DefaultVersion
	}
	if t := findToken(ext.scripts); t != "" {
		info.Token = t
	}
	if bundled != nil { // as the original import read them from the extension
		if bundled.Version != "" {
			info.Version = bundled.Version
		}
		if bundled.Token != "" {
			info.Token = bundled.Token
		}
	}
	if err := os.MkdirAll(destDir, 0o700); err != nil {
		return Info{}, err
	}
	if err := writeAtomic(filepath.Join(destDir, "ltsm.wasm"), ext.wasm); err != nil {
		return Info{}, err
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := writeAtomic(filepath.Join(destDir, "info.json"), b); err != nil {
		return Info{}, err
	}
	return info, nil
}

// ReadInfo reads an imported module's info.json.
func ReadInfo(dir string) (Info, error) {
	var info Info
	b, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if err != nil {
		return info, fmt.Errorf("no imported signing module in %s (run 'linectl signer import --auto'): %w", dir, err)
	}
	return info, json.Unmarshal(b, &info)
}

func fromDir(dir string) (extension, error) {
	var ext extension
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		switch {
		case name == "ltsm.wasm" && ext.wasm == nil:
			ext.wasm, err = os.ReadFile(p)
		case name == "manifest.json" && filepath.Dir(p) == filepath.Clean(dir):
			ext.manifest, err = os.ReadFile(p)
		case strings.HasSuffix(name, ".js"):
			if b, rerr := os.ReadFile(p); rerr == nil && bytes.Contains(b, []byte(ExtensionID)) {
				ext.scripts = append(ext.scripts, b)
			}
		}
		return err
	})
	return ext, err
}

// fromCRX reads a CRX3 file: "Cr24", version 3, header length, a protobuf
// header (skipped), then a ZIP archive.
func fromCRX(path string) (extension, error) {
	var ext extension
	b, err := os.ReadFile(path)
	if err != nil {
		return ext, err
	}
	if len(b) < 12 || string(b[:4]) != "Cr24" {
		return ext, errors.New("not a CRX file (no Cr24 magic)")
	}
	if v := binary.LittleEndian.Uint32(b[4:8]); v != 3 {
		return ext, fmt.Errorf("CRX version %d: only CRX3 is supported", v)
	}
	hl := binary.LittleEndian.Uint32(b[8:12])
	if uint64(12)+uint64(hl) > uint64(len(b)) {
		return ext, errors.New("CRX header longer than the file")
	}
	body := b[12+hl:]
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return ext, fmt.Errorf("CRX archive: %w", err)
	}
	for _, f := range zr.File {
		base := filepath.Base(f.Name)
		want := base == "ltsm.wasm" || f.Name == "manifest.json" || strings.HasSuffix(base, ".js")
		if !want || f.UncompressedSize64 > 64<<20 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return ext, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return ext, err
		}
		switch {
		case base == "ltsm.wasm":
			ext.wasm = data
		case f.Name == "manifest.json":
			ext.manifest = data
		case bytes.Contains(data, []byte(ExtensionID)):
			ext.scripts = append(ext.scripts, data)
		}
	}
	return ext, nil
}

func manifestVersion(b []byte) string {
	var m struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &m) == nil {
		return m.Version
	}
	return ""
}

var tokenRE = regexp.MustCompile(`"chrome-extension://` + ExtensionID + `"\s*:\s*"([A-Za-z0-9_\-]+)"`)

// findToken reads the static token the extension's JS maps from its origin.
func findToken(scripts [][]byte) string {
	for _, s := range scripts {
		if m := tokenRE.FindSubmatch(s); m != nil && len(m[1]) >= 20 && len(m[1]) <= 200 {
			return string(m[1])
		}
	}
	return ""
}

func writeAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

// Candidate is an installed copy of the LINE extension.
type Candidate struct {
	Browser string `json:"browser"`
	Dir     string `json:"dir"`
	Version string `json:"version"`
}

// Discover finds installed LINE extensions in the usual Chrome, Chromium,
// Brave and Edge profile directories for goos ("linux", "darwin",
// "windows"), newest version first. home is the user's home directory and
// env looks up environment variables (LOCALAPPDATA on Windows).
func Discover(goos, home string, env func(string) string) []Candidate {
	type root struct{ browser, dir string }
	var roots []root
	switch goos {
	case "darwin":
		as := filepath.Join(home, "Library", "Application Support")
		roots = []root{{"chrome", filepath.Join(as, "Google", "Chrome")}, {"chromium", filepath.Join(as, "Chromium")},
			{"brave", filepath.Join(as, "BraveSoftware", "Brave-Browser")}, {"edge", filepath.Join(as, "Microsoft Edge")}}
	case "windows":
		la := env("LOCALAPPDATA")
		if la == "" {
			la = filepath.Join(home, "AppData", "Local")
		}
		roots = []root{{"chrome", filepath.Join(la, "Google", "Chrome", "User Data")}, {"chromium", filepath.Join(la, "Chromium", "User Data")},
			{"brave", filepath.Join(la, "BraveSoftware", "Brave-Browser", "User Data")}, {"edge", filepath.Join(la, "Microsoft", "Edge", "User Data")}}
	default:
		cfg := env("XDG_CONFIG_HOME")
		if cfg == "" {
			cfg = filepath.Join(home, ".config")
		}
		roots = []root{{"chrome", filepath.Join(cfg, "google-chrome")}, {"chromium", filepath.Join(cfg, "chromium")},
			{"brave", filepath.Join(cfg, "BraveSoftware", "Brave-Browser")}, {"edge", filepath.Join(cfg, "microsoft-edge")}}
	}
	var out []Candidate
	for _, r := range roots {
		profiles, _ := os.ReadDir(r.dir)
		for _, p := range profiles {
			if !p.IsDir() || (p.Name() != "Default" && !strings.HasPrefix(p.Name(), "Profile ")) {
				continue
			}
			vers, _ := os.ReadDir(filepath.Join(r.dir, p.Name(), "Extensions", ExtensionID))
			for _, v := range vers {
				dir := filepath.Join(r.dir, p.Name(), "Extensions", ExtensionID, v.Name())
				if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
					out = append(out, Candidate{Browser: r.browser, Dir: dir, Version: strings.TrimSuffix(v.Name(), "_0")})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return versionLess(out[j].Version, out[i].Version) })
	return out
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		var x, y int
		fmt.Sscan(pa[i], &x)
		fmt.Sscan(pb[i], &y)
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
