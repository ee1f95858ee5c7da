package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/linectl/linectl/internal/simgw"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// benchSigner measures the WebAssembly signer with LINE's own module, when
// one is available locally (LINECTL_TEST_LTSM_DIR or .ltsm/); the project
// cannot ship it.
func benchSigner(report *strings.Builder, bin, dir string, runs int, sb *sendBench) {
	ltsm := os.Getenv("LINECTL_TEST_LTSM_DIR")
	if ltsm == "" {
		ltsm = ".ltsm"
	}
	wasmPath := filepath.Join(ltsm, "ltsm.wasm")
	if _, err := os.Stat(wasmPath); err != nil {
		// Keep the figures of the last run that had the module, marked as such.
		if prev := previousSignerSection(); prev != "" {
			report.WriteString(prev)
			return
		}
		fmt.Fprintf(report, "## x-hmac signer\n\nNot measured: LINE's ltsm.wasm is not available here (set LINECTL_TEST_LTSM_DIR).\n\n")
		return
	}
	rt, err := os.MkdirTemp("", "lcb")
	must(err)
	defer os.RemoveAll(rt)
	cfg := filepath.Join(dir, "signer-cfg", "config.yaml")
	cache := filepath.Join(dir, "signer-cache")
	base := append(os.Environ(), "LINECTL_CONFIG="+cfg, "XDG_CACHE_HOME="+cache, "XDG_RUNTIME_DIR="+rt, "LINECTL_SIGNER_COMMAND=")
	inProcess := append(base, "LINECTL_SIGNER_AGENT=off")
	_, err = run(inProcess, nil, bin, "signer", "import", wasmPath)
	must(err)
	args := []string{"signer", "sign", "--path", "/api/talk/thrift/Talk/TalkService/getProfile", "--body", "[2]"}
	cold, err := run(inProcess, nil, bin, args...)
	must(err)
	warmRuns := func(env []string) sample {
		var s []sample
		for i := 0; i < runs; i++ {
			measure := run
			if i == 0 {
				measure = withRSS
			}
			x, err := measure(env, nil, bin, args...)
			must(err)
			s = append(s, x)
		}
		return median(s)
	}
	w := warmRuns(inProcess)

	// With the signer agent up (what signer.agent: auto leaves running after the first run).
	stop := startAgent(bin, base)
	a := warmRuns(append(base, "LINECTL_SIGNER_AGENT=auto"))
	stop()

	version, err := run(base, nil, bin, "version")
	must(err)
	var sendRows string
	if sb != nil {
		sendRows = benchSignedSend(bin, wasmPath, rt, cache, runs, sb)
	}

	// Further signatures in one process: batches of 100, so that the
	// machine's moments of contention show as spread, not as one mean.
	s, err := wasmsign.OpenFile(context.Background(), wasmPath, wasmsign.Options{})
	must(err)
	defer s.Close()
	req := lineapi.SignRequest{Path: "/api/talk/thrift/Talk/TalkService/sendMessage", Body: `[1,{"text":"hello"}]`, AccessToken: "token", Version: "3.7.2"}
	_, err = s.Sign(context.Background(), req)
	must(err)
	var batches []time.Duration
	for b := 0; b < 15; b++ {
		start := time.Now()
		for i := 0; i < 100; i++ {
			_, err := s.Sign(context.Background(), req)
			must(err)
		}
		batches = append(batches, time.Since(start)/100)
	}
	sort.Slice(batches, func(i, j int) bool { return batches[i] < batches[j] })
	us := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Nanoseconds())/1e6) }

	fmt.Fprintf(report, "## x-hmac signer (LINE's ltsm.wasm under wazero)\n\n| measurement | value | target |\n|---|---:|---:|\n")
	fmt.Fprintf(report, "| `linectl signer sign`, cold cache (first run: compile + loadToken) | %s | – |\n", ms(cold.wall))
	fmt.Fprintf(report, "| `linectl signer sign`, warm cache, module loaded in the process (`signer.agent: off`; median of %d) | %s (peak RSS %.1f MB) | ≤ 50 ms |\n", runs, ms(w.wall), mb(w.rss))
	fmt.Fprintf(report, "| `linectl signer sign`, warm, signer agent running (the default after the first run; median of %d) | %s (peak RSS %.1f MB) | ≤ 50 ms |\n", runs, ms(a.wall), mb(a.rss))
	fmt.Fprintf(report, "| `linectl version` on the same machine (process start-up floor) | %s | – |\n", ms(version.wall))
	fmt.Fprintf(report, "| each further signature in one process (15 batches of 100: median batch / fastest / slowest) | %s / %s / %s | ≤ 1 ms |\n\n",
		us(batches[len(batches)/2]), us(batches[0]), us(batches[len(batches)-1]))
	fmt.Fprint(report, sendRows)
}

// sendBench is the logged-in simulator setup of the send benchmark.
type sendBench struct {
	cfg, url string
	curl     time.Duration // curl's median for one sendMessage
}

// benchSignedSend measures one send signed by LINE's module (the simulator
// here does not check signatures, so the module's real work is timed), with
// the module loaded in the process and with the signer agent up.
func benchSignedSend(bin, wasmPath, rt, cache string, runs int, sb *sendBench) string {
	env := append(os.Environ(), "LINECTL_CONFIG="+sb.cfg, "LINECTL_GATEWAY="+sb.url, "XDG_CACHE_HOME="+cache, "XDG_RUNTIME_DIR="+rt, "LINECTL_SIGNER_COMMAND=")
	_, err := run(env, nil, bin, "signer", "import", wasmPath)
	must(err)
	args := []string{"send", "--to", simgw.FamilyMID, "signed bench message"}
	in := func(mode string) sample {
		var s []sample
		for i := 0; i < runs; i++ {
			measure := run
			if i == 0 {
				measure = withRSS
			}
			x, err := measure(append(env, "LINECTL_SIGNER_AGENT="+mode), nil, bin, args...)
			must(err)
			s = append(s, x)
		}
		return median(s)
	}
	off := in("off")
	stop := startAgent(bin, env)
	on := in("auto")
	stop()
	var b strings.Builder
	fmt.Fprintf(&b, "One `linectl send` (4 requests, each signed by LINE's module) against the simulator, next to curl's one unsigned request above:\n\n")
	fmt.Fprintf(&b, "| command | median wall | peak RSS | vs curl |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| `linectl send`, module loaded in the process (`signer.agent: off`) | %s | %.1f MB | %.2f× |\n", ms(off.wall), mb(off.rss), ratio(off.wall, sb.curl))
	fmt.Fprintf(&b, "| `linectl send`, signer agent running | %s | %.1f MB | %.2f× |\n\n", ms(on.wall), mb(on.rss), ratio(on.wall, sb.curl))
	return b.String()
}

// startAgent runs 'linectl signer agent' until the returned stop is called.
func startAgent(bin string, env []string) (stop func()) {
	agent := exec.Command(bin, "signer", "agent", "--idle", "0")
	agent.Env = env
	out, err := agent.StdoutPipe()
	must(err)
	must(agent.Start())
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || !strings.Contains(line, `"running"`) {
		must(fmt.Errorf("signer agent did not start: %q %v", line, err))
	}
	return func() {
		_, err := run(env, nil, bin, "signer", "agent", "--stop")
		must(err)
		_ = agent.Wait()
	}
}

// previousSignerSection is the signer section of the current
// docs/benchmarks.md when it holds measured figures (its heading names the
// module and it says when it was measured), else "".
func previousSignerSection() string {
	b, err := os.ReadFile(filepath.Join("docs", "benchmarks.md"))
	if err != nil {
		return ""
	}
	const head = "## x-hmac signer (LINE's ltsm.wasm under wazero)"
	i := strings.Index(string(b), head)
	if i < 0 || !strings.Contains(string(b[i:]), "Measured on") {
		return ""
	}
	return strings.TrimRight(string(b[i:]), "\n") + "\n\n"
}
