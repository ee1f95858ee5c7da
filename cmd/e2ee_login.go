package cmd

import (
	"errors"

	"github.com/linectl/linectl/pkg/lineapi"
)

// saveE2EELogin stores the account's Letter Sealing keys the login brought
// (lineapi unwraps them; here is what the person is told when it cannot).
// It reports whether keys were saved.
func saveE2EELogin(f *factory, s *lineapi.Session) (bool, error) {
	keys, err := s.LetterSealingKeys()
	var kce *lineapi.KeyChainError
	switch {
	case errors.Is(err, lineapi.ErrNoKeyChain):
		if s.E2EE != nil && s.E2EE.ErrorCode != "" && s.E2EE.ErrorCode != "0" && s.E2EE.ErrorCode != "E2EE_NOT_ENABLED" {
			f.progress("warning: LINE sent no Letter Sealing keys with this login (%q): chats that require Letter Sealing will refuse to send", s.E2EE.ErrorCode)
		}
		return false, nil
	case errors.As(err, &kce) && kce.Malformed:
		f.progress("warning: the login's Letter Sealing key chain is malformed (%v); sealed chats will not work", kce.Err)
		return false, nil
	case errors.As(err, &kce):
		f.progress("warning: cannot unwrap the login's Letter Sealing key chain (%v); sealed chats will not work", kce.Err)
		return false, nil
	case err != nil:
		return false, err
	}
	st, err := f.State()
	if err != nil {
		return false, err
	}
	return true, st.SetOwnKeys(s.MID, keys)
}
