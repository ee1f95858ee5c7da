package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Limiter is a token bucket: at most Rate sends per second, in bursts of at most Burst.
type Limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

// NewLimiter returns a limiter; rate <= 0 means no limit (nil).
func NewLimiter(rate float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = lineapi.SleepContext
	}
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst), now: now, sleep: sleep}
}

// Wait blocks until a send is allowed.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	for {
		l.mu.Lock()
		now := l.now()
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return err
		}
	}
}
