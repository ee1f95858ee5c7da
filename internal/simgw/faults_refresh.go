package simgw

import "time"

// Token rotation, as the simulator models it. LINE's real behaviour when a
// refresh answer is lost is not known; the simulator makes one explicit
// assumption, the one linectl relies on (docs/configuration.md):
//
//   - A refresh issues a new token set and retires the old one: the old
//     access token then answers 119 (refresh required).
//   - Until the new access token is first used by any call, the retired
//     refresh token (with the access token it belonged to) may be presented
//     again and gets the same answer again: the refresh is idempotent until
//     its result is used. This is what lets a client whose answer was lost
//     (dropped connection, timeout, kill -9) retry with the same token, and
//     makes a late duplicate of the request harmless.
//   - Once the new access token has been used, the retired refresh token is
//     refused with 10201 AUTH_INVALID_REQUEST, which ends the session.
//
// StrictRefreshRotation turns the grace off, for tests of a gateway that
// refuses a retired refresh token at once.

// DropRefreshAnswers makes the next n token refreshes be processed (new
// tokens issued, the old ones retired) and then lose their answer: the
// connection is closed without a response. It replaces the tokenRefresh
// faults queued before (0: none left).
func (s *faultAdmin) DropRefreshAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.rules == nil {
		s.faults.rules = map[string][]*faultRule{}
	}
	s.faults.rules["tokenRefresh"] = []*faultRule{{kind: FaultDropAfter, count: n}}
}

// SlowRefreshes makes every token refresh wait d before it is processed; it
// is processed even if the client has gone away (timed out, killed) by then.
// 0 removes the delay.
func (s *faultAdmin) SlowRefreshes(d time.Duration) { s.Delay("tokenRefresh", d) }

// StrictRefreshRotation makes a retired refresh token be refused (10201) at
// once, even when the tokens issued for it were never used.
func (s *faultAdmin) StrictRefreshRotation(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.delays == nil {
		s.faults.delays = map[string]time.Duration{}
	}
	// A flag kept with the tokenRefresh fault settings (faults.go belongs to
	// the call faults; this one has no field of its own there).
	if on {
		s.faults.delays[strictRotationKey] = 1
	} else {
		delete(s.faults.delays, strictRotationKey)
	}
}

const strictRotationKey = "tokenRefresh/strict-rotation"

// replayRefresh returns the answer that retired rt again, when rt is a
// retired refresh token presented with its own access token (or none) and
// the access token of that answer has not been used. Caller holds s.mu.
func (s *authPhone) replayRefresh(rt *refreshTok, access string) (map[string]any, bool) {
	if rt == nil || !rt.used || rt.issued == nil || s.faults.delays[strictRotationKey] != 0 ||
		(access != "" && access != rt.access) {
		return nil, false
	}
	if next, _ := rt.issued["accessToken"].(string); s.accessUsed(next) {
		return nil, false
	}
	return rt.issued, true
}

// accessUsed reports whether any call has presented access token at. Caller holds s.mu.
func (s *authPhone) accessUsed(at string) bool {
	for _, c := range s.calls {
		if c.Header.Get("x-line-access") == at {
			return true
		}
	}
	return false
}

// retire marks the token set of rt as replaced by the answer issued. Caller holds s.mu.
func (s *authPhone) retire(rt *refreshTok, issued map[string]any) {
	rt.used, rt.issued = true, issued
	if old := s.tokens[rt.access]; old != nil {
		old.expired = true
	}
}
