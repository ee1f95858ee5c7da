package simgw

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// serveStream serves GET /api/operation/receive: Server-Sent Events of the
// account's operations after localRev. No x-hmac (the browser's EventSource
// cannot send one); auth by the lct cookie or x-line-access.
func (s *talkStream) serveStream(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("x-line-access")
	if c, err := r.Cookie("lct"); err == nil {
		if tok != "" && tok != c.Value {
			writeJSON(w, 401, map[string]any{"code": 10004, "message": "REQUEST_NEED_LOGIN"})
			return
		}
		tok = c.Value
	}
	q := r.URL.Query()
	from, err := strconv.ParseInt(q.Get("localRev"), 10, 64)
	if r.Method != http.MethodGet || err != nil || q.Get("version") != Version || q.Get("lastPartialFullSyncs") == "" ||
		r.Header.Get("accept") != "text/event-stream" {
		writeJSON(w, 400, map[string]any{"code": 10003, "message": "REQUEST_INVALID_PARAM"})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: "receive", Header: r.Header.Clone(), Body: r.URL.RawQuery})
	mid, aerr := s.auth.authenticate(tok)
	conn, stallNow := s.faults.streamConn()
	cut := s.faults.streamCut(conn)
	s.mu.Unlock()
	if cut {
		panic(http.ErrAbortHandler) // the gateway is down: the connection closes unanswered
	}
	if tok == "" || aerr != nil {
		writeJSON(w, 401, map[string]any{"code": 10004, "message": "REQUEST_NEED_LOGIN"})
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("content-type", "text/event-stream")
	w.Header().Set("cache-control", "no-cache")
	w.WriteHeader(200)
	if stallNow {
		if fl != nil {
			fl.Flush()
		}
		<-r.Context().Done() // open, silent: no event, no ping
		return
	}
	fmt.Fprint(w, "event: connInfoRevision\ndata: 396\n\n")
	if fl != nil {
		fl.Flush()
	}
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	sent := 0
	for {
		s.mu.Lock()
		if _, err := s.auth.authenticate(tok); err != nil {
			s.mu.Unlock()
			return // token expired or session ended: the client reconnects and learns why
		}
		var batch []op
		for _, o := range s.ops[mid] {
			if o.rev > from {
				batch = append(batch, o)
			}
		}
		dropEvery, closeIdle, wake := s.faults.dropStreamEvery, s.faults.closeIdle, s.wake
		if s.faults.stalled(conn) {
			s.mu.Unlock()
			<-r.Context().Done() // stalled: the connection stays open and carries nothing more
			return
		}
		s.mu.Unlock()
		for _, o := range batch {
			if o.name == "" {
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", o.rev, o.data)
			} else {
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", o.name, o.data)
			}
			from = o.rev
			sent++
			if dropEvery > 0 && sent%dropEvery == 0 {
				if fl != nil {
					fl.Flush()
				}
				panic(http.ErrAbortHandler) // connection dropped mid-stream
			}
		}
		if fl != nil {
			fl.Flush()
		}
		if closeIdle {
			return
		}
		select {
		case <-wake:
		case <-ping.C:
			s.mu.Lock()
			stalled := s.faults.stalled(conn)
			s.mu.Unlock()
			if stalled {
				continue // the loop's top waits for the client to leave
			}
			fmt.Fprint(w, "event: ping\ndata: null\n\n")
			if fl != nil {
				fl.Flush()
			}
		case <-r.Context().Done():
			return
		}
	}
}
