// Package stream reads the gateway's operation stream: a Server-Sent Events
// reader (the WHATWG EventSource format) and the operations it carries.
// Everything here reads network input: it never panics, and bounds memory.
package stream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
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
	// OwnID is true when this event carried its own id field.
	OwnID bool
	// Retry is a reconnection time the server asked for (0 = none in this event).
	Retry time.Duration
}

// ErrEventTooLarge is returned for an event or line larger than the reader's limit.
var ErrEventTooLarge = errors.New("stream: event larger than the limit")

// TooLargeError reports one event over the reader's limit. The reader has
// skipped the whole event (to its terminating blank line, without holding it
// in memory): the next call to Next reads the event after it.
type TooLargeError struct {
	Name  string // the event's type, if seen before the limit was passed
	ID    string // the event's own id field (LINE puts the revision there), "" if it had none
	Bytes int64  // how many bytes the event had (at least the limit)
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("stream: event of %d bytes over the %d-byte limit", e.Bytes, e.Limit)
}

// Is makes errors.Is(err, ErrEventTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrEventTooLarge }

// DefaultMaxEvent is the default bound on one event's size. LINE's largest
// operations (a 10,000-character text as \uXXXX escapes, Letter Sealing
// chunks) are well under 1 MiB.
const DefaultMaxEvent = 4 << 20

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
				return nil, errPartialLine // an unterminated last line is not dispatched
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
			return nil, r.discardLine(int64(len(r.line)))
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
				return nil, r.discardLine(int64(len(r.line)))
			}
		}
	}
}

// discardLine drops the rest of an over-long line (n bytes read so far)
// without holding it, and returns a *lineTooLong with its full length.
func (r *Reader) discardLine(n int64) error {
	r.line = r.line[:0]
	for {
		if _, err := r.br.Peek(1); err != nil { // wait for more, or the end
			if err == io.EOF {
				return errPartialLine
			}
			return err
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			n += int64(len(buf))
			_, _ = r.br.Discard(len(buf))
			continue
		}
		n += int64(i)
		_, _ = r.br.Discard(i + 1)
		r.pendCR = buf[i] == '\r'
		return &lineTooLong{n: n}
	}
}

// errPartialLine is a clean end of input in the middle of a line: the
// stream ended (io.EOF to the caller), the incomplete event is dropped. An
// error of the transport (io.ErrUnexpectedEOF from a connection cut in the
// middle of a chunked body) is returned as it is: the stream was cut, not ended.
var errPartialLine = errors.New("stream: input ended in the middle of a line")

type lineTooLong struct{ n int64 }

func (e *lineTooLong) Error() string { return "line too long" }

// skipEvent discards the rest of the current event after it passed the
// limit with seen bytes, and returns the *TooLargeError describing it.
func (r *Reader) skipEvent(seen int64, name string, id string) error {
	for {
		line, err := r.readLine()
		var ll *lineTooLong
		switch {
		case errors.As(err, &ll):
			seen += ll.n + 1
			continue
		case err != nil:
			if err == errPartialLine {
				err = io.EOF
			}
			return err
		}
		if len(line) == 0 {
			r.data, r.name = r.data[:0], r.name[:0]
			return &TooLargeError{Name: name, ID: id, Bytes: seen, Limit: r.max}
		}
		seen += int64(len(line)) + 1
		if f, v, ok := bytes.Cut(line, []byte(":")); ok && string(f) == "id" {
			v = bytes.TrimPrefix(v, []byte(" "))
			if bytes.IndexByte(v, 0) < 0 && len(v) <= 64 {
				r.lastID, id = string(v), string(v)
			}
		}
	}
}

// Next returns the next event. io.EOF means the stream ended cleanly (an
// incomplete last event is dropped, as EventSource does); any other error,
// io.ErrUnexpectedEOF included, is the transport's: the stream was cut.
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.name = r.name[:0]
	hasData := false
	var retry time.Duration
	id := "" // this event's own id
	for {
		line, err := r.readLine()
		var ll *lineTooLong
		if errors.As(err, &ll) {
			return Event{}, r.skipEvent(int64(len(r.data))+ll.n+1, string(r.name), id)
		}
		if err != nil {
			if err == errPartialLine {
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
			return Event{Name: name, Data: r.data, ID: r.lastID, OwnID: id != "", Retry: retry}, nil
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
				return Event{}, r.skipEvent(int64(len(r.data)), string(r.name), id)
			}
		case "event":
			r.name = append(r.name[:0], value...)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.lastID = string(value)
				id = r.lastID
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
