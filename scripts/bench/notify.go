package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// benchNotify measures `linectl notify serve` against the simulator: the
// wall time of one curl POST /api/notify next to one `linectl send` (the
// latency the server adds, or saves, over a process per message), and
// requests per second from 1 and from 8 concurrent clients. Both the
// client-side send rate (send.ratePerSecond) and the token's rate limit are
// lifted, as they would otherwise be what is measured.
func benchNotify(report *strings.Builder, bin, cfg string, env []string, runs int, send time.Duration) {
	api, token, stop := startNotifyServe(bin, cfg, env)
	defer stop()
	tl := struct{ Token string }{token}

	// One request as an integration makes it: a curl process.
	var cs []sample
	for i := 0; i < runs; i++ {
		s, err := run(env, nil, "curl", "-sS", "-f", "-o", "/dev/null", "-H", "Authorization: Bearer "+tl.Token,
			"--data-urlencode", fmt.Sprintf("message=bench %d", i), api)
		must(err)
		cs = append(cs, s)
	}
	c := median(cs)

	// Throughput from n concurrent keep-alive clients.
	rps := func(clients, total int) float64 {
		hc := &http.Client{Timeout: time.Minute}
		var wg sync.WaitGroup
		next := make(chan int)
		errs := make(chan error, clients)
		start := time.Now()
		for w := 0; w < clients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					req, _ := http.NewRequest("POST", api, strings.NewReader(url.Values{"message": {fmt.Sprintf("rps %d", i)}}.Encode()))
					req.Header.Set("Authorization", "Bearer "+tl.Token)
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, err := hc.Do(req)
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode != 200 {
							err = fmt.Errorf("notify answered %d", resp.StatusCode)
						}
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for i := 0; i < total; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		select {
		case err := <-errs:
			must(err)
		default:
		}
		return float64(total) / time.Since(start).Seconds()
	}
	r1, r8 := rps(1, 500), rps(8, 1000)
	fmt.Fprintf(report, "## notify serve (LINE Notify API)\n\n| measurement | value |\n|---|---:|\n")
	fmt.Fprintf(report, "| `linectl send` (one process, one message; from the table above) | %s |\n", ms(send))
	fmt.Fprintf(report, "| `curl` POST /api/notify to a running `notify serve` (median of %d) | %s |\n", runs, ms(c.wall))
	fmt.Fprintf(report, "| latency added by the server over one `linectl send` | %+.1f ms |\n", float64((c.wall-send).Microseconds())/1000)
	fmt.Fprintf(report, "| requests per second, 1 client (500 requests, keep-alive) | %.0f |\n", r1)
	fmt.Fprintf(report, "| requests per second, 8 concurrent clients (1,000 requests) | %.0f |\n\n", r8)
	fmt.Fprintf(report, "The server sends one-message requests to a chat side by side (up to 8; a request of several messages has its\n"+
		"chat alone); `send.ratePerSecond` (default 10/s) and the token's `--rate-limit` were lifted for this measurement — with the\n"+
		"defaults, a token gets at most 10 messages per second.\n\n")
}

// startNotifyServe lifts the client-side send rate in cfg, adds a notify
// token for Family, and starts `notify serve` on a loopback port with the
// token's rate limit lifted; it returns the /api/notify URL, the token and
// a stop.
func startNotifyServe(bin, cfg string, env []string) (api, token string, stop func()) {
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0o600)
	must(err)
	_, err = f.WriteString("send:\n  ratePerSecond: 1000\n")
	must(err)
	must(f.Close())
	cmd := exec.Command(bin, "notify", "token", "add", "--to", simgw.FamilyMID)
	cmd.Env = env
	out, err := cmd.Output()
	must(err)
	var tl struct{ Token string }
	must(json.Unmarshal(out, &tl))

	base, stop := startServer(bin, env, "notify-serve", "notify", "serve", "--listen", "127.0.0.1:0", "--rate-limit", "1000000/h")
	return base + "/api/notify", tl.Token, stop
}

// startServer runs bin with args, a server that prints {"type":typ,"url":…}
// when it listens, and returns that URL and how to stop it.
func startServer(bin string, env []string, typ string, args ...string) (base string, stop func()) {
	srv := exec.Command(bin, args...)
	srv.Env = env
	stdout, err := srv.StdoutPipe()
	must(err)
	must(srv.Start())
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var l struct{ Type, URL string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Type == typ {
			base = l.URL
			break
		}
	}
	if base == "" {
		must(fmt.Errorf("%s printed no %s line", strings.Join(args, " "), typ))
	}
	go func() {
		for sc.Scan() { // drain the request lines
		}
	}()
	return base, func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }
}
