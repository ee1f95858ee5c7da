package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/linectl/linectl/pkg/lineapi"
)

// printer writes JSON lines: one object per line, HTML not escaped, each
// line written in one call so it is flushed at once.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func newPrinter(w io.Writer) *printer { return &printer{w: w} }

// line encodes v as one JSON line.
func (p *printer) line(v any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := marshalLine(v)
	if err != nil {
		return err
	}
	_, err = p.w.Write(b)
	return err
}

func marshalLine(v any) ([]byte, error) {
	var sb jsonBuf
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return escapeSteering(sb.b), nil
}

// escapeSteering rewrites, in encoded JSON, the characters encoding/json
// leaves raw that can steer a terminal (C1 controls such as U+009B CSI, DEL)
// or reorder what it shows (bidi controls such as U+202E) as \uXXXX. Outside
// strings the encoder writes ASCII only, so every match is inside a string.
func escapeSteering(b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c == 0x7f || c == 0xc2 || c == 0xd8 || c == 0xe2 {
			return escapeSteeringFrom(b, i)
		}
	}
	return b
}

func escapeSteeringFrom(b []byte, i int) []byte {
	out := append(make([]byte, 0, len(b)+12), b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x7f && lineapi.IsSteering(r) { // C0 is escaped by the encoder; the final \n stays
			out = append(out, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

type jsonBuf struct{ b []byte }

func (j *jsonBuf) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }

// errorLine is the JSON line written to stderr when a command fails.
type errorLine struct {
	Type     string `json:"type"` // "error"
	ExitCode int    `json:"exitCode"`
	Kind     string `json:"kind"`
	Code     int    `json:"code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message"`
}
