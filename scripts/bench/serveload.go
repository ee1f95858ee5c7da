package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// load runs total requests from clients concurrent clients, each with a
// keep-alive connection of its own (opened by one request first, not
// counted), and returns each request's latency and the wall time of all.
func load(clients, total int, do func(hc *http.Client, i int) error) ([]time.Duration, time.Duration) {
	hcs := make([]*http.Client, clients)
	for c := range hcs {
		hcs[c] = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
		must(do(hcs[c], -1-c))
	}
	next := make(chan int)
	lat := make([]time.Duration, total)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for _, hc := range hcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				if err := do(hc, i); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	for i := 0; i < total; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(start)
	for _, hc := range hcs {
		hc.CloseIdleConnections()
	}
	select {
	case err := <-errs:
		must(err)
	default:
	}
	return lat, wall
}

// loadReps is how many times loads runs a load: the quantiles are of all
// their requests (a p99 of 400 is its 4th slowest: one hiccup of a shared
// machine moves it).
const loadReps = 5

// loads runs load loadReps times, half a second apart — the servers' send
// rate (send.ratePerSecond 1000, its burst 1000) is back to full between
// them, so no request waits for it — and returns all the latencies and the
// wall time of all the loads.
func loads(clients, total int, do func(hc *http.Client, i int) error) ([]time.Duration, time.Duration) {
	all, wall, _ := loadsIdle(clients, total, do)
	return all, wall
}

// loadsIdle is loads, and the share of the machine's CPU time that was idle
// during the loads (from /proc/stat; -1 where there is none).
func loadsIdle(clients, total int, do func(hc *http.Client, i int) error) ([]time.Duration, time.Duration, float64) {
	var all []time.Duration
	var wall time.Duration
	var idle, busy int64
	for rep := range loadReps {
		if rep > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		i0, b0 := cpuTimes()
		lat, w := load(clients, total, func(hc *http.Client, i int) error {
			if i >= 0 {
				i += rep * total // every request of every load its own number (retry keys, texts)
			} else {
				i -= rep * clients
			}
			return do(hc, i)
		})
		i1, b1 := cpuTimes()
		all, wall, idle, busy = append(all, lat...), wall+w, idle+i1-i0, busy+b1-b0
	}
	if idle+busy <= 0 {
		return all, wall, -1
	}
	return all, wall, float64(idle) / float64(idle+busy)
}

// cpuTimes is the machine's idle and busy CPU time so far, in clock ticks
// (Linux's /proc/stat; zeros elsewhere).
func cpuTimes() (idle, busy int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i := 1; i < len(f); i++ {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		if i == 4 || i == 5 { // idle, iowait
			idle += n
		} else if i <= 8 { // user nice system irq softirq steal
			busy += n
		}
	}
	return idle, busy
}

// pct is the q-quantile (nearest rank) of d.
func pct(d []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[max(0, int(math.Ceil(q*float64(len(s))))-1)]
}

// post sends one request and checks for a 200.
func post(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s answered %d", req.URL.Path, resp.StatusCode)
	}
	return nil
}

// benchServeLoad: clients posting to a running `notify serve`, and pushing
// through the Messaging API of a running `linectl serve`, against the same
// clients posting sendMessage straight to the simulator (the request the
// server makes for each message), latency at p50 and p99 and requests per
// second, from 1 and from 8 concurrent keep-alive clients; and one `linectl
// send` process for reference.
func benchServeLoad(report *strings.Builder, bin, dir string, runs, total int) {
	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond})
	gw, err := sim.Start("127.0.0.1:0")
	must(err)
	defer sim.Close()
	cfg := filepath.Join(dir, "serve-load", "config.yaml")
	env := append(os.Environ(), "LINECTL_CONFIG="+cfg, "LINECTL_GATEWAY="+gw, "LINECTL_SIGNER=none")
	_, err = run(env, nil, bin, "login", "qr")
	must(err)
	token := readToken(cfg)
	api, ntoken, stop := startNotifyServe(bin, cfg, env)

	var ls []time.Duration
	for i := 0; i < runs; i++ {
		s, err := run(env, nil, bin, "send", "--to", simgw.FamilyMID, "direct send")
		must(err)
		ls = append(ls, s.wall)
	}
	direct := func(hc *http.Client, i int) error {
		seq := 30000 + i
		if i < 0 {
			seq = 20000 - i
		}
		body := fmt.Sprintf(`[%d,{"from":"%s","to":"%s","toType":2,"id":"local-%d","createdTime":"%d","sessionId":0,"text":"load %d","contentType":0,"contentMetadata":{},"hasContent":false}]`,
			seq, simgw.AliceMID, simgw.FamilyMID, seq, time.Now().UnixMilli(), i)
		req, _ := http.NewRequest("POST", gw+"/api/talk/thrift/Talk/TalkService/sendMessage", strings.NewReader(body))
		for k, v := range map[string]string{"content-type": "application/json", "accept": "application/json, text/plain, */*",
			"x-line-chrome-version": "3.7.2", "x-lal": "en_US", "origin": "chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc",
			"user-agent": "Mozilla/5.0 Chrome/146.0.0.0", "x-line-access": token, "cookie": "lct=" + token} {
			req.Header.Set(k, v)
		}
		return post(hc, req)
	}
	notify := func(hc *http.Client, i int) error {
		req, _ := http.NewRequest("POST", api, strings.NewReader(url.Values{"message": {fmt.Sprintf("load %d", i)}}.Encode()))
		req.Header.Set("Authorization", "Bearer "+ntoken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return post(hc, req)
	}
	type result struct {
		what     string
		clients  int
		d, s     []time.Duration
		dw, sw   time.Duration
		dps, sps float64
		idle     float64 // the machine's idle CPU during the server's loads
	}
	var rs []result
	// measure is one row: the direct sends, then the server's, back to back
	// (the simulator's state grows with every message: each row's direct
	// baseline is taken beside it).
	measure := func(what string, clients int, do func(hc *http.Client, i int) error) {
		r := result{what: what, clients: clients}
		r.d, r.dw = loads(clients, total, direct)
		r.s, r.sw, r.idle = loadsIdle(clients, total, do)
		r.dps, r.sps = float64(loadReps*total)/r.dw.Seconds(), float64(loadReps*total)/r.sw.Seconds()
		rs = append(rs, r)
	}
	for _, clients := range []int{1, 8} {
		measure("`notify serve`: POST /api/notify", clients, notify)
	}
	stop()
	// The Messaging API: `linectl serve`, a bot token, push (with a retry
	// key, as LINE's SDKs send one).
	out, err := runOutputEnv(env, bin, "bot", "token", "add", "--name", "bench", "--to", simgw.FamilyMID)
	must(err)
	btoken := jsonField(out, "token")
	base, stopServe := startServer(bin, env, "serve", "serve", "--listen", "127.0.0.1:0")
	defer stopServe()
	push := func(keyed bool) func(hc *http.Client, i int) error {
		return func(hc *http.Client, i int) error {
			body := fmt.Sprintf(`{"to":%q,"messages":[{"type":"text","text":"push %d"}]}`, simgw.FamilyMID, i)
			req, _ := http.NewRequest("POST", base+"/v2/bot/message/push", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+btoken)
			req.Header.Set("Content-Type", "application/json")
			if keyed {
				req.Header.Set("X-Line-Retry-Key", fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, uint64(i)&0xffffffffffff))
			}
			return post(hc, req)
		}
	}
	for _, keyed := range []bool{false, true} {
		what := "`serve`: POST /v2/bot/message/push"
		if keyed {
			what += ", with `X-Line-Retry-Key`"
		}
		for _, clients := range []int{1, 8} {
			measure(what, clients, push(keyed))
		}
	}
	msf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(report, "## notify serve and serve under load\n\n"+
		"%d loads of %d requests (half a second apart: the servers' send rate, `send.ratePerSecond` 1000 with a burst of 1000, "+
		"is full again for each; the quantiles are of all %d requests) from 1 and from 8 concurrent Go HTTP clients in the bench process, each client with a keep-alive connection of its own "+
		"(opened by one request before the clock starts), on loopback. **serve**: POST /api/notify to a running `notify serve`, and the "+
		"Messaging API's push (one text message; without and with an `X-Line-Retry-Key`) to a running `linectl serve` — each sends its message to the "+
		"simulator: one `sendMessage`. **direct**: the same clients posting that `sendMessage` straight to the simulator — "+
		"what a message costs without a server (measured just before each row's server loads). **Added** is the server's latency minus direct's at the same quantile and "+
		"concurrency: what the server itself costs (HTTP hop, token check, queueing behind its one sending session). The client-side send "+
		"rate (`send.ratePerSecond`, to its maximum) and the Notify token's `--rate-limit` are lifted.\n\n", loadReps, total, loadReps*total)
	fmt.Fprintf(report, "| server | clients | direct p50 | direct p99 | serve p50 | serve p99 | added p50 | added p99 | direct req/s | serve req/s | CPU idle |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		dp50, dp99, sp50, sp99 := pct(r.d, .5), pct(r.d, .99), pct(r.s, .5), pct(r.s, .99)
		idle := "–"
		if r.idle >= 0 {
			idle = fmt.Sprintf("%.0f %%", 100*r.idle)
		}
		fmt.Fprintf(report, "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %+.2f ms | %+.2f ms | %.0f | %.0f | %s |\n", r.what, r.clients,
			msf(dp50), msf(dp99), msf(sp50), msf(sp99), msf(sp50-dp50), msf(sp99-dp99), r.dps, r.sps, idle)
	}
	r8 := rs[1]
	fmt.Fprintf(report, "\nA direct `linectl send` process (the same message, %d runs, one at a time) takes %.1f ms at p50 and %.1f ms at its slowest: "+
		"over that, serve's request from 8 concurrent clients adds %+.1f ms at p50 and %+.1f ms at p99 — it saves the process start, so this "+
		"comparison flatters serve; the target is judged on the \"added\" columns.\n\n",
		runs, msf(pct(ls, .5)), msf(pct(ls, 1)), msf(pct(r8.s, .5)-pct(ls, .5)), msf(pct(r8.s, .99)-pct(ls, .5)))
	fmt.Fprintf(report, "Target (issue 29): added p99 ≤ 5 ms on loopback with 8 clients. One-message requests to a chat are sent "+
		"side by side (up to 8; a request of several messages has its chat alone, so its parts are never split): before that, the "+
		"server sent one message at a time and 8 clients queued behind each other (an earlier run: +15.9 ms added at p99). The "+
		"Messaging API push (`linectl serve`) goes through the same sender, with the same target. A push with a retry key "+
		"makes its record durable before it sends (one JSON line appended to the key journal and synced: a machine that crashes "+
		"after the send must still know the key, or the client's retry would send the message twice); pushes that come together "+
		"share one write and one sync (group commit), and the outcome after the send is written without waiting for a sync. "+
		"Before that, the whole key file was rewritten and synced twice a request under one lock (an earlier run: +27 ms at p50 "+
		"with 8 clients, 264 requests/s). The journal is zeros written ahead of its lines, so a line is made durable with "+
		"fdatasync, which need not wait for the file system's own journal commit (under CPU saturation a small test measured "+
		"an append and fsync at ~11 ms p99, the write ahead and fdatasync at 2–8 ms). That sync is what a keyed push costs over an "+
		"unkeyed one, and a push that comes while a batch is syncing waits for that one too: its added p50 is 1–2 ms above "+
		"the unkeyed push's here. It is what makes the retry key's promise (never a second copy) hold through "+
		"a crash of the machine.\n\n"+
		"**CPU idle** is the machine's idle CPU during the server's loads: with 8 clients, the clients, the server and the simulator "+
		"share two cores and leave about a tenth idle, so the slowest requests wait for a core, not for the server's work — the "+
		"p99s (of the server and of the direct sends alike) move by several milliseconds from one run to the next, and the added "+
		"p99 with them; the p50s do not.\n\n")
}
