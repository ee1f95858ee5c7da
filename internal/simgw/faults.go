package simgw

import "time"

// FaultKind is how a call fails.
type FaultKind int

// Fault kinds.
const (
	FaultNone       FaultKind = iota
	Fault503                  // HTTP 503 with a load balancer's HTML page; nothing processed
	Fault429                  // HTTP 429; nothing processed
	FaultDropBefore           // connection closed before processing; nothing processed
	FaultDropAfter            // processed (message stored, operation emitted), then connection closed
	FaultTalk                 // a TalkException (code, reason); nothing processed
)

const (
	fault503        = Fault503
	fault429        = Fault429
	faultDropBefore = FaultDropBefore
	faultDropAfter  = FaultDropAfter
	faultTalk       = FaultTalk
)

type faultRule struct {
	kind   FaultKind
	count  int
	code   int
	reason string
}

type fault struct {
	kind   FaultKind
	code   int
	reason string
	delay  time.Duration
}

type faults struct {
	rules           map[string][]*faultRule
	delays          map[string]time.Duration
	expireWindows   int
	refreshRetry    int
	dropStreamEvery int
	closeIdle       bool
}

// take consumes the next fault for method. Caller holds s.mu.
func (f *faults) take(method string) fault {
	out := fault{delay: f.delays[method]}
	rules := f.rules[method]
	for len(rules) > 0 && rules[0].count <= 0 {
		rules = rules[1:]
	}
	if len(rules) > 0 {
		r := rules[0]
		r.count--
		out.kind, out.code, out.reason = r.kind, r.code, r.reason
	}
	if f.rules != nil {
		f.rules[method] = rules
	}
	return out
}

// Fail makes the next n calls of method (e.g. "sendMessage") fail with kind.
// Rules queue up in order.
func (s *Server) Fail(method string, kind FaultKind, n int) {
	s.FailTalk(method, kind, 0, "", n)
}

// FailTalk is Fail with a TalkException code and reason (kind FaultTalk).
func (s *Server) FailTalk(method string, kind FaultKind, code int, reason string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.rules == nil {
		s.faults.rules = map[string][]*faultRule{}
	}
	s.faults.rules[method] = append(s.faults.rules[method], &faultRule{kind: kind, count: n, code: code, reason: reason})
}

// Delay slows every call of method by d (0 removes it).
func (s *Server) Delay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.delays == nil {
		s.faults.delays = map[string]time.Duration{}
	}
	s.faults.delays[method] = d
}

// ExpireWindows makes the next n long-poll windows expire at once (10052/410).
func (s *Server) ExpireWindows(n int) {
	s.mu.Lock()
	s.faults.expireWindows = n
	s.mu.Unlock()
}

// RefreshRetryRequired makes the next n token refreshes answer 10202.
func (s *Server) RefreshRetryRequired(n int) {
	s.mu.Lock()
	s.faults.refreshRetry = n
	s.mu.Unlock()
}

// ExpireTokens expires every access token now (calls answer 119).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expired = true
	}
	s.broadcast()
}

// Kick ends every session of mid, as a login on another Chrome-extension
// session does (TalkException 8 V3_TOKEN_CLIENT_LOGGED_OUT).
func (s *Server) Kick(mid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t.mid == mid {
			t.kicked = true
		}
	}
	s.broadcast()
}

// DropStreamEvery makes the operation stream drop its connection after every
// n events it sends (0 = never).
func (s *Server) DropStreamEvery(n int) {
	s.mu.Lock()
	s.faults.dropStreamEvery = n
	s.mu.Unlock()
}

// CloseStreamWhenIdle makes the stream end (cleanly) once it has sent everything.
func (s *Server) CloseStreamWhenIdle(on bool) {
	s.mu.Lock()
	s.faults.closeIdle = on
	s.mu.Unlock()
}
