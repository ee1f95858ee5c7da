//go:build linux || darwin || freebsd

package signer

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/pkg/lineapi"
)

// An agent that goes away mid-run: the run signs with its own module from
// then on; a refusal by the agent's module is not hidden by a local retry.
func TestAgentSignerFallsBackWhenTheAgentGoes(t *testing.T) {
	rt, err := os.MkdirTemp("", "lc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(rt)
	t.Setenv("XDG_RUNTIME_DIR", rt)
	path, err := signagent.SocketPath("t")
	if err != nil {
		t.Fatal(err)
	}
	ln, closeFn, err := agent.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &signagent.Server{Signer: lineapi.SignerFunc(func(_ context.Context, r lineapi.SignRequest) (string, error) {
		if r.Path == "/refused" {
			return "", errors.New("refused by the module")
		}
		return "agent", nil
	})}
	done := make(chan struct{})
	go func() { srv.Serve(context.Background(), ln); closeFn(); close(done) }()
	cl, err := signagent.Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	s := &agentSigner{agent: cl, local: func() (lineapi.Signer, error) {
		loads++
		return lineapi.SignerFunc(func(context.Context, lineapi.SignRequest) (string, error) { return "local", nil }), nil
	}}
	ctx := context.Background()
	if sig, err := s.Sign(ctx, lineapi.SignRequest{Path: "/a"}); sig != "agent" || err != nil {
		t.Fatalf("%q %v", sig, err)
	}
	if _, err := s.Sign(ctx, lineapi.SignRequest{Path: "/refused"}); err == nil || !strings.Contains(err.Error(), "refused by the module") || loads != 0 {
		t.Fatalf("refusal: %v (local loads %d)", err, loads)
	}
	stopper, _ := signagent.Dial(path)
	stopper.Stop(ctx)
	<-done
	for i := 0; i < 2; i++ {
		if sig, err := s.Sign(ctx, lineapi.SignRequest{Path: "/a"}); sig != "local" || err != nil {
			t.Fatalf("after the agent left: %q %v", sig, err)
		}
	}
	if loads != 1 {
		t.Fatalf("module loaded %d times, want once", loads)
	}
}
