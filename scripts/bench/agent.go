package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	"github.com/linectl/linectl/internal/simgw"
)

// benchAgentSend measures warm sends through a gateway agent that keeps a
// connection open (started here, then stopped): one round trip each.
func benchAgentSend(env []string, bin string, runs int) sample {
	rt, err := os.MkdirTemp("", "lcb") // a short path: socket paths are limited
	must(err)
	defer os.RemoveAll(rt)
	env = append(env[:len(env):len(env)], "XDG_RUNTIME_DIR="+rt)
	agent := exec.Command(bin, "gateway-agent", "--idle", "0")
	agent.Env = env
	out, err := agent.StdoutPipe()
	must(err)
	must(agent.Start())
	line, err := bufio.NewReader(out).ReadBytes('\n')
	must(err)
	var l struct{ State string }
	if json.Unmarshal(line, &l) != nil || l.State != "running" {
		must(fmt.Errorf("gateway-agent said %q", line))
	}
	// The first send opens the agent's connection.
	_, err = run(env, nil, bin, "send", "--to", simgw.FamilyMID, "agent warm-up")
	must(err)
	var s []sample
	for i := 0; i < runs; i++ {
		x, err := run(env, nil, bin, "send", "--to", simgw.FamilyMID, "through the agent")
		must(err)
		s = append(s, x)
	}
	stop := exec.Command(bin, "gateway-agent", "--stop")
	stop.Env = env
	b, err := stop.Output()
	must(err)
	var st struct{ Status struct{ Requests int } }
	_ = json.Unmarshal(b, &st)
	if st.Status.Requests < runs+1 {
		must(fmt.Errorf("the agent forwarded %d requests, want %d", st.Status.Requests, runs+1))
	}
	_ = agent.Wait()
	return median(s)
}

// benchCatchUp measures `linectl receive` (no --follow) catching up n queued
// operations against curl | jq reading the same operations from the same
// revision (the simulator ends the stream once it has sent everything, so
// that curl stops). runs rounds; medians.
func benchCatchUp(sim *simgw.Server, url, token string, env []string, bin string, n, runs int) (linectl, curl sample) {
	_, err := run(env, nil, bin, "receive", "--wait", "10ms") // saves the position
	must(err)
	proj := `select(startswith("data: ")) | .[6:] | fromjson | {type:"operation", revision, opType:.type, createdTime, reqSeq, param1, param2, param3, message}`
	var ls, cs []sample
	for i := 0; i < runs; i++ {
		rev := sim.Revision()
		for j := 0; j < n; j++ {
			sim.InjectMessage(simgw.BobMID, simgw.AliceMID, fmt.Sprintf("queued %d", j))
		}
		s, err := run(env, nil, bin, "receive", "--wait", "10ms")
		must(err)
		ls = append(ls, s)
		sim.CloseStreamWhenIdle(true)
		s, err = shell(env, fmt.Sprintf("curl -sN '%s/api/operation/receive?localRev=%d&version=3.7.2&lastPartialFullSyncs=%%7B%%7D&language=en_US' "+
			"-H 'accept: text/event-stream' -H 'x-line-chrome-version: 3.7.2' -H 'origin: chrome-extension://ophjlpahpchlmihnnnihgmmeilfjmjjc' "+
			"-H 'cookie: lct=%s' -H 'x-line-access: %s' | jq -cR '%s' > /dev/null", url, rev, token, token, proj))
		sim.CloseStreamWhenIdle(false)
		must(err)
		cs = append(cs, s)
	}
	return median(ls), median(cs)
}
