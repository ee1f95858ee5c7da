package obs

import (
	"bytes"
	"io"
	"testing"
)

// The token answer and downloaded blobs come from the network: they never
// panic, and a blob decrypts only when its tag is right.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"3600\x1etok", "\x1e", "", "x\x1f\x1e\x1f", "-1\x1et", "10000000000\x1e0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ttl, err := ParseToken(s)
		if err == nil && (tok == "" || ttl < 0) {
			t.Fatalf("ParseToken(%q) = %q %v", s, tok, ttl)
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	km := bytes.Repeat([]byte{3}, KeyMaterialSize)
	good, _ := EncryptBytes(km, []byte("hello"))
	f.Add(good, 7)
	f.Add([]byte{}, 1)
	f.Add(bytes.Repeat([]byte{0}, 40), 3)
	f.Fuzz(func(t *testing.T, blob []byte, step int) {
		whole, err := decryptBytes(km, blob)
		var out bytes.Buffer
		d, _ := NewDecrypter(km, &out)
		step = 1 + abs(step)%64
		for rest := blob; len(rest) > 0; rest = rest[min(step, len(rest)):] {
			_, _ = d.Write(rest[:min(step, len(rest))])
		}
		derr := d.Close()
		if (err == nil) != (derr == nil) || (err == nil && !bytes.Equal(whole, out.Bytes())) {
			t.Fatalf("whole %v, streamed %v", err, derr)
		}
		_, _ = io.Copy(io.Discard, &out)
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
