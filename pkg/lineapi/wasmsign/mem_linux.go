package wasmsign

import (
	"syscall"
	"unsafe"
)

// hugeAlign is the transparent huge page size (4 KiB granules).
const hugeAlign = 2 << 20

// anonMap maps n bytes of zeroed memory starting on a 2 MiB boundary and
// asks for transparent huge pages (THP "madvise" mode), so that every 2 MiB
// can be one page: the module reads its tables all over, and both the first
// touches of a cron run and the TLB misses of each signature cost more than
// the arithmetic. The mapping is 2 MiB longer than asked; the slack is never
// touched. whole is what unmap takes.
func anonMap(n uint64) (b, whole []byte, err error) {
	whole, err = syscall.Mmap(-1, 0, int(n)+hugeAlign, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, nil, err
	}
	skip := int((hugeAlign - uintptr(unsafe.Pointer(&whole[0]))%hugeAlign) % hugeAlign)
	b = whole[skip : skip+int(n) : skip+int(n)]
	_ = syscall.Madvise(b, 14 /* MADV_HUGEPAGE; failure is harmless */)
	return b, whole, nil
}
