package agent

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Loop is how long an agent serves: until Idle passes without a request
// (0: never), Watch says stop (asked every Poll), a stop request (Stop), or
// the context ends. Both agents' servers serve through one.
type Loop struct {
	Idle  time.Duration
	Watch func() bool
	Poll  time.Duration // default 2s

	last atomic.Int64 // unix nanoseconds of the last request
	stop chan struct{}
	once sync.Once
}

// NewLoop returns a Loop that starts counting idle time now.
func NewLoop(idle time.Duration, watch func() bool, poll time.Duration) *Loop {
	if poll == 0 {
		poll = 2 * time.Second
	}
	l := &Loop{Idle: idle, Watch: watch, Poll: poll, stop: make(chan struct{})}
	l.Touch()
	return l
}

// Touch records a request: the idle time starts again.
func (l *Loop) Touch() { l.last.Store(time.Now().UnixNano()) }

// Stop ends the agent (a stop request), once its handlers return.
func (l *Loop) Stop() { l.once.Do(func() { close(l.stop) }) }

// Serve handles each connection on ln with handle until the loop ends.
func (l *Loop) Serve(ctx context.Context, ln net.Listener, handle func(net.Conn)) error {
	return serveConns(ctx, ln, l.Poll, l.stop, func() bool {
		if l.Watch != nil && !l.Watch() {
			return false
		}
		return l.Idle <= 0 || time.Since(time.Unix(0, l.last.Load())) <= l.Idle
	}, handle)
}
