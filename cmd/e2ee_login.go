package cmd

import (
	"crypto/aes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// passwordE2EE is the client side of a Letter Sealing password login
// (PROTOCOL.md §3): a login X25519 key, a client PIN, and the secret
// base64(AES-256-ECB(SHA-256(PIN), publicKey)).
type passwordE2EE struct {
	f   *factory
	key *ecdh.PrivateKey
}

func newPasswordE2EE(f *factory) *passwordE2EE { return &passwordE2EE{f: f} }

func (p *passwordE2EE) Begin() (secret, pin string, err error) {
	if p.key, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		return "", "", err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		return "", "", err
	}
	pin = fmt.Sprintf("%06d", n.Int64())
	k := sha256.Sum256([]byte(pin))
	ct, err := aesECB(k[:], p.key.PublicKey().Bytes())
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(ct), pin, nil
}

func (p *passwordE2EE) Finish(meta *lineapi.E2EEMetadata) (string, error) {
	if meta == nil || meta.PublicKey == "" || meta.EncryptedKeyChain == "" {
		return "", errors.New("Letter Sealing login: the phone sent no key chain")
	}
	pub, err := base64.StdEncoding.DecodeString(meta.PublicKey)
	if err != nil {
		return "", fmt.Errorf("Letter Sealing login: bad server public key: %w", err)
	}
	kc, err := base64.StdEncoding.DecodeString(meta.EncryptedKeyChain)
	if err != nil {
		return "", fmt.Errorf("Letter Sealing login: bad key chain: %w", err)
	}
	peer, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("Letter Sealing login: bad server public key: %w", err)
	}
	shared, err := p.key.ECDH(peer)
	if err != nil {
		return "", err
	}
	key := sha256.Sum256(append(shared, "Key"...))
	h := sha256.Sum256(kc)
	var folded [16]byte
	for i := range folded {
		folded[i] = h[i] ^ h[i+16]
	}
	out, err := aesECB(key[:], folded[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

func aesECB(key, data []byte) ([]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(data)%aes.BlockSize != 0 {
		return nil, errors.New("AES-ECB: data is not a whole number of blocks")
	}
	out := make([]byte, len(data))
	for i := 0; i < len(data); i += aes.BlockSize {
		b.Encrypt(out[i:i+aes.BlockSize], data[i:i+aes.BlockSize])
	}
	return out, nil
}

// e2eeLoginFile is the Letter Sealing material a login returned, kept
// (0600, beside the config) until the key chain is unwrapped into the key store.
type e2eeLoginFile struct {
	MID         string                `json:"mid"`
	LoginKey    string                `json:"loginPrivateKey"` // base64 X25519 private key
	Metadata    *lineapi.E2EEMetadata `json:"metadata"`
	E2EEVersion int                   `json:"e2eeVersion"`
}

func e2eeLoginPath(f *factory) string {
	return filepath.Join(filepath.Dir(f.store.Path), "e2ee-login.json")
}

// saveE2EELogin keeps the key-chain material of a login, if it returned one.
func saveE2EELogin(f *factory, s *lineapi.Session, pw lineapi.PasswordE2EE) (bool, error) {
	key := s.LoginKey
	if p, ok := pw.(*passwordE2EE); ok && key == nil && s.E2EE != nil {
		key = p.key
	}
	if s.E2EE == nil || s.E2EE.EncryptedKeyChain == "" || key == nil {
		return false, nil
	}
	b, err := json.Marshal(e2eeLoginFile{MID: s.MID, LoginKey: base64.StdEncoding.EncodeToString(key.Bytes()), Metadata: s.E2EE, E2EEVersion: 1})
	if err != nil {
		return false, err
	}
	if err := config.WriteFileAtomic(e2eeLoginPath(f), b); err != nil {
		return false, err
	}
	return true, nil
}
