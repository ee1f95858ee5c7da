package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// gatewayAgent is a running 'linectl gateway-agent'.
type gatewayAgent struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startGatewayAgent runs the agent for e's gateway and waits for its
// "running" line.
func (e *env) startGatewayAgent() *gatewayAgent {
	e.t.Helper()
	cmd := exec.Command(binary, "gateway-agent", "--idle", "0")
	cmd.Env = e.environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	a := &gatewayAgent{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.done) }()
	e.t.Cleanup(a.kill)
	line, err := bufio.NewReader(out).ReadBytes('\n')
	var l map[string]any
	if err != nil || json.Unmarshal(line, &l) != nil || l["type"] != "gateway-agent" || l["state"] != "running" {
		e.t.Fatalf("agent said %q (%v); stderr %s", line, err, errb.String())
	}
	return a
}

// kill ends the agent with SIGKILL: no clean-up, its socket file stays.
func (a *gatewayAgent) kill() {
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
}

func (e *env) messagesWith(text string) int {
	n := 0
	for _, m := range e.sim.Messages() {
		if m.Text == text {
			n++
		}
	}
	return n
}

// A warm send hands its signed request to the agent (one round trip on a
// warm connection); an agent killed between or during sends costs nothing
// and sends nothing twice.
func TestGatewayAgent(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.must("", "send", "--to", simgw.FamilyMID, "cold, direct")
	a := e.startGatewayAgent()

	r := e.must("", "send", "--debug", "--to", simgw.FamilyMID, "warm, through the agent")
	if !strings.Contains(r.stderr, "gateway agent: POST /api/talk/thrift/Talk/TalkService/sendMessage via the agent") {
		t.Fatalf("the send did not go through the agent:\n%s", r.stderr)
	}
	if e.messagesWith("warm, through the agent") != 1 {
		t.Fatal("not stored once")
	}
	assertNoSecrets(t, e.secrets(), r.stdout)

	// Killed between sends: the next run finds a dead socket and sends directly.
	a.kill()
	r = e.must("", "send", "--debug", "--to", simgw.FamilyMID, "agent gone")
	if strings.Contains(r.stderr, "via the agent") {
		t.Fatalf("stderr:\n%s", r.stderr)
	}
	if e.messagesWith("agent gone") != 1 {
		t.Fatal("not stored once")
	}

	// Killed during a send, after the gateway got the request: the outcome
	// is unknown, the stream settles it, nothing is sent again.
	a = e.startGatewayAgent()
	e.sim.Delay("sendMessage", 1500*time.Millisecond)
	n := countCalls(e, "sendMessage")
	cmd := exec.Command(binary, "send", "--confirm-timeout", "10s", "--to", simgw.FamilyMID, "agent killed mid-send")
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return countCalls(e, "sendMessage") > n })
	a.kill()
	err := cmd.Wait()
	e.sim.Delay("sendMessage", 0)
	res := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	}
	wantExit(t, res, 0, "")
	if s := res.first(t, "sent"); s["confirmed"] != true {
		t.Fatalf("sent %v", s)
	}
	if e.messagesWith("agent killed mid-send") != 1 || countCalls(e, "sendMessage") != n+1 {
		t.Fatalf("%d stored, %d sendMessage calls", e.messagesWith("agent killed mid-send"), countCalls(e, "sendMessage")-n)
	}

	// The agent's connection drops before the gateway processed the send:
	// unknown, not found on the stream, exit 6, and never sent again.
	e.startGatewayAgent()
	e.sim.Fail("sendMessage", simgw.FaultDropBefore, 1)
	n = countCalls(e, "sendMessage")
	r = e.run("", "send", "--debug", "--confirm-timeout", "1s", "--to", simgw.FamilyMID, "dropped before")
	wantExit(t, r, 6, "")
	if !strings.Contains(r.stderr, "via the agent") || countCalls(e, "sendMessage") != n+1 || e.messagesWith("dropped before") != 0 {
		t.Fatalf("%d sendMessage calls, %d stored\n%s", countCalls(e, "sendMessage")-n, e.messagesWith("dropped before"), r.stderr)
	}

	// --stop reports what the agent forwarded.
	r = e.must("", "gateway-agent", "--stop")
	if l := r.first(t, "gateway-agent"); l["state"] != "stopped" || l["status"].(map[string]any)["requests"].(float64) < 1 {
		t.Fatalf("stop: %v", l)
	}
	r = e.must("", "gateway-agent", "--stop")
	if l := r.first(t, "gateway-agent"); l["state"] != "not-running" {
		t.Fatalf("stop again: %v", l)
	}
}

// gatewayAgent: off never uses a running agent; start starts one.
func TestGatewayAgentModes(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	e.startGatewayAgent()
	e.extra = []string{"LINECTL_GATEWAY_AGENT=off"}
	r := e.must("", "send", "--debug", "--to", simgw.FamilyMID, "off")
	if strings.Contains(r.stderr, "gateway agent") {
		t.Fatalf("off used the agent:\n%s", r.stderr)
	}
	e.extra = []string{"LINECTL_GATEWAY_AGENT=sometimes"}
	wantExit(t, e.run("", "send", "--to", simgw.FamilyMID, "x"), 2, "config")
	wantExit(t, e.run("", "gateway-agent", "--stop"), 2, "config") // every command checks the settings
	e.extra = nil
	r = e.must("", "gateway-agent", "--stop")
	if r.first(t, "gateway-agent")["state"] != "stopped" {
		t.Fatal(r.stdout)
	}

	e.extra = []string{"LINECTL_GATEWAY_AGENT=start"}
	e.must("", "send", "--to", simgw.FamilyMID, "starts one")
	t.Cleanup(func() { e.run("", "gateway-agent", "--stop") })
	var via result
	waitFor(t, func() bool {
		via = e.must("", "send", "--debug", "--to", simgw.FamilyMID, "through the started agent")
		return strings.Contains(via.stderr, "via the agent")
	})
}
