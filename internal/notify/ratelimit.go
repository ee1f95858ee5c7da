package notify

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultRate is LINE Notify's limit: 1000 API calls per hour per token.
var DefaultRate = Rate{Calls: 1000, Per: time.Hour}

// DefaultImageRate is LINE Notify's separate image quota: 50 image uploads
// per hour per token (its X-RateLimit-ImageLimit); a call without an image
// does not count against it.
var DefaultImageRate = Rate{Calls: 50, Per: time.Hour}

// Rate is a number of calls per period.
type Rate struct {
	Calls int
	Per   time.Duration
}

func (r Rate) String() string {
	for _, u := range rateUnits {
		if r.Per == u.d {
			return fmt.Sprintf("%d/%s", r.Calls, u.name)
		}
	}
	return fmt.Sprintf("%d/%s", r.Calls, r.Per)
}

var rateUnits = []struct {
	name string
	d    time.Duration
}{{"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}

// ParseRate reads "N/s", "N/m", "N/h" or "N/d" (N from 1 to 10,000,000).
func ParseRate(s string) (Rate, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want calls/period, such as 1000/h (periods: s, m, h, d)", s)
	}
	calls, err := strconv.Atoi(n)
	if err != nil || calls < 1 || calls > 10_000_000 {
		return Rate{}, fmt.Errorf("rate %q: the number of calls must be from 1 to 10000000", s)
	}
	for _, u := range rateUnits {
		if unit == u.name {
			return Rate{Calls: calls, Per: u.d}, nil
		}
	}
	return Rate{}, fmt.Errorf("rate %q: the period must be s, m, h or d", s)
}

// Limiter counts each token's calls in fixed windows, as Notify did: a
// window starts at a token's first call and resets Per later. It is not
// golang.org/x/time/rate (which paces linectl's own sends): Notify's answers
// carry X-RateLimit-Remaining and X-RateLimit-Reset, counts of a fixed
// window that a token bucket does not have.
type Limiter struct {
	Rate Rate
	Now  func() time.Time // nil: time.Now

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	reset time.Time
	used  int
}

// Quota is what the X-RateLimit headers say.
type Quota struct {
	Limit, Remaining int
	Reset            time.Time
	// ImageLimit and ImageRemaining are the image quota's (Server sets them).
	ImageLimit, ImageRemaining int
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// window returns key's current window, starting a new one when it is over.
func (l *Limiter) window(key string, now time.Time) *window {
	if l.windows == nil {
		l.windows = map[string]*window{}
	}
	w := l.windows[key]
	if w == nil || !now.Before(w.reset) {
		w = &window{reset: now.Add(l.Rate.Per)}
		l.windows[key] = w
		if len(l.windows) > 4096 {
			l.prune(now)
		}
	}
	return w
}

// prune drops windows that are over (they count nothing any more).
func (l *Limiter) prune(now time.Time) {
	for k, w := range l.windows {
		if !now.Before(w.reset) {
			delete(l.windows, k)
		}
	}
}

// Take counts one call of key; ok is false (and nothing counted) when the
// window's calls are spent.
func (l *Limiter) Take(key string) (q Quota, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.window(key, l.now())
	if w.used < l.Rate.Calls {
		w.used++
		ok = true
	}
	return Quota{Limit: l.Rate.Calls, Remaining: l.Rate.Calls - w.used, Reset: w.reset}, ok
}

// Peek is key's quota without counting a call.
func (l *Limiter) Peek(key string) Quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.window(key, l.now())
	return Quota{Limit: l.Rate.Calls, Remaining: l.Rate.Calls - w.used, Reset: w.reset}
}
