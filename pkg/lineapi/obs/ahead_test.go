package obs

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// ReadAhead hands over exactly what it reads, in order, whatever the chunk
// and the consumer's reads; it passes the reader's error on; Close stops it
// midway.
func TestReadAhead(t *testing.T) {
	data := make([]byte, 100_003)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		r := ReadAhead(&oneByte{bytes.NewReader(data)}, chunk, 3)
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("chunk %d: %d bytes, %v", chunk, len(got), err)
		}
		r.Close()
	}
	boom := errors.New("disk")
	r := ReadAhead(io.MultiReader(bytes.NewReader(data[:10]), errReader{boom}), 4, 2)
	if got, err := io.ReadAll(r); !errors.Is(err, boom) || len(got) != 10 {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	r = ReadAhead(bytes.NewReader(data), 16, 2)
	_, _ = r.Read(make([]byte, 5))
	r.Close() // returns: the goroutine is stopped
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
