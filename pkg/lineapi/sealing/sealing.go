// Package sealing implements LINE's Letter Sealing (end-to-end encryption)
// as docs/protocol.md §3, §4 and §8 describe it: X25519 key agreement, the login
// key chain, group keys, and the V1 (AES-CBC + MAC) and V2 (AES-GCM) message
// formats. Pure Go: the standard library and golang.org/x/crypto/curve25519.
// Every function that reads network data returns an error on bad input; none panics.
package sealing

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/curve25519"
)

// Errors.
var (
	ErrAuth       = errors.New("sealing: message authentication failed (tampered or wrong key)")
	ErrBadChunks  = errors.New("sealing: malformed chunks")
	ErrUnknownKey = errors.New("sealing: no key with that id")
	ErrBadKey     = errors.New("sealing: malformed key")
)

// KeyPair is an X25519 key pair with LINE's key id.
type KeyPair struct {
	KeyID   int    `json:"keyId"`
	Version int    `json:"version,omitempty"`
	Private []byte `json:"privateKey,omitempty"`
	Public  []byte `json:"publicKey"`
}

// GenerateKeyPair makes a new X25519 key pair (rand nil = crypto/rand).
func GenerateKeyPair(r io.Reader) (KeyPair, error) {
	if r == nil {
		r = rand.Reader
	}
	priv := make([]byte, 32)
	if _, err := io.ReadFull(r, priv); err != nil {
		return KeyPair{}, err
	}
	pub, err := curve25519.X25519(priv, curve25519.Basepoint)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Private: priv, Public: pub}, nil
}

// SharedSecret is X25519(priv, pub).
func SharedSecret(priv, pub []byte) ([]byte, error) {
	if len(priv) != 32 || len(pub) != 32 {
		return nil, ErrBadKey
	}
	s, err := curve25519.X25519(priv, pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return s, nil
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// xorfold16 folds 32 bytes to 16: out[i] = b[i] ^ b[i+16].
func xorfold16(b []byte) []byte {
	out := make([]byte, len(b)/2)
	for i := range out {
		out[i] = b[i] ^ b[i+len(out)]
	}
	return out
}

func be32(n int) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(int32(n)))
	return b
}

// KeyID reads a key id chunk (big-endian, 1–4 bytes).
func KeyID(chunk []byte) (int, error) {
	if len(chunk) == 0 || len(chunk) > 4 {
		return 0, ErrBadChunks
	}
	n := 0
	for _, b := range chunk {
		n = n<<8 | int(b)
	}
	return n, nil
}

func ecbEncrypt(key, data []byte) ([]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(data)%aes.BlockSize != 0 {
		return nil, errors.New("sealing: ECB data is not whole blocks")
	}
	out := make([]byte, len(data))
	for i := 0; i < len(data); i += aes.BlockSize {
		b.Encrypt(out[i:], data[i:i+aes.BlockSize])
	}
	return out, nil
}

func cbc(key, iv, data []byte, encrypt bool) ([]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, ErrBadChunks
	}
	out := make([]byte, len(data))
	if encrypt {
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, data)
	} else {
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, data)
	}
	return out, nil
}

func pkcs7Pad(b []byte) []byte {
	n := aes.BlockSize - len(b)%aes.BlockSize
	return append(append([]byte{}, b...), bytes.Repeat([]byte{byte(n)}, n)...)
}

func pkcs7Unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrAuth
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, ErrAuth
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, ErrAuth
		}
	}
	return b[:len(b)-n], nil
}

// keyAndIV derives the key-chain / group-key wrapping key: SHA-256(s‖"Key")
// and xorfold16(SHA-256(s‖"IV")).
func keyAndIV(secret []byte) (key, iv []byte) {
	return sha(secret, []byte("Key")), xorfold16(sha(secret, []byte("IV")))
}

// PasswordLoginSecret is loginV2's secret for a Letter Sealing password
// login: base64 is left to the caller; AES-256-ECB(SHA-256(PIN), publicKey).
func PasswordLoginSecret(pin string, pub []byte) ([]byte, error) {
	return ecbEncrypt(sha([]byte(pin)), pub)
}

// HashKeyChain is confirmE2EELogin's device secret:
// AES-256-ECB(SHA-256(X25519(loginPriv, serverPub)‖"Key"), xorfold16(SHA-256(encryptedKeyChain))).
func HashKeyChain(loginPriv, serverPub, encryptedKeyChain []byte) ([]byte, error) {
	s, err := SharedSecret(loginPriv, serverPub)
	if err != nil {
		return nil, err
	}
	return ecbEncrypt(sha(s, []byte("Key")), xorfold16(sha(encryptedKeyChain)))
}

// UnwrapKeyChain decrypts a login's encryptedKeyChain with the login key:
// AES-256-CBC keyed from X25519(loginPriv, serverPub), PKCS#7 padding (as
// LINE writes it; beeper/line), then the Thrift-compact E2EEKeyChain
// (CHRLINE: field 1 = list of keys; key fields 2 keyId, 4 publicKey,
// 5 privateKey). A chain whose padding is not PKCS#7 is decoded as it is:
// Thrift ignores what follows the struct.
func UnwrapKeyChain(loginPriv, serverPub, encrypted []byte) ([]KeyPair, error) {
	s, err := SharedSecret(loginPriv, serverPub)
	if err != nil {
		return nil, err
	}
	key, iv := keyAndIV(s)
	plain, err := cbc(key, iv, encrypted, false)
	if err != nil {
		return nil, err
	}
	if unpadded, err := pkcs7Unpad(plain); err == nil {
		plain = unpadded
	}
	return decodeKeyChain(plain)
}

// LatestKey returns the key with the highest key id: the one LINE's apps seal
// and wrap with (the extension's getLatestMyKeyId; beeper/line, OkLine).
func LatestKey(keys []KeyPair) (KeyPair, bool) {
	var best KeyPair
	for _, k := range keys {
		if k.KeyID >= best.KeyID {
			best = k
		}
	}
	return best, len(keys) > 0
}

// UnwrapGroupKey returns a group's private key from encryptedSharedKey:
// AES-256-CBC/PKCS7 keyed from X25519(myPriv[receiverKeyId], creatorPub[creatorKeyId]).
func UnwrapGroupKey(myPriv, creatorPub, encrypted []byte) ([]byte, error) {
	s, err := SharedSecret(myPriv, creatorPub)
	if err != nil {
		return nil, err
	}
	key, iv := keyAndIV(s)
	plain, err := cbc(key, iv, encrypted, false)
	if err != nil {
		return nil, err
	}
	k, err := pkcs7Unpad(plain)
	if err != nil || len(k) != 32 {
		return nil, ErrAuth
	}
	return k, nil
}

// WrapGroupKey encrypts a group private key for one member (registerE2EEGroupKey).
func WrapGroupKey(creatorPriv, memberPub, groupPriv []byte) ([]byte, error) {
	s, err := SharedSecret(creatorPriv, memberPub)
	if err != nil {
		return nil, err
	}
	key, iv := keyAndIV(s)
	return cbc(key, iv, pkcs7Pad(groupPriv), true)
}
