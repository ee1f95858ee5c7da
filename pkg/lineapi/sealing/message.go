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
	// AAD is how the MIDs go into V2's additional data.
	AAD AADForm
}

// AADForm is how a V2 message's MIDs are written into its additional data.
type AADForm int

const (
	// AADLower33: each MID lower-cased and zero-padded or cut to 33 bytes.
	// beeper/line (Letter Sealing verified live) writes this, as its notes on
	// LINE's module say the module re-formats MIDs ("%s%08llx%08llx%s"); the
	// gateway carries upper-case "U…" MIDs, so the form matters there.
	AADLower33 AADForm = iota
	// AADAsCarried: the MIDs exactly as the message carries them (CHRLINE and
	// linejs, on endpoints whose MIDs are already lower-case).
	AADAsCarried
)

func (f AADForm) String() string {
	if f == AADAsCarried {
		return "as-carried"
	}
	return "lower33"
}

// aadMID writes a MID in the form f.
func (f AADForm) mid(b []byte, mid string) []byte {
	if f == AADAsCarried {
		return append(b, mid...)
	}
	var m [33]byte
	for i := 0; i < len(m) && i < len(mid); i++ {
		c := mid[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		m[i] = c
	}
	return append(b, m[:]...)
}

// aad is V2's additional data: to‖from‖BE32(senderKeyId)‖BE32(receiverKeyId)‖BE32(2)‖BE32(contentType).
func (m Message) aad() []byte {
	b := m.AAD.mid(make([]byte, 0, 82), m.To)
	b = m.AAD.mid(b, m.From)
	b = append(b, be32(m.SenderKeyID)...)
	b = append(b, be32(m.ReceiverKeyID)...)
	b = append(b, be32(2)...)
	return append(b, be32(m.ContentType)...)
}

// TextPayload is the plaintext of a sealed text message, V1 and V2 alike:
// the extension stringifies {text, …} for both versions and JSON.parses what
// it decrypts (ltsmSandbox.js encryptWithE2eeChannel); CHRLINE, linejs and
// beeper/line do the same.
type TextPayload struct {
	Text string `json:"text"`
}

// nonceSizeV2 is the GCM nonce linectl writes. docs/protocol.md says 12 bytes;
// CHRLINE writes 16. Decryption accepts either.
const nonceSizeV2 = 12

// EncryptV2 seals plaintext: salt 16 random bytes, key SHA-256(s‖salt‖"Key"),
// AES-256-GCM with AAD. Chunks: [salt, ciphertext‖tag, nonce, BE32(senderKeyId), BE32(receiverKeyId)].
func EncryptV2(secret []byte, m Message, plaintext []byte, r io.Reader) ([][]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, 16)
	nonce := make([]byte, nonceSizeV2)
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

// TextFromPlaintext reads a payload's text. A plaintext that is not a JSON
// object (no peer writes one; early linectl sealed V1 raw) is the text itself.
func TextFromPlaintext(plain []byte) string {
	var p TextPayload
	if json.Unmarshal(plain, &p) == nil {
		return p.Text
	}
	return string(plain)
}
