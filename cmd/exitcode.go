package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/linectl/linectl/internal/agent"
	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/internal/signer"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Exit codes: the one table (docs/exit-codes.md documents it).
const (
	ExitOK        = 0 // success
	ExitInternal  = 1 // a bug or an unexpected failure
	ExitUsage     = 2 // usage or invalid input; nothing was sent
	ExitLogin     = 3 // login needed: no session, or it ended and could not be refreshed
	ExitRejected  = 4 // LINE refused the request (TalkException, gateway refusal)
	ExitTemporary = 5 // network, 5xx, timeout, rate limit, full or read-only disk; nothing was sent
	ExitUnknown   = 6 // outcome unknown: a send may have been delivered
	// ExitUploadFailed: a media message was delivered but its upload failed.
	ExitUploadFailed = 7
	ExitInterrupted  = 130 // SIGINT/SIGTERM
)

// Kinds: the error line's "kind", a finer reason than the exit code
// (docs/exit-codes.md lists each with its code).
const (
	kindUsage            = "usage"
	kindConfig           = "config"
	kindNoSigner         = "no_signer"
	kindLoginRequired    = "login_required"
	kindSessionEnded     = "session_ended"
	kindLoginTimeout     = "login_timeout"
	kindWrongCredentials = "wrong_credentials"
	kindRejected         = "rejected"
	kindBadSignature     = "bad_signature"
	kindE2EERequired     = "e2ee_required"
	kindBadObject        = "bad_object"
	kindNetwork          = "network"
	kindTemporary        = "temporary"
	kindRateLimited      = "rate_limited"
	kindTimeout          = "timeout"
	kindBadResponse      = "bad_response"
	kindDisk             = "disk"
	kindAlreadyRunning   = "already_running"
	kindOutcomeUnknown   = "outcome_unknown"
	kindUnconfirmed      = "unconfirmed"
	kindUploadFailed     = "upload_failed"
	kindInterrupted      = "interrupted"
	kindInternal         = "internal"
)

const exitCodeHelp = `Exit codes:
  0    success
  1    internal error
  2    usage or invalid input (nothing was sent)
  3    login needed (no session, or it ended and could not be refreshed)
  4    rejected by LINE (TalkException or gateway refusal; code and reason shown)
  5    temporary failure (network, 5xx, timeout, rate limit; nothing was sent)
  6    outcome unknown (a send may have been delivered)
  7    a media message was delivered but its image or file did not upload
  130  interrupted`

// exitError carries an explicit exit code and kind.
type exitError struct {
	code int
	kind string
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is bad input: exit 2, nothing sent.
func usageErrorf(format string, a ...any) error {
	return &exitError{code: ExitUsage, kind: kindUsage, err: fmt.Errorf(format, a...)}
}

// withExit wraps err with an exit code and kind.
func withExit(code int, kind string, err error) error {
	return &exitError{code: code, kind: kind, err: err}
}

// errNotLoggedIn is the error of every command that needs a session when none is saved.
var errNotLoggedIn = withExit(ExitLogin, kindLoginRequired,
	errors.New("not logged in: run 'linectl login qr' or 'linectl login password --email you@example.com'"))

// classified is an error mapped to what stderr's error line says.
type classified struct {
	code   int
	kind   string
	talk   int    // TalkException / gateway code, 0 if none
	reason string // LINE's reason
}

// classify maps an error to its exit code. This is the only place that does.
func classify(err error) classified {
	var ee *exitError
	var te *lineapi.TalkError
	var ge *lineapi.GatewayError
	var tr *lineapi.TransportError
	var br *lineapi.BadResponseError
	var oe *obs.Error
	var se *signer.Error
	c := classified{}
	if errors.As(err, &te) {
		c.talk, c.reason = te.Code, te.Reason
	} else if errors.As(err, &ge) {
		c.talk, c.reason = ge.Code, ge.Message
	}
	switch {
	case errors.Is(err, context.Canceled):
		c.code, c.kind = ExitInterrupted, kindInterrupted
	case errors.As(err, &ee):
		c.code, c.kind = ee.code, ee.kind
	case errors.As(err, &se):
		c.code, c.kind = ExitUsage, se.Kind // kindNoSigner or kindConfig
	case errors.As(err, new(*agent.SocketError)):
		c.code, c.kind = ExitUsage, kindConfig
	case config.IsDiskError(err):
		// A full, read-only or failing disk while saving state: the
		// environment's fault. Every state write happens before a send or
		// after it settled, so nothing was sent because of it.
		c.code, c.kind = ExitTemporary, kindDisk
	case errors.Is(err, config.ErrInsecure), errors.Is(err, config.ErrCorrupt):
		c.code, c.kind = ExitUsage, kindConfig
	case errors.As(err, new(*session.ErrEnded)):
		c.code, c.kind = ExitLogin, kindSessionEnded
	case errors.Is(err, lineapi.ErrNotLoggedIn):
		c.code, c.kind = ExitLogin, kindLoginRequired
	case lineapi.IsSessionGone(err), errors.Is(err, lineapi.ErrMustRefreshToken), errors.Is(err, lineapi.ErrNeedLogin):
		c.code, c.kind = ExitLogin, kindSessionEnded
	case lineapi.IsRateLimited(err):
		c.code, c.kind = ExitTemporary, kindRateLimited
	case errors.Is(err, lineapi.ErrInvalidHMAC):
		c.code, c.kind = ExitRejected, kindBadSignature
	case te != nil:
		c.code, c.kind = ExitRejected, kindRejected
	case ge != nil && ge.Temporary():
		c.code, c.kind = ExitTemporary, kindTemporary
	case ge != nil:
		c.code, c.kind = ExitRejected, kindRejected
	case errors.Is(err, obs.ErrTooLong):
		// The object storage sent more than the message announced.
		c.code, c.kind = ExitRejected, kindBadObject
	case errors.Is(err, obs.ErrTruncated), errors.Is(err, obs.ErrStalled):
		c.code, c.kind = ExitTemporary, kindNetwork
	case errors.As(err, &oe) && obs.Temporary(err):
		c.code, c.kind = ExitTemporary, kindTemporary
	case errors.As(err, &oe), errors.Is(err, obs.ErrNoOID):
		// Object storage refused the upload or download (wrong type, too
		// large, not found; the statuses are docs/media-protocol.md's guesses),
		// or stored a sealed object without saying its id.
		c.code, c.kind = ExitRejected, kindRejected
	case errors.As(err, &br):
		// Sends never get here (delivery settles them or says outcome_unknown).
		c.code, c.kind = ExitTemporary, kindBadResponse
	case errors.As(err, &tr), errors.Is(err, context.DeadlineExceeded), errors.As(err, new(*url.Error)):
		c.code, c.kind = ExitTemporary, kindNetwork
	case errors.Is(err, lineapi.ErrLoginTimedOut):
		c.code, c.kind = ExitTemporary, kindTimeout
	default:
		c.code, c.kind = ExitInternal, kindInternal
	}
	return c
}

// sendExit gives delivery's errors their exit codes.
func sendExit(err error) error {
	switch {
	case errors.Is(err, delivery.ErrOutcomeUnknown):
		return withExit(ExitUnknown, kindOutcomeUnknown, err)
	case errors.Is(err, delivery.ErrUploadFailed):
		return withExit(ExitUploadFailed, kindUploadFailed, err)
	case errors.Is(err, delivery.ErrNeedsE2EE), errors.Is(err, delivery.ErrSealingImpossible):
		return withExit(ExitRejected, kindE2EERequired, err)
	}
	return err
}

// rank orders exit codes from best to worst for "the worst one".
func rank(code int) int {
	switch code {
	case ExitOK:
		return 0
	case ExitUsage:
		return 1
	case ExitTemporary:
		return 2
	case ExitRejected:
		return 3
	case ExitLogin:
		return 4
	case ExitInternal:
		return 5
	case ExitUploadFailed:
		return 6
	case ExitUnknown:
		return 7
	default:
		return 8
	}
}
