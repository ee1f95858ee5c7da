//go:build !linux

package botapi

import "os"

// datasync makes f's written data durable (fsync where there is no
// fdatasync).
func datasync(f *os.File) error { return f.Sync() }
