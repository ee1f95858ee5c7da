package delivery

import "context"

// Limiter paces sends: Wait blocks until one more is allowed or ctx ends.
// golang.org/x/time/rate's *rate.Limiter is one (a token bucket); cmd wraps
// it so that a signal also ends the wait.
type Limiter interface {
	Wait(ctx context.Context) error
}
