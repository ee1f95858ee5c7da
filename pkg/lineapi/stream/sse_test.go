package stream

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func collect(t *testing.T, r io.Reader) []Event {
	t.Helper()
	rd := NewReaderSize(r, 16, 1<<10)
	var out []Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Data = append([]byte(nil), ev.Data...)
		out = append(out, ev)
	}
}

func TestSSERules(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Event
	}{
		{"seed ping", "event: ping\ndata: null\n\n", []Event{{Name: "ping", Data: []byte("null")}}},
		{"id and data", "id: 947934\ndata: {\"a\":1}\n\n", []Event{{Name: "message", Data: []byte(`{"a":1}`), ID: "947934"}}},
		{"CRLF", "data: a\r\n\r\n", []Event{{Name: "message", Data: []byte("a")}}},
		{"lone CR", "data: a\r\rdata: b\r\r", []Event{{Name: "message", Data: []byte("a")}, {Name: "message", Data: []byte("b")}}},
		{"multi-line data", "data: a\ndata: b\n\n", []Event{{Name: "message", Data: []byte("a\nb")}}},
		{"comment and no space", ": hi\ndata:x\n\n", []Event{{Name: "message", Data: []byte("x")}}},
		{"field without colon", "data\n\n", []Event{{Name: "message", Data: []byte("")}}},
		{"only one space stripped", "data:  x\n\n", []Event{{Name: "message", Data: []byte(" x")}}},
		{"empty event not dispatched", "event: x\n\n", nil},
		{"unterminated last event dropped", "data: a\n\ndata: b", []Event{{Name: "message", Data: []byte("a")}}},
		{"BOM", "\xEF\xBB\xBFdata: a\n\n", []Event{{Name: "message", Data: []byte("a")}}},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", []Event{{Name: "message", Data: []byte("a"), ID: "1"}, {Name: "message", Data: []byte("b"), ID: "1"}}},
		{"retry", "retry: 1500\ndata: a\n\n", []Event{{Name: "message", Data: []byte("a"), Retry: 1500 * time.Millisecond}}},
		{"bad retry ignored", "retry: 15x\ndata: a\n\n", []Event{{Name: "message", Data: []byte("a")}}},
		{"event name resets", "event: ping\ndata: 1\n\ndata: 2\n\n", []Event{{Name: "ping", Data: []byte("1")}, {Name: "message", Data: []byte("2")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got := collect(t, r)
				var dispatched []Event
				for _, e := range got {
					if e.Name != "" {
						dispatched = append(dispatched, e)
					}
				}
				if len(dispatched) != len(tc.want) {
					t.Fatalf("got %d events %+v, want %d", len(dispatched), dispatched, len(tc.want))
				}
				for i := range dispatched {
					g, w := dispatched[i], tc.want[i]
					if g.Name != w.Name || !bytes.Equal(g.Data, w.Data) || g.ID != w.ID || g.Retry != w.Retry {
						t.Errorf("event %d = %+v (%q), want %+v (%q)", i, g, g.Data, w, w.Data)
					}
				}
			}
		})
	}
}

func TestSSEEventTooLarge(t *testing.T) {
	r := NewReaderSize(strings.NewReader("data: "+strings.Repeat("x", 5000)+"\n\n"), 16, 1000)
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v", err)
	}
	r = NewReaderSize(strings.NewReader(strings.Repeat("data: xxxxxxxxxx\n", 200)+"\n"), 16, 1000)
	if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("many lines: err = %v", err)
	}
}

// reference is a deliberately simple SSE parser the fuzzer compares with.
func reference(in string) []string {
	in = strings.TrimPrefix(in, "\xEF\xBB\xBF")
	in = strings.ReplaceAll(in, "\r\n", "\n")
	in = strings.ReplaceAll(in, "\r", "\n")
	lines := strings.Split(in, "\n")
	lines = lines[:len(lines)-1] // the part after the last terminator is incomplete
	var out []string
	var data []string
	has := false
	name := ""
	for _, l := range lines {
		if l == "" {
			if has {
				n := name
				if n == "" {
					n = "message"
				}
				out = append(out, n+"|"+strings.Join(data, "\n"))
			}
			data, has, name = nil, false, ""
			continue
		}
		if strings.HasPrefix(l, ":") {
			continue
		}
		f, v, ok := strings.Cut(l, ":")
		if ok {
			v = strings.TrimPrefix(v, " ")
		}
		switch f {
		case "data":
			data, has = append(data, v), true
		case "event":
			name = v
		}
	}
	return out
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"event: ping\ndata: null\n\n", "id: 947934\ndata: {\"revision\":\"947934\"}\n\n", "data: a\r\n\r\ndata: b\r\r",
		"\xEF\xBB\xBFdata:x\n\n", ": c\nevent: fullSync\ndata: {}\n\n", "retry: 10\n\n", "data\n\n", "data: a\r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want := reference(in)
		for _, src := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			r := NewReaderSize(src, 16, 1<<20)
			var got []string
			for {
				ev, err := r.Next()
				if err != nil {
					break
				}
				if ev.Name != "" {
					got = append(got, ev.Name+"|"+string(ev.Data))
				}
			}
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("input %q:\n got %q\nwant %q", in, got, want)
			}
		}
	})
}

func TestCutStreamIsNotACleanEnd(t *testing.T) {
	rd := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(io.ErrUnexpectedEOF)))
	if ev, err := rd.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("%q %v", ev.Data, err)
	}
	if _, err := rd.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err %v, want io.ErrUnexpectedEOF (the connection was cut)", err)
	}
	rd = NewReader(strings.NewReader("data: a\n\ndata: b"))
	rd.Next()
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("err %v, want io.EOF (a clean end drops the incomplete event)", err)
	}
}
