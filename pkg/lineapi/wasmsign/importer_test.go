package wasmsign

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var fakeWasm = []byte("\x00asm\x01\x00\x00\x00fake module")

const fakeJS = `var o={"chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc":"TOKENtokenTOKENtoken12345","chrome-extension://other":"x"};`

func writeExtension(t *testing.T, dir string) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "static", "ltsm"), 0o755)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"name":"LINE","version":"3.7.9"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "static", "ltsm", "ltsm.wasm"), fakeWasm, 0o644)
	os.WriteFile(filepath.Join(dir, "static", "ltsm", "ltsmSandbox.js"), []byte(fakeJS), 0o644)
}

func buildCRX(t *testing.T) []byte {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for name, data := range map[string][]byte{"manifest.json": []byte(`{"version":"3.7.9"}`), "static/ltsm.wasm": fakeWasm, "static/ltsmSandbox.js": []byte(fakeJS)} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	header := []byte{0x12, 0x03, 'a', 'b', 'c'} // an opaque protobuf header
	var b bytes.Buffer
	b.WriteString("Cr24")
	binary.Write(&b, binary.LittleEndian, uint32(3))
	binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	b.Write(header)
	b.Write(zb.Bytes())
	return b.Bytes()
}

func TestImportSources(t *testing.T) {
	tmp := t.TempDir()
	ext := filepath.Join(tmp, "ext")
	writeExtension(t, ext)
	crx := filepath.Join(tmp, "line.crx")
	os.WriteFile(crx, buildCRX(t), 0o644)
	bare := filepath.Join(tmp, "ltsm.wasm")
	os.WriteFile(bare, fakeWasm, 0o644)
	for _, src := range []string{ext, crx, bare} {
		dest := filepath.Join(tmp, "out", filepath.Base(src))
		if _, err := Import(src, dest, false); !errors.Is(err, ErrUnknownBuild) {
			t.Fatalf("%s: unknown build accepted: %v", src, err)
		}
		info, err := Import(src, dest, true)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if src != bare && (info.Version != "3.7.9" || info.Token != "TOKENtokenTOKENtoken12345") {
			t.Fatalf("%s: info %+v", src, info)
		}
		if src == bare && (info.Version != DefaultVersion || info.Token != DefaultToken) {
			t.Fatalf("bare: info %+v", info)
		}
		for _, f := range []string{"ltsm.wasm", "info.json"} {
			st, err := os.Stat(filepath.Join(dest, f))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s/%s: %v %v", dest, f, st, err)
			}
		}
		if st, _ := os.Stat(dest); st.Mode().Perm() != 0o700 {
			t.Fatalf("dir mode %v", st.Mode().Perm())
		}
		if got, err := ReadInfo(dest); err != nil || got.WasmSHA256 != info.WasmSHA256 {
			t.Fatalf("ReadInfo %+v %v", got, err)
		}
	}
	bad := filepath.Join(tmp, "bad.crx")
	os.WriteFile(bad, []byte("Cr24\x02\x00\x00\x00"), 0o644)
	if _, err := Import(bad, filepath.Join(tmp, "x"), true); err == nil {
		t.Fatal("CRX2 accepted")
	}
}

func TestDiscoverFakeProfiles(t *testing.T) {
	home := t.TempDir()
	mk := func(p string) {
		dir := filepath.Join(home, p)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{}`), 0o644)
	}
	mk(".config/google-chrome/Default/Extensions/" + ExtensionID + "/3.7.2_0")
	mk(".config/BraveSoftware/Brave-Browser/Profile 2/Extensions/" + ExtensionID + "/3.10.1_0")
	mk(".config/chromium/Default/Extensions/otherextension/1.0_0")
	got := Discover("linux", home, func(string) string { return "" })
	if len(got) != 2 || got[0].Browser != "brave" || got[0].Version != "3.10.1" || got[1].Browser != "chrome" {
		t.Fatalf("linux: %+v", got)
	}
	mk("Library/Application Support/Microsoft Edge/Default/Extensions/" + ExtensionID + "/3.7.2_0")
	if got := Discover("darwin", home, func(string) string { return "" }); len(got) != 1 || got[0].Browser != "edge" {
		t.Fatalf("darwin: %+v", got)
	}
	la := filepath.Join(home, "la")
	os.MkdirAll(filepath.Join(la, "Google", "Chrome", "User Data", "Default", "Extensions", ExtensionID, "3.7.2_0"), 0o755)
	os.WriteFile(filepath.Join(la, "Google", "Chrome", "User Data", "Default", "Extensions", ExtensionID, "3.7.2_0", "manifest.json"), []byte("{}"), 0o644)
	if got := Discover("windows", home, func(k string) string { return la }); len(got) != 1 || got[0].Browser != "chrome" {
		t.Fatalf("windows: %+v", got)
	}
}

func TestOpenRejectsUnknownBuild(t *testing.T) {
	if _, err := Open(t.Context(), fakeWasm, Options{}); !errors.Is(err, ErrUnknownBuild) {
		t.Fatalf("err = %v", err)
	}
}

// A module imported from an extension on a desktop travels to a server as a
// bundle and imports there with the same version, token and hash; a damaged
// bundle is refused.
func TestExportImportBundle(t *testing.T) {
	tmp := t.TempDir()
	ext := filepath.Join(tmp, "ext")
	writeExtension(t, ext)
	desk := filepath.Join(tmp, "desktop")
	orig, err := Import(ext, desk, true)
	if err != nil {
		t.Fatal(err)
	}
	var bundle bytes.Buffer
	if err := Export(desk, &bundle); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tmp, "linectl-signer.zip")
	os.WriteFile(p, bundle.Bytes(), 0o600)
	server := filepath.Join(tmp, "server")
	got, err := Import(p, server, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != orig.Version || got.Token != orig.Token || got.WasmSHA256 != orig.WasmSHA256 || got.Version != "3.7.9" {
		t.Fatalf("imported %+v, want %+v", got, orig)
	}
	if _, err := Import(p, server, false); !errors.Is(err, ErrUnknownBuild) {
		t.Fatalf("a bundle skips the known-build check: %v", err)
	}
	// The bundle holds only the module and its info.
	zr, _ := zip.NewReader(bytes.NewReader(bundle.Bytes()), int64(bundle.Len()))
	if len(zr.File) != 2 || zr.File[0].Name != "info.json" || zr.File[1].Name != "ltsm.wasm" {
		t.Fatalf("bundle files %v", zr.File)
	}
	// A bundle whose module does not match its info is refused.
	var bad bytes.Buffer
	zw := zip.NewWriter(&bad)
	for _, f := range zr.File {
		w, _ := zw.Create(f.Name)
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		if f.Name == "ltsm.wasm" {
			data = append(data, 0)
		}
		w.Write(data)
	}
	zw.Close()
	os.WriteFile(p, bad.Bytes(), 0o600)
	if _, err := Import(p, filepath.Join(tmp, "x"), true); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged bundle: %v", err)
	}
	// A module changed after import is not exported.
	os.WriteFile(filepath.Join(desk, "ltsm.wasm"), append(fakeWasm, 1), 0o600)
	if err := Export(desk, io.Discard); err == nil {
		t.Fatal("exported a module that changed since import")
	}
}
