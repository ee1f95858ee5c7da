package obs

import (
	"errors"
	"io"
	"sync"
)

// ReadAhead reads r in a goroutine of its own, up to depth chunks of chunk
// bytes ahead of the consumer: a sealed upload encrypts (AES-CTR and
// HMAC-SHA256, inside r) on one core while the connection writes what is
// ready on another. Memory stays bounded by chunk × depth. Close stops the
// goroutine and waits for it; it does not close r.
func ReadAhead(r io.Reader, chunk, depth int) io.ReadCloser {
	a := &readAhead{full: make(chan []byte, depth), free: make(chan []byte, depth), stop: make(chan struct{})}
	for range depth {
		a.free <- make([]byte, chunk)
	}
	a.wg.Add(1)
	go a.fill(r)
	return a
}

type readAhead struct {
	full, free chan []byte
	stop       chan struct{}
	once       sync.Once
	wg         sync.WaitGroup
	err        error  // r's error (io.EOF at its end), set before full is closed
	cur, buf   []byte // what is left of the chunk being read, and that chunk
}

func (a *readAhead) fill(r io.Reader) {
	defer a.wg.Done()
	defer close(a.full)
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		n, err := io.ReadFull(r, b)
		if n > 0 {
			select {
			case a.full <- b[:n]:
			case <-a.stop:
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			a.err = err
			return
		}
	}
}

func (a *readAhead) Read(p []byte) (int, error) {
	if len(a.cur) == 0 {
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)] // never blocks: depth buffers in all
			a.buf = nil
		}
		b, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.cur, a.buf = b, b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

func (a *readAhead) Close() error {
	a.once.Do(func() { close(a.stop) })
	a.wg.Wait()
	return nil
}
