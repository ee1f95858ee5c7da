package obs

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/linectl/linectl/internal/testnode"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// testdata/e2ee/media-vectors.json comes from scripts/e2eegen/media.mjs, an
// independent generator in JavaScript written from beeper/line's and linejs's
// published algorithms, not from this package.
const mediaVectors = "../../../testdata/e2ee/media-vectors.json"

type fileVector struct {
	Name            string `json:"name"`
	Inline          bool   `json:"inline"`
	KeyMaterial     []byte `json:"keyMaterial"`
	EncKey          []byte `json:"encKey"`
	MACKey          []byte `json:"macKey"`
	Nonce           []byte `json:"nonce"`
	PlaintextLength int    `json:"plaintextLength"`
	PlaintextRule   *struct {
		Label  string `json:"label"`
		Length int    `json:"length"`
	} `json:"plaintextRule"`
	PlaintextSHA256 string `json:"plaintextSha256"`
	Plaintext       []byte `json:"plaintext"`
	BlobSHA256      string `json:"blobSha256"`
	Blob            []byte `json:"blob"`
}

type mediaVectorFile struct {
	File     []fileVector `json:"file"`
	Tampered []struct {
		Name        string `json:"name"`
		KeyMaterial []byte `json:"keyMaterial"`
		Blob        []byte `json:"blob"`
		Reason      string `json:"reason"`
	} `json:"tampered"`
	TalkMeta []struct {
		MessageID string `json:"messageId"`
		Header    string `json:"header"`
	} `json:"talkMeta"`
	Sealed   []sealedVector `json:"sealedMediaMessage"`
	Negative []sealedVector `json:"sealedMediaNegative"`
}

type sealedVector struct {
	Name    string `json:"name"`
	Message struct {
		From            string            `json:"from"`
		To              string            `json:"to"`
		ContentType     int               `json:"contentType"`
		ContentMetadata map[string]string `json:"contentMetadata"`
		Chunks          []string          `json:"chunks"`
	} `json:"message"`
	OpenWith struct {
		Private []byte `json:"private"`
		Public  []byte `json:"public"`
	} `json:"openWith"`
	KeyMaterial string `json:"keyMaterial"`
	FileName    string `json:"fileName"`
	FileVector  string `json:"fileVector"`
}

func loadMediaVectors(t *testing.T) *mediaVectorFile {
	t.Helper()
	b, err := os.ReadFile(mediaVectors)
	if err != nil {
		t.Fatal(err)
	}
	var v mediaVectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// expand is the generator's rule for large plaintexts: the SHA-256 of
// label/0, label/1, … concatenated, cut to length.
func expand(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		h := sha256.Sum256([]byte(label + "/" + strconv.Itoa(i)))
		out = append(out, h[:]...)
	}
	return out[:n]
}

func (f fileVector) plaintext() []byte {
	if f.Inline {
		return f.Plaintext
	}
	return expand(f.PlaintextRule.Label, f.PlaintextRule.Length)
}

func hexSHA(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// Every file vector: the same keys, the same blob from the same key material,
// and the blob decrypts (whole and streamed).
func TestMediaFileVectors(t *testing.T) {
	v := loadMediaVectors(t)
	if len(v.File) < 10 {
		t.Fatalf("only %d file vectors", len(v.File))
	}
	for _, f := range v.File {
		t.Run(f.Name, func(t *testing.T) {
			k, err := DeriveKeys(f.KeyMaterial)
			if err != nil || !bytes.Equal(k.Enc, f.EncKey) || !bytes.Equal(k.MAC, f.MACKey) || !bytes.Equal(k.Nonce, f.Nonce) {
				t.Fatalf("derived keys differ (%v)", err)
			}
			plain := f.plaintext()
			if hexSHA(plain) != f.PlaintextSHA256 || len(plain) != f.PlaintextLength {
				t.Fatal("plaintext rule misread")
			}
			r, _ := Encrypt(f.KeyMaterial, bytes.NewReader(plain))
			blob, _ := io.ReadAll(r)
			if hexSHA(blob) != f.BlobSHA256 || (f.Inline && !bytes.Equal(blob, f.Blob)) {
				t.Fatal("Encrypt's blob differs from the generator's")
			}
			got, err := decryptBytes(f.KeyMaterial, blob)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("decryptBytes: %v", err)
			}
		})
	}
}

func TestMediaTamperedVectors(t *testing.T) {
	v := loadMediaVectors(t)
	for _, c := range v.Tampered {
		if _, err := decryptBytes(c.KeyMaterial, c.Blob); err == nil {
			t.Errorf("%s (%s): decrypted", c.Name, c.Reason)
		}
		d, err := NewDecrypter(c.KeyMaterial, io.Discard)
		if err == nil {
			_, _ = d.Write(c.Blob)
			err = d.Close()
		}
		if err == nil {
			t.Errorf("%s (%s): Decrypter accepted", c.Name, c.Reason)
		}
	}
}

func TestTalkMetaVectors(t *testing.T) {
	for _, c := range loadMediaVectors(t).TalkMeta {
		if got := TalkMeta(c.MessageID); got != c.Header {
			t.Errorf("TalkMeta(%s) = %s, want %s", c.MessageID, got, c.Header)
		}
	}
}

// A sealed media message opens (V2, the content type in the AAD) to a
// payload whose key material decrypts the file vector it names; with the
// content type changed it does not open.
func TestSealedMediaVectors(t *testing.T) {
	v := loadMediaVectors(t)
	files := map[string]fileVector{}
	for _, f := range v.File {
		files[f.Name] = f
	}
	open := func(c sealedVector) ([]byte, error) {
		chunks := make([][]byte, len(c.Message.Chunks))
		for i, s := range c.Message.Chunks {
			chunks[i], _ = base64.StdEncoding.DecodeString(s)
		}
		sk, _ := sealing.KeyID(chunks[3])
		rk, _ := sealing.KeyID(chunks[4])
		secret, err := sealing.SharedSecret(c.OpenWith.Private, c.OpenWith.Public)
		if err != nil {
			return nil, err
		}
		m := sealing.Message{From: c.Message.From, To: c.Message.To, SenderKeyID: sk, ReceiverKeyID: rk, ContentType: c.Message.ContentType}
		return sealing.DecryptV2(secret, m, chunks)
	}
	for _, c := range v.Sealed {
		payload, err := open(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var p struct {
			KeyMaterial []byte `json:"keyMaterial"`
			FileName    string `json:"fileName"`
		}
		if err := json.Unmarshal(payload, &p); err != nil || base64.StdEncoding.EncodeToString(p.KeyMaterial) != c.KeyMaterial {
			t.Fatalf("%s: payload %s (%v)", c.Name, payload, err)
		}
		f := files[c.FileVector]
		if got, err := decryptBytes(p.KeyMaterial, f.Blob); err != nil || !bytes.Equal(got, f.plaintext()) {
			t.Fatalf("%s: file does not decrypt with the sealed key material: %v", c.Name, err)
		}
	}
	for _, c := range v.Negative {
		if _, err := open(c); err == nil {
			t.Errorf("%s: opened", c.Name)
		}
	}
}

// The committed vectors are the generator's output; the generator, given
// blobs this package made, decrypts them (and refuses a tampered one).
func TestMediaGenerator(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	testnode.Committed(t, root, "media.mjs", mediaVectors)
	type c struct {
		Name        string `json:"name"`
		KeyMaterial []byte `json:"keyMaterial"`
		Blob        []byte `json:"blob"`
	}
	var cases []c
	want := map[string][]byte{}
	for i, n := range []int{0, 1, 16, 4097, 100000} {
		km, _ := NewKeyMaterial()
		plain := expand("go-"+strconv.Itoa(i), n)
		blob, _ := EncryptBytes(km, plain)
		name := "go-" + strconv.Itoa(n)
		cases, want[name] = append(cases, c{name, km, blob}), plain
	}
	km, _ := NewKeyMaterial()
	bad, _ := EncryptBytes(km, []byte("tampered"))
	bad[0] ^= 1
	cases = append(cases, c{"go-tampered", km, bad})
	in, _ := json.Marshal(map[string]any{"cases": cases})
	out := testnode.Generator(t, root, "media.mjs", "decrypt", in)
	var res struct {
		Results []struct {
			Name      string `json:"name"`
			OK        bool   `json:"ok"`
			Plaintext []byte `json:"plaintext"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Results) != len(cases) {
		t.Fatalf("generator answer %s (%v)", out, err)
	}
	for _, r := range res.Results {
		w, ok := want[r.Name]
		if ok != r.OK || (ok && !bytes.Equal(r.Plaintext, w)) {
			t.Errorf("%s: generator ok=%v", r.Name, r.OK)
		}
	}
}
