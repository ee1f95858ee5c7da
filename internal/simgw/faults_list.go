package simgw

import (
	"errors"
	"sort"
	"time"
)

// ArmedFault is one fault as /_sandbox/faults arms and lists it (the
// `linectl sandbox fault` kinds).
type ArmedFault struct {
	Kind string `json:"kind"`
	// Method is the gateway method it hits; "" for expire-windows,
	// refresh-retry and drop-stream-every, which are not per method.
	Method string `json:"method"`
	// Count is how many calls (windows, refreshes) it still hits; for
	// drop-stream-every, every how many events the stream drops.
	Count int `json:"count"`
	// Persist: it hits every call until cleared (delays always do).
	Persist bool   `json:"persist,omitempty"`
	Code    int    `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Status  int    `json:"status,omitempty"`
	Delay   string `json:"delay,omitempty"`
}

// errUnknownFault is Arm's answer to a kind it does not know.
var errUnknownFault = errors.New("unknown fault kind")

// callFaults are the kinds that fail a call before it is processed, or drop
// its answer, by name.
var callFaults = map[string]FaultKind{"503": Fault503, "429": Fault429, "drop-before": FaultDropBefore, "drop-after": FaultDropAfter, "talk": FaultTalk}

// Arm arms a fault as /_sandbox/faults does. A per-method fault queues after
// those already armed for the method; with Persist it hits every call from
// its turn on until ClearFaults.
func (s *faultAdmin) Arm(a ArmedFault) error {
	rule := &faultRule{name: a.Kind, count: a.Count, persist: a.Persist, code: a.Code, reason: a.Reason, status: a.Status}
	switch k, isCall := callFaults[a.Kind]; {
	case a.Kind == "expire-windows":
		s.ExpireWindows(a.Count)
	case a.Kind == "refresh-retry":
		s.RefreshRetryRequired(a.Count)
	case a.Kind == "drop-stream-every":
		s.DropStreamEvery(a.Count)
	case a.Kind == "delay":
		d, err := time.ParseDuration(a.Delay)
		if err != nil {
			return err
		}
		s.Delay(a.Method, d)
	case replyFaults[a.Kind] != nil:
		r := replyFaults[a.Kind](a.Status)
		rule.kind, rule.reply = FaultReply, &r
		s.addRule(a.Method, rule)
	case isCall:
		rule.kind = k
		s.addRule(a.Method, rule)
	default:
		return errUnknownFault
	}
	return nil
}

func (s *faultAdmin) addRule(method string, r *faultRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.rules == nil {
		s.faults.rules = map[string][]*faultRule{}
	}
	s.faults.rules[method] = append(s.faults.rules[method], r)
}

// ArmedFaults lists the faults still armed: per-method faults by method, in
// the order they hit, then delays, then the others.
func (s *faultAdmin) ArmedFaults() []ArmedFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ArmedFault{}
	f := &s.faults
	for _, m := range sortedKeys(f.rules) {
		for _, r := range f.rules[m] {
			if r.count <= 0 && !r.persist {
				continue
			}
			a := ArmedFault{Kind: r.name, Method: m, Count: r.count, Persist: r.persist, Code: r.code, Reason: r.reason, Status: r.status}
			if a.Persist {
				a.Count = 0
			}
			if a.Kind == "" { // armed from Go (Fail, FailTalk, FailReply)
				a.Kind = map[FaultKind]string{Fault503: "503", Fault429: "429", FaultDropBefore: "drop-before",
					FaultDropAfter: "drop-after", FaultTalk: "talk", FaultReply: "reply"}[r.kind]
			}
			out = append(out, a)
		}
	}
	for _, m := range sortedKeys(f.delays) {
		if d := f.delays[m]; d > 0 && m != strictRotationKey {
			out = append(out, ArmedFault{Kind: "delay", Method: m, Persist: true, Delay: d.String()})
		}
	}
	if f.expireWindows > 0 {
		out = append(out, ArmedFault{Kind: "expire-windows", Count: f.expireWindows})
	}
	if f.refreshRetry > 0 {
		out = append(out, ArmedFault{Kind: "refresh-retry", Count: f.refreshRetry})
	}
	if f.dropStreamEvery > 0 {
		out = append(out, ArmedFault{Kind: "drop-stream-every", Count: f.dropStreamEvery, Persist: true})
	}
	return out
}

// ClearFaults disarms every fault ArmedFaults lists, so a run starts from a
// working gateway whatever an earlier one left armed.
func (s *faultAdmin) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	f.rules = nil
	for m := range f.delays {
		if m != strictRotationKey {
			delete(f.delays, m)
		}
	}
	f.expireWindows, f.refreshRetry, f.dropStreamEvery = 0, 0, 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
