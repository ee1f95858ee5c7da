//go:build unix

package cmd

import (
	"io"
	"os"
	"syscall"
)

// spoolReader opens the spooled stdin (the unnamed temporary file) again
// from its start for one upload attempt: a duplicate of its descriptor, so
// the attempt can close it, and an *os.File, so the connection copies it in
// the kernel (sendfile) as it does a file given by path. The duplicate
// shares the file's offset; attempts come one at a time.
func spoolReader(f *os.File, n int64) (io.ReadCloser, error) {
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	d := os.NewFile(uintptr(fd), f.Name())
	if _, err := d.Seek(0, io.SeekStart); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
