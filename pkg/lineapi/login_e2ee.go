package lineapi

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// LetterSealingLogin is the client side of a Letter Sealing password login
// (docs/protocol.md §3), a PasswordE2EE: a login X25519 key, a PIN the
// client makes (six digits, shown to the person, typed on the phone), and
// the loginV2 secret base64(AES-256-ECB(SHA-256(PIN), publicKey)). Once LF1
// brings the key chain, Finish answers confirmE2EELogin, and the Session's
// LetterSealingKeys unwraps the account's keys with the same login key.
// One value serves one login.
type LetterSealingLogin struct {
	// Random is the source of the key and the PIN; nil = crypto/rand.
	Random io.Reader

	key *ecdh.PrivateKey
}

// Begin implements PasswordE2EE.
func (l *LetterSealingLogin) Begin() (secret, pin string, err error) {
	random := l.Random
	if random == nil {
		random = rand.Reader
	}
	if l.key, err = ecdh.X25519().GenerateKey(random); err != nil {
		return "", "", err
	}
	n, err := rand.Int(random, big.NewInt(1000000))
	if err != nil {
		return "", "", err
	}
	pin = fmt.Sprintf("%06d", n.Int64())
	sec, err := sealing.PasswordLoginSecret(pin, l.key.PublicKey().Bytes())
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(sec), pin, nil
}

// Finish implements PasswordE2EE: base64(hashKeyChain) of the key chain
// LF1 brought, for confirmE2EELogin.
func (l *LetterSealingLogin) Finish(meta *E2EEMetadata) (string, error) {
	if meta == nil || meta.PublicKey == "" || meta.EncryptedKeyChain == "" {
		return "", errors.New("Letter Sealing login: the phone sent no key chain")
	}
	if l.key == nil {
		return "", errors.New("Letter Sealing login: Finish before Begin")
	}
	pub, err1 := base64.StdEncoding.DecodeString(meta.PublicKey)
	kc, err2 := base64.StdEncoding.DecodeString(meta.EncryptedKeyChain)
	if err := errors.Join(err1, err2); err != nil {
		return "", fmt.Errorf("Letter Sealing login: %w", err)
	}
	h, err := sealing.HashKeyChain(l.key.Bytes(), pub, kc)
	if err != nil {
		return "", fmt.Errorf("Letter Sealing login: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h), nil
}

// LoginKey is the X25519 key the key chain is wrapped to (nil before Begin).
func (l *LetterSealingLogin) LoginKey() *ecdh.PrivateKey { return l.key }

// ErrNoKeyChain means a login brought no Letter Sealing key chain (the
// account does not use Letter Sealing, LINE declined: see the Session's
// E2EE.ErrorCode, or the login was not a Letter Sealing one).
var ErrNoKeyChain = errors.New("the login brought no Letter Sealing key chain")

// KeyChainError is a key chain that came with a login but cannot be used.
type KeyChainError struct {
	// Malformed: not base64; otherwise it did not unwrap with the login key.
	Malformed bool
	Err       error
}

func (e *KeyChainError) Error() string {
	if e.Malformed {
		return "the login's Letter Sealing key chain is malformed: " + e.Err.Error()
	}
	return "cannot unwrap the login's Letter Sealing key chain: " + e.Err.Error()
}

func (e *KeyChainError) Unwrap() error { return e.Err }

// LetterSealingKeys unwraps the account's Letter Sealing key pairs from the
// key chain a login brought (a QR login, or a password login with a
// LetterSealingLogin), with the login key: what e2ee's KeyStore keeps as
// the account's own keys. ErrNoKeyChain when the login brought none; a
// *KeyChainError when it cannot be used.
func (s *Session) LetterSealingKeys() ([]sealing.KeyPair, error) {
	if s.E2EE == nil || s.E2EE.EncryptedKeyChain == "" || s.LoginKey == nil {
		return nil, ErrNoKeyChain
	}
	pub, err1 := base64.StdEncoding.DecodeString(s.E2EE.PublicKey)
	kc, err2 := base64.StdEncoding.DecodeString(s.E2EE.EncryptedKeyChain)
	if err := errors.Join(err1, err2); err != nil {
		return nil, &KeyChainError{Malformed: true, Err: err}
	}
	keys, err := sealing.UnwrapKeyChain(s.LoginKey.Bytes(), pub, kc)
	if err != nil {
		return nil, &KeyChainError{Err: err}
	}
	return keys, nil
}
