package simgw

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

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
	FaultReply                // a raw hostile answer (see Reply); processed or not as Reply.Process says
	// Hostile object bodies, for "obs-download" (the object's own answer, altered):
	FaultStallBody // the headers and half the body, then silence until the client gives up
	FaultCutBody   // the headers (the whole Content-Length) and half the body, then the connection closed
	FaultLongBody  // the object followed by 1 MiB more, chunked (no Content-Length)
)

// Reply is a raw answer sent instead of the gateway's: what a broken proxy,
// an upstream failure or anyone in the middle may send.
type Reply struct {
	Status      int    // HTTP status (0 = 200)
	ContentType string // "" = application/json
	Body        string
	// Process runs the call first (a message is stored, its operation
	// emitted): only the answer is lost. Otherwise nothing is processed.
	Process bool
}

// Hostile answers for FailReply.
var (
	ReplyNotJSON   = Reply{Body: "OK"}
	ReplyEmpty     = Reply{}
	ReplyTruncated = Reply{Body: `{"code":0,"message":"OK","data":{"id":"6053`}
	// Success envelopes that do not show the stored message.
	ReplyNoData   = Reply{Body: `{"code":0,"message":"OK","data":{}}`}
	ReplyNullData = Reply{Body: `{"code":0,"message":"OK","data":null}`}
	ReplyEmptyID  = Reply{Body: `{"code":0,"message":"OK","data":{"id":"","createdTime":"1"}}`}
)

// ReplyHTML is a proxy's HTML error page with status.
func ReplyHTML(status int) Reply {
	return Reply{Status: status, ContentType: "text/html", Body: "<html><body><h1>" + itoa(status) + " Gateway error</h1></body></html>"}
}

// ReplyUpstream is the gateway's 10052 RESPONSE_HTTP_ERROR envelope: the
// Thrift backend behind it answered HTTP status.
func ReplyUpstream(status int) Reply {
	return Reply{Status: 400, Body: `{"code":10052,"message":"RESPONSE_HTTP_ERROR","data":{"statusCode":` + itoa(status) + `}}`}
}

func itoa(n int) string { return strconv.Itoa(n) }

// FailReply makes the next n calls of method answer r.
func (s *faultAdmin) FailReply(method string, r Reply, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.rules == nil {
		s.faults.rules = map[string][]*faultRule{}
	}
	rr := r
	s.faults.rules[method] = append(s.faults.rules[method], &faultRule{kind: FaultReply, count: n, reply: &rr})
}

// writeReply sends a hostile answer.
func writeReply(w http.ResponseWriter, r *Reply) {
	ct := r.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("content-type", ct)
	status := r.Status
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, r.Body)
}

// InjectRawEvent appends an event to mid's stream exactly as given, as a
// hostile gateway would send it: unlike InjectEvent, a fullSync does not
// move the simulator's revision, and an operation's JSON (name "") may
// claim any revision, nest any depth or have any size.
func (s *faultAdmin) InjectRawEvent(mid, name, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev++
	s.ops[mid] = append(s.ops[mid], op{rev: s.rev, name: name, data: []byte(data)})
	s.broadcast()
}

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
	reply  *Reply
	// name is the kind as /_sandbox/faults names it ("503", "not-json", …),
	// status the --status it was armed with; persist: every call until cleared.
	name    string
	status  int
	persist bool
}

type fault struct {
	kind   FaultKind
	code   int
	reason string
	delay  time.Duration
	reply  *Reply
}

type faults struct {
	rules           map[string][]*faultRule
	delays          map[string]time.Duration
	expireWindows   int
	refreshRetry    int
	dropStreamEvery int
	closeIdle       bool
	streamConns     int // stream connections accepted so far
	stallBefore     int // connections numbered below this stall (StallStreams)
	stallNext       int // how many of the next connections stall (StallNextStreams)
	streamDownAt    int // connections numbered from this one are cut before answering (-1 or 0 = never; see StreamDownAfter)
	streamDown      bool
}

// take consumes the next fault for method. Caller holds s.mu.
func (f *faults) take(method string) fault {
	out := fault{delay: f.delays[method]}
	rules := f.rules[method]
	for len(rules) > 0 && rules[0].count <= 0 && !rules[0].persist {
		rules = rules[1:]
	}
	if len(rules) > 0 {
		r := rules[0]
		if !r.persist {
			r.count--
		}
		out.kind, out.code, out.reason, out.reply = r.kind, r.code, r.reason, r.reply
	}
	if f.rules != nil {
		f.rules[method] = rules
	}
	return out
}

// Fail makes the next n calls of method (e.g. "sendMessage") fail with kind.
// Rules queue up in order. OBS requests are the methods "obs-upload" and
// "obs-download" (FaultTalk makes no sense there).
func (s *faultAdmin) Fail(method string, kind FaultKind, n int) {
	s.FailTalk(method, kind, 0, "", n)
}

// FailTalk is Fail with a TalkException code and reason (kind FaultTalk).
func (s *faultAdmin) FailTalk(method string, kind FaultKind, code int, reason string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.rules == nil {
		s.faults.rules = map[string][]*faultRule{}
	}
	s.faults.rules[method] = append(s.faults.rules[method], &faultRule{kind: kind, count: n, code: code, reason: reason})
}

// Delay slows every call of method by d (0 removes it).
func (s *faultAdmin) Delay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.delays == nil {
		s.faults.delays = map[string]time.Duration{}
	}
	s.faults.delays[method] = d
}

// ExpireWindows makes the next n long-poll windows expire at once (10052/410).
func (s *faultAdmin) ExpireWindows(n int) {
	s.mu.Lock()
	s.faults.expireWindows = n
	s.mu.Unlock()
}

// RefreshRetryRequired makes the next n token refreshes answer 10202.
func (s *faultAdmin) RefreshRetryRequired(n int) {
	s.mu.Lock()
	s.faults.refreshRetry = n
	s.mu.Unlock()
}

// ExpireTokens expires every access token now (calls answer 119).
func (s *faultAdmin) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.auth.tokens {
		t.expired = true
	}
	s.broadcast()
}

// Kick ends every session of mid, as a login on another Chrome-extension
// session does (TalkException 8 V3_TOKEN_CLIENT_LOGGED_OUT).
func (s *faultAdmin) Kick(mid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.auth.tokens {
		if t.mid == mid {
			t.kicked = true
		}
	}
	s.broadcast()
}

// DropStreamEvery makes the operation stream drop its connection after every
// n events it sends (0 = never).
func (s *faultAdmin) DropStreamEvery(n int) {
	s.mu.Lock()
	s.faults.dropStreamEvery = n
	s.mu.Unlock()
}

// CloseStreamWhenIdle makes the stream end (cleanly) once it has sent everything.
func (s *faultAdmin) CloseStreamWhenIdle(on bool) {
	s.mu.Lock()
	s.faults.closeIdle = on
	s.mu.Unlock()
}

// StallStreams makes every operation stream open now go silent: the
// connection stays open but carries nothing more — no operation, no ping —
// until the client gives up on it. Later connections work as usual.
func (s *faultAdmin) StallStreams() {
	s.mu.Lock()
	s.faults.stallBefore = s.faults.streamConns
	s.mu.Unlock()
}

// StallNextStreams makes the next n stream connections stall from the
// start: the response headers are sent, then nothing at all.
func (s *faultAdmin) StallNextStreams(n int) {
	s.mu.Lock()
	s.faults.stallNext = n
	s.mu.Unlock()
}

// StreamDownAfter lets the next n stream connections work as usual and
// cuts every later one before it answers, as a gateway that went down
// (only the stream; other calls are served). n < 0 brings the stream back.
func (s *faultAdmin) StreamDownAfter(n int) {
	s.mu.Lock()
	s.faults.streamDown = n >= 0
	s.faults.streamDownAt = s.faults.streamConns + n
	s.mu.Unlock()
}

// streamCut reports whether connection id is refused by StreamDownAfter. Caller holds s.mu.
func (f *faults) streamCut(id int) bool { return f.streamDown && id >= f.streamDownAt }

// streamConn numbers a new stream connection and says whether it stalls
// from the start. Caller holds s.mu.
func (f *faults) streamConn() (id int, stalled bool) {
	id = f.streamConns
	f.streamConns++
	if f.stallNext > 0 {
		f.stallNext--
		return id, true
	}
	return id, false
}

// stalled reports whether connection id was stalled by StallStreams. Caller holds s.mu.
func (f *faults) stalled(id int) bool { return id < f.stallBefore }
