package wasmsign

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SecureKey.loadToken is the slow part of start-up (tens of milliseconds of
// white-box work) and the module refuses to export the key it makes. So the
// state it leaves is cached as a memory snapshot: the 4 KiB blocks that
// loadToken changed, relative to a freshly started module, plus the key's
// address. The state derives only from the extension's public token and the
// module; no access token or user secret is in it (deriveKey runs after the
// restore). The file is 0600 in a 0700 directory and keyed by module, token,
// version and this host's format.

const snapshotFormat = "wasmsign-snapshot-2"

const blockSize = 4096

func snapshotPath(dir string, wasmSum [32]byte, token, version string) string {
	k := sha256.Sum256([]byte(fmt.Sprintf("%s|%x|%s|%s", snapshotFormat, wasmSum, token, version)))
	return filepath.Join(dir, fmt.Sprintf("ltsm-%x.snap", k[:12]))
}

// memoryImage copies the whole linear memory.
func (in *instance) memoryImage() []byte {
	mem := in.h.mod.Memory()
	b, _ := mem.Read(0, mem.Size())
	return append([]byte(nil), b...)
}

// saveSnapshot writes the blocks that differ from base and the key address.
// Layout: format, key address (u32), memory size (u32), then runs of
// (offset u32, block count u32, bytes).
func (in *instance) saveSnapshot(path string, base []byte, keyPtr uint32) error {
	mem := in.h.mod.Memory()
	now, _ := mem.Read(0, mem.Size())
	if len(now) != len(base) {
		return errors.New("memory size changed")
	}
	var out bytes.Buffer
	out.WriteString(snapshotFormat)
	binary.Write(&out, binary.LittleEndian, keyPtr)
	binary.Write(&out, binary.LittleEndian, uint32(len(now)))
	for p := 0; p < len(now); {
		if bytes.Equal(now[p:p+blockSize], base[p:p+blockSize]) {
			p += blockSize
			continue
		}
		end := p + blockSize
		for end < len(now) && !bytes.Equal(now[end:end+blockSize], base[end:end+blockSize]) {
			end += blockSize
		}
		binary.Write(&out, binary.LittleEndian, uint32(p))
		binary.Write(&out, binary.LittleEndian, uint32((end-p)/blockSize))
		out.Write(now[p:end])
		p = end
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAtomic(path, out.Bytes())
}

// loadSnapshot applies a snapshot to a freshly started instance and returns the key address.
func (in *instance) loadSnapshot(path string) (uint32, error) {
	b, release, err := mapFile(path)
	if err != nil {
		return 0, err
	}
	defer release()
	if !bytes.HasPrefix(b, []byte(snapshotFormat)) || len(b) < len(snapshotFormat)+8 {
		return 0, errors.New("not a snapshot")
	}
	b = b[len(snapshotFormat):]
	keyPtr, size := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	b = b[8:]
	mem := in.h.mod.Memory()
	if size != mem.Size() {
		return 0, errors.New("snapshot does not fit this module")
	}
	// Check every run before writing any, so a bad file leaves the fresh
	// instance untouched (Open then falls back to loadToken).
	type run struct {
		off  uint32
		data []byte
	}
	var runs []run
	for len(b) > 0 {
		if len(b) < 8 {
			return 0, errors.New("snapshot truncated")
		}
		off, n := binary.LittleEndian.Uint32(b), uint64(binary.LittleEndian.Uint32(b[4:]))*blockSize
		b = b[8:]
		if uint64(len(b)) < n || uint64(off)+n > uint64(size) {
			return 0, errors.New("snapshot block out of range")
		}
		runs = append(runs, run{off, b[:n]})
		b = b[n:]
	}
	for _, r := range runs {
		mem.Write(r.off, r.data)
	}
	return keyPtr, nil
}
