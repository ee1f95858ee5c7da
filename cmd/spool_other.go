//go:build !unix

package cmd

import (
	"io"
	"os"
)

// spoolReader reads the spooled stdin again from its start for one upload
// attempt (closing it leaves the file open for the next).
func spoolReader(f *os.File, n int64) (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(f, 0, n)), nil
}
