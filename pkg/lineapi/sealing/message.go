package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"io"
)

// Message is what a sealed message needs besides the secret.
type Message struct {
	From, To      string
	SenderKeyID   int
	ReceiverKeyID int
	ContentType   int
}

// aad is V2's additional data: to‖from‖BE32(senderKeyId)‖BE32(receiverKeyId)‖BE32(2)‖BE32(contentType).
func (m Message) aad() []byte {
	b := append([]byte(m.To), m.From...)
	b = append(b, be32(m.SenderKeyID)...)
	b = append(b, be32(m.ReceiverKeyID)...)
	b = append(b, be32(2)...)
	return append(b, be32(m.ContentType)...)
}

// TextPayload is the plaintext of a sealed text message.
type TextPayload struct {
	Text string `json:"text"`
}

// NonceSizeV2 is the GCM nonce linectl writes. PROTOCOL.md says 12 bytes;
// CHRLINE writes 16. Decryption accepts either.
const NonceSizeV2 = 12

// EncryptV2 seals plaintext: salt 16 random bytes, key SHA-256(s‖salt‖"Key"),
// AES-256-GCM with AAD. Chunks: [salt, ciphertext‖tag, nonce, BE32(senderKeyId), BE32(receiverKeyId)].
func EncryptV2(secret []byte, m Message, plaintext []byte, r io.Reader) ([][]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, 16)
	nonce := make([]byte, NonceSizeV2)
	if _, err := io.ReadFull(r, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, err
	}
	gcm, err := gcmFor(sha(secret, salt, []byte("Key")), len(nonce))
	if err != nil {
		return nil, err
	}
	ct := gcm.Seal(nil, nonce, plaintext, m.aad())
	return [][]byte{salt, ct, nonce, be32(m.SenderKeyID), be32(m.ReceiverKeyID)}, nil
}

func gcmFor(key []byte, nonceSize int) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if nonceSize == 12 {
		return cipher.NewGCM(b)
	}
	return cipher.NewGCMWithNonceSize(b, nonceSize)
}

// DecryptV2 opens V2 chunks; the key ids in m are ignored (they come from the chunks).
func DecryptV2(secret []byte, m Message, chunks [][]byte) ([]byte, error) {
	if len(chunks) != 5 || len(chunks[0]) != 16 || (len(chunks[2]) != 12 && len(chunks[2]) != 16) || len(chunks[1]) < 16 {
		return nil, ErrBadChunks
	}
	var err error
	if m.SenderKeyID, err = KeyID(chunks[3]); err != nil {
		return nil, err
	}
	if m.ReceiverKeyID, err = KeyID(chunks[4]); err != nil {
		return nil, err
	}
	gcm, err := gcmFor(sha(secret, chunks[0], []byte("Key")), len(chunks[2]))
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, chunks[2], chunks[1], m.aad())
	if err != nil {
		return nil, ErrAuth
	}
	return plain, nil
}

// EncryptV1 seals plaintext: salt 8 random bytes, key SHA-256(s‖salt‖"Key"),
// iv xorfold16(SHA-256(s‖salt‖"IV")), AES-256-CBC/PKCS7, MAC =
// AES-ECB(key, xorfold16(SHA-256(ciphertext))). Chunks: [salt, ct, mac, BE32, BE32].
func EncryptV1(secret []byte, m Message, plaintext []byte, r io.Reader) ([][]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, 8)
	if _, err := io.ReadFull(r, salt); err != nil {
		return nil, err
	}
	key := sha(secret, salt, []byte("Key"))
	iv := xorfold16(sha(secret, salt, []byte("IV")))
	ct, err := cbc(key, iv, pkcs7Pad(plaintext), true)
	if err != nil {
		return nil, err
	}
	mac, err := ecbEncrypt(key, xorfold16(sha(ct)))
	if err != nil {
		return nil, err
	}
	return [][]byte{salt, ct, mac, be32(m.SenderKeyID), be32(m.ReceiverKeyID)}, nil
}

// DecryptV1 verifies the MAC, then decrypts.
func DecryptV1(secret []byte, chunks [][]byte) ([]byte, error) {
	if len(chunks) != 5 || len(chunks[0]) != 8 || len(chunks[2]) != 16 {
		return nil, ErrBadChunks
	}
	key := sha(secret, chunks[0], []byte("Key"))
	iv := xorfold16(sha(secret, chunks[0], []byte("IV")))
	mac, err := ecbEncrypt(key, xorfold16(sha(chunks[1])))
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(mac, chunks[2]) {
		return nil, ErrAuth
	}
	plain, err := cbc(key, iv, chunks[1], false)
	if err != nil {
		return nil, err
	}
	return pkcs7Unpad(plain)
}

// TextFromPlaintext reads a V2 JSON payload's text; a V1 plaintext is the
// text itself when it is not JSON.
func TextFromPlaintext(plain []byte) string {
	var p TextPayload
	if json.Unmarshal(plain, &p) == nil {
		return p.Text
	}
	return string(plain)
}
