package cmd

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// passwordE2EE is the client side of a Letter Sealing password login
// (docs/protocol.md §3): a login X25519 key, a client PIN, and the secret
// base64(AES-256-ECB(SHA-256(PIN), publicKey)).
type passwordE2EE struct {
	key *ecdh.PrivateKey
}

func newPasswordE2EE(*factory) *passwordE2EE { return &passwordE2EE{} }

func (p *passwordE2EE) Begin() (secret, pin string, err error) {
	if p.key, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		return "", "", err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		return "", "", err
	}
	pin = fmt.Sprintf("%06d", n.Int64())
	sec, err := sealing.PasswordLoginSecret(pin, p.key.PublicKey().Bytes())
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(sec), pin, nil
}

func (p *passwordE2EE) Finish(meta *lineapi.E2EEMetadata) (string, error) {
	if meta == nil || meta.PublicKey == "" || meta.EncryptedKeyChain == "" {
		return "", errors.New("Letter Sealing login: the phone sent no key chain")
	}
	pub, err1 := base64.StdEncoding.DecodeString(meta.PublicKey)
	kc, err2 := base64.StdEncoding.DecodeString(meta.EncryptedKeyChain)
	if err := errors.Join(err1, err2); err != nil {
		return "", fmt.Errorf("Letter Sealing login: %w", err)
	}
	h, err := sealing.HashKeyChain(p.key.Bytes(), pub, kc)
	if err != nil {
		return "", fmt.Errorf("Letter Sealing login: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h), nil
}

// saveE2EELogin unwraps the key chain a login returned with the login key
// and stores the account's Letter Sealing keys. It reports whether keys were saved.
func saveE2EELogin(f *factory, s *lineapi.Session, pw lineapi.PasswordE2EE) (bool, error) {
	key := s.LoginKey
	if p, ok := pw.(*passwordE2EE); ok && key == nil && p.key != nil {
		key = p.key
	}
	if s.E2EE == nil || s.E2EE.EncryptedKeyChain == "" || key == nil {
		if s.E2EE != nil && s.E2EE.ErrorCode != "" && s.E2EE.ErrorCode != "0" && s.E2EE.ErrorCode != "E2EE_NOT_ENABLED" {
			f.progress("warning: LINE sent no Letter Sealing keys with this login (%q): chats that require Letter Sealing will refuse to send", s.E2EE.ErrorCode)
		}
		return false, nil
	}
	pub, err1 := base64.StdEncoding.DecodeString(s.E2EE.PublicKey)
	kc, err2 := base64.StdEncoding.DecodeString(s.E2EE.EncryptedKeyChain)
	if err := errors.Join(err1, err2); err != nil {
		f.progress("warning: the login's Letter Sealing key chain is malformed (%v); sealed chats will not work", err)
		return false, nil
	}
	keys, err := sealing.UnwrapKeyChain(key.Bytes(), pub, kc)
	if err != nil {
		f.progress("warning: cannot unwrap the login's Letter Sealing key chain (%v); sealed chats will not work", err)
		return false, nil
	}
	st, err := f.State()
	if err != nil {
		return false, err
	}
	return true, st.SetOwnKeys(s.MID, keys)
}
