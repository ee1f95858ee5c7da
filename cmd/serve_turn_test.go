package cmd

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A chat's one-message requests go side by side (up to turnWidth); a
// request of several messages has the chat alone; halt ends a wait.
func TestChatTurn(t *testing.T) {
	tr := &chatTurn{gate: make(chan struct{}, 1), slots: make(chan struct{}, turnWidth)}
	halt := make(chan struct{})
	var now, most, alone atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 1
			if i%10 == 0 {
				n = turnWidth
			}
			release, ok := tr.take(halt, n)
			if !ok {
				t.Error("no turn without a halt")
				return
			}
			c := now.Add(1)
			if n > 1 && c != 1 {
				alone.Add(1) // a request of several shared the chat
			}
			for m := most.Load(); c > m && !most.CompareAndSwap(m, c); m = most.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			now.Add(-1)
			release()
		}()
	}
	wg.Wait()
	if alone.Load() != 0 {
		t.Fatalf("%d requests of several messages shared their chat", alone.Load())
	}
	if m := most.Load(); m < 2 || m > turnWidth {
		t.Fatalf("at most %d side by side, want 2..%d", m, turnWidth)
	}
	// Halt while waiting: no turn, nothing held.
	release, _ := tr.take(halt, turnWidth)
	got := make(chan bool)
	go func() { _, ok := tr.take(halt, 1); got <- ok }()
	close(halt)
	if <-got {
		t.Fatal("a turn after the halt")
	}
	release()
	if len(tr.slots) != 0 || len(tr.gate) != 0 {
		t.Fatalf("left held: %d slots, gate %d", len(tr.slots), len(tr.gate))
	}
}
