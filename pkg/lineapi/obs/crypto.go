package obs

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Letter-Sealed media (docs/media-protocol.md §3.1; beeper/line
// pkg/connector/media.go encryptFileData, linejs base/e2ee deriveKeyMaterial
// and encryptByKeyMaterial agree byte for byte): a fresh 32-byte key material
// per file; HKDF-SHA256(key material, empty salt, "FileEncryption") gives 76
// bytes: the AES-256 key, the HMAC-SHA256 key and a 12-byte nonce; the file
// is encrypted with AES-256-CTR from the counter block nonce‖00000000, and
// the uploaded blob is the ciphertext followed by HMAC-SHA256 over it.
const (
	KeyMaterialSize = 32
	TagSize         = sha256.Size
	hkdfInfo        = "FileEncryption"
)

// ErrBadBlob means an encrypted object failed its HMAC check or is shorter
// than a tag: it is not what the sender encrypted with this key material.
var ErrBadBlob = errors.New("encrypted media does not authenticate (wrong key or altered object)")

// Keys are the keys derived from one key material.
type Keys struct {
	Enc, MAC []byte
	Nonce    []byte // 12 bytes
}

// NewKeyMaterial returns a fresh random key material.
func NewKeyMaterial() ([]byte, error) {
	km := make([]byte, KeyMaterialSize)
	if _, err := rand.Read(km); err != nil {
		return nil, err
	}
	return km, nil
}

// DeriveKeys derives the file keys from a key material.
func DeriveKeys(keyMaterial []byte) (Keys, error) {
	if len(keyMaterial) != KeyMaterialSize {
		return Keys{}, fmt.Errorf("key material is %d bytes, want %d", len(keyMaterial), KeyMaterialSize)
	}
	b, err := hkdf.Key(sha256.New, keyMaterial, nil, hkdfInfo, 76)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Enc: b[:32], MAC: b[32:64], Nonce: b[64:76]}, nil
}

func (k Keys) stream() cipher.Stream {
	blk, _ := aes.NewCipher(k.Enc) // 32 bytes: cannot fail
	iv := make([]byte, aes.BlockSize)
	copy(iv, k.Nonce)
	return cipher.NewCTR(blk, iv)
}

// EncryptedSize is the size of the blob for a plaintext of n bytes.
func EncryptedSize(n int64) int64 { return n + TagSize }

// Encrypt returns a reader of the blob for plaintext r: the ciphertext, then
// the tag. It reads r once, as it goes.
func Encrypt(keyMaterial []byte, r io.Reader) (io.Reader, error) {
	k, err := DeriveKeys(keyMaterial)
	if err != nil {
		return nil, err
	}
	return &encReader{r: r, s: k.stream(), mac: hmac.New(sha256.New, k.MAC)}, nil
}

type encReader struct {
	r   io.Reader
	s   cipher.Stream
	mac hash.Hash
	tag []byte // set at the plaintext's end: what is left to return
	eof bool
}

func (e *encReader) Read(p []byte) (int, error) {
	if !e.eof {
		n, err := e.r.Read(p)
		e.s.XORKeyStream(p[:n], p[:n])
		e.mac.Write(p[:n])
		if err == io.EOF {
			e.eof, e.tag = true, e.mac.Sum(nil)
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	if len(e.tag) == 0 {
		return 0, io.EOF
	}
	n := copy(p, e.tag)
	e.tag = e.tag[n:]
	return n, nil
}

// EncryptBytes encrypts a whole plaintext (a preview) into its blob.
func EncryptBytes(keyMaterial, plain []byte) ([]byte, error) {
	r, err := Encrypt(keyMaterial, bytes.NewReader(plain))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Decrypter writes the plaintext of a blob streamed into it. The last 32
// bytes written are the tag: Close checks it in constant time and reports
// ErrBadBlob when it does not match, so a caller writes to a temporary file
// and keeps it only when Close succeeds.
type Decrypter struct {
	w    io.Writer
	s    cipher.Stream
	mac  hash.Hash
	held []byte // the last ≤ TagSize bytes seen: maybe the tag
	buf  []byte
}

// NewDecrypter returns a Decrypter writing plaintext to w.
func NewDecrypter(keyMaterial []byte, w io.Writer) (*Decrypter, error) {
	k, err := DeriveKeys(keyMaterial)
	if err != nil {
		return nil, err
	}
	return &Decrypter{w: w, s: k.stream(), mac: hmac.New(sha256.New, k.MAC), held: make([]byte, 0, TagSize)}, nil
}

// Write takes the next bytes of the blob: all but the last TagSize bytes
// seen so far are ciphertext, decrypted and written at once; the last
// TagSize are held back (they may be the tag). p is never copied whole.
func (d *Decrypter) Write(p []byte) (int, error) {
	n := len(d.held) + len(p) - TagSize // ciphertext this write settles
	if n <= 0 {
		d.held = append(d.held, p...)
		return len(p), nil
	}
	fromHeld := min(n, len(d.held))
	if err := d.decrypt(d.held[:fromHeld]); err != nil {
		return 0, err
	}
	if err := d.decrypt(p[:n-fromHeld]); err != nil {
		return 0, err
	}
	var tail [TagSize]byte // what is held back next: the last TagSize bytes
	k := copy(tail[:], d.held[fromHeld:])
	copy(tail[k:], p[n-fromHeld:])
	d.held = append(d.held[:0], tail[:]...)
	return len(p), nil
}

// decrypt authenticates and decrypts ct and writes its plaintext.
func (d *Decrypter) decrypt(ct []byte) error {
	if len(ct) == 0 {
		return nil
	}
	d.mac.Write(ct)
	if cap(d.buf) < len(ct) {
		d.buf = make([]byte, len(ct))
	}
	out := d.buf[:len(ct)]
	d.s.XORKeyStream(out, ct)
	_, err := d.w.Write(out)
	return err
}

// Close checks the tag.
func (d *Decrypter) Close() error {
	if len(d.held) < TagSize || !hmac.Equal(d.mac.Sum(nil), d.held) {
		return ErrBadBlob
	}
	return nil
}

// DecryptBytes decrypts a whole blob, checking its tag first.
func DecryptBytes(keyMaterial, blob []byte) ([]byte, error) {
	k, err := DeriveKeys(keyMaterial)
	if err != nil {
		return nil, err
	}
	if len(blob) < TagSize {
		return nil, ErrBadBlob
	}
	ct, tag := blob[:len(blob)-TagSize], blob[len(blob)-TagSize:]
	m := hmac.New(sha256.New, k.MAC)
	m.Write(ct)
	if !hmac.Equal(m.Sum(nil), tag) {
		return nil, ErrBadBlob
	}
	out := make([]byte, len(ct))
	k.stream().XORKeyStream(out, ct)
	return out, nil
}
