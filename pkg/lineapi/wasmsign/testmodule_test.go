package wasmsign

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// The project's own embind module (testdata/ltsm/testmodule.cpp) exercises
// the host layer for real in CI, without LINE's module.
func testModule(t *testing.T) []byte {
	b, err := os.ReadFile("../../../testdata/ltsm/testmodule.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reference computes testmodule.cpp's documented function in Go.
func reference(token, version, accessToken string, msg []byte) []byte {
	var k [32]byte
	for i := range k {
		sum := 0
		for j := 0; j < len(token); j++ {
			sum += int(token[j]) * (i + j + 1)
		}
		k[i] = byte(sum)
	}
	a := sha256Sum(version)
	b := sha256Sum(accessToken)
	for i := range k {
		yb := b[i%len(b)]
		k[i] ^= a[i%len(a)] ^ (yb<<1 | yb>>7)
	}
	out := make([]byte, 32)
	for i := range out {
		sum := 0
		for j, c := range msg {
			sum += int(c) * (i + j + 1)
		}
		out[i] = k[i] ^ byte(sum)
	}
	return out
}

func TestHostLayerWithTestModule(t *testing.T) {
	wasm := testModule(t)
	state := t.TempDir()
	for _, run := range []string{"first open", "second open"} {
		s, err := Open(context.Background(), wasm, Options{AllowUnknownBuild: true, Token: "test-token", StateDir: state})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ token, path, body string }{
			{"", "/api/talk/thrift/Talk/TalkService/getProfile", "[2]"},
			{"access-token", "/api/talk/thrift/Talk/TalkService/sendMessage", `[1,{"text":"テスト 😀"}]`},
			{"access-token", "/api/talk/long-polling/JQ", ""},
		} {
			got, err := s.Sign(context.Background(), lineapi.SignRequest{Path: tc.path, Body: tc.body, AccessToken: tc.token, Version: "3.7.2"})
			if err != nil {
				t.Fatalf("%s: %v", run, err)
			}
			want := b64(reference("test-token", "3.7.2", tc.token, []byte(tc.path+tc.body)))
			if got != want {
				t.Fatalf("%s %s: got %s, want %s", run, tc.path, got, want)
			}
		}
		s.Close()
	}
}

func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// A long-lived signer (the agent) sees many access tokens over months: the
// objects made for old tokens must be deleted, or the module's fixed memory
// fills up. Measured as where a fresh 1 MiB allocation lands.
func TestManyTokensDoNotFillTheModule(t *testing.T) {
	s, err := Open(context.Background(), testModule(t), Options{AllowUnknownBuild: true, Token: "test-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	heapTop := func() uint64 {
		t.Helper()
		out, err := s.in.h.malloc.Call(context.Background(), 1<<20)
		if err != nil || out[0] == 0 {
			t.Fatalf("malloc: %v %v", out, err)
		}
		s.in.h.freeFn.Call(context.Background(), out[0])
		return out[0]
	}
	sign := func(i int) {
		r := lineapi.SignRequest{Path: "/p", Body: "b", AccessToken: fmt.Sprint("token-", i), Version: "3.7.2"}
		got, err := s.Sign(context.Background(), r)
		if want := b64(reference("test-token", "3.7.2", r.AccessToken, []byte("/pb"))); err != nil || got != want {
			t.Fatalf("token %d: %q %v, want %s", i, got, err, want)
		}
	}
	for i := 0; i < 200; i++ {
		sign(i)
	}
	before := heapTop()
	for i := 200; i < 3000; i++ {
		sign(i)
	}
	if after := heapTop(); after > before+64<<10 {
		t.Fatalf("the module's heap grew from %d to %d over 2,800 tokens", before, after)
	}
}
