package wasmsign

import "syscall"

const mapNoReserve = syscall.MAP_NORESERVE

// adviseHuge asks for transparent huge pages (THP "madvise" mode): a few
// 2 MiB faults instead of thousands of 4 KiB ones. Failure is harmless.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, 14 /* MADV_HUGEPAGE */) }
