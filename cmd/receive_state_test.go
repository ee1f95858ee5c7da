package cmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type saveLog struct {
	mu    sync.Mutex
	saved []int64
	fail  error
	warns []string
}

func (l *saveLog) save(rev int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.saved = append(l.saved, rev)
	return nil
}

func (l *saveLog) warn(format string, a ...any) {
	l.mu.Lock()
	l.warns = append(l.warns, fmt.Sprintf(format, a...))
	l.mu.Unlock()
}

func (l *saveLog) last() (int64, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.saved) == 0 {
		return 0, 0
	}
	return l.saved[len(l.saved)-1], len(l.saved)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within 3s: %s", what)
}

func TestPositionSaverSavesTheEndOfABurstWhileIdle(t *testing.T) {
	var out bytes.Buffer
	l := &saveLog{}
	p := newPositionSaver(bufio.NewWriter(&out), 100, l.save, l.warn)
	p.interval = 50 * time.Millisecond
	// A burst: many pauses in quick succession, then silence.
	for rev := int64(101); rev <= 200; rev++ {
		if err := p.write([]byte(fmt.Sprintf("%d\n", rev))); err != nil {
			t.Fatal(err)
		}
		if err := p.idle(rev); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasSuffix(out.String(), "200\n") {
		t.Fatal("lines not flushed at the pause")
	}
	eventually(t, "the burst's last revision saved with nothing more arriving", func() bool { r, _ := l.last(); return r == 200 })
	if _, n := l.last(); n > 5 {
		t.Fatalf("%d saves for one fast burst: saves must be throttled while busy", n)
	}
	if err := p.close(200); err != nil {
		t.Fatal(err)
	}
	if _, n := l.last(); n > 5 {
		t.Fatal("close saved an unchanged position again")
	}
}

func TestPositionSaverReportsAndRetriesAFailedSave(t *testing.T) {
	l := &saveLog{fail: fmt.Errorf("write receive-state.json: %w", syscall.ENOSPC)}
	p := newPositionSaver(bufio.NewWriter(&bytes.Buffer{}), 100, l.save, l.warn)
	p.retry = 20 * time.Millisecond
	if err := p.idle(105); err != nil {
		t.Fatalf("a failed save must not stop the stream: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // several retries, one report
	l.mu.Lock()
	if len(l.warns) != 1 || !strings.Contains(l.warns[0], "no space") || !strings.Contains(l.warns[0], "105") {
		t.Fatalf("warnings %q", l.warns)
	}
	l.fail = nil // room again
	l.mu.Unlock()
	eventually(t, "saved once the disk has room, without a new event", func() bool { r, _ := l.last(); return r == 105 })
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.warns) != 2 || !strings.Contains(l.warns[1], "saved again") {
		t.Fatalf("warnings %q", l.warns)
	}
}

func TestPositionSaverCloseReportsAFailedFinalSave(t *testing.T) {
	l := &saveLog{fail: syscall.EROFS}
	p := newPositionSaver(bufio.NewWriter(&bytes.Buffer{}), 100, l.save, l.warn)
	err := p.close(101)
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "after revision 100") {
		t.Fatalf("err %v", err)
	}
}
