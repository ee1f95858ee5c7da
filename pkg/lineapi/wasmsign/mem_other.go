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

func memoryAllocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory { return &heapMemory{} })
}
