package obs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestEncryptDecryptStreaming(t *testing.T) {
	km := bytes.Repeat([]byte{7}, KeyMaterialSize)
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 1000, 70001} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(i * 31)
		}
		r, err := Encrypt(km, &oneByte{bytes.NewReader(plain)})
		if err != nil {
			t.Fatal(err)
		}
		blob, err := io.ReadAll(r)
		if err != nil || int64(len(blob)) != EncryptedSize(int64(n)) {
			t.Fatalf("n=%d: blob %d bytes, err %v", n, len(blob), err)
		}
		whole, err := decryptBytes(km, blob)
		if err != nil || !bytes.Equal(whole, plain) {
			t.Fatalf("n=%d: decryptBytes: %v", n, err)
		}
		// Streamed in uneven pieces, the tag split across writes.
		var out bytes.Buffer
		d, _ := NewDecrypter(km, &out)
		for rest := blob; len(rest) > 0; {
			k := min(len(rest), 1+len(rest)%13)
			if _, err := d.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := d.Close(); err != nil || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("n=%d: Decrypter: %v", n, err)
		}
	}
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }

func TestTamperedBlobsRefused(t *testing.T) {
	km := bytes.Repeat([]byte{9}, KeyMaterialSize)
	blob, _ := EncryptBytes(km, []byte("a graph of the night's load"))
	cases := map[string][]byte{
		"short":       blob[:TagSize-1],
		"truncated":   blob[:len(blob)-1],
		"flipped ct":  flip(blob, 0),
		"flipped tag": flip(blob, len(blob)-1),
	}
	for name, b := range cases {
		if _, err := decryptBytes(km, b); !errors.Is(err, ErrBadBlob) {
			t.Errorf("%s: decryptBytes err = %v", name, err)
		}
		d, _ := NewDecrypter(km, io.Discard)
		_, _ = d.Write(b)
		if err := d.Close(); !errors.Is(err, ErrBadBlob) {
			t.Errorf("%s: Decrypter err = %v", name, err)
		}
	}
	other := bytes.Repeat([]byte{8}, KeyMaterialSize)
	if _, err := decryptBytes(other, blob); !errors.Is(err, ErrBadBlob) {
		t.Errorf("wrong key: %v", err)
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := DeriveKeys(make([]byte, n)); err == nil {
			t.Errorf("key material of %d bytes accepted", n)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return c
}

func TestTalkMetaLayout(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(TalkMeta("605311889450205372"))
	var j map[string]string
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	st, _ := base64.StdEncoding.DecodeString(j["message"])
	want := append([]byte{0x0B, 0, 4, 0, 0, 0, 18}, "605311889450205372"...)
	want = append(want, 0x0F, 0, 27, 0x0C, 0, 0, 0, 0, 0x00)
	if !bytes.Equal(st, want) {
		t.Fatalf("struct = % x\nwant     % x", st, want)
	}
}

func TestParamsAndReqID(t *testing.T) {
	raw, _ := base64.StdEncoding.DecodeString(Params{Name: "graph.png", Type: TypeImage, Cat: "original"}.Header())
	var p map[string]string
	if err := json.Unmarshal(raw, &p); err != nil || p["ver"] != "2.0" || p["name"] != "graph.png" || p["type"] != "image" || p["cat"] != "original" {
		t.Fatalf("params = %s (%v)", raw, err)
	}
	id := ReqID()
	if len(id) != len("reqid-")+36 || !strings.HasPrefix(id, "reqid-") || id[6+14] != '4' {
		t.Fatalf("ReqID = %q", id)
	}
}

func TestParseToken(t *testing.T) {
	for in, want := range map[string]string{"3600\x1etok": "tok", "3600\x1etok\x1fx\x1ey": "tok"} {
		tok, ttl, err := ParseToken(in)
		if err != nil || tok != want || ttl != time.Hour {
			t.Errorf("ParseToken(%q) = %q %v %v", in, tok, ttl, err)
		}
	}
	for _, in := range []string{"", "3600", "3600\x1e", "3600\x1e\x1fx"} {
		if _, _, err := ParseToken(in); err == nil {
			t.Errorf("ParseToken(%q) accepted", in)
		}
	}
}

// TestUploadRetries: a 503 and a dropped connection are tried again with the
// whole body; a 401 renews the token once; a 415 is final.
func TestUploadRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		switch {
		case n == 1:
			w.WriteHeader(503)
		case n == 2:
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		case r.Header.Get("x-line-access") != "fresh":
			w.WriteHeader(401)
		case string(body) != "payload" || r.Header.Get("content-type") != "application/octet-stream" || r.Header.Get("x-obs-params") == "":
			w.WriteHeader(400)
		default:
			w.Header().Set("x-obs-oid", "oid1")
			w.WriteHeader(201)
		}
	}))
	defer srv.Close()
	renewals := 0
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client(), Attempts: 4,
		Token: func(_ context.Context, fresh bool) (string, error) {
			if fresh {
				renewals++
				return "fresh", nil
			}
			return "old", nil
		},
		Sleep: func(context.Context, time.Duration) error { return nil },
	}
	oid, err := c.Upload(context.Background(), "/r/talk/m/1", Params{Name: "a", Type: TypeFile}, BytesSource([]byte("payload")))
	if err != nil || oid != "oid1" || renewals != 1 {
		t.Fatalf("Upload = %q %v (renewals %d, calls %d)", oid, err, renewals, calls.Load())
	}
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(415) }))
	defer final.Close()
	c.BaseURL, c.HTTP = final.URL, final.Client()
	_, err = c.Upload(context.Background(), "/r/talk/emi/x", Params{Name: "a", Type: TypeImage}, BytesSource([]byte("x")))
	var oe *Error
	if !errors.As(err, &oe) || oe.Status != 415 || Temporary(err) {
		t.Fatalf("415 answer: %v", err)
	}
}

// A 2xx without x-obs-oid is a stored object: Upload succeeds with "" (the
// extension's plain upload, eE, never reads the header).
func TestUploadWithoutOID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client(), Token: func(context.Context, bool) (string, error) { return "t", nil }}
	oid, err := c.Upload(context.Background(), "/r/talk/m/1", Params{Name: "a", Type: TypeFile}, BytesSource([]byte("x")))
	if err != nil || oid != "" {
		t.Fatalf("Upload = %q, %v", oid, err)
	}
}

// decryptBytes decrypts a whole blob, checking its tag first: the
// reference the streaming Decrypter is checked against.
func decryptBytes(keyMaterial, blob []byte) ([]byte, error) {
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
