package gatewaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
)

// spec checks one decoded JSON value (decoded with UseNumber).
type spec interface {
	check(v any, at string) error
}

type tI32 struct{}
type tI64 struct{} // JSON string of digits or an integer number
type tStr struct{}
type tBool struct{}
type tAny struct{}
type tNum struct{} // i64 as a JSON string only (createdTime)
type tArr struct{ elem spec }
type tMap struct{ elem spec } // object with arbitrary keys

// tObj is an object with required and optional fields; other fields are rejected.
type tObj struct {
	req map[string]spec
	opt map[string]spec
}

func shapeErr(at, format string, args ...any) error {
	return gwErr(CodeInvalidArgument, "%s: %s", at, fmt.Sprintf(format, args...))
}

func (tI32) check(v any, at string) error {
	n, ok := v.(json.Number)
	if !ok {
		return shapeErr(at, "want i32 number, got %T", v)
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i < -1<<31 || i > 1<<31-1 {
		return shapeErr(at, "want i32, got %s", n)
	}
	return nil
}

func (tI64) check(v any, at string) error {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	default:
		return shapeErr(at, "want i64, got %T", v)
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return shapeErr(at, "want i64, got %q", s)
	}
	return nil
}

func (tNum) check(v any, at string) error {
	s, ok := v.(string)
	if !ok {
		return shapeErr(at, "want i64 as a JSON string, got %T", v)
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return shapeErr(at, "want i64 string, got %q", s)
	}
	return nil
}

func (tStr) check(v any, at string) error {
	if _, ok := v.(string); !ok {
		return shapeErr(at, "want string, got %T", v)
	}
	return nil
}

func (tBool) check(v any, at string) error {
	if _, ok := v.(bool); !ok {
		return shapeErr(at, "want bool, got %T", v)
	}
	return nil
}

func (tAny) check(any, string) error { return nil }

func (t tArr) check(v any, at string) error {
	a, ok := v.([]any)
	if !ok {
		return shapeErr(at, "want array, got %T", v)
	}
	for i, e := range a {
		if err := t.elem.check(e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
			return err
		}
	}
	return nil
}

func (t tMap) check(v any, at string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return shapeErr(at, "want object, got %T", v)
	}
	for k, e := range m {
		if err := t.elem.check(e, at+"."+k); err != nil {
			return err
		}
	}
	return nil
}

func (t tObj) check(v any, at string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return shapeErr(at, "want object, got %T", v)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sp, ok := t.req[k]
		if !ok {
			sp, ok = t.opt[k]
		}
		if !ok {
			return shapeErr(at, "unexpected field %q", k)
		}
		if err := sp.check(m[k], at+"."+k); err != nil {
			return err
		}
	}
	req := make([]string, 0, len(t.req))
	for k := range t.req {
		req = append(req, k)
	}
	sort.Strings(req)
	for _, k := range req {
		if _, ok := m[k]; !ok {
			return shapeErr(at, "missing field %q", k)
		}
	}
	return nil
}

func obj(req map[string]spec) tObj { return tObj{req: req} }

// checkArgs validates positional arguments.
func checkArgs(args []any, want []spec) error {
	if len(args) != len(want) {
		return shapeErr("args", "want %d positional arguments, got %d", len(want), len(args))
	}
	for i, sp := range want {
		if err := sp.check(args[i], fmt.Sprintf("args[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// decodeJSON decodes exactly one JSON value with numbers kept as json.Number.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// Accessors for already validated values.

func str(v any) string { s, _ := v.(string); return s }

func i64(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		n, _ := strconv.ParseInt(string(x), 10, 64)
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func field(v any, k string) any {
	m, _ := v.(map[string]any)
	return m[k]
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, e := range a {
		out = append(out, str(e))
	}
	return out
}

// asciiJSON rewrites every non-ASCII rune as a \uXXXX escape (surrogate pairs
// above U+FFFF), as the gateway writes message text on the stream. Valid JSON
// holds non-ASCII only inside strings, so the rewrite keeps it valid.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		if r < 0x80 {
			out.WriteByte(byte(r))
			continue
		}
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&out, `\u%04x`, r)
	}
	return out.Bytes()
}
