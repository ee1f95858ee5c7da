package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
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
	return sb.b, nil
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
