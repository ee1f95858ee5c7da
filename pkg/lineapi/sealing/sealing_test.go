package sealing

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/curve25519"
)

func fixedKey(b byte) KeyPair {
	k, _ := GenerateKeyPair(bytes.NewReader(bytes.Repeat([]byte{b}, 32)))
	return k
}

// Known answer for V2, built step by step with the standard library from the
// formula in docs/protocol.md §8 (not with this package's helpers).
func TestV2KnownAnswer(t *testing.T) {
	a, b := fixedKey(1), fixedKey(2)
	secret, _ := curve25519.X25519(a.Private, b.Public)
	salt := bytes.Repeat([]byte{0x11}, 16)
	nonce := bytes.Repeat([]byte{0x22}, 12)
	// The gateway's upper-case MID forms; the AAD carries them lower-cased,
	// 33 bytes each (beeper/line's buildAADv2).
	m := Message{From: "U344ECDDFDF88ED86AF6CA6C90C57922A", To: "U68862805245b88d04979403b71ff821d", SenderKeyID: 7, ReceiverKeyID: 9, ContentType: 0}
	plain := []byte(`{"text":"テスト"}`)

	h := sha256.New()
	h.Write(secret)
	h.Write(salt)
	h.Write([]byte("Key"))
	key := h.Sum(nil)
	aad := []byte("u68862805245b88d04979403b71ff821du344ecddfdf88ed86af6ca6c90c57922a\x00\x00\x00\x07\x00\x00\x00\x09\x00\x00\x00\x02\x00\x00\x00\x00")
	blk, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(blk)
	want := g.Seal(nil, nonce, plain, aad)

	chunks, err := EncryptV2(secret, m, plain, bytes.NewReader(append(salt, nonce...)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chunks[1], want) || !bytes.Equal(chunks[0], salt) || !bytes.Equal(chunks[2], nonce) ||
		!bytes.Equal(chunks[3], []byte{0, 0, 0, 7}) || !bytes.Equal(chunks[4], []byte{0, 0, 0, 9}) {
		t.Fatalf("chunks differ from the formula")
	}
	// The receiver derives the same secret from its side.
	secret2, _ := SharedSecret(b.Private, a.Public)
	got, err := DecryptV2(secret2, Message{From: m.From, To: m.To}, chunks)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	// The MIDs as carried are another AAD: authentication fails.
	if _, err := DecryptV2(secret2, Message{From: m.From, To: m.To, AAD: AADAsCarried}, chunks); !errors.Is(err, ErrAuth) {
		t.Fatalf("as-carried AAD: %v", err)
	}
	// Short MIDs are zero-padded, long ones cut at 33 bytes.
	short := Message{From: "uA", To: "Ub" + strings.Repeat("f", 40)}
	wantAAD := append(append([]byte("ub"+strings.Repeat("f", 31)), append([]byte("ua"), make([]byte, 31)...)...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0)
	if !bytes.Equal(short.aad(), wantAAD) {
		t.Fatalf("aad %q", short.aad())
	}
	// A 16-byte nonce (CHRLINE's choice) decrypts too.
	g16, _ := cipher.NewGCMWithNonceSize(blk, 16)
	n16 := bytes.Repeat([]byte{0x33}, 16)
	c16 := [][]byte{salt, g16.Seal(nil, n16, plain, aad), n16, chunks[3], chunks[4]}
	if got, err := DecryptV2(secret2, Message{From: m.From, To: m.To}, c16); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("16-byte nonce: %v", err)
	}
}

func TestV2TamperAndWrongContext(t *testing.T) {
	secret := bytes.Repeat([]byte{5}, 32)
	m := Message{From: "uA", To: "cG", SenderKeyID: 1, ReceiverKeyID: 2}
	chunks, _ := EncryptV2(secret, m, []byte(`{"text":"x"}`), nil)
	bad := append([][]byte{}, chunks...)
	bad[1] = append([]byte{}, chunks[1]...)
	bad[1][0] ^= 1
	if _, err := DecryptV2(secret, m, bad); !errors.Is(err, ErrAuth) {
		t.Fatalf("tampered ciphertext: %v", err)
	}
	if _, err := DecryptV2(secret, Message{From: "uX", To: "cG"}, chunks); !errors.Is(err, ErrAuth) {
		t.Fatalf("other sender in AAD: %v", err)
	}
	if _, err := DecryptV2(bytes.Repeat([]byte{6}, 32), m, chunks); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := DecryptV2(secret, m, chunks[:4]); !errors.Is(err, ErrBadChunks) {
		t.Fatalf("short chunks: %v", err)
	}
}

func TestV1KnownAnswerAndTamper(t *testing.T) {
	secret := bytes.Repeat([]byte{9}, 32)
	salt := bytes.Repeat([]byte{0x44}, 8)
	plain := []byte("hello V1")
	chunks, err := EncryptV1(secret, Message{SenderKeyID: 3, ReceiverKeyID: 4}, plain, bytes.NewReader(salt))
	if err != nil {
		t.Fatal(err)
	}
	k := sha256.Sum256(append(append(append([]byte{}, secret...), salt...), "Key"...))
	ivFull := sha256.Sum256(append(append(append([]byte{}, secret...), salt...), "IV"...))
	iv := make([]byte, 16)
	for i := range iv {
		iv[i] = ivFull[i] ^ ivFull[i+16]
	}
	blk, _ := aes.NewCipher(k[:])
	padded := append(append([]byte{}, plain...), bytes.Repeat([]byte{8}, 8)...)
	want := make([]byte, 16)
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(want, padded)
	if !bytes.Equal(chunks[1], want) {
		t.Fatal("V1 ciphertext differs from the formula")
	}
	ch := sha256.Sum256(want)
	fold := make([]byte, 16)
	for i := range fold {
		fold[i] = ch[i] ^ ch[i+16]
	}
	mac := make([]byte, 16)
	blk.Encrypt(mac, fold)
	if !bytes.Equal(chunks[2], mac) {
		t.Fatal("V1 MAC differs from the formula")
	}
	if got, err := DecryptV1(secret, chunks); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("decrypt %q %v", got, err)
	}
	chunks[1][3] ^= 0x80
	if _, err := DecryptV1(secret, chunks); !errors.Is(err, ErrAuth) {
		t.Fatalf("tampered V1: %v", err)
	}
}

func TestKeyChainRoundTripAndLoginSecrets(t *testing.T) {
	server, login := fixedKey(7), fixedKey(8)
	keys := []KeyPair{fixedKey(3), fixedKey(4)}
	keys[0].KeyID, keys[1].KeyID = 1001, 70000
	enc, err := wrapKeyChain(server.Private, login.Public, keys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnwrapKeyChain(login.Private, server.Public, enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].KeyID != 70000 || !bytes.Equal(got[0].Private, keys[0].Private) || !bytes.Equal(got[1].Public, keys[1].Public) {
		t.Fatalf("chain %+v", got)
	}
	if _, err := UnwrapKeyChain(fixedKey(9).Private, server.Public, enc); err == nil {
		t.Fatal("wrong login key unwrapped the chain")
	}
	// hashKeyChain by the formula.
	s, _ := curve25519.X25519(login.Private, server.Public)
	k := sha256.Sum256(append(s, "Key"...))
	h := sha256.Sum256(enc)
	fold := make([]byte, 16)
	for i := range fold {
		fold[i] = h[i] ^ h[i+16]
	}
	blk, _ := aes.NewCipher(k[:])
	want := make([]byte, 16)
	blk.Encrypt(want, fold)
	if got, _ := HashKeyChain(login.Private, server.Public, enc); !bytes.Equal(got, want) {
		t.Fatal("hashKeyChain differs from the formula")
	}
	// The password-login secret: AES-256-ECB(SHA-256(PIN), pub), two blocks.
	sec, _ := PasswordLoginSecret("123456", login.Public)
	pk := sha256.Sum256([]byte("123456"))
	blk, _ = aes.NewCipher(pk[:])
	want = make([]byte, 32)
	blk.Encrypt(want[:16], login.Public[:16])
	blk.Encrypt(want[16:], login.Public[16:])
	if !bytes.Equal(sec, want) {
		t.Fatal("password login secret differs from the formula")
	}
}

func TestGroupKeyWrap(t *testing.T) {
	creator, member, group := fixedKey(1), fixedKey(2), fixedKey(3)
	enc, err := WrapGroupKey(creator.Private, member.Public, group.Private)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnwrapGroupKey(member.Private, creator.Public, enc)
	if err != nil || !bytes.Equal(got, group.Private) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := UnwrapGroupKey(fixedKey(4).Private, creator.Public, enc); err == nil {
		t.Fatal("a non-member unwrapped the group key")
	}
}

func FuzzDecodeKeyChain(f *testing.F) {
	f.Add(encodeKeyChain([]KeyPair{fixedKey(1)}))
	f.Add([]byte{0x19, 0x1c, 0x00})
	f.Add([]byte{0x1b, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := decodeKeyChain(b)
		if err == nil && len(keys) == 0 {
			t.Fatal("no keys without error")
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	secret := bytes.Repeat([]byte{5}, 32)
	c, _ := EncryptV2(secret, Message{}, []byte("x"), nil)
	f.Add(c[0], c[1], c[2], c[3], c[4])
	f.Fuzz(func(t *testing.T, a, b, c, d, e []byte) {
		_, _ = DecryptV2(secret, Message{}, [][]byte{a, b, c, d, e})
		_, _ = DecryptV1(secret, [][]byte{a, b, c, d, e})
		_, _ = UnwrapGroupKey(secret, secret, b)
	})
}

// wrapKeyChain is UnwrapKeyChain's inverse: PKCS#7-padded, as
// LINE's module requires.
func wrapKeyChain(serverPriv, loginPub []byte, keys []KeyPair) ([]byte, error) {
	s, err := SharedSecret(serverPriv, loginPub)
	if err != nil {
		return nil, err
	}
	key, iv := keyAndIV(s)
	return cbc(key, iv, pkcs7Pad(encodeKeyChain(keys)), true)
}

// encodeKeyChain writes an E2EEKeyChain (decodeKeyChain's inverse).
func encodeKeyChain(keys []KeyPair) []byte {
	var b []byte
	zz := func(v int64) { b = binary.AppendUvarint(b, uint64((v<<1)^(v>>63))) }
	bin := func(p []byte) { b = binary.AppendUvarint(b, uint64(len(p))); b = append(b, p...) }
	b = append(b, 1<<4|ctList)
	if len(keys) < 15 {
		b = append(b, byte(len(keys))<<4|ctStruct)
	} else {
		b = append(b, 0xf0|ctStruct)
		b = binary.AppendUvarint(b, uint64(len(keys)))
	}
	for _, k := range keys {
		b = append(b, 1<<4|ctI32)
		zz(int64(k.Version))
		b = append(b, 1<<4|ctI32)
		zz(int64(k.KeyID))
		b = append(b, 2<<4|ctBinary)
		bin(k.Public)
		b = append(b, 1<<4|ctBinary)
		bin(k.Private)
		b = append(b, 1<<4|ctI64)
		zz(0)
		b = append(b, ctStop)
	}
	return append(b, ctStop)
}
