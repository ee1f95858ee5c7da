package notify

import (
	"errors"
	"fmt"

	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/pkg/lineapi"
)

// ErrLoggedOut is what a Sender returns once linectl's session has ended.
var ErrLoggedOut = errors.New("linectl is logged out")

// IsLoggedOut reports whether err means linectl's session is gone: LINE
// ended it (logged out elsewhere, kicked, refresh refused) or there is none.
func IsLoggedOut(err error) bool {
	var ended *session.ErrEnded
	return errors.Is(err, ErrLoggedOut) || errors.As(err, &ended) || lineapi.IsSessionGone(err) ||
		errors.Is(err, lineapi.ErrNotLoggedIn) || errors.Is(err, lineapi.ErrMustRefreshToken) ||
		errors.Is(err, lineapi.ErrNeedLogin)
}

// refusal is the message of a send that failed before LINE stored anything:
// LINE refused it, throttled it, or could not be reached.
func refusal(err error) string {
	var te *lineapi.TalkError
	var ge *lineapi.GatewayError
	switch {
	case lineapi.IsRateLimited(err):
		return "LINE is throttling linectl's sends; nothing was sent, try again later: " + err.Error()
	case errors.As(err, &te):
		reason := te.Reason
		if reason == "" {
			reason = err.Error()
		}
		return fmt.Sprintf("LINE refused the message: %s (code %d); nothing was sent", reason, te.Code)
	case lineapi.Temporary(err):
		return "LINE could not be reached; nothing was sent, try again later: " + err.Error()
	case errors.As(err, &ge):
		return fmt.Sprintf("LINE refused the message: %s (code %d); nothing was sent", ge.Message, ge.Code)
	}
	return "linectl could not send the message: " + err.Error()
}
