//go:build linux || darwin || freebsd

package cmd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/gwagent"
)

// gatewayAgent decides whether a client goes through an agent: only when one
// answers (auto, start), never with off; an unknown mode is a config error;
// looking for an agent creates nothing.
func TestGatewayAgentOptions(t *testing.T) {
	rt, err := os.MkdirTemp("", "lc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(rt)
	t.Setenv("XDG_RUNTIME_DIR", rt)
	const gw = "http://127.0.0.1:9"
	f := newFactory(&iostreams{})
	opts := func(mode string) int {
		t.Helper()
		o, err := f.gatewayAgentOptions(&config.Config{Gateway: gw, GatewayAgent: mode})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		return len(o)
	}
	if opts("") != 0 || opts("auto") != 0 {
		t.Fatal("an agent was used with none running")
	}
	if _, err := os.Stat(filepath.Join(rt, "linectl")); !os.IsNotExist(err) {
		t.Fatalf("looking for an agent created its directory: %v", err)
	}
	if _, err := f.gatewayAgentOptions(&config.Config{Gateway: gw, GatewayAgent: "sometimes"}); err == nil || classify(err).code != ExitUsage {
		t.Fatalf("unknown mode: %v", err)
	}

	path, err := gwagent.SocketPath(gw)
	if err != nil {
		t.Fatal(err)
	}
	ln, closeFn, err := agent.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { (&gwagent.Server{Gateway: gw}).Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done; closeFn() }()
	if opts("") != 1 || opts("auto") != 1 || opts("start") != 1 {
		t.Fatal("a running agent was not used")
	}
	if opts("off") != 0 {
		t.Fatal("off used the agent")
	}
}
