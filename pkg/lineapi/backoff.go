package lineapi

import (
	"math/rand/v2"
	"time"
)

// Backoff is a doubling delay between attempts: Base, 2×Base, 4×Base … up
// to Max. With Jitter the delay is a random point in its upper half, so that
// many clients cut off together do not come back together. It is the one
// backoff of the module: gateway calls, the operation stream's reconnects,
// token refreshes without a retry policy, and object-storage transfers.
type Backoff struct {
	Base, Max time.Duration
	Jitter    bool
}

// Delay is the wait before attempt n+1, after attempt n (n ≥ 1) failed.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Base << min(max(n-1, 0), 30)
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	if b.Jitter && d > 1 {
		d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	}
	return d
}
