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
// state it leaves is cached as a memory snapshot: the pages that loadToken
// changed, relative to a freshly started module, plus the key's address. The
// state derives only from the extension's public token and the module; no
// access token or user secret is in it (deriveKey runs after the restore).
// The file is 0600 in a 0700 directory and keyed by module, token, version
// and this host's format.

const snapshotFormat = "wasmsign-snapshot-1"

const pageSize = 65536

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

// saveSnapshot writes the pages that differ from base and the key address.
func (in *instance) saveSnapshot(path string, base []byte, keyPtr uint32) error {
	now := in.memoryImage()
	if len(now) != len(base) {
		return errors.New("memory size changed")
	}
	var out bytes.Buffer
	out.WriteString(snapshotFormat)
	binary.Write(&out, binary.LittleEndian, keyPtr)
	binary.Write(&out, binary.LittleEndian, uint32(len(now)))
	for p := 0; p < len(now); p += pageSize {
		if !bytes.Equal(now[p:p+pageSize], base[p:p+pageSize]) {
			binary.Write(&out, binary.LittleEndian, uint32(p))
			out.Write(now[p : p+pageSize])
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAtomic(path, out.Bytes())
}

// loadSnapshot applies a snapshot to a freshly started instance and returns the key address.
func (in *instance) loadSnapshot(path string) (uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if !bytes.HasPrefix(b, []byte(snapshotFormat)) || len(b) < len(snapshotFormat)+8 {
		return 0, errors.New("not a snapshot")
	}
	b = b[len(snapshotFormat):]
	keyPtr, size := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	b = b[8:]
	mem := in.h.mod.Memory()
	if size != mem.Size() || (len(b))%(4+pageSize) != 0 {
		return 0, errors.New("snapshot does not fit this module")
	}
	for len(b) > 0 {
		off := binary.LittleEndian.Uint32(b)
		if uint64(off)+pageSize > uint64(size) || !mem.Write(off, b[4:4+pageSize]) {
			return 0, errors.New("snapshot page out of range")
		}
		b = b[4+pageSize:]
	}
	return keyPtr, nil
}
