// Package stream reads the gateway's operation stream: a Server-Sent Events
// reader (the WHATWG EventSource format) and the operations it carries.
// Everything here reads network input: it never panics, and bounds memory.
package stream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// Event is one dispatched SSE event.
type Event struct {
	// Name is the event type; "message" when the stream named none.
	Name string
	// Data is the event's data (lines joined by "\n"). It is valid until the next call to Next.
	Data []byte
	// ID is the last event id seen (it persists across events, as in EventSource).
	ID string
	// Retry is a reconnection time the server asked for (0 = none in this event).
	Retry time.Duration
}

// ErrEventTooLarge is returned for an event or line larger than the reader's limit.
var ErrEventTooLarge = errors.New("stream: event larger than the limit")

// DefaultMaxEvent is the default bound on one event's size.
const DefaultMaxEvent = 16 << 20

// Reader reads SSE events.
type Reader struct {
	br      *bufio.Reader
	max     int
	data    []byte
	name    []byte
	lastID  string
	line    []byte
	started bool
	pendCR  bool // the previous line ended with CR: a following LF belongs to it
}

// NewReader returns a Reader with a 64 KiB buffer and DefaultMaxEvent.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, 64<<10, DefaultMaxEvent) }

// NewReaderSize returns a Reader with the given buffer size and event limit.
func NewReaderSize(r io.Reader, buf, maxEvent int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, buf), max: maxEvent}
}

// Buffered returns how many bytes are read but not yet parsed: when 0, the
// next Next may block on the network (flush output before it).
func (r *Reader) Buffered() int { return r.br.Buffered() }

// readLine returns the next line without its terminator (LF, CRLF or CR).
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			if err == io.EOF && len(r.line) > 0 {
				return nil, io.ErrUnexpectedEOF // an unterminated last line is not dispatched
			}
			return nil, err
		}
		if r.pendCR {
			r.pendCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return r.line, nil
		case '\r':
			r.pendCR = true
			return r.line, nil
		}
		// Fast path: copy the run up to the next terminator from the buffer.
		r.line = append(r.line, b)
		if len(r.line) > r.max {
			return nil, ErrEventTooLarge
		}
		if n := r.br.Buffered(); n > 0 {
			peek, _ := r.br.Peek(n)
			i := bytes.IndexAny(peek, "\r\n")
			if i < 0 {
				i = n
			}
			r.line = append(r.line, peek[:i]...)
			_, _ = r.br.Discard(i)
			if len(r.line) > r.max {
				return nil, ErrEventTooLarge
			}
		}
	}
}

// Next returns the next event. io.EOF means the stream ended cleanly (an
// incomplete last event is dropped, as EventSource does).
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.name = r.name[:0]
	hasData := false
	var retry time.Duration
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return Event{}, err
		}
		if !r.started {
			r.started = true
			line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
		}
		if len(line) == 0 { // dispatch
			if !hasData {
				r.name = r.name[:0]
				retryOnly := retry
				retry = 0
				if retryOnly > 0 {
					return Event{Name: "", Retry: retryOnly, ID: r.lastID}, nil
				}
				continue
			}
			name := "message"
			if len(r.name) > 0 {
				name = string(r.name)
			}
			return Event{Name: name, Data: r.data, ID: r.lastID, Retry: retry}, nil
		}
		if line[0] == ':' {
			continue // comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
			if len(r.data) > r.max {
				return Event{}, ErrEventTooLarge
			}
		case "event":
			r.name = append(r.name[:0], value...)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.lastID = string(value)
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil && allDigits(value) {
				retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
