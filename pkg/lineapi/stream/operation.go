package stream

import (
	"errors"
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/internal/jsondepth"
)

// Operation is one operation of the stream (docs/protocol.md §7). It owns its
// data: ParseOperation copies what it keeps, so an Operation stays valid
// after the reader's next event and may be kept, sent to another goroutine
// or compared later.
type Operation struct {
	Revision    int64
	CreatedTime int64
	Type        OpType
	ReqSeq      int64
	// Param1..3 are the operation's parameters (their meaning depends on
	// Type: docs/protocol.md §7).
	Param1, Param2, Param3 Param
	// Message is the operation's message, decoded once; nil when the
	// operation carries none (or null).
	Message *lineapi.Message
}

// Param is an operation parameter: a string in LINE's operations, kept as
// carried.
type Param struct {
	raw string // the JSON value; "" when absent
	str string
}

// String is the parameter's text: a string's value, another value's JSON,
// "" when absent.
func (p Param) String() string { return p.str }

// Exists reports whether the operation carries the parameter.
func (p Param) Exists() bool { return p.raw != "" }

// JSON is the parameter's JSON value as carried (nil when absent).
func (p Param) JSON() []byte {
	if p.raw == "" {
		return nil
	}
	return []byte(p.raw)
}

func paramOf(v gjson.Result) Param {
	if !v.Exists() {
		return Param{}
	}
	return Param{raw: v.Raw, str: v.String()} // Raw points into ParseBytes's own copy
}

// ErrBadOperation is a stream event that is not a usable operation.
var ErrBadOperation = errors.New("malformed operation")

// MaxDepth bounds how deeply an event's JSON may nest. LINE's operations
// nest four levels at most (operation → message → contentMetadata/chunks);
// a deeper one is refused before it is parsed, so a hostile 300,000-deep
// value costs one linear scan, not minutes of CPU.
const MaxDepth = 64

// ErrTooDeep is JSON nested deeper than MaxDepth.
var ErrTooDeep = fmt.Errorf("%w: nested deeper than %d levels", ErrBadOperation, MaxDepth)

// checkJSON is the common gate of every event parser: bounded nesting, then valid JSON.
func checkJSON(data []byte, what string) error {
	if !jsondepth.Within(data, MaxDepth) {
		return ErrTooDeep
	}
	if !gjson.ValidBytes(data) {
		return fmt.Errorf("%w: %snot JSON", ErrBadOperation, what)
	}
	return nil
}

// ParseOperation reads an operation's JSON. i64 fields may be strings or
// numbers. It never panics; malformed input is ErrBadOperation.
func ParseOperation(data []byte) (Operation, error) {
	var op Operation
	if err := checkJSON(data, ""); err != nil {
		return op, err
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return op, fmt.Errorf("%w: not an object", ErrBadOperation)
	}
	var rev, ctime, typ, reqSeq, msg gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "revision":
			rev = v
		case "createdTime":
			ctime = v
		case "type":
			typ = v
		case "reqSeq":
			reqSeq = v
		case "param1":
			op.Param1 = paramOf(v)
		case "param2":
			op.Param2 = paramOf(v)
		case "param3":
			op.Param3 = paramOf(v)
		case "message":
			msg = v
		}
		return true
	})
	var ok bool
	if op.Revision, ok = i64(rev); !ok || op.Revision <= 0 {
		return op, fmt.Errorf("%w: no revision", ErrBadOperation)
	}
	t, ok := i64(typ)
	if !ok || t < 0 || t > 1<<16 {
		return op, fmt.Errorf("%w: bad type", ErrBadOperation)
	}
	op.Type = OpType(t)
	op.CreatedTime, _ = i64(ctime)
	op.ReqSeq, _ = i64(reqSeq)
	switch {
	case msg.IsObject():
		m, err := lineapi.ParseMessage([]byte(msg.Raw))
		if err != nil {
			return op, fmt.Errorf("%w: %w", ErrBadOperation, err)
		}
		op.Message = m
	case msg.Exists() && msg.Type != gjson.Null:
		return op, fmt.Errorf("%w: message is not an object", ErrBadOperation)
	}
	return op, nil
}

// i64 reads a JSON number or a string of digits exactly.
func i64(r gjson.Result) (int64, bool) {
	var s string
	switch r.Type {
	case gjson.String:
		s = r.Str
	case gjson.Number:
		s = r.Raw
	default:
		return 0, false
	}
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63-1-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, len(s) > 0
}

// fullSyncEvent is a fullSync event: jump to NextRevision.
type fullSyncEvent struct {
	Reasons      []int64
	NextRevision int64
}

// parseFullSync reads {"reasons":[…],"nextRevision":"…"}.
func parseFullSync(data []byte) (fullSyncEvent, error) {
	var fs fullSyncEvent
	if err := checkJSON(data, "fullSync is "); err != nil {
		return fs, err
	}
	r := gjson.ParseBytes(data)
	n, ok := i64(r.Get("nextRevision"))
	if !ok || n < 0 {
		return fs, fmt.Errorf("%w: fullSync without nextRevision", ErrBadOperation)
	}
	fs.NextRevision = n
	for _, v := range r.Get("reasons").Array() {
		if x, ok := i64(v); ok {
			fs.Reasons = append(fs.Reasons, x)
		}
	}
	return fs, nil
}

// talkExceptionEvent is a talkException event's payload.
type talkExceptionEvent struct {
	Code   int
	Reason string
}

// parseTalkException reads {"code":N,"reason":"…","parameterMap":…}.
func parseTalkException(data []byte) (talkExceptionEvent, error) {
	if err := checkJSON(data, "talkException is "); err != nil {
		return talkExceptionEvent{}, err
	}
	r := gjson.ParseBytes(data)
	c, ok := i64(r.Get("code"))
	if !ok {
		return talkExceptionEvent{}, fmt.Errorf("%w: talkException without code", ErrBadOperation)
	}
	return talkExceptionEvent{Code: int(c), Reason: r.Get("reason").String()}, nil
}
