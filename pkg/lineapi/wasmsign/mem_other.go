//go:build !(linux || darwin || freebsd)

package wasmsign

import (
	"os"

	"github.com/tetratelabs/wazero/experimental"
)

func mapFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}

// memoryAllocator: none, so wazero keeps the memory on the Go heap.
func memoryAllocator() experimental.MemoryAllocator { return nil }
