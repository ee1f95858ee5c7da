package simgw

// Letter Sealing tests. The crypto here is the test's own (stdlib only),
// written from docs/protocol.md §8, so a slip in seal.go cannot hide itself.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func tSHA(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func tFold(b []byte) []byte {
	out := make([]byte, 16)
	for i := range out {
		out[i] = b[i] ^ b[i+16]
	}
	return out
}

func tDH(t *testing.T, priv *ecdh.PrivateKey, pub []byte) []byte {
	t.Helper()
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s, err := priv.ECDH(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tUnwrap is the key-chain / group-key CBC, with strict PKCS#7.
func tUnwrap(t *testing.T, secret, data []byte) []byte {
	t.Helper()
	blk, _ := aes.NewCipher(tSHA(secret, []byte("Key")))
	if len(data) == 0 || len(data)%16 != 0 {
		t.Fatalf("ciphertext of %d bytes", len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(blk, tFold(tSHA(secret, []byte("IV")))).CryptBlocks(out, data)
	return tStrip(t, out)
}

func tStrip(t *testing.T, b []byte) []byte {
	t.Helper()
	n := int(b[len(b)-1])
	if n == 0 || n > 16 || !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		t.Fatalf("not PKCS#7: tail % x", b[len(b)-16:])
	}
	return b[:len(b)-n]
}

func tPad(b []byte) []byte {
	n := 16 - len(b)%16
	return append(append([]byte{}, b...), bytes.Repeat([]byte{byte(n)}, n)...)
}

type tKey struct {
	id        int
	pub, priv []byte
}

// tParseChain reads E2EEKeyChain in Thrift compact (only the shapes LINE uses).
func tParseChain(t *testing.T, b []byte) []tKey {
	t.Helper()
	i := 0
	uv := func() uint64 {
		v, n := binary.Uvarint(b[i:])
		if n <= 0 {
			t.Fatalf("bad varint at %d", i)
		}
		i += n
		return v
	}
	zz := func() int64 { v := uv(); return int64(v>>1) ^ -int64(v&1) }
	if b[i] != 0x19 {
		t.Fatalf("field 1 list expected, got %x", b[i])
	}
	i++
	n := int(b[i] >> 4)
	if b[i]&0x0f != 0x0c {
		t.Fatalf("list of structs expected, got %x", b[i])
	}
	i++
	if n == 15 {
		n = int(uv())
	}
	var keys []tKey
	for k := 0; k < n; k++ {
		var key tKey
		field := 0
		for b[i] != 0 {
			h := b[i]
			i++
			field += int(h >> 4)
			switch h & 0x0f {
			case 5, 6:
				v := zz()
				if field == 2 {
					key.id = int(v)
				}
			case 8:
				l := int(uv())
				if field == 4 {
					key.pub = b[i : i+l]
				} else if field == 5 {
					key.priv = b[i : i+l]
				}
				i += l
			default:
				t.Fatalf("unexpected field type %x", h)
			}
		}
		i++
		keys = append(keys, key)
	}
	if b[i] != 0 || i+1 != len(b) {
		t.Fatalf("trailing bytes after key chain: %d of %d", i, len(b))
	}
	return keys
}

func tLower33(mid string) []byte {
	out := make([]byte, 33)
	copy(out, strings.ToLower(mid))
	return out
}

func tAAD(to, from []byte, sk, rk int) []byte {
	b := append(append([]byte{}, to...), from...)
	for _, v := range []int{sk, rk, 2, 0} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

func be32(v int) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, uint32(v)))
}

func enc(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// tSealV2 seals plaintext with AES-GCM under secret, with the given AAD.
func tSealV2(secret []byte, plain, aad []byte, sk, rk int) []string {
	salt, nonce := make([]byte, 16), make([]byte, 12)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(nonce)
	blk, _ := aes.NewCipher(tSHA(secret, salt, []byte("Key")))
	g, _ := cipher.NewGCM(blk)
	return []string{enc(salt), enc(g.Seal(nil, nonce, plain, aad)), enc(nonce), be32(sk), be32(rk)}
}

// tSealV1 seals plaintext with AES-CBC + the ECB MAC.
func tSealV1(secret, plain []byte, sk, rk int) []string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	key := tSHA(secret, salt, []byte("Key"))
	blk, _ := aes.NewCipher(key)
	p := tPad(plain)
	ct := make([]byte, len(p))
	cipher.NewCBCEncrypter(blk, tFold(tSHA(secret, salt, []byte("IV")))).CryptBlocks(ct, p)
	mac := make([]byte, 16)
	blk.Encrypt(mac, tFold(tSHA(ct)))
	return []string{enc(salt), enc(ct), enc(mac), be32(sk), be32(rk)}
}

// tOpenV2 opens V2 chunks with secret and AAD; ok=false if GCM refuses.
func tOpenV2(secret []byte, chunks []string, aad []byte) (string, bool) {
	var raw [][]byte
	for _, c := range chunks {
		b, _ := base64.StdEncoding.DecodeString(c)
		raw = append(raw, b)
	}
	blk, _ := aes.NewCipher(tSHA(secret, raw[0], []byte("Key")))
	g, _ := cipher.NewGCMWithNonceSize(blk, len(raw[2]))
	p, err := g.Open(nil, raw[2], raw[1], aad)
	return string(p), err == nil
}

// sim is a sandbox behind real HTTP with tokens for its people.
type sim struct {
	t   *testing.T
	s   *Server
	srv *httptest.Server
	tok map[string]string
}

func newSim(t *testing.T) *sim {
	s := NewSandbox(Options{SigningKey: key, PhoneDelay: -1})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	m := &sim{t: t, s: s, srv: srv, tok: map[string]string{}}
	s.mu.Lock()
	for _, mid := range []string{AliceMID, BobMID, CarolMID} {
		m.tok[mid] = s.issueTokens(mid)["accessToken"].(string)
	}
	s.mu.Unlock()
	return m
}

// call runs a TalkService method as mid and returns the envelope.
func (m *sim) call(mid, method, body string) map[string]any {
	m.t.Helper()
	_, r := raw(m.t, m.srv, "POST", "/api/talk/thrift/Talk/TalkService/"+method, body, m.tok[mid], nil)
	return r
}

func (m *sim) data(mid, method, body string) map[string]any {
	m.t.Helper()
	r := m.call(mid, method, body)
	if code(r) != 0 {
		m.t.Fatalf("%s %s: %v", method, body, r)
	}
	return r["data"].(map[string]any)
}

// send posts a sealed message from → to and returns the result code.
func (m *sim) send(from, to, version string, chunks []string) int {
	m.t.Helper()
	return code(m.sendR(from, to, version, chunks))
}

func (m *sim) sendR(from, to, version string, chunks []string) map[string]any {
	m.t.Helper()
	cj, _ := json.Marshal(chunks)
	body := fmt.Sprintf(`[11,{"from":%q,"to":%q,"toType":%d,"id":"local-11","createdTime":"1","sessionId":0,"contentType":0,`+
		`"contentMetadata":{"e2eeVersion":%q},"hasContent":false,"chunks":%s}]`, from, to, toTypeOf(to), version, cj)
	return m.call(from, "sendMessage", body)
}

func reason(r map[string]any) string {
	d, _ := r["data"].(map[string]any)
	s, _ := d["reason"].(string)
	return s
}

func (m *sim) acct(mid string) *Account { return m.s.Account(mid) }

func TestGetE2EEPublicKeyByID(t *testing.T) {
	m := newSim(t)
	old := m.acct(BobMID).KeyID
	oldPub := m.acct(BobMID).Key.PublicKey().Bytes()
	cur, err := m.s.RotateKey(BobMID)
	if err != nil || cur != old+1 {
		t.Fatalf("RotateKey = %d, %v", cur, err)
	}
	for _, id := range []int{old, cur} {
		d := m.data(AliceMID, "getE2EEPublicKey", fmt.Sprintf(`[%q,1,%d]`, BobMID, id))
		want := m.acct(BobMID).Key.PublicKey().Bytes()
		if id == old {
			want = oldPub
		}
		if d["keyId"] != float64(id) || d["keyData"] != enc(want) || d["version"] != float64(1) {
			t.Fatalf("key %d: %v", id, d)
		}
		if _, err := strconv.ParseInt(d["createdTime"].(string), 10, 64); err != nil {
			t.Fatalf("createdTime: %v", d)
		}
	}
	// The gateway's upper-case form finds the same account.
	if d := m.data(AliceMID, "getE2EEPublicKey", fmt.Sprintf(`[%q,1,%d]`, "U"+BobMID[1:], old)); d["keyData"] != enc(oldPub) {
		t.Fatalf("upper-case MID: %v", d)
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{fmt.Sprintf(`[%q,1,%d]`, BobMID, cur+1), 5},
		{fmt.Sprintf(`[%q,1,%d]`, CarolMID, 1002), 5},
		{`["u00000000000000000000000000000000",1,1000]`, 5},
		{fmt.Sprintf(`[%q,2,%d]`, BobMID, cur), 10102},
		{fmt.Sprintf(`[%q,1,"%d"]`, BobMID, cur), 10102},
		{fmt.Sprintf(`[1,1,%d]`, cur), 10102},
		{fmt.Sprintf(`[%q,1]`, BobMID), 10102},
	} {
		if c := code(m.call(AliceMID, "getE2EEPublicKey", tc.body)); c != tc.want {
			t.Errorf("%s: code %d, want %d", tc.body, c, tc.want)
		}
	}
	// negotiate still answers the current key, now with createdTime.
	pk := m.data(AliceMID, "negotiateE2EEPublicKey", fmt.Sprintf(`[%q]`, BobMID))["publicKey"].(map[string]any)
	if pk["keyId"] != float64(cur) || pk["createdTime"] == nil {
		t.Fatalf("negotiate: %v", pk)
	}
	if _, m2 := raw(t, m.srv, "POST", "/api/talk/thrift/Talk/TalkService/getE2EEPublicKey", fmt.Sprintf(`[%q,1,%d]`, BobMID, cur), "", nil); code(m2) != 10004 {
		t.Fatalf("no auth: %v", m2)
	}
}

func TestGetE2EEGroupSharedKeyByID(t *testing.T) {
	m := newSim(t)
	if err := m.s.SetGroupKey(OpsMID, BobMID); err != nil {
		t.Fatal(err)
	}
	first := m.data(AliceMID, "getLastE2EEGroupSharedKey", fmt.Sprintf(`[1,%q]`, OpsMID))
	id1 := int(first["groupKeyId"].(float64))
	id2, err := m.s.SetGroupKeyWith(OpsMID, AliceMID, GroupKeyOptions{SpecVersion: 1})
	if err != nil || id2 <= id1 {
		t.Fatalf("second key %d (first %d): %v", id2, id1, err)
	}
	last := m.data(AliceMID, "getLastE2EEGroupSharedKey", fmt.Sprintf(`[1,%q]`, OpsMID))
	if last["groupKeyId"] != float64(id2) || last["specVersion"] != float64(1) || last["creator"] != AliceMID {
		t.Fatalf("last: %v", last)
	}
	byID := m.data(AliceMID, "getE2EEGroupSharedKey", fmt.Sprintf(`[1,%q,%d]`, OpsMID, id1))
	if byID["groupKeyId"] != float64(id1) || byID["encryptedSharedKey"] != first["encryptedSharedKey"] ||
		byID["specVersion"] != float64(2) || byID["receiver"] != AliceMID {
		t.Fatalf("by id: %v, first %v", byID, first)
	}
	if d := m.data(BobMID, "getE2EEGroupSharedKey", fmt.Sprintf(`[1,%q,%d]`, OpsMID, id2)); d["receiver"] != BobMID {
		t.Fatalf("as Bob: %v", d)
	}
	for _, tc := range []struct {
		who, body string
		want      int
	}{
		{AliceMID, fmt.Sprintf(`[1,%q,%d]`, OpsMID, id2+1), 5},
		{AliceMID, fmt.Sprintf(`[1,%q,%d]`, FamilyMID, id1), 5},
		{CarolMID, fmt.Sprintf(`[1,%q,%d]`, OpsMID, id1), 10},
		{AliceMID, fmt.Sprintf(`[2,%q,%d]`, OpsMID, id1), 10102},
		{AliceMID, fmt.Sprintf(`[1,%q,"%d"]`, OpsMID, id1), 10102},
		{AliceMID, fmt.Sprintf(`[1,%q]`, OpsMID), 10102},
	} {
		if c := code(m.call(tc.who, "getE2EEGroupSharedKey", tc.body)); c != tc.want {
			t.Errorf("%s %s: code %d, want %d", tc.who, tc.body, c, tc.want)
		}
	}
}

func TestKeyChainIsPKCS7AndHoldsEveryKey(t *testing.T) {
	m := newSim(t)
	first := m.acct(BobMID).KeyID
	_, _ = m.s.RotateKey(BobMID)
	cur, _ := m.s.RotateKey(BobMID)
	login, _ := ecdh.X25519().GenerateKey(rand.Reader)
	m.s.mu.Lock()
	meta := m.s.keyChainFor(BobMID, login.PublicKey().Bytes())
	blind := m.s.keyChainFor(BobMID, nil)
	short := m.s.keyChainFor(BobMID, []byte{1, 2, 3})
	plain := m.s.keyChainFor(CarolMID, login.PublicKey().Bytes())
	m.s.mu.Unlock()
	for name, md := range map[string]map[string]any{"blind": blind, "short": short, "plain": plain} {
		if md["errorCode"] == "" || md["errorCode"] == nil || md["encryptedKeyChain"] != nil {
			t.Errorf("%s: %v", name, md)
		}
	}
	if meta["errorCode"] != "" || meta["keyId"] != strconv.Itoa(cur) {
		t.Fatalf("meta: %v", meta)
	}
	eph, _ := base64.StdEncoding.DecodeString(meta["publicKey"].(string))
	ct, _ := base64.StdEncoding.DecodeString(meta["encryptedKeyChain"].(string))
	keys := tParseChain(t, tUnwrap(t, tDH(t, login, eph), ct))
	bob := m.acct(BobMID)
	if len(keys) != 3 {
		t.Fatalf("%d keys, want 3", len(keys))
	}
	for i, k := range keys {
		want := bob.keyByID(first + i)
		if k.id != first+i || want == nil || !bytes.Equal(k.priv, want.Bytes()) || !bytes.Equal(k.pub, want.PublicKey().Bytes()) {
			t.Fatalf("key %d: id %d", i, k.id)
		}
	}
}

// secret11 is the 1:1 secret from's device uses for to.
func (m *sim) secret11(from, to string, fromKey int) []byte {
	return tDH(m.t, m.acct(from).keyByID(fromKey), m.acct(to).Key.PublicKey().Bytes())
}

func TestSealedSendsOpenAsLINEApps(t *testing.T) {
	m := newSim(t)
	a, b := m.acct(AliceMID), m.acct(BobMID)
	s := m.secret11(AliceMID, BobMID, a.KeyID)
	js := []byte(`{"text":"hello"}`)
	lower := tAAD(tLower33(BobMID), tLower33(AliceMID), a.KeyID, b.KeyID)
	if c := m.send(AliceMID, BobMID, "2", tSealV2(s, js, lower, a.KeyID, b.KeyID)); c != 0 {
		t.Fatalf("lower-33 AAD: code %d", c)
	}
	if got := m.s.Messages()[len(m.s.Messages())-1].Text; got != "hello" {
		t.Fatalf("stored %q", got)
	}
	upper := tAAD([]byte("U"+BobMID[1:]), []byte("U"+AliceMID[1:]), a.KeyID, b.KeyID)
	if r := m.sendR(AliceMID, BobMID, "2", tSealV2(s, js, upper, a.KeyID, b.KeyID)); code(r) != 85 || reason(r) != "message does not decrypt" {
		t.Fatalf("as-carried upper-case AAD: %v, want 85", r)
	}
	if r := m.sendR(AliceMID, BobMID, "1", tSealV1(s, []byte("hello"), a.KeyID, b.KeyID)); code(r) != 85 || reason(r) != "plaintext is not JSON" {
		t.Fatalf("V1 raw text: %v, want 85 plaintext is not JSON", r)
	}
	if c := m.send(AliceMID, BobMID, "1", tSealV1(s, js, a.KeyID, b.KeyID)); c != 0 {
		t.Fatalf("V1 JSON: code %d", c)
	}
	old := a.KeyID
	cur, _ := m.s.RotateKey(AliceMID)
	if c := m.send(AliceMID, BobMID, "2", tSealV2(s, js, tAAD(tLower33(BobMID), tLower33(AliceMID), old, b.KeyID), old, b.KeyID)); c != 83 {
		t.Fatalf("old sender key: code %d, want 83", c)
	}
	s2 := m.secret11(AliceMID, BobMID, cur)
	if c := m.send(AliceMID, BobMID, "2", tSealV2(s2, js, tAAD(tLower33(BobMID), tLower33(AliceMID), cur, b.KeyID), cur, b.KeyID)); c != 0 {
		t.Fatalf("new sender key: code %d", c)
	}
}

// groupSecret unwraps mid's copy of the chat's group key (by id, or the
// newest) over HTTP, as a client would, and returns the group key.
func (m *sim) groupPriv(mid, chat string, id int) (*ecdh.PrivateKey, map[string]any) {
	m.t.Helper()
	var ans map[string]any
	if id == 0 {
		ans = m.data(mid, "getLastE2EEGroupSharedKey", fmt.Sprintf(`[1,%q]`, chat))
	} else {
		ans = m.data(mid, "getE2EEGroupSharedKey", fmt.Sprintf(`[1,%q,%d]`, chat, id))
	}
	creator := ans["creator"].(string)
	pk := m.data(mid, "getE2EEPublicKey", fmt.Sprintf(`[%q,1,%d]`, creator, int(ans["creatorKeyId"].(float64))))
	creatorPub, _ := base64.StdEncoding.DecodeString(pk["keyData"].(string))
	wrapped, _ := base64.StdEncoding.DecodeString(ans["encryptedSharedKey"].(string))
	me := m.acct(mid).keyByID(int(ans["receiverKeyId"].(float64)))
	g := tUnwrap(m.t, tDH(m.t, me, creatorPub), wrapped)
	if len(g) != 32 {
		m.t.Fatalf("group key of %d bytes", len(g))
	}
	priv, err := ecdh.X25519().NewPrivateKey(g)
	if err != nil {
		m.t.Fatal(err)
	}
	return priv, ans
}

func TestGroupKeysByCreatorPastKeyAndOldGroupKey(t *testing.T) {
	m := newSim(t)
	past := m.acct(BobMID).KeyID
	if _, err := m.s.RotateKey(BobMID); err != nil {
		t.Fatal(err)
	}
	id1, err := m.s.SetGroupKeyWith(OpsMID, BobMID, GroupKeyOptions{CreatorKeyID: past})
	if err != nil {
		t.Fatal(err)
	}
	g1, ans := m.groupPriv(AliceMID, OpsMID, 0)
	if ans["creatorKeyId"] != float64(past) || ans["groupKeyId"] != float64(id1) {
		t.Fatalf("answer: %v", ans)
	}
	a := m.acct(AliceMID)
	sealGroup := func(g *ecdh.PrivateKey, gid int) []string {
		s := tDH(t, g, a.Key.PublicKey().Bytes())
		return tSealV2(s, []byte(`{"text":"hi all"}`), tAAD(tLower33(OpsMID), tLower33(AliceMID), a.KeyID, gid), a.KeyID, gid)
	}
	if c := m.send(AliceMID, OpsMID, "2", sealGroup(g1, id1)); c != 0 {
		t.Fatalf("group send with the unwrapped key: code %d", c)
	}
	id2, _ := m.s.SetGroupKeyWith(OpsMID, BobMID, GroupKeyOptions{})
	if c := m.send(AliceMID, OpsMID, "2", sealGroup(g1, id1)); c != 99 {
		t.Fatalf("old group key: code %d, want 99", c)
	}
	g2, _ := m.groupPriv(AliceMID, OpsMID, 0)
	if c := m.send(AliceMID, OpsMID, "2", sealGroup(g2, id2)); c != 0 {
		t.Fatalf("new group key: code %d", c)
	}
	if old, _ := m.groupPriv(AliceMID, OpsMID, id1); !bytes.Equal(old.Bytes(), g1.Bytes()) {
		t.Fatal("older group key by id differs")
	}
	if _, err := m.s.SetGroupKeyWith(OpsMID, BobMID, GroupKeyOptions{CreatorKeyID: 4242}); err == nil {
		t.Fatal("unknown creator key accepted")
	}
}

// lastOp returns the message of mid's newest operation.
func (m *sim) lastMsg(mid string) map[string]any {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	ops := m.s.ops[mid]
	var o map[string]any
	if err := json.Unmarshal(ops[len(ops)-1].data, &o); err != nil {
		m.t.Fatal(err)
	}
	return o["message"].(map[string]any)
}

func chunksOf(msg map[string]any) []string {
	var out []string
	for _, c := range msg["chunks"].([]any) {
		out = append(out, c.(string))
	}
	return out
}

func TestInjectSealedAsLINEApps(t *testing.T) {
	m := newSim(t)
	a, b := m.acct(AliceMID), m.acct(BobMID)
	s := m.secret11(AliceMID, BobMID, a.KeyID)
	lower := tAAD(tLower33(AliceMID), tLower33(BobMID), b.KeyID, a.KeyID)
	if err := m.s.InjectSealed(SealedInjection{From: BobMID, To: AliceMID, Version: 2, Text: "up", UpperMIDs: true}); err != nil {
		t.Fatal(err)
	}
	msg := m.lastMsg(AliceMID)
	if msg["from"] != "U"+BobMID[1:] || msg["to"] != "U"+AliceMID[1:] {
		t.Fatalf("carried MIDs: %v %v", msg["from"], msg["to"])
	}
	if txt, ok := tOpenV2(s, chunksOf(msg), lower); !ok || txt != `{"text":"up"}` {
		t.Fatalf("lower-33 open: %q %v", txt, ok)
	}
	_ = m.s.InjectSealed(SealedInjection{From: BobMID, To: AliceMID, Version: 2, Text: "x", UpperMIDs: true, AADAsCarried: true})
	upper := tAAD([]byte("U"+AliceMID[1:]), []byte("U"+BobMID[1:]), b.KeyID, a.KeyID)
	if _, ok := tOpenV2(s, chunksOf(m.lastMsg(AliceMID)), upper); !ok {
		t.Fatal("as-carried AAD does not open with the carried MIDs")
	}
	// V1 carries JSON too.
	_ = m.s.InjectSealedMessage(BobMID, AliceMID, 1, "v1", SealOK)
	ch := chunksOf(m.lastMsg(AliceMID))
	salt, _ := base64.StdEncoding.DecodeString(ch[0])
	ct, _ := base64.StdEncoding.DecodeString(ch[1])
	blk, _ := aes.NewCipher(tSHA(s, salt, []byte("Key")))
	p := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, tFold(tSHA(s, salt, []byte("IV")))).CryptBlocks(p, ct)
	if got := string(tStrip(t, p)); got != `{"text":"v1"}` {
		t.Fatalf("V1 plaintext %q", got)
	}
	// A past sender key and an older group key.
	past := b.KeyID
	_, _ = m.s.RotateKey(BobMID)
	if err := m.s.InjectSealed(SealedInjection{From: BobMID, To: AliceMID, Version: 2, Text: "old", SenderKeyID: past}); err != nil {
		t.Fatal(err)
	}
	if ch := chunksOf(m.lastMsg(AliceMID)); ch[3] != be32(past) {
		t.Fatalf("sender key chunk %v", ch[3])
	}
	if err := m.s.InjectSealed(SealedInjection{From: BobMID, To: AliceMID, Version: 2, Text: "x", SenderKeyID: 4242}); err == nil {
		t.Fatal("unknown sender key accepted")
	}
	old, _ := m.s.SetGroupKeyWith(OpsMID, BobMID, GroupKeyOptions{})
	_, _ = m.s.SetGroupKeyWith(OpsMID, BobMID, GroupKeyOptions{})
	if err := m.s.InjectSealed(SealedInjection{From: BobMID, To: OpsMID, Version: 2, Text: "g", GroupKeyID: old}); err != nil {
		t.Fatal(err)
	}
	if ch := chunksOf(m.lastMsg(AliceMID)); ch[4] != be32(old) {
		t.Fatalf("group key chunk %v", ch[4])
	}
}

func TestAdminRotateAndInjectSealed(t *testing.T) {
	m := newSim(t)
	before := m.acct(BobMID).KeyID
	_, r := raw(t, m.srv, "POST", "/_sandbox/rotate-key", fmt.Sprintf(`{"mid":%q}`, BobMID), "", nil)
	if r["ok"] != true || r["keyId"] != float64(before+1) {
		t.Fatalf("rotate-key: %v", r)
	}
	if st, r := raw(t, m.srv, "POST", "/_sandbox/rotate-key", fmt.Sprintf(`{"mid":%q}`, CarolMID), "", nil); st != 409 {
		t.Fatalf("rotate-key of a plain account: %d %v", st, r)
	}
	_, r = raw(t, m.srv, "POST", "/_sandbox/inject-sealed", fmt.Sprintf(`{"from":%q,"to":%q,"text":"hey"}`, BobMID, AliceMID), "", nil)
	if r["ok"] != true {
		t.Fatalf("inject-sealed: %v", r)
	}
	if md := m.lastMsg(AliceMID)["contentMetadata"].(map[string]any); md["e2eeVersion"] != "2" {
		t.Fatalf("default version: %v", md)
	}
	_, st := raw(t, m.srv, "GET", "/_sandbox/state", "", "", nil)
	for _, a := range st["accounts"].([]any) {
		if acc := a.(map[string]any); acc["mid"] == BobMID && acc["keyId"] != float64(before+1) {
			t.Fatalf("state: %v", acc)
		}
	}
}
