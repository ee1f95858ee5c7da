package botapi

import (
	"os"
	"syscall"
)

// datasync makes f's written data durable without its metadata's
// unneeded parts (fdatasync).
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
