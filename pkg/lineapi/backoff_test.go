package lineapi

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}
	for n, want := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 5: 4 * time.Second, 6: 5 * time.Second, 100: 5 * time.Second, 0: 250 * time.Millisecond} {
		if got := b.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	j := Backoff{Base: time.Second, Max: 10 * time.Minute, Jitter: true}
	for n := 1; n < 40; n++ {
		full := min(time.Second<<min(n-1, 30), 10*time.Minute)
		if d := j.Delay(n); d < full/2 || d > full {
			t.Fatalf("Delay(%d) = %v, want within [%v, %v]", n, d, full/2, full)
		}
	}
}
