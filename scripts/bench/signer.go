package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// benchSigner measures the WebAssembly signer with LINE's own module, when
// one is available locally (LINECTL_TEST_LTSM_DIR or .ltsm/); the project
// cannot ship it.
func benchSigner(report *strings.Builder, bin, dir string, runs int) {
	ltsm := os.Getenv("LINECTL_TEST_LTSM_DIR")
	if ltsm == "" {
		ltsm = ".ltsm"
	}
	wasmPath := filepath.Join(ltsm, "ltsm.wasm")
	if _, err := os.Stat(wasmPath); err != nil {
		fmt.Fprintf(report, "## x-hmac signer\n\nNot measured: LINE's ltsm.wasm is not available here (set LINECTL_TEST_LTSM_DIR).\n\n")
		return
	}
	cfg := filepath.Join(dir, "signer-cfg", "config.yaml")
	cache := filepath.Join(dir, "signer-cache")
	env := append(os.Environ(), "LINECTL_CONFIG="+cfg, "XDG_CACHE_HOME="+cache, "LINECTL_SIGNER_COMMAND=")
	_, err := run(env, nil, bin, "signer", "import", wasmPath)
	must(err)
	args := []string{"signer", "sign", "--path", "/api/talk/thrift/Talk/TalkService/getProfile", "--body", "[2]"}
	cold, err := run(env, nil, bin, args...)
	must(err)
	var warm []sample
	for i := 0; i < runs; i++ {
		measure := run
		if i == 0 {
			measure = withRSS
		}
		s, err := measure(env, nil, bin, args...)
		must(err)
		warm = append(warm, s)
	}
	w := median(warm)
	version, err := run(env, nil, bin, "version")
	must(err)

	wasm, err := os.ReadFile(wasmPath)
	must(err)
	s, err := wasmsign.Open(context.Background(), wasm, wasmsign.Options{})
	must(err)
	defer s.Close()
	req := lineapi.SignRequest{Path: "/api/talk/thrift/Talk/TalkService/sendMessage", Body: `[1,{"text":"hello"}]`, AccessToken: "token", Version: "3.7.2"}
	_, err = s.Sign(context.Background(), req)
	must(err)
	n := 500
	start := time.Now()
	for i := 0; i < n; i++ {
		_, err := s.Sign(context.Background(), req)
		must(err)
	}
	per := time.Since(start) / time.Duration(n)
	fmt.Fprintf(report, "## x-hmac signer (LINE's ltsm.wasm under wazero)\n\n| measurement | value | target |\n|---|---:|---:|\n")
	fmt.Fprintf(report, "| `linectl signer sign`, cold cache (first run: compile + loadToken) | %s | – |\n", ms(cold.wall))
	fmt.Fprintf(report, "| `linectl signer sign`, warm cache (median of %d) | %s (peak RSS %.1f MB) | ≤ 50 ms |\n", runs, ms(w.wall), mb(w.rss))
	fmt.Fprintf(report, "| `linectl version` on the same machine (process start-up floor) | %s | – |\n", ms(version.wall))
	fmt.Fprintf(report, "| each further signature in one process (mean of %d) | %.3f ms | ≤ 1 ms |\n\n", n, float64(per.Microseconds())/1000)
}
