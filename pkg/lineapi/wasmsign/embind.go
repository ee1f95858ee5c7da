package wasmsign

import (
	"context"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero/api"
)

// The embind side of the host: what the module registers (types, classes,
// functions) and how values cross the boundary. Names follow Emscripten's
// embind runtime (bind.js); the imports the module uses are minified, and
// imports.go maps each letter to its function.

type typeKind int

const (
	kindVoid typeKind = iota
	kindBool
	kindInt
	kindFloat
	kindBigInt
	kindStdString
	kindStdWString
	kindEmval
	kindMemoryView
	kindClass
	kindClassPtr
)

type wireType struct {
	kind   typeKind
	name   string
	size   uint32
	signed bool
	class  *class // for kindClass/kindClassPtr
}

type method struct {
	name      string
	argTypes  []uint32 // [return, (this,) args...] raw type ids
	signature string
	invoker   uint32 // function table index
	fn        uint32 // the C++ function (context) passed to the invoker
	static    bool
	call      api.Function // the invoker, looked up once (each lookup costs a fresh call stack)
}

type class struct {
	name    string
	rawType uint32
	ctors   map[int]*method // by argument count
	methods map[string]*method
	statics map[string]*method
	rawDtor uint32
	dtorSig string
	dtor    api.Function // looked up on first delete
}

type registry struct {
	types     map[uint32]*wireType
	classes   map[string]*class
	functions map[string]*method
}

func newRegistry() *registry {
	return &registry{types: map[uint32]*wireType{}, classes: map[string]*class{}, functions: map[string]*method{}}
}

func (h *host) cstring(m api.Module, ptr uint32) string {
	mem := m.Memory()
	var out []byte
	for i := ptr; ; i++ {
		b, ok := mem.ReadByte(i)
		if !ok || b == 0 {
			break
		}
		out = append(out, b)
	}
	return string(out)
}

func (h *host) readU32s(m api.Module, ptr, n uint32) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i], _ = m.Memory().ReadUint32Le(ptr + uint32(i)*4)
	}
	return out
}

func (h *host) classOf(raw uint32) *class {
	for _, c := range h.reg.classes {
		if c.rawType == raw {
			return c
		}
	}
	return nil
}

// --- registrations -----------------------------------------------------

func (h *host) registerSimple(kind typeKind) func(ctx context.Context, m api.Module, stack []uint64) {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		raw := api.DecodeU32(stack[0])
		t := &wireType{kind: kind, name: h.cstring(m, api.DecodeU32(stack[1]))}
		switch kind {
		case kindBool, kindFloat:
			t.size = api.DecodeU32(stack[2])
		case kindInt:
			t.size = api.DecodeU32(stack[2])
			t.signed = int32(api.DecodeU32(stack[3])) < 0
		}
		h.reg.types[raw] = t
	}
}

func (h *host) registerClass(ctx context.Context, m api.Module, stack []uint64) {
	raw, ptrT, cptrT := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	name := h.cstring(m, api.DecodeU32(stack[10]))
	c := &class{name: name, rawType: raw, ctors: map[int]*method{}, methods: map[string]*method{}, statics: map[string]*method{},
		rawDtor: api.DecodeU32(stack[12]), dtorSig: h.cstring(m, api.DecodeU32(stack[11]))}
	h.reg.classes[name] = c
	h.reg.types[raw] = &wireType{kind: kindClass, name: name, class: c}
	h.reg.types[ptrT] = &wireType{kind: kindClassPtr, name: name + "*", class: c}
	h.reg.types[cptrT] = &wireType{kind: kindClassPtr, name: name + " const*", class: c}
}

func (h *host) registerCtor(ctx context.Context, m api.Module, stack []uint64) {
	c := h.classOf(api.DecodeU32(stack[0]))
	argc := api.DecodeU32(stack[1])
	if c == nil {
		return
	}
	c.ctors[int(argc)-1] = &method{name: "constructor", argTypes: h.readU32s(m, api.DecodeU32(stack[2]), argc),
		signature: h.cstring(m, api.DecodeU32(stack[3])), invoker: api.DecodeU32(stack[4]), fn: api.DecodeU32(stack[5]), static: true}
}

func (h *host) registerMethod(static bool) func(ctx context.Context, m api.Module, stack []uint64) {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		c := h.classOf(api.DecodeU32(stack[0]))
		if c == nil {
			return
		}
		argc := api.DecodeU32(stack[2])
		md := &method{name: h.cstring(m, api.DecodeU32(stack[1])), argTypes: h.readU32s(m, api.DecodeU32(stack[3]), argc),
			signature: h.cstring(m, api.DecodeU32(stack[4])), invoker: api.DecodeU32(stack[5]), fn: api.DecodeU32(stack[6]), static: static}
		if static {
			c.statics[md.name] = md
		} else {
			c.methods[md.name] = md
		}
	}
}

func (h *host) registerFunction(ctx context.Context, m api.Module, stack []uint64) {
	argc := api.DecodeU32(stack[1])
	md := &method{name: h.cstring(m, api.DecodeU32(stack[0])), argTypes: h.readU32s(m, api.DecodeU32(stack[2]), argc),
		signature: h.cstring(m, api.DecodeU32(stack[3])), invoker: api.DecodeU32(stack[4]), fn: api.DecodeU32(stack[5]), static: true}
	h.reg.functions[md.name] = md
}

func (h *host) registerMemoryView(ctx context.Context, m api.Module, stack []uint64) {
	h.reg.types[api.DecodeU32(stack[0])] = &wireType{kind: kindMemoryView, size: api.DecodeU32(stack[1]), name: h.cstring(m, api.DecodeU32(stack[2]))}
}

func (h *host) registerStdString(ctx context.Context, m api.Module, stack []uint64) {
	h.reg.types[api.DecodeU32(stack[0])] = &wireType{kind: kindStdString, name: h.cstring(m, api.DecodeU32(stack[1]))}
}

func (h *host) registerStdWString(ctx context.Context, m api.Module, stack []uint64) {
	h.reg.types[api.DecodeU32(stack[0])] = &wireType{kind: kindStdWString, size: api.DecodeU32(stack[1]), name: h.cstring(m, api.DecodeU32(stack[2]))}
}

func (h *host) registerBigInt(ctx context.Context, m api.Module, stack []uint64) {
	h.reg.types[api.DecodeU32(stack[0])] = &wireType{kind: kindBigInt, name: h.cstring(m, api.DecodeU32(stack[1])), size: api.DecodeU32(stack[2])}
}

// --- emval ---------------------------------------------------------------

// undefined is JavaScript's undefined; nil is null.
type undefined struct{}

// jsGlobal is a global the module looked up (a constructor such as Uint8Array).
type jsGlobal string

// emvals is the handle table of emscripten::val (as embind's emval_handles:
// reserved handles 1–4, then a free list).
type emvals struct {
	vals  []any
	refs  []int32
	free  []uint32
	boxed []any // small whole numbers boxed once (bytes and indices cross per element)
}

func newEmvals() *emvals {
	return &emvals{vals: []any{nil, undefined{}, nil, true, false}, refs: make([]int32, 5)}
}

func (e *emvals) toHandle(v any) uint32 {
	switch v {
	case true:
		return 3
	case false:
		return 4
	case nil:
		return 2
	}
	if _, ok := v.(undefined); ok {
		return 1
	}
	if n := len(e.free); n > 0 {
		h := e.free[n-1]
		e.free = e.free[:n-1]
		e.vals[h], e.refs[h] = v, 1
		return h
	}
	e.vals = append(e.vals, v)
	e.refs = append(e.refs, 1)
	return uint32(len(e.vals) - 1)
}

func (e *emvals) toValue(h uint32) any {
	if int(h) < len(e.vals) {
		return e.vals[h]
	}
	return nil
}

func (e *emvals) incref(h uint32) {
	if h > 4 && int(h) < len(e.refs) {
		e.refs[h]++
	}
}

func (e *emvals) decref(h uint32) {
	if h > 4 && int(h) < len(e.refs) && e.refs[h] > 0 {
		if e.refs[h]--; e.refs[h] == 0 {
			e.vals[h] = nil
			e.free = append(e.free, h)
		}
	}
}

// number returns f as a value, without a fresh allocation for small whole numbers.
func (e *emvals) number(f float64) any {
	if i := int(f); float64(i) == f && i >= 0 && i < 1<<16 {
		if i >= len(e.boxed) {
			e.boxed = append(e.boxed, make([]any, i+1-len(e.boxed))...)
		}
		if e.boxed[i] == nil {
			e.boxed[i] = f
		}
		return e.boxed[i]
	}
	return f
}

// readValue reads a value of a registered type from memory (readValueFromPointer).
func (h *host) readValue(m api.Module, t *wireType, ptr uint32) (any, error) {
	mem := m.Memory()
	switch t.kind {
	case kindMemoryView:
		size, _ := mem.ReadUint32Le(ptr)
		data, _ := mem.ReadUint32Le(ptr + 4)
		elem := []uint32{1, 1, 2, 2, 4, 4, 4, 8, 8, 8}[min(t.size, 9)]
		b, ok := mem.Read(data, size*elem)
		if !ok {
			return nil, fmt.Errorf("memory view out of range")
		}
		return append([]byte(nil), b...), nil
	case kindStdString:
		p, _ := mem.ReadUint32Le(ptr)
		return h.readStdString(m, p, false)
	case kindEmval:
		hd, _ := mem.ReadUint32Le(ptr)
		return h.ev.toValue(hd), nil
	case kindInt, kindBool, kindClassPtr:
		v, _ := mem.ReadUint32Le(ptr)
		return h.ev.number(float64(v)), nil
	case kindFloat:
		if t.size == 4 {
			v, _ := mem.ReadFloat32Le(ptr)
			return float64(v), nil
		}
		v, _ := mem.ReadFloat64Le(ptr)
		return v, nil
	}
	return nil, fmt.Errorf("wasmsign: cannot read a %s from memory", t.name)
}

// readStdString reads (and with free, frees) an embind std::string wire value: u32 length + bytes.
func (h *host) readStdString(m api.Module, p uint32, free bool) ([]byte, error) {
	n, ok := m.Memory().ReadUint32Le(p)
	if !ok {
		return nil, fmt.Errorf("string out of range")
	}
	b, ok := m.Memory().Read(p+4, n)
	if !ok {
		return nil, fmt.Errorf("string out of range")
	}
	out := append([]byte(nil), b...)
	if free {
		h.free(m, p)
	}
	return out, nil
}

func f64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
		return 0
	case int:
		return float64(x)
	}
	return math.NaN()
}
