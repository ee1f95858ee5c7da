package wasmsign

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// A bundle carries an imported module to a machine without Chrome (a cron
// server): a ZIP of exactly what `signer import` kept from the user's own
// extension — ltsm.wasm and info.json (version, the extension's static token,
// hash) — and nothing of the user's session.
const (
	bundleWasm = "ltsm.wasm"
	bundleInfo = "info.json"
)

// zipMagic starts a ZIP archive (and so a bundle).
var zipMagic = []byte("PK\x03\x04")

// Export writes the module imported into dir as a bundle to w.
func Export(dir string, w io.Writer) error {
	info, err := ReadInfo(dir)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(filepath.Join(dir, bundleWasm))
	if err != nil {
		return err
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(wasm)); got != info.WasmSHA256 {
		return fmt.Errorf("%s changed since it was imported (sha256 %s, imported %s): import it again", filepath.Join(dir, bundleWasm), got, info.WasmSHA256)
	}
	meta, err := json.MarshalIndent(Info{Version: info.Version, Token: info.Token, WasmSHA256: info.WasmSHA256}, "", "  ")
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, f := range []struct {
		name string
		data []byte
	}{{bundleInfo, meta}, {bundleWasm, wasm}} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// isBundle reports whether b is a ZIP archive (a bundle, by its content).
func isBundle(b []byte) bool { return bytes.HasPrefix(b, zipMagic) }

// fromBundle reads a bundle: the module and the info it was imported with.
func fromBundle(b []byte) (extension, *Info, error) {
	var ext extension
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return ext, nil, fmt.Errorf("bundle: %w", err)
	}
	var info *Info
	for _, f := range zr.File {
		if (f.Name != bundleWasm && f.Name != bundleInfo) || f.UncompressedSize64 > 64<<20 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return ext, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return ext, nil, fmt.Errorf("bundle %s: %w", f.Name, err)
		}
		if f.Name == bundleWasm {
			ext.wasm = data
			continue
		}
		info = &Info{}
		if err := json.Unmarshal(data, info); err != nil {
			return ext, nil, fmt.Errorf("bundle %s: %w", bundleInfo, err)
		}
	}
	if ext.wasm == nil || info == nil {
		return ext, nil, errors.New("not a linectl signer bundle (it needs ltsm.wasm and info.json): make one with 'linectl signer export'")
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(ext.wasm)); info.WasmSHA256 != "" && got != info.WasmSHA256 {
		return ext, nil, fmt.Errorf("bundle: ltsm.wasm does not match its info.json (sha256 %s, want %s): the bundle is damaged", got, info.WasmSHA256)
	}
	return ext, info, nil
}
