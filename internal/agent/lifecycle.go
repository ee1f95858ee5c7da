package agent

import (
	"context"
	"errors"
	"net"
)

// State is what an agent command reports.
type State string

// The states of an agent command.
const (
	Running        State = "running"         // this run took the socket and serves
	AlreadyRunning State = "already-running" // another agent holds the socket
	Stopped        State = "stopped"         // --stop: the running agent was told to exit
	NotRunning     State = "not-running"     // --stop: no agent answered
)

// Lifecycle is an agent command ('linectl signer agent', 'linectl
// gateway-agent'): stop the agent at Socket, or become it. S is the agent's
// status (what ping and stop answer).
type Lifecycle[S any] struct {
	Socket string
	// Stop asks the agent at Socket to exit and returns its last status;
	// running false: no agent answered. An error is the run's.
	Stop func(ctx context.Context) (last S, running bool, err error)
	// Report is told the state, with the status when there is one (the
	// command prints its line).
	Report func(state State, status *S) error
}

// StopRunning stops the running agent: Stopped with its last status, or
// NotRunning.
func (l Lifecycle[S]) StopRunning(ctx context.Context) error {
	st, running, err := l.Stop(ctx)
	if err != nil {
		return err
	}
	if !running {
		return l.Report(NotRunning, nil)
	}
	return l.Report(Stopped, &st)
}

// Run takes the socket — AlreadyRunning, and nil, when another agent holds
// it — then calls open to load what the agent serves, reports Running with
// the status open returns, and serves until the agent ends (idle, a stop
// request, its Watch, ctx). The socket is released on return. An error
// taking the socket is a *SocketError.
func (l Lifecycle[S]) Run(ctx context.Context, open func() (status S, serve func(context.Context, net.Listener) error, err error)) error {
	ln, closeFn, err := Listen(l.Socket)
	if errors.Is(err, ErrRunning) {
		return l.Report(AlreadyRunning, nil)
	}
	if err != nil {
		return &SocketError{Err: err}
	}
	defer closeFn()
	st, serve, err := open()
	if err != nil {
		return err
	}
	if err := l.Report(Running, &st); err != nil {
		return err
	}
	return serve(ctx, ln)
}

// SocketError is a failure to take an agent's socket (a directory or lock
// that cannot be used); its text is Err's.
type SocketError struct{ Err error }

func (e *SocketError) Error() string { return e.Err.Error() }
func (e *SocketError) Unwrap() error { return e.Err }
