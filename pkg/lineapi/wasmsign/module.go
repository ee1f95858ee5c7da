package wasmsign

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// instance is one running copy of the module.
type instance struct {
	rt wazero.Runtime
	h  *host
}

// instantiate loads the module bytes, runs its constructors (which register
// the embind bindings) and returns the instance.
func instantiate(ctx context.Context, wasm []byte, origin string, cache wazero.CompilationCache) (*instance, error) {
	cfg := wazero.NewRuntimeConfig()
	if cache != nil {
		cfg = cfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	h := &host{reg: newRegistry(), ev: newEmvals(), origin: origin}
	if err := h.build(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasmsign: compile: %w", err)
	}
	mod, err := rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, memoryAllocator()), cm, wazero.NewModuleConfig().WithName("ltsm").WithStartFunctions())
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasmsign: instantiate: %w", err)
	}
	h.mod = mod
	export := func(minified, full string) api.Function {
		if f := mod.ExportedFunction(minified); f != nil {
			return f
		}
		return mod.ExportedFunction(full)
	}
	h.malloc, h.freeFn = export("V", "malloc"), export("R", "free")
	ctors := export("P", "__wasm_call_ctors")
	if h.malloc == nil || h.freeFn == nil || ctors == nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasmsign: the module lacks the expected exports (not the known build)")
	}
	if err := safeCall(func() error { _, err := ctors.Call(ctx); return err }); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasmsign: module start-up: %w", err)
	}
	return &instance{rt: rt, h: h}, nil
}

func safeCall(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errThrown, r)
		}
	}()
	return f()
}

// describe lists the registered classes and functions (for diagnostics).
func (in *instance) describe() string {
	var sb strings.Builder
	names := make([]string, 0, len(in.h.reg.classes))
	for n := range in.h.reg.classes {
		names = append(names, n)
	}
	sort.Strings(names)
	tn := func(ids []uint32) string {
		var p []string
		for _, id := range ids {
			if t := in.h.reg.types[id]; t != nil {
				p = append(p, t.name)
			} else {
				p = append(p, fmt.Sprint("?", id))
			}
		}
		return strings.Join(p, ", ")
	}
	for _, n := range names {
		c := in.h.reg.classes[n]
		fmt.Fprintf(&sb, "class %s\n", n)
		for argc, m := range c.ctors {
			fmt.Fprintf(&sb, "  ctor/%d (%s) sig %s\n", argc, tn(m.argTypes), m.signature)
		}
		for _, m := range c.statics {
			fmt.Fprintf(&sb, "  static %s (%s) sig %s\n", m.name, tn(m.argTypes), m.signature)
		}
		for _, m := range c.methods {
			fmt.Fprintf(&sb, "  %s (%s) sig %s\n", m.name, tn(m.argTypes), m.signature)
		}
	}
	for _, m := range in.h.reg.functions {
		fmt.Fprintf(&sb, "function %s (%s) sig %s\n", m.name, tn(m.argTypes), m.signature)
	}
	return sb.String()
}

func (in *instance) close(ctx context.Context) { in.rt.Close(ctx) }
