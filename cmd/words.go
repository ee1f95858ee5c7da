package cmd

import (
	"errors"
	"fmt"

	"github.com/linectl/linectl/pkg/lineapi"
)

// humanError carries the words a person reads in stderr's "linectl: …" line
// for an error whose Error() is technical (TalkException codes, RPC names).
// The JSON error line and the failed lines keep the technical message, and
// --debug shows both.
type humanError struct {
	words string
	err   error
}

func (e *humanError) Error() string { return e.err.Error() }
func (e *humanError) Unwrap() error { return e.err }

// humanText is the human line's text for err.
func humanText(err error, debug bool) string {
	var he *humanError
	if !errors.As(err, &he) {
		return err.Error()
	}
	if debug {
		return he.words + " (" + err.Error() + ")"
	}
	return he.words
}

// sendWords puts LINE's refusal of a send to chat `to` into the user's
// words: whichever call refused (the Letter Sealing probe comes first), the
// person needs to know the chat, not the RPC.
func sendWords(to string, err error) error {
	var te *lineapi.TalkError
	if !errors.As(err, &te) || te.Name != lineapi.ExceptionTalk && te.Name != "" {
		return err
	}
	switch te.Code {
	case lineapi.ErrNotAMember.Code:
		return &humanError{fmt.Sprintf("not a member of %s: this account is not in that chat (nothing was sent)", to), err}
	case lineapi.ErrNotFound.Code, 9: // NOT_FOUND, INVALID_MID
		return &humanError{fmt.Sprintf("LINE knows no user, group or room %s that this account can reach (nothing was sent)", to), err}
	case 38: // BLOCK_FRIEND
		return &humanError{fmt.Sprintf("%s has blocked this account (nothing was sent)", to), err}
	}
	return err
}
