// Command bench measures linectl against the plainest alternative, in one
// run, and writes docs/benchmarks.md: one `linectl send` vs curl posting the
// same sendMessage request; `send --jsonl` with 1,000 messages vs 1,000
// `linectl send` processes; `receive` of a recorded 1,000,000-operation stream
// vs `curl -N | jq -c` doing the same projection; `notify serve`: requests
// per second and the latency of one request next to one `linectl send`, and
// its latency under 8 concurrent clients; a cold send through the gateway
// agent at 40 ms RTT; a 5 MB image at 0 and 40 ms RTT and a 1 GiB file (send
// and download) against curl moving the same bytes. Everything runs on
// loopback against the project's simulator (or a file server for the
// recorded stream). Each -X-only flag measures one section and prints it,
// leaving docs/benchmarks.md untouched.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

type sample struct {
	wall time.Duration
	rss  int64 // KiB
}

// run runs one command under GNU time, whose own small footprint keeps the
// child's peak RSS honest (a child cloned from this process would otherwise
// report this process's high-water mark as its own).
func measureRSS(env []string, stdin []byte, name string, args ...string) (sample, error) {
	rssFile, err := os.CreateTemp("", "rss-")
	if err != nil {
		return sample{}, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile.Name(), name}, args...)...)
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &errb
	start := time.Now()
	err = cmd.Run()
	s := sample{wall: time.Since(start)}
	if b, rerr := os.ReadFile(rssFile.Name()); rerr == nil {
		lines := strings.Fields(string(b))
		if len(lines) > 0 {
			s.rss, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
		}
	}
	if err != nil {
		return s, fmt.Errorf("%s %v: %v: %s", name, args, err, errb.String())
	}
	return s, nil
}

// run measures wall time only (no wrapper process in the way).
func run(env []string, stdin []byte, name string, args ...string) (sample, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	s := sample{wall: time.Since(start)}
	if err != nil {
		return s, fmt.Errorf("%s %v: %v: %s", name, args, err, errb.String())
	}
	return s, nil
}

// withRSS is run plus one extra wrapped run for the peak RSS.
func withRSS(env []string, stdin []byte, name string, args ...string) (sample, error) {
	s, err := run(env, stdin, name, args...)
	if err != nil {
		return s, err
	}
	r, err := measureRSS(env, stdin, name, args...)
	s.rss = r.rss
	return s, err
}

func shell(env []string, script string) (sample, error) { return run(env, nil, "bash", "-c", script) }

func median(s []sample) sample {
	sort.Slice(s, func(i, j int) bool { return s[i].wall < s[j].wall })
	var rss int64
	for _, x := range s {
		rss = max(rss, x.rss)
	}
	return sample{wall: s[len(s)/2].wall, rss: rss}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func main() {
	bin := flag.String("bin", "bin/linectl", "linectl binary")
	out := flag.String("out", "docs/benchmarks.md", "report file")
	runs := flag.Int("runs", 25, "runs per single-call measurement")
	ops := flag.Int("ops", 1000000, "operations in the recorded stream")
	signerOnly := flag.Bool("signer-only", false, "measure only the signer and print it (docs/benchmarks.md untouched)")
	receiveOnly := flag.Bool("receive-only", false, "measure only receive (100,000 operations) and print it (docs/benchmarks.md untouched)")
	mediaOnly := flag.Bool("media-only", false, "measure only the 5 MB image send (0 and 40 ms RTT) and print it (docs/benchmarks.md untouched)")
	mediaRTTOnly := flag.Bool("media-rtt-only", false, "measure only the 5 MB image send at 40 ms RTT and print it (docs/benchmarks.md untouched)")
	latencyOnly := flag.Bool("latency-only", false, "measure only the round trips (0 and 40 ms) and print them (docs/benchmarks.md untouched)")
	bigOnly := flag.Bool("bigfile-only", false, "measure only the 1 GiB file (send and download) and print it (docs/benchmarks.md untouched)")
	bigRuns := flag.Int("bigfile-runs", 3, "runs per 1 GiB measurement")
	agentColdOnly := flag.Bool("agent-cold-only", false, "measure only the cold send through the gateway agent at 40 ms RTT and print it (docs/benchmarks.md untouched)")
	serveLoadOnly := flag.Bool("serve-load-only", false, "measure only notify serve under load (1 and 8 clients) and print it (docs/benchmarks.md untouched)")
	serveRequests := flag.Int("serve-requests", 400, "requests per notify serve load measurement")
	notifyOnly := flag.Bool("notify-only", false, "measure only one send and notify serve and print it (docs/benchmarks.md untouched)")
	flag.Parse()
	abs, _ := filepath.Abs(*bin)
	dir, _ := os.MkdirTemp("", "linectl-bench-")
	defer os.RemoveAll(dir)
	if *receiveOnly {
		report := &strings.Builder{}
		benchReceive(report, abs, dir, []int{*ops / 10})
		fmt.Print(report.String())
		return
	}
	if *latencyOnly {
		report := &strings.Builder{}
		benchLatency(report, abs, dir, min(*runs, 9))
		fmt.Print(report.String())
		return
	}
	if *bigOnly {
		report := &strings.Builder{}
		benchBigFile(report, abs, dir, *bigRuns)
		fmt.Print(report.String())
		return
	}
	if *agentColdOnly {
		report := &strings.Builder{}
		benchAgentCold(report, abs, dir, min(*runs, 9))
		fmt.Print(report.String())
		return
	}
	if *serveLoadOnly {
		report := &strings.Builder{}
		benchServeLoad(report, abs, dir, min(*runs, 9), *serveRequests)
		fmt.Print(report.String())
		return
	}
	if *mediaOnly || *mediaRTTOnly {
		report := &strings.Builder{}
		rtts := []time.Duration{0, 40 * time.Millisecond}
		if *mediaRTTOnly {
			rtts = rtts[1:]
		}
		benchMedia(report, abs, dir, *runs, rtts)
		fmt.Print(report.String())
		return
	}
	if *signerOnly {
		report := &strings.Builder{}
		benchSigner(report, abs, dir, *runs, nil)
		fmt.Print(report.String())
		return
	}

	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond})
	url, err := sim.Start("127.0.0.1:0")
	must(err)
	defer sim.Close()
	cfg := filepath.Join(dir, "cfg", "config.yaml")
	env := append(os.Environ(), "LINECTL_CONFIG="+cfg, "LINECTL_GATEWAY="+url, "LINECTL_SIGNER=none")
	_, err = run(env, nil, abs, "login", "qr")
	must(err)
	token := readToken(cfg)
	report := &strings.Builder{}
	fmt.Fprintf(report, "# Benchmarks\n\nMeasured by `make bench` (scripts/bench) on %s, %s/%s, %d CPUs, Go %s. Everything runs on loopback\nagainst the project's simulator; wall time is the median of the runs, RSS the peak resident set of the measured process.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())

	// 1. One send vs curl posting the same sendMessage request.
	var ls, lsOff, cs []sample
	seq := 1000
	for i := 0; i < *runs; i++ {
		measure := run
		if i == 0 {
			measure = withRSS
		}
		s, err := measure(env, nil, abs, "send", "--to", simgw.FamilyMID, "bench message")
		must(err)
		ls = append(ls, s)
		s, err = measure(env, nil, abs, "send", "--e2ee", "off", "--to", simgw.FamilyMID, "bench message")
		must(err)
		lsOff = append(lsOff, s)
		seq++
		s, err = measure(env, nil, "curl", curlSend(url, token, seq)...)
		must(err)
		cs = append(cs, s)
	}
	l, lo, c := median(ls), median(lsOff), median(cs)
	if *notifyOnly {
		fmt.Fprintf(report, "`linectl send` %s, curl sendMessage %s\n\n", ms(l.wall), ms(c.wall))
		benchNotify(report, abs, cfg, env, *runs, l.wall)
		fmt.Print(report.String())
		return
	}
	fmt.Fprintf(report, "## One send (whole process)\n\n| command | median wall | peak RSS | vs curl |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(report, "| `curl` POST sendMessage (1 request) | %s | %.1f MB | 1.00× |\n", ms(c.wall), mb(c.rss))
	fmt.Fprintf(report, "| `linectl send` (warm: probe cached, revision reused; 1 request) | %s | %.1f MB | %.2f× |\n", ms(l.wall), mb(l.rss), ratio(l.wall, c.wall))
	fmt.Fprintf(report, "| `linectl send --e2ee off` (1 request) | %s | %.1f MB | %.2f× |\n\n", ms(lo.wall), mb(lo.rss), ratio(lo.wall, c.wall))
	fmt.Fprintf(report, "Target: ≤ 1.5× curl, ≤ 25 MB. %d runs each; every run after the first is a warm send (see the round trips below for cold ones).\n\n", *runs)
	benchLatency(report, abs, dir, min(*runs, 9))
	benchAgentCold(report, abs, dir, min(*runs, 9))

	// 2. 1,000 messages: one --jsonl process vs 1,000 processes.
	var jsonl bytes.Buffer
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&jsonl, "{\"to\":%q,\"text\":\"jsonl %d\"}\n", simgw.FamilyMID, i)
	}
	j, err := run(env, jsonl.Bytes(), abs, "send", "--jsonl", "--rate", "0")
	must(err)
	start := time.Now()
	for i := 0; i < 1000; i++ {
		_, err := run(env, nil, abs, "send", "--to", simgw.FamilyMID, "process "+strconv.Itoa(i))
		must(err)
	}
	procs := time.Since(start)
	fmt.Fprintf(report, "## 1,000 messages\n\n| how | wall | speed-up |\n|---|---:|---:|\n| 1,000 × `linectl send` | %s | 1× |\n| `linectl send --jsonl --rate 0` | %s | %.1f× |\n\nTarget: ≥ 20×. (`--rate 0` lifts the client-side limit, default 10/s, which would otherwise dominate.)\n\n",
		ms(procs), ms(j.wall), float64(procs)/float64(j.wall))

	// 3. Receive: a recorded stream served from a file.
	benchReceive(report, abs, dir, []int{*ops / 10, *ops})
	benchNotify(report, abs, cfg, env, *runs, l.wall)
	benchServeLoad(report, abs, dir, min(*runs, 9), *serveRequests)
	benchMedia(report, abs, dir, *runs, []time.Duration{0, 40 * time.Millisecond})
	benchBigFile(report, abs, dir, *bigRuns)
	benchSigner(report, abs, dir, *runs, &sendBench{cfg: cfg, url: url, curl: c.wall})
	must(os.WriteFile(*out, []byte(report.String()), 0o644))
	fmt.Print(report.String())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
func mb(kib int64) float64      { return float64(kib) / 1024 }
func ratio(a, b time.Duration) float64 {
	return float64(a) / float64(b)
}

func readToken(cfg string) string {
	f, err := os.Open(cfg)
	must(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "accessToken:"); ok {
			return strings.TrimSpace(v)
		}
	}
	must(fmt.Errorf("no token in %s", cfg))
	return ""
}

// record writes a stream shaped like the seed's: messages with \u escapes.
func record(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("event: connInfoRevision\ndata: 396\n\n")
	for i := 1; i <= n; i++ {
		rev := 947933 + i
		if i%1000 == 0 {
			w.WriteString("event: ping\ndata: null\n\n")
		}
		fmt.Fprintf(w, "id: %d\ndata: {\"revision\":\"%d\",\"createdTime\":\"1773625305500\",\"type\":26,\"reqSeq\":0,\"param1\":\"0\",\"message\":{\"from\":\"%s\",\"to\":\"%s\",\"toType\":2,\"id\":\"6053118894502%05d\",\"createdTime\":\"1773625305497\",\"text\":\"\\u30c6\\u30b9\\u30c8 %d\",\"hasContent\":false,\"contentType\":0,\"contentMetadata\":{},\"sessionId\":0,\"reactions\":[]}}\n\n",
			rev, rev, simgw.BobMID, simgw.FamilyMID, i%100000, i)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// benchReceive measures linectl receive against curl | jq on recorded
// streams of each length, served from a file.
func benchReceive(report *strings.Builder, abs, dir string, lengths []int) {
	for _, n := range lengths {
		rec := filepath.Join(dir, fmt.Sprintf("stream-%d.sse", n))
		must(record(rec, n))
		last := int64(947933 + n)
		var conns atomic.Int32
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/getLastOpRevision") {
				// receive asks for the newest revision first: the recording's last.
				w.Header().Set("content-type", "application/json")
				fmt.Fprintf(w, `{"code":0,"message":"OK","data":"%d"}`, last)
				return
			}
			conns.Add(1)
			w.Header().Set("content-type", "text/event-stream")
			// As LINE does, a stream opened at the newest revision has nothing to replay.
			if rev, _ := strconv.ParseInt(r.URL.Query().Get("localRev"), 10, 64); rev >= last {
				return
			}
			http.ServeFile(w, r, rec)
		})}
		ln, err := netListen()
		must(err)
		go srv.Serve(ln)
		surl := "http://" + ln.Addr().String()
		rcfg := filepath.Join(dir, fmt.Sprintf("recv-%d", n), "config.yaml")
		must(os.MkdirAll(filepath.Dir(rcfg), 0o700))
		must(os.WriteFile(rcfg, []byte("account:\n  mid: "+simgw.AliceMID+"\ntokens:\n  accessToken: bench\n"), 0o600))
		renv := append(os.Environ(), "LINECTL_CONFIG="+rcfg, "LINECTL_GATEWAY="+surl, "LINECTL_SIGNER=none")
		lr, err := withRSS(renv, nil, abs, "receive", "--from-revision", "0", "--wait", "10ms")
		must(err)
		if c := conns.Load(); c > 3 {
			fmt.Fprintf(os.Stderr, "bench: receive opened the recorded stream %d times\n", c)
		}
		proj := `select(startswith("data: ")) | .[6:] | fromjson | {type:"operation", revision, opType:.type, createdTime, reqSeq, param1, param2, param3, message}`
		jr, err := shell(renv, "curl -sN '"+surl+"/api/operation/receive?localRev=0' | jq -cR '"+proj+"' > /dev/null")
		must(err)
		srv.Close()
		fmt.Fprintf(report, "## Receive: %d operations from a recorded stream\n\n| command | wall | ops/s | peak RSS | throughput vs curl·jq |\n|---|---:|---:|---:|---:|\n", n)
		fmt.Fprintf(report, "| `curl -N … \\| jq -c` (projection) | %s | %.0f | – | 1.00× |\n", ms(jr.wall), float64(n)/jr.wall.Seconds())
		fmt.Fprintf(report, "| `linectl receive` | %s | %.0f | %.1f MB | %.2f× |\n\n", ms(lr.wall), float64(n)/lr.wall.Seconds(), mb(lr.rss), ratio(jr.wall, lr.wall))
	}
	fmt.Fprintf(report, "Target: ≥ 3× curl·jq throughput, ≤ 30 MB and flat (compare the two stream lengths).\n\n")
}
