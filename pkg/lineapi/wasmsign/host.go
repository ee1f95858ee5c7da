package wasmsign

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/table"
)

// host is the JavaScript side of an Emscripten/embind module, in Go.
type host struct {
	reg    *registry
	ev     *emvals
	origin string
	mod    api.Module
	malloc api.Function
	freeFn api.Function
	errOut []byte // what the module wrote to stdout/stderr (for errors)
}

// errThrown is a C++ exception or abort inside the module.
var errThrown = errors.New("wasmsign: the signing module raised an error")

const (
	i32  = api.ValueTypeI32
	i64  = api.ValueTypeI64
	f64t = api.ValueTypeF64
)

type hostFn struct {
	name    string // the minified import name in LINE's 3.7.2 build (module "a")
	params  []api.ValueType
	results []api.ValueType
	fn      api.GoModuleFunc
}

// fullNames are the Emscripten names of the minified imports, for modules
// built without minification (module "env", and WASI's fd_* functions).
var fullNames = map[string]string{
	"p": "__cxa_allocate_exception",
	"B": "__cxa_throw",
	"s": "__syscall_fcntl64",
	"F": "__syscall_ioctl",
	"G": "__syscall_openat",
	"v": "_embind_register_bigint",
	"J": "_embind_register_bool",
	"i": "_embind_register_class",
	"g": "_embind_register_class_class_function",
	"k": "_embind_register_class_constructor",
	"b": "_embind_register_class_function",
	"c": "_embind_register_constant",
	"I": "_embind_register_emval",
	"u": "_embind_register_float",
	"N": "_embind_register_function",
	"h": "_embind_register_integer",
	"d": "_embind_register_memory_view",
	"t": "_embind_register_std_string",
	"n": "_embind_register_std_wstring",
	"K": "_embind_register_void",
	"z": "_emval_as",
	"a": "_emval_decref",
	"f": "_emval_get_global",
	"A": "_emval_get_property",
	"j": "_emval_incref",
	"e": "_emval_new",
	"x": "_emval_new_array",
	"M": "_emval_new_cstring",
	"y": "_emval_run_destructors",
	"L": "_emval_set_property",
	"l": "_emval_take_value",
	"m": "abort",
	"o": "emscripten_asm_const_int",
	"H": "emscripten_memcpy_big",
	"C": "emscripten_resize_heap",
	"q": "fd_close",
	"E": "fd_read",
	"D": "fd_seek",
	"r": "fd_write",
}

var wasiNames = map[string]bool{"fd_close": true, "fd_read": true, "fd_seek": true, "fd_write": true}

func rep(t api.ValueType, n int) []api.ValueType {
	out := make([]api.ValueType, n)
	for i := range out {
		out[i] = t
	}
	return out
}

// imports maps the module's minified import names (3.7.2's ltsm.wasm and the
// glue shipped beside it) to their embind/Emscripten meaning. The mapping is
// read from the glue's import object, not guessed: the names are in comments.
func (h *host) imports() []hostFn {
	noop := func(ctx context.Context, m api.Module, s []uint64) {}
	ret := func(v int32) api.GoModuleFunc {
		return func(ctx context.Context, m api.Module, s []uint64) { s[0] = api.EncodeI32(v) }
	}
	return []hostFn{
		{"p", []api.ValueType{i32}, []api.ValueType{i32}, h.cxaAllocateException}, // __cxa_allocate_exception
		{"B", rep(i32, 3), nil, h.cxaThrow},                                       // __cxa_throw
		{"s", rep(i32, 3), []api.ValueType{i32}, ret(-28)},                        // __syscall_fcntl64: EINVAL
		{"F", rep(i32, 3), []api.ValueType{i32}, ret(-59)},                        // __syscall_ioctl: not a tty
		{"G", rep(i32, 4), []api.ValueType{i32}, ret(-44)},                        // __syscall_openat: ENOENT
		{"v", []api.ValueType{i32, i32, i32, i64, i64}, nil, h.registerBigInt},    // _embind_register_bigint
		{"J", rep(i32, 5), nil, h.registerSimple(kindBool)},                       // _embind_register_bool
		{"i", rep(i32, 13), nil, h.registerClass},                                 // _embind_register_class
		{"g", rep(i32, 7), nil, h.registerMethod(true)},                           // _embind_register_class_class_function
		{"k", rep(i32, 6), nil, h.registerCtor},                                   // _embind_register_class_constructor
		{"b", rep(i32, 8), nil, h.registerMethod(false)},                          // _embind_register_class_function
		{"c", []api.ValueType{i32, i32, f64t}, nil, noop},                         // _embind_register_constant
		{"I", rep(i32, 2), nil, h.registerSimple(kindEmval)},                      // _embind_register_emval
		{"u", rep(i32, 3), nil, h.registerSimple(kindFloat)},                      // _embind_register_float
		{"N", rep(i32, 6), nil, h.registerFunction},                               // _embind_register_function
		{"h", rep(i32, 5), nil, h.registerSimple(kindInt)},                        // _embind_register_integer
		{"d", rep(i32, 3), nil, h.registerMemoryView},                             // _embind_register_memory_view
		{"t", rep(i32, 2), nil, h.registerStdString},                              // _embind_register_std_string
		{"n", rep(i32, 3), nil, h.registerStdWString},                             // _embind_register_std_wstring
		{"K", rep(i32, 2), nil, h.registerSimple(kindVoid)},                       // _embind_register_void
		{"z", rep(i32, 3), []api.ValueType{f64t}, h.emvalAs},                      // _emval_as
		{"a", []api.ValueType{i32}, nil, func(ctx context.Context, m api.Module, s []uint64) { h.ev.decref(api.DecodeU32(s[0])) }},                // _emval_decref
		{"f", []api.ValueType{i32}, []api.ValueType{i32}, h.emvalGetGlobal},                                                                       // _emval_get_global
		{"A", rep(i32, 2), []api.ValueType{i32}, h.emvalGetProperty},                                                                              // _emval_get_property
		{"j", []api.ValueType{i32}, nil, func(ctx context.Context, m api.Module, s []uint64) { h.ev.incref(api.DecodeU32(s[0])) }},                // _emval_incref
		{"e", rep(i32, 4), []api.ValueType{i32}, h.emvalNew},                                                                                      // _emval_new
		{"x", nil, []api.ValueType{i32}, func(ctx context.Context, m api.Module, s []uint64) { s[0] = api.EncodeU32(h.ev.toHandle(&jsArray{})) }}, // _emval_new_array
		{"M", []api.ValueType{i32}, []api.ValueType{i32}, func(ctx context.Context, m api.Module, s []uint64) {
			s[0] = api.EncodeU32(h.ev.toHandle(h.cstring(m, api.DecodeU32(s[0]))))
		}}, // _emval_new_cstring
		{"y", []api.ValueType{i32}, nil, func(ctx context.Context, m api.Module, s []uint64) { h.ev.decref(api.DecodeU32(s[0])) }}, // _emval_run_destructors
		{"L", rep(i32, 3), nil, h.emvalSetProperty},                                                                        // _emval_set_property
		{"l", rep(i32, 2), []api.ValueType{i32}, h.emvalTakeValue},                                                         // _emval_take_value
		{"m", nil, nil, func(ctx context.Context, m api.Module, s []uint64) { panic(fmt.Errorf("%w: abort", errThrown)) }}, // abort
		{"o", rep(i32, 3), []api.ValueType{i32}, h.emAsm},                                                                  // emscripten_asm_const_int
		{"H", rep(i32, 3), nil, h.memcpyBig},                                                                               // emscripten_memcpy_big
		{"C", []api.ValueType{i32}, []api.ValueType{i32}, ret(0)},                                                          // emscripten_resize_heap: no growth (as the glue)
		{"q", []api.ValueType{i32}, []api.ValueType{i32}, ret(0)},                                                          // fd_close
		{"E", rep(i32, 4), []api.ValueType{i32}, h.fdRead},                                                                 // fd_read
		{"D", []api.ValueType{i32, i64, i32, i32}, []api.ValueType{i32}, ret(70)},                                          // fd_seek: ESPIPE
		{"r", rep(i32, 4), []api.ValueType{i32}, h.fdWrite},                                                                // fd_write
		{"w", nil, []api.ValueType{i32}, h.origin0},                                                                        // the page origin (chrome-extension://…)
	}
}

// build provides the host functions under LINE's minified names (module "a")
// and under their Emscripten names (modules "env" and
// "wasi_snapshot_preview1"), so a module built without minification — the
// project's own test module — runs on the same code.
func (h *host) build(ctx context.Context, r wazero.Runtime) error {
	a := r.NewHostModuleBuilder("a")
	env := r.NewHostModuleBuilder("env")
	wasi := r.NewHostModuleBuilder("wasi_snapshot_preview1")
	for _, f := range h.imports() {
		a.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results).Export(f.name)
		full := fullNames[f.name]
		if full == "" {
			continue
		}
		fn, params, results := f.fn, f.params, f.results
		switch full {
		case "_embind_register_bigint": // without WASM_BIGINT the i64 bounds are split into i32 pairs
			params = rep(i32, 7)
		case "emscripten_memcpy_big": // older Emscripten returns dest
			inner := f.fn
			fn = func(ctx context.Context, m api.Module, s []uint64) { d := s[0]; inner(ctx, m, s); s[0] = d }
			results = []api.ValueType{i32}
		}
		target := env
		if wasiNames[full] {
			target = wasi
		}
		target.NewFunctionBuilder().WithGoModuleFunction(fn, params, results).Export(full)
	}
	for _, b := range []wazero.HostModuleBuilder{a, env, wasi} {
		if _, err := b.Instantiate(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (h *host) alloc(m api.Module, n uint32) uint32 {
	res, err := h.malloc.Call(context.Background(), uint64(n))
	if err != nil || len(res) == 0 || res[0] == 0 {
		panic(fmt.Errorf("%w: malloc(%d) failed", errThrown, n))
	}
	return api.DecodeU32(res[0])
}

func (h *host) free(m api.Module, p uint32) { _, _ = h.freeFn.Call(context.Background(), uint64(p)) }

func (h *host) cxaAllocateException(ctx context.Context, m api.Module, s []uint64) {
	s[0] = api.EncodeU32(h.alloc(m, api.DecodeU32(s[0])+24) + 24)
}

func (h *host) cxaThrow(ctx context.Context, m api.Module, s []uint64) {
	panic(fmt.Errorf("%w: C++ exception %s", errThrown, string(h.errOut)))
}

func (h *host) origin0(ctx context.Context, m api.Module, s []uint64) {
	p := h.alloc(m, uint32(len(h.origin)+1))
	m.Memory().Write(p, append([]byte(h.origin), 0))
	s[0] = api.EncodeU32(p)
}

func (h *host) memcpyBig(ctx context.Context, m api.Module, s []uint64) {
	dst, src, n := api.DecodeU32(s[0]), api.DecodeU32(s[1]), api.DecodeU32(s[2])
	b, ok := m.Memory().Read(src, n)
	if ok {
		m.Memory().Write(dst, append([]byte(nil), b...))
	}
}

func (h *host) fdWrite(ctx context.Context, m api.Module, s []uint64) {
	iov, cnt, out := api.DecodeU32(s[1]), api.DecodeU32(s[2]), api.DecodeU32(s[3])
	total := uint32(0)
	for i := uint32(0); i < cnt; i++ {
		p, _ := m.Memory().ReadUint32Le(iov + i*8)
		n, _ := m.Memory().ReadUint32Le(iov + i*8 + 4)
		if b, ok := m.Memory().Read(p, n); ok && len(h.errOut) < 4096 {
			h.errOut = append(h.errOut, b...)
		}
		total += n
	}
	m.Memory().WriteUint32Le(out, total)
	s[0] = 0
}

func (h *host) fdRead(ctx context.Context, m api.Module, s []uint64) {
	m.Memory().WriteUint32Le(api.DecodeU32(s[3]), 0)
	s[0] = 0
}

// emAsm runs the module's EM_ASM snippets: the glue has three, which
// check for and use getRandomValues, and report an error.
func (h *host) emAsm(ctx context.Context, m api.Module, s []uint64) {
	code := api.DecodeU32(s[0])
	args := h.asmArgs(m, api.DecodeU32(s[1]), api.DecodeU32(s[2]))
	switch code {
	case 1456985: // is getRandomValues available
		s[0] = 0
	case 1457725: // fill (ptr, len) with random bytes
		if len(args) == 2 {
			buf := make([]byte, uint32(args[1].(int32)))
			_, _ = rand.Read(buf)
			m.Memory().Write(uint32(args[0].(int32)), buf)
		}
		s[0] = 0
	case 1456932: // throw cstr(a) + ": " + cstr(b)
		msg := ""
		if len(args) == 2 {
			msg = h.cstring(m, uint32(args[0].(int32))) + ": " + h.cstring(m, uint32(args[1].(int32)))
		}
		panic(fmt.Errorf("%w: %s", errThrown, msg))
	default:
		panic(fmt.Errorf("%w: unknown EM_ASM snippet %d (not the known 3.7.2 build?)", errThrown, code))
	}
}

// asmArgs decodes EM_ASM arguments by their signature characters.
func (h *host) asmArgs(m api.Module, sig, buf uint32) []any {
	var out []any
	mem := m.Memory()
	for {
		c, ok := mem.ReadByte(sig)
		sig++
		if !ok || c == 0 {
			return out
		}
		if c == 'i' {
			v, _ := mem.ReadUint32Le(buf)
			out = append(out, int32(v))
			buf += 4
			continue
		}
		buf = (buf + 7) &^ 7
		if c == 'j' {
			v, _ := mem.ReadUint64Le(buf)
			out = append(out, int64(v))
		} else {
			v, _ := mem.ReadFloat64Le(buf)
			out = append(out, v)
		}
		buf += 8
	}
}

// --- calling embind functions from Go ----------------------------------

// toWire converts a Go argument to the wire value of type t; frees are the
// allocations to release after the call.
func (h *host) toWire(m api.Module, t *wireType, v any, frees *[]uint32) (uint64, error) {
	switch t.kind {
	case kindStdString:
		var b []byte
		switch x := v.(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = x
		default:
			return 0, fmt.Errorf("wasmsign: %T for std::string", v)
		}
		p := h.alloc(m, uint32(4+len(b)+1))
		m.Memory().WriteUint32Le(p, uint32(len(b)))
		m.Memory().Write(p+4, append(append([]byte(nil), b...), 0))
		*frees = append(*frees, p)
		return uint64(p), nil
	case kindEmval:
		return uint64(h.ev.toHandle(v)), nil
	case kindClassPtr, kindClass:
		p, ok := v.(uint32)
		if !ok {
			return 0, fmt.Errorf("wasmsign: %T for %s", v, t.name)
		}
		return uint64(p), nil
	case kindInt, kindBool:
		return uint64(uint32(int32(f64(v)))), nil
	case kindFloat:
		if t.size == 4 {
			return uint64(math.Float32bits(float32(f64(v)))), nil
		}
		return math.Float64bits(f64(v)), nil
	}
	return 0, fmt.Errorf("wasmsign: cannot pass a %s", t.name)
}

// fromWire converts a return value.
func (h *host) fromWire(m api.Module, t *wireType, w uint64) (any, error) {
	switch t.kind {
	case kindVoid:
		return nil, nil
	case kindStdString:
		return h.readStdString(m, uint32(w), true)
	case kindEmval:
		v := h.ev.toValue(uint32(w))
		h.ev.decref(uint32(w))
		return v, nil
	case kindClassPtr, kindClass:
		return uint32(w), nil
	case kindInt, kindBool:
		return float64(int32(uint32(w))), nil
	case kindFloat:
		if t.size == 4 {
			return float64(math.Float32frombits(uint32(w))), nil
		}
		return math.Float64frombits(w), nil
	case kindMemoryView:
		return h.readValue(m, t, uint32(w))
	}
	return nil, fmt.Errorf("wasmsign: cannot return a %s", t.name)
}

func sigTypes(sig string) (params, results []api.ValueType, err error) {
	conv := func(c byte) (api.ValueType, error) {
		switch c {
		case 'i', 'p':
			return i32, nil
		case 'j':
			return i64, nil
		case 'f':
			return api.ValueTypeF32, nil
		case 'd':
			return f64t, nil
		}
		return 0, fmt.Errorf("wasmsign: signature char %q", c)
	}
	if len(sig) == 0 {
		return nil, nil, errors.New("wasmsign: empty signature")
	}
	if sig[0] != 'v' {
		t, err := conv(sig[0])
		if err != nil {
			return nil, nil, err
		}
		results = []api.ValueType{t}
	}
	for i := 1; i < len(sig); i++ {
		t, err := conv(sig[i])
		if err != nil {
			return nil, nil, err
		}
		params = append(params, t)
	}
	return params, results, nil
}

// tableFunc returns the function at a table index, typed by an embind
// signature string. Callers keep it: each lookup makes a fresh call stack.
func (h *host) tableFunc(index uint32, sig string) (api.Function, error) {
	params, results, err := sigTypes(sig)
	if err != nil {
		return nil, err
	}
	return table.LookupFunction(h.mod, 0, index, params, results), nil
}

// destroy deletes an object of class c that the host owns (embind's
// ClassHandle.delete: the class's raw destructor).
func (h *host) destroy(ctx context.Context, c *class, ptr uint32) error {
	if c.dtor == nil {
		fn, err := h.tableFunc(c.rawDtor, c.dtorSig)
		if err != nil {
			return err
		}
		c.dtor = fn
	}
	return safeCall(func() error { _, err := c.dtor.Call(ctx, uint64(ptr)); return err })
}

// call invokes an embind-registered function: invoker(fn, [this], args...).
func (h *host) call(ctx context.Context, md *method, this *uint32, args ...any) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%w: %v", errThrown, r)
		}
	}()
	m := h.mod
	if md.call == nil {
		if md.call, err = h.tableFunc(md.invoker, md.signature); err != nil {
			return nil, err
		}
	}
	fn := md.call
	wire := []uint64{uint64(md.fn)}
	var frees []uint32
	defer func() {
		for _, p := range frees {
			h.free(m, p)
		}
	}()
	first := 1
	if this != nil {
		wire = append(wire, uint64(*this))
		first = 2
	}
	if len(md.argTypes)-first != len(args) {
		return nil, fmt.Errorf("wasmsign: %s takes %d arguments", md.name, len(md.argTypes)-first)
	}
	for i, a := range args {
		t := h.reg.types[md.argTypes[first+i]]
		if t == nil {
			return nil, fmt.Errorf("wasmsign: %s: unknown argument type", md.name)
		}
		w, err := h.toWire(m, t, a, &frees)
		if err != nil {
			return nil, err
		}
		wire = append(wire, w)
	}
	out, err := fn.Call(ctx, wire...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errThrown, md.name, err)
	}
	rt := h.reg.types[md.argTypes[0]]
	if rt == nil || len(out) == 0 {
		return nil, nil
	}
	return h.fromWire(m, rt, out[0])
}
