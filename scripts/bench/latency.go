package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// benchLatency measures sends against a simulator that is a network away:
// rtt added to every answer and 2×rtt to every new connection (TCP and TLS
// set-up), at 0 and 40 ms, each against curl posting the same sendMessage on
// a new connection, in one run.
func benchLatency(report *strings.Builder, bin, dir string, runs int) {
	fmt.Fprintf(report, "## Round trips: a gateway a network away\n\n")
	fmt.Fprintf(report, "The simulator adds the round trip to every answer and twice that to every new connection (TCP + TLS). "+
		"Cold: the first send to a chat (the Letter Sealing probe and `getLastOpRevision`, concurrently); warm: the same chat as a run before "+
		"(probe cached for an hour, revision reused), one `sendMessage`. curl posts the same signed `sendMessage` on a new connection. %d runs each.\n\n", runs)
	fmt.Fprintf(report, "| RTT | curl | linectl cold | ratio | linectl warm | ratio | 100 × curl (one connection) | `--jsonl` 100 | ratio |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var second []string // the agent and catch-up rows
	for _, rtt := range []time.Duration{0, 40 * time.Millisecond} {
		sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond, Latency: rtt, ConnLatency: 2 * rtt})
		url, err := sim.Start("127.0.0.1:0")
		must(err)
		cfg := filepath.Join(dir, fmt.Sprintf("lat-%d", rtt.Milliseconds()), "config.yaml")
		env := append(os.Environ(), "LINECTL_CONFIG="+cfg, "LINECTL_GATEWAY="+url, "LINECTL_SIGNER=none")
		_, err = run(env, nil, bin, "login", "qr")
		must(err)
		token := readToken(cfg)
		state := filepath.Dir(cfg)
		var cold, warm, curl []sample
		seq := 5000
		for i := 0; i < runs; i++ {
			_ = os.Remove(filepath.Join(state, "probe-cache.json"))
			_ = os.Remove(filepath.Join(state, "send-state.json"))
			s, err := run(env, nil, bin, "send", "--to", simgw.FamilyMID, "cold")
			must(err)
			cold = append(cold, s)
			s, err = run(env, nil, bin, "send", "--to", simgw.FamilyMID, "warm")
			must(err)
			warm = append(warm, s)
			seq++
			s, err = run(env, nil, "curl", curlSend(url, token, seq)...)
			must(err)
			curl = append(curl, s)
		}
		var batch bytes.Buffer
		var curlArgs []string
		for i := 0; i < 100; i++ {
			fmt.Fprintf(&batch, "{\"to\":%q,\"text\":\"batch %d\"}\n", simgw.FamilyMID, i)
			if i > 0 {
				curlArgs = append(curlArgs, "--next")
			}
			seq++
			curlArgs = append(curlArgs, curlSend(url, token, seq)...)
		}
		j, err := run(env, batch.Bytes(), bin, "send", "--jsonl", "--rate", "0")
		must(err)
		c100, err := run(env, nil, "curl", curlArgs...)
		must(err)
		a := benchAgentSend(env, bin, runs)
		lr, cr := benchCatchUp(sim, url, token, env, bin, catchUpOps, min(runs, 5))
		sim.Close()
		c, co, w := median(curl), median(cold), median(warm)
		fmt.Fprintf(report, "| %d ms | %s | %s | %.2f× | %s | %.2f× | %s | %s | %.2f× |\n", rtt.Milliseconds(),
			ms(c.wall), ms(co.wall), ratio(co.wall, c.wall), ms(w.wall), ratio(w.wall, c.wall), ms(c100.wall), ms(j.wall), ratio(j.wall, c100.wall))
		second = append(second, fmt.Sprintf("| %d ms | %s | %s | %.2f× | %s | %s | %.2f× |\n", rtt.Milliseconds(),
			ms(c.wall), ms(a.wall), ratio(a.wall, c.wall), ms(cr.wall), ms(lr.wall), ratio(lr.wall, cr.wall)))
	}
	fmt.Fprintf(report, "\nWith a gateway agent (`linectl gateway-agent`, see [agent.md](agent.md)) holding a warm connection, a warm send hands its "+
		"signed `sendMessage` over a local socket: one round trip, no TCP or TLS set-up. Catch-up: `linectl receive` without `--follow` "+
		"reading %d operations queued since its saved position (`getLastOpRevision`, asked while the stream opens) against `curl -N … | jq -c` reading the same "+
		"operations from the same revision (the simulator ends the stream once it has sent them, so that curl stops).\n\n", catchUpOps)
	fmt.Fprintf(report, "| RTT | curl send | linectl warm, gateway agent | ratio | %d ops: curl \\| jq | `linectl receive` | ratio |\n|---:|---:|---:|---:|---:|---:|---:|\n", catchUpOps)
	for _, r := range second {
		report.WriteString(r)
	}
	fmt.Fprintf(report, "\nTargets (issue 16): warm send ≤ 1.1× curl at 40 ms; ≤ 0.5× through the gateway agent. "+
		"The catch-up asks `getLastOpRevision` (where to stop) while the stream opens, so it pays the same round trips as curl, which is given the revision.\n\n")
}

// catchUpOps is how many queued operations the receive catch-up reads.
const catchUpOps = 100

// curlSend is curl's arguments for one signed-less sendMessage (the bench
// simulator runs without x-hmac checks for curl's sake: LINECTL_SIGNER=none).
func curlSend(url, token string, seq int) []string {
	body := fmt.Sprintf(`[%d,{"from":"%s","to":"%s","toType":2,"id":"local-%d","createdTime":"%d","sessionId":0,"text":"bench message","contentType":0,"contentMetadata":{},"hasContent":false}]`,
		seq, simgw.AliceMID, simgw.FamilyMID, seq, time.Now().Unix()*1000)
	return []string{"-sS", "-o", "/dev/null", "-X", "POST", url + "/api/talk/thrift/Talk/TalkService/sendMessage",
		"-H", "content-type: application/json", "-H", "accept: application/json, text/plain, */*",
		"-H", "x-line-chrome-version: 3.7.2", "-H", "x-lal: en_US", "-H", "origin: chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc",
		"-H", "user-agent: Mozilla/5.0 Chrome/146.0.0.0", "-H", "x-line-access: " + token, "-H", "cookie: lct=" + token, "--data-binary", body}
}
