package agent

import (
	"context"
	"net"
	"sync"
	"time"
)

// serveConns is an agent's accept loop, shared by the signer agent and the
// gateway agent: each connection on ln is handled by handle in its own
// goroutine until ctx ends, stop is closed, or keepGoing (asked every poll)
// says no. Then ln and every open connection are closed and the handlers
// waited for. An accept error ends it with that error.
func serveConns(ctx context.Context, ln net.Listener, poll time.Duration, stop <-chan struct{}, keepGoing func() bool, handle func(net.Conn)) error {
	var wg sync.WaitGroup
	conns := make(chan net.Conn)
	acceptErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			select {
			case conns <- c:
			case <-quit:
				c.Close()
				return
			}
		}
	}()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var open sync.Map
	defer func() {
		ln.Close()
		open.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	}()
	for {
		select {
		case c := <-conns:
			// Added here, never beside wg.Wait: the loop has stopped
			// taking connections before the wait begins.
			open.Store(c, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer open.Delete(c)
				handle(c)
			}()
		case err := <-acceptErr:
			return err
		case <-ctx.Done():
			return nil
		case <-stop:
			return nil
		case <-tick.C:
			if !keepGoing() {
				return nil
			}
		}
	}
}
