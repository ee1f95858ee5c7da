//go:build linux || darwin || freebsd

package wasmsign

import (
	"os"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// Start-up of a short-lived linectl is dominated by first touches of fresh
// memory, so the module's bytes and snapshot are mapped from the page cache
// rather than copied onto the heap, and the module's linear memory lives
// outside the Go heap where it can ask for transparent huge pages.

// mapFile maps a file read-only. release unmaps it.
func mapFile(path string) (b []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 || st.Size() > 1<<30 {
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	b, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	return b, func() { syscall.Munmap(b) }, nil
}

// reserveLimit caps the address space reserved up front for a memory that may grow.
const reserveLimit = 1 << 30

// mmapMemory is a linear memory in its own anonymous mapping.
type mmapMemory struct {
	buf   []byte // the memory is buf[:size]
	whole []byte // the mapping holding buf
}

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if size <= uint64(len(m.buf)) {
		return m.buf[:size]
	}
	nb, whole, err := anonMap(size)
	if err != nil {
		return nil
	}
	copy(nb, m.buf)
	_ = syscall.Munmap(m.whole)
	m.buf, m.whole = nb, whole
	return nb[:size]
}

func (m *mmapMemory) Free() {
	if m.whole != nil {
		_ = syscall.Munmap(m.whole)
		m.buf, m.whole = nil, nil
	}
}

// heapMemory is a linear memory on the Go heap (the fallback when a mapping fails).
type heapMemory struct{ buf []byte }

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	nb := make([]byte, size)
	copy(nb, m.buf)
	m.buf = nb
	return nb
}

func (m *heapMemory) Free() { m.buf = nil }

// memoryAllocator returns the allocator for the module's linear memory.
func memoryAllocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, maxBytes uint64) experimental.LinearMemory {
		n := maxBytes
		if n > reserveLimit {
			n = max(capacity, reserveLimit)
		}
		b, whole, err := anonMap(n)
		if err != nil {
			return &heapMemory{}
		}
		return &mmapMemory{buf: b, whole: whole}
	})
}
