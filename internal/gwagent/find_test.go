package gwagent

import "testing"

// The gatewayAgent policy: off and no agent send directly, auto never
// starts one, start does when none answers, a running agent is used.
func TestFind(t *testing.T) {
	w := newWorld(t)
	started := 0
	start := func() { started++ }
	if _, err := Find("sometimes", w.url, start); err == nil {
		t.Fatal("unknown mode accepted")
	}
	for _, mode := range []string{"", "auto", "off", "start"} {
		if tr, err := Find(mode, w.url, start); tr != nil || err != nil {
			t.Fatalf("%q with no agent: %v %v", mode, tr, err)
		}
	}
	if started != 1 {
		t.Fatalf("started %d agents, want 1 (start only)", started)
	}
	w.startAgent(t, w.url)
	for _, mode := range []string{"", "auto", "start"} {
		tr, err := Find(mode, w.url, start)
		if err != nil || tr == nil || tr.Socket != w.socket || tr.Gateway != w.url || tr.Direct == nil {
			t.Fatalf("%q with an agent: %+v %v", mode, tr, err)
		}
	}
	if tr, _ := Find("off", w.url, start); tr != nil {
		t.Fatal("off used the agent")
	}
	if started != 1 {
		t.Fatalf("started %d agents with one running", started)
	}
}
