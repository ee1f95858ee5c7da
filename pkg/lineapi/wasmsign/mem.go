package wasmsign

// heapMemory is a linear memory on the Go heap (the fallback).
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
