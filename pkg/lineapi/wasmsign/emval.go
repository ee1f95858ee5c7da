package wasmsign

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero/api"
)

// --- emval operations the module calls ---------------------------------

type jsArray struct{ items []any }

func (h *host) emvalGetGlobal(ctx context.Context, m api.Module, s []uint64) {
	name := api.DecodeU32(s[0])
	if name == 0 {
		s[0] = api.EncodeU32(h.ev.toHandle(jsGlobal("globalThis")))
		return
	}
	s[0] = api.EncodeU32(h.ev.toHandle(jsGlobal(h.cstring(m, name))))
}

func (h *host) emvalGetProperty(ctx context.Context, m api.Module, s []uint64) {
	obj, key := h.ev.toValue(api.DecodeU32(s[0])), h.ev.toValue(api.DecodeU32(s[1]))
	var v any = undefined{}
	switch o := obj.(type) {
	case []byte:
		switch k := key.(type) {
		case string:
			if k == "length" || k == "byteLength" {
				v = float64(len(o))
			}
		case float64:
			if i := int(k); i >= 0 && i < len(o) {
				v = h.ev.number(float64(o[i]))
			}
		}
	case *jsArray:
		if k, ok := key.(string); ok && k == "length" {
			v = float64(len(o.items))
		} else if k, ok := key.(float64); ok && int(k) >= 0 && int(k) < len(o.items) {
			v = o.items[int(k)]
		}
	case jsGlobal:
		if k, ok := key.(string); ok {
			v = jsGlobal(string(o) + "." + k)
			if o == "globalThis" {
				v = jsGlobal(k)
			}
		}
	}
	s[0] = api.EncodeU32(h.ev.toHandle(v))
}

func (h *host) emvalSetProperty(ctx context.Context, m api.Module, s []uint64) {
	obj, key, val := h.ev.toValue(api.DecodeU32(s[0])), h.ev.toValue(api.DecodeU32(s[1])), h.ev.toValue(api.DecodeU32(s[2]))
	if a, ok := obj.(*jsArray); ok {
		if k, ok := key.(float64); ok && k >= 0 && k < 1<<24 {
			for len(a.items) <= int(k) {
				a.items = append(a.items, undefined{})
			}
			a.items[int(k)] = val
		}
	}
}

func (h *host) emvalAs(ctx context.Context, m api.Module, s []uint64) {
	v := h.ev.toValue(api.DecodeU32(s[0]))
	// Numbers need no destructors: hand back undefined as the (empty) list.
	m.Memory().WriteUint32Le(api.DecodeU32(s[2]), 1)
	s[0] = api.EncodeF64(f64(v))
}

// emvalNew constructs a JS object: new Ctor(args...). The module builds
// typed arrays this way (new Uint8Array(memoryView)).
func (h *host) emvalNew(ctx context.Context, m api.Module, s []uint64) {
	ctor := h.ev.toValue(api.DecodeU32(s[0]))
	argc, types, args := api.DecodeU32(s[1]), api.DecodeU32(s[2]), api.DecodeU32(s[3])
	var vals []any
	for i := uint32(0); i < argc; i++ {
		tid, _ := m.Memory().ReadUint32Le(types + 4*i)
		t := h.reg.types[tid]
		if t == nil {
			panic(fmt.Errorf("%w: unknown type %d", errThrown, tid))
		}
		v, err := h.readValue(m, t, args)
		if err != nil {
			panic(fmt.Errorf("%w: %v", errThrown, err))
		}
		vals = append(vals, v)
		args += 8
	}
	var out any = undefined{}
	switch ctor {
	case jsGlobal("Uint8Array"), jsGlobal("Int8Array"), jsGlobal("Uint8ClampedArray"):
		if len(vals) == 1 {
			switch a := vals[0].(type) {
			case []byte:
				out = append([]byte(nil), a...)
			case float64:
				out = make([]byte, int(a))
			}
		}
	case jsGlobal("Array"), jsGlobal("Object"):
		out = &jsArray{}
	default:
		panic(fmt.Errorf("%w: new %v is not provided by this host", errThrown, ctor))
	}
	s[0] = api.EncodeU32(h.ev.toHandle(out))
}

func (h *host) emvalTakeValue(ctx context.Context, m api.Module, s []uint64) {
	t := h.reg.types[api.DecodeU32(s[0])]
	if t == nil {
		panic(fmt.Errorf("%w: take_value of an unknown type", errThrown))
	}
	v, err := h.readValue(m, t, api.DecodeU32(s[1]))
	if err != nil {
		panic(fmt.Errorf("%w: %v", errThrown, err))
	}
	s[0] = api.EncodeU32(h.ev.toHandle(v))
}
