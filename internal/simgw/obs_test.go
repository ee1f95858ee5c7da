package simgw

// Media tests: OBS uploads and downloads and media messages, plain and
// Letter-Sealed, over plain net/http. The file crypto here is the test's own
// (stdlib only), written from docs/media-protocol.md §3.1.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const uuid1 = "0f8fad5b-d9cb-469f-a165-70867728950e"

// obsTok acquires an OBS token for mid over the gateway.
func (m *sim) obsTok(mid string) string {
	m.t.Helper()
	r := m.call(mid, "acquireEncryptedAccessToken", "[2]")
	d, _ := r["data"].(string)
	ttl, tok, ok := strings.Cut(d, "\x1e")
	if code(r) != 0 || !ok || ttl != "3600" || tok == "" || tok == m.tok[mid] {
		m.t.Fatalf("acquireEncryptedAccessToken: %v", r)
	}
	return tok
}

// obsParamsOf is X-Obs-Params for an upload of type typ.
func obsParamsOf(typ string) string {
	b, _ := json.Marshal(map[string]string{"ver": "2.0", "name": "1773625306000", "type": typ})
	return enc(b)
}

// obsDo sends one OBS request with the extension's headers (an upload's
// when body != nil), edited by edit, and returns status, headers and body.
func (m *sim) obsDo(method, path, tok string, body []byte, edit func(http.Header)) (int, http.Header, []byte) {
	m.t.Helper()
	req, _ := http.NewRequest(method, m.srv.URL+path, bytes.NewReader(body))
	h := req.Header
	h.Set("x-line-access", tok)
	h.Set("x-line-application", "CHROMEOS\t3.7.2\tChrome_OS\t")
	h.Set("user-agent", "Mozilla/5.0 Chrome/146.0.0.0")
	if body != nil {
		h.Set("content-type", "application/octet-stream")
	}
	if edit != nil {
		edit(h)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// upload POSTs body with X-Obs-Params of type typ.
func (m *sim) upload(path, tok, typ string, body []byte) (int, http.Header) {
	m.t.Helper()
	st, h, _ := m.obsDo("POST", path, tok, body, func(h http.Header) { h.Set("x-obs-params", obsParamsOf(typ)) })
	return st, h
}

// sendMedia sends a media message from → to and returns the envelope.
func (m *sim) sendMedia(from, to string, ct int, md map[string]string, chunks []string) map[string]any {
	m.t.Helper()
	mdj, _ := json.Marshal(md)
	extra := ""
	if chunks != nil {
		cj, _ := json.Marshal(chunks)
		extra = `,"chunks":` + string(cj)
	}
	body := fmt.Sprintf(`[21,{"from":%q,"to":%q,"toType":%d,"id":"local-21","createdTime":"1","sessionId":0,"contentType":%d,`+
		`"contentMetadata":%s,"hasContent":true%s}]`, from, to, toTypeOf(to), ct, mdj, extra)
	return m.call(from, "sendMessage", body)
}

// isTalk reports whether r is a TalkException with code c.
func isTalk(r map[string]any, c int) bool { return r["code"] == float64(10051) && code(r) == c }

func tAADct(to, from []byte, sk, rk, ct int) []byte {
	b := append(append([]byte{}, to...), from...)
	for _, v := range []int{sk, rk, 2, ct} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// tSealPayload seals payload from → to (1:1, V2) with ct in the AAD.
func (m *sim) tSealPayload(from, to string, ct int, payload string) []string {
	a, b := m.acct(from), m.acct(to)
	aad := tAADct(tLower33(to), tLower33(from), a.KeyID, b.KeyID, ct)
	return tSealV2(m.secret11(from, to, a.KeyID), []byte(payload), aad, a.KeyID, b.KeyID)
}

// tFileCrypt is LINE's file encryption: HKDF-SHA256 → AES-256-CTR ‖ HMAC.
func tFileCrypt(t *testing.T, km, plain []byte) []byte {
	okm, err := hkdf.Key(sha256.New, km, nil, "FileEncryption", 76)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := aes.NewCipher(okm[:32])
	iv := append(append([]byte{}, okm[64:76]...), 0, 0, 0, 0)
	ct := make([]byte, len(plain))
	cipher.NewCTR(blk, iv).XORKeyStream(ct, plain)
	mac := hmac.New(sha256.New, okm[32:64])
	mac.Write(ct)
	return append(ct, mac.Sum(nil)...)
}

// talkMeta is X-Talk-Meta naming message id.
func talkMeta(id string) string {
	b := []byte{0x0B, 0, 4}
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	b = append(append(b, id...), 0x0F, 0, 27, 0x0C, 0, 0, 0, 0, 0x00)
	j, _ := json.Marshal(map[string]string{"message": enc(b)})
	return enc(j)
}

func msgByID(t *testing.T, s *Server, id string) Message {
	t.Helper()
	for _, m := range s.Messages() {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no message %s", id)
	return Message{}
}

func TestOBSTokenLifecycle(t *testing.T) {
	m := newSim(t)
	probe := func(tok string) int { // a download of nothing: 404 once the token passes
		st, _, _ := m.obsDo("GET", "/r/talk/m/1", tok, nil, nil)
		return st
	}
	tok := m.obsTok(AliceMID)
	if st := probe(tok); st != 404 {
		t.Fatalf("OBS token: %d", st)
	}
	if st := probe(m.tok[AliceMID]); st != 401 {
		t.Fatalf("access token on OBS: %d, want 401", st)
	}
	if st, _, _ := m.obsDo("GET", "/r/talk/m/1", tok, nil, func(h http.Header) { h.Del("x-line-application") }); st != 400 {
		t.Fatalf("no x-line-application: %d, want 400", st)
	}
	if r := m.call(AliceMID, "acquireEncryptedAccessToken", "[1]"); !isTalk(r, 0) {
		t.Fatalf("[1]: %v", r)
	}
	if r := m.call(AliceMID, "acquireEncryptedAccessToken", `["2"]`); code(r) != 10102 {
		t.Fatalf(`["2"]: %v`, r)
	}
	m.s.Advance(time.Hour)
	if st := probe(tok); st != 401 {
		t.Fatalf("expired OBS token: %d, want 401", st)
	}
	tok = m.obsTok(AliceMID)
	m.s.ExpireOBSTokens()
	if st := probe(tok); st != 401 {
		t.Fatalf("after ExpireOBSTokens: %d", st)
	}
	tok = m.obsTok(CarolMID)
	if _, r := raw(t, m.srv, "POST", "/api/talk/thrift/Talk/AuthService/logoutV2", "[]", m.tok[CarolMID], nil); code(r) != 0 {
		t.Fatalf("logout: %v", r)
	}
	if st := probe(tok); st != 401 {
		t.Fatalf("after logout: %d", st)
	}
	m.s.mu.Lock()
	set := m.s.issueTokens(BobMID)
	m.s.mu.Unlock()
	m.tok[BobMID] = set["accessToken"].(string)
	tok = m.obsTok(BobMID)
	body := fmt.Sprintf(`{"refreshToken":%q}`, set["refreshToken"])
	if _, r := raw(t, m.srv, "POST", "/api/auth/tokenRefresh", body, m.tok[BobMID], nil); code(r) != 0 {
		t.Fatalf("refresh: %v", r)
	}
	if st := probe(tok); st != 401 {
		t.Fatalf("after tokenRefresh: %d", st)
	}
}

func TestDetermineMediaMessageFlow(t *testing.T) {
	m := newSim(t)
	for _, tc := range []struct {
		who, chat string
		want      float64
	}{
		{AliceMID, BobMID, 2}, {AliceMID, CarolMID, 1}, {AliceMID, OpsMID, 2}, {AliceMID, FamilyMID, 1}, {AliceMID, RoomMID, 1},
	} {
		d := m.data(tc.who, "determineMediaMessageFlow", fmt.Sprintf(`[{"chatMid":%q}]`, tc.chat))
		fm := d["flowMap"].(map[string]any)
		for _, k := range []string{"1", "2", "3", "14"} {
			if fm[k] != tc.want {
				t.Errorf("%s: flowMap %v, want %v", tc.chat, fm, tc.want)
			}
		}
		if d["cacheTtlMillis"] != "21600000" {
			t.Errorf("cacheTtlMillis %v", d["cacheTtlMillis"])
		}
	}
	for _, tc := range []struct {
		who, body string
		want      int
	}{
		{AliceMID, `[{"chatMid":"c00000000000000000000000000000000"}]`, 5},
		{AliceMID, `[{"chatMid":"u00000000000000000000000000000000"}]`, 5},
		{CarolMID, fmt.Sprintf(`[{"chatMid":%q}]`, OpsMID), 10},
		{AliceMID, `[{}]`, 10102}, {AliceMID, `[{"chatMid":1}]`, 10102}, {AliceMID, `["x"]`, 10102}, {AliceMID, `[]`, 10102},
	} {
		if c := code(m.call(tc.who, "determineMediaMessageFlow", tc.body)); c != tc.want {
			t.Errorf("%s: code %d, want %d", tc.body, c, tc.want)
		}
	}
}

func TestPlainImageSendUploadDownload(t *testing.T) {
	m := newSim(t)
	png := []byte("\x89PNG fake image bytes")
	md := map[string]string{"FILE_SIZE": strconv.Itoa(len(png)), "FILE_NAME": "cat.png", "contentType": "1"}
	r := m.sendMedia(AliceMID, CarolMID, 1, md, nil)
	if code(r) != 0 || r["data"].(map[string]any)["hasContent"] != true {
		t.Fatalf("send: %v", r)
	}
	id := r["data"].(map[string]any)["id"].(string)
	if got := m.lastMsg(CarolMID); got["hasContent"] != true || got["contentType"] != float64(1) || got["id"] != id {
		t.Fatalf("RECEIVE_MESSAGE: %v", got)
	}
	alice, carol, bob := m.obsTok(AliceMID), m.obsTok(CarolMID), m.obsTok(BobMID)
	if st, _, b := m.obsDo("GET", "/r/talk/m/"+id, carol, nil, nil); st != 202 || len(b) != 0 {
		t.Fatalf("before upload: %d %q, want 202", st, b)
	}
	st, h := m.upload("/r/talk/m/"+id, alice, "image", png)
	sum := sha256.Sum256(png)
	if st != 201 || h.Get("x-obs-oid") != id || h.Get("x-obs-hash") != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload: %d %v", st, h)
	}
	if st, _ := m.upload("/r/talk/m/"+id, alice, "image", png); st != 200 {
		t.Fatalf("same bytes again: %d, want 200", st)
	}
	if st, _ := m.upload("/r/talk/m/"+id+"__ud-preview", alice, "image", []byte("thumb")); st != 201 {
		t.Fatalf("preview: %d", st)
	}
	for _, p := range []string{"", "/original"} {
		st, h, b := m.obsDo("GET", "/r/talk/m/"+id+p, carol, nil, nil)
		if st != 200 || !bytes.Equal(b, png) || h.Get("content-type") != "application/octet-stream" || h.Get("content-length") != strconv.Itoa(len(png)) {
			t.Fatalf("download%s: %d %q %v", p, st, b, h)
		}
	}
	if st, _, b := m.obsDo("GET", "/r/talk/m/"+id+"/preview", alice, nil, nil); st != 200 || string(b) != "thumb" {
		t.Fatalf("preview download: %d %q", st, b)
	}
	if st, _, _ := m.obsDo("GET", "/r/talk/m/"+id, bob, nil, nil); st != 403 {
		t.Fatalf("non-party download: %d, want 403", st)
	}
	got := msgByID(t, m.s, id)
	if !bytes.Equal(got.Media, png) || got.MediaName != "cat.png" || string(got.Preview) != "thumb" || got.MediaErr != "" {
		t.Fatalf("stored: %+v", got)
	}
	// A member of a group reads its media; the uploader must be the sender.
	r = m.sendMedia(AliceMID, FamilyMID, 14, map[string]string{"FILE_SIZE": "3", "FILE_NAME": "a.txt"}, nil)
	gid := r["data"].(map[string]any)["id"].(string)
	if st, _ := m.upload("/r/talk/m/"+gid, carol, "file", []byte("abc")); st != 404 {
		t.Fatalf("upload by a non-sender: %d, want 404", st)
	}
	if st, _ := m.upload("/r/talk/m/"+gid, alice, "file", []byte("abc")); st != 201 {
		t.Fatalf("file upload: %d", st)
	}
	if st, _, b := m.obsDo("GET", "/r/talk/m/"+gid, bob, nil, nil); st != 200 || string(b) != "abc" {
		t.Fatalf("member download: %d %q", st, b)
	}
}

func TestOBSUploadRefusals(t *testing.T) {
	m := newSim(t)
	m.s.opts.MaxOBSObject = 16
	r := m.sendMedia(AliceMID, CarolMID, 1, map[string]string{"FILE_SIZE": "4"}, nil)
	id := r["data"].(map[string]any)["id"].(string)
	tok := m.obsTok(AliceMID)
	params := func(v string) func(http.Header) { return func(h http.Header) { h.Set("x-obs-params", v) } }
	for _, tc := range []struct {
		name, path string
		body       []byte
		edit       func(http.Header)
		want       int
	}{
		{"ok", "/r/talk/m/" + id, []byte("data"), params(obsParamsOf("image")), 201},
		{"no params", "/r/talk/m/" + id, []byte("data"), nil, 400},
		{"params not base64", "/r/talk/m/" + id, []byte("data"), params("{{"), 400},
		{"params not strings", "/r/talk/m/" + id, []byte("data"), params(enc([]byte(`{"ver":2,"name":"n","type":"image"}`))), 400},
		{"wrong ver", "/r/talk/m/" + id, []byte("data"), params(enc([]byte(`{"ver":"1.0","name":"n","type":"image"}`))), 400},
		{"no name", "/r/talk/m/" + id, []byte("data"), params(enc([]byte(`{"ver":"2.0","type":"image"}`))), 400},
		{"unknown type", "/r/talk/m/" + id, []byte("data"), params(enc([]byte(`{"ver":"2.0","name":"n","type":"gif"}`))), 415},
		{"type mismatch", "/r/talk/m/" + id, []byte("data"), params(obsParamsOf("file")), 415},
		{"content-type", "/r/talk/m/" + id, []byte("data"), func(h http.Header) {
			h.Set("x-obs-params", obsParamsOf("image"))
			h.Set("content-type", "image/gif")
		}, 415},
		{"empty body", "/r/talk/m/" + id, []byte{}, params(obsParamsOf("image")), 400},
		{"too large", "/r/talk/m/" + id, bytes.Repeat([]byte("x"), 17), params(obsParamsOf("image")), 413},
		{"unknown message", "/r/talk/m/123", []byte("data"), params(obsParamsOf("image")), 404},
		{"text message", "/r/talk/m/", []byte("data"), params(obsParamsOf("image")), 404},
		{"unknown SID", "/r/talk/zzz/reqid-" + uuid1, []byte("data"), params(obsParamsOf("file")), 404},
		{"bad reqid", "/r/talk/emi/reqid-" + strings.ToUpper(uuid1), []byte("data"), params(obsParamsOf("file")), 400},
		{"not a reqid", "/r/talk/emi/whatever", []byte("data"), params(obsParamsOf("file")), 400},
		{"image on emi", "/r/talk/emi/reqid-" + uuid1, []byte("data"), params(obsParamsOf("image")), 415},
		{"preview of no object", "/r/talk/emi/" + strings.Repeat("ab", 16) + "__ud-preview", []byte("data"), params(obsParamsOf("file")), 404},
		{"no token", "/r/talk/m/" + id, []byte("data"), func(h http.Header) { h.Del("x-line-access") }, 401},
	} {
		if st, _, b := m.obsDo("POST", tc.path, tok, tc.body, tc.edit); st != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, st, b, tc.want)
		}
	}
	if names := m.s.CallNames(); names[len(names)-1] != "obs-upload" {
		t.Fatalf("calls: %v", names)
	}
}

func TestSendMediaRefusals(t *testing.T) {
	m := newSim(t)
	img := map[string]string{"FILE_SIZE": "10", "FILE_NAME": "a.png"}
	with := func(k, v string) map[string]string {
		out := map[string]string{"FILE_SIZE": "10", "FILE_NAME": "a.png"}
		out[k] = v
		if v == "" {
			delete(out, k)
		}
		return out
	}
	send := func(md map[string]string, edit string) map[string]any {
		mdj, _ := json.Marshal(md)
		body := fmt.Sprintf(`[3,{"from":%q,"to":%q,"toType":0,"id":"local-3","createdTime":"1","sessionId":0,"contentType":1,`+
			`"contentMetadata":%s%s}]`, AliceMID, CarolMID, mdj, edit)
		return m.call(AliceMID, "sendMessage", body)
	}
	for _, tc := range []struct {
		name string
		r    map[string]any
		want string
	}{
		{"hasContent false", send(img, `,"hasContent":false`), "hasContent"},
		{"text", send(img, `,"hasContent":true,"text":"caption"`), "no text"},
		{"file without FILE_SIZE", m.sendMedia(AliceMID, CarolMID, 14, map[string]string{"FILE_NAME": "a.txt"}, nil), "FILE_SIZE"},
		{"FILE_SIZE not decimal", send(with("FILE_SIZE", "1e3"), `,"hasContent":true`), "FILE_SIZE"},
		{"ENC_KM", send(with("ENC_KM", "a2V5"), `,"hasContent":true`), "ENC_KM must not be sent"},
		{"file without name", m.sendMedia(AliceMID, CarolMID, 14, map[string]string{"FILE_SIZE": "1"}, nil), "FILE_NAME"},
		{"sealed to a plain chat", m.sendMedia(AliceMID, CarolMID, 1, with("e2eeVersion", "2"), []string{"a", "b", "c", "d", "e"}),
			"e2ee media message not allowed for plain chat"},
	} {
		if !isTalk(tc.r, 0) || !strings.Contains(reason(tc.r), tc.want) {
			t.Errorf("%s: %v, want TalkException 0 %q", tc.name, tc.r, tc.want)
		}
	}
	if r := m.sendMedia(AliceMID, BobMID, 1, img, nil); !isTalk(r, 82) {
		t.Fatalf("plain image to a sealed chat: %v, want 82", r)
	}
	if r := m.sendMedia(AliceMID, OpsMID, 14, img, nil); !isTalk(r, 82) {
		t.Fatalf("plain file to a sealed group: %v, want 82", r)
	}
	if n := len(m.s.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

// sealedUpload uploads data encrypted under a fresh key as mid to sid and
// returns the key, the blob and the OID.
func (m *sim) sealedUpload(mid, sid string, data []byte) (km, blob []byte, oid string) {
	m.t.Helper()
	km = make([]byte, 32)
	_, _ = rand.Read(km)
	blob = tFileCrypt(m.t, km, data)
	reqid := make([]byte, 16)
	_, _ = rand.Read(reqid)
	h := hex.EncodeToString(reqid)
	path := "/r/talk/" + sid + "/reqid-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	st, hd := m.upload(path, m.obsTok(mid), "file", blob)
	if st != 201 || len(hd.Get("x-obs-oid")) != 32 {
		m.t.Fatalf("sealed upload: %d %v", st, hd)
	}
	return km, blob, hd.Get("x-obs-oid")
}

func TestSealedImageUploadSendDownload(t *testing.T) {
	m := newSim(t)
	img, thumb := []byte("a sealed picture, in bytes"), []byte("small")
	alice, bob, carol := m.obsTok(AliceMID), m.obsTok(BobMID), m.obsTok(CarolMID)
	km := make([]byte, 32)
	_, _ = rand.Read(km)
	blob := tFileCrypt(t, km, img)
	path := "/r/talk/emi/reqid-" + uuid1
	st, h := m.upload(path, alice, "file", blob)
	oid := h.Get("x-obs-oid")
	if st != 201 || len(oid) != 32 {
		t.Fatalf("upload: %d %v", st, h)
	}
	if st, h := m.upload(path, alice, "file", blob); st != 200 || h.Get("x-obs-oid") != oid {
		t.Fatalf("same reqid, same bytes: %d %v", st, h)
	}
	if st, h := m.upload(path, bob, "file", blob); st != 201 || h.Get("x-obs-oid") == oid {
		t.Fatalf("same reqid by another account: %d %v", st, h)
	}
	if st, h := m.upload("/r/talk/emi/"+oid+"__ud-preview", alice, "file", tFileCrypt(t, km, thumb)); st != 201 || h.Get("x-obs-oid") != oid {
		t.Fatalf("preview: %d %v", st, h)
	}
	if st, _ := m.upload("/r/talk/emi/"+oid+"__ud-preview", bob, "file", blob); st != 404 {
		t.Fatalf("preview of another's object: %d, want 404", st)
	}
	md := map[string]string{"SID": "emi", "OID": oid, "FILE_SIZE": strconv.Itoa(len(blob) - 32), "e2eeVersion": "2"}
	payload := fmt.Sprintf(`{"keyMaterial":%q,"fileName":"p.jpg"}`, enc(km))
	if r := m.sendMedia(AliceMID, BobMID, 1, md, m.tSealPayload(AliceMID, BobMID, 0, payload)); !isTalk(r, 85) {
		t.Fatalf("content type 0 in the AAD: %v, want 85", r)
	}
	r := m.sendMedia(AliceMID, BobMID, 1, md, m.tSealPayload(AliceMID, BobMID, 1, payload))
	if code(r) != 0 {
		t.Fatalf("sealed send: %v", r)
	}
	id := r["data"].(map[string]any)["id"].(string)
	got := msgByID(t, m.s, id)
	if !bytes.Equal(got.Media, img) || got.MediaErr != "" || got.MediaName != "p.jpg" || !bytes.Equal(got.Preview, thumb) {
		t.Fatalf("stored: %+v", got)
	}
	if st, _, b := m.obsDo("GET", "/r/talk/emi/"+oid, bob, nil, func(h http.Header) { h.Set("x-talk-meta", talkMeta(id)) }); st != 200 || !bytes.Equal(b, blob) {
		t.Fatalf("download: %d", st)
	}
	// A wrong key is the recipient's problem: the send succeeds.
	wrong := make([]byte, 32)
	bad := fmt.Sprintf(`{"keyMaterial":%q}`, enc(wrong))
	r = m.sendMedia(AliceMID, BobMID, 1, md, m.tSealPayload(AliceMID, BobMID, 1, bad))
	if code(r) != 0 {
		t.Fatalf("wrong key: %v", r)
	}
	if got := msgByID(t, m.s, r["data"].(map[string]any)["id"].(string)); got.MediaErr == "" || got.Media != nil {
		t.Fatalf("wrong key stored: %+v", got)
	}
	for name, meta := range map[string]string{
		"not base64":  "!!",
		"no message":  enc([]byte(`{"x":1}`)),
		"no field 4":  enc([]byte(`{"message":"` + enc([]byte{0x0F, 0, 27, 0x0C, 0, 0, 0, 0, 0}) + `"}`)),
		"no stop":     enc([]byte(`{"message":"` + enc([]byte{0x0B, 0, 4, 0, 0, 0, 1, '1'}) + `"}`)),
		"longer than": enc([]byte(`{"message":"` + enc([]byte{0x0B, 0, 4, 0, 0, 0, 9, '1', 0}) + `"}`)),
		"missing":     "",
	} {
		if st, _, _ := m.obsDo("GET", "/r/talk/emi/"+oid, bob, nil, func(h http.Header) { h.Set("x-talk-meta", meta) }); st != 400 {
			t.Errorf("X-Talk-Meta %s: %d, want 400", name, st)
		}
	}
	for name, tc := range map[string]struct{ tok, path, meta string }{
		"non-party":     {carol, "/r/talk/emi/" + oid, talkMeta(id)},
		"other message": {bob, "/r/talk/emi/" + oid, talkMeta("123")},
		"other SID":     {bob, "/r/talk/emf/" + oid, talkMeta(id)},
	} {
		want := 403
		if name == "other SID" {
			want = 404
		}
		if st, _, _ := m.obsDo("GET", tc.path, tc.tok, nil, func(h http.Header) { h.Set("x-talk-meta", tc.meta) }); st != want {
			t.Errorf("%s: %d, want %d", name, st, want)
		}
	}
}

func TestSealedMediaSendRefusals(t *testing.T) {
	m := newSim(t)
	km, blob, oid := m.sealedUpload(AliceMID, "emf", []byte("file body"))
	_, bobBlob, bobOID := m.sealedUpload(BobMID, "emf", []byte("bob's"))
	payload := fmt.Sprintf(`{"keyMaterial":%q,"fileName":"f.txt"}`, enc(km))
	md := func(sid, oid string, size int) map[string]string {
		return map[string]string{"SID": sid, "OID": oid, "FILE_SIZE": strconv.Itoa(size - 32), "e2eeVersion": "2"}
	}
	chunks := m.tSealPayload(AliceMID, BobMID, 14, payload)
	for name, tc := range map[string]struct {
		md   map[string]string
		want int
	}{
		"wrong SID":        {md("emi", oid, len(blob)), 0},
		"unknown OID":      {md("emf", strings.Repeat("0", 32), len(blob)), 0},
		"another's object": {md("emf", bobOID, len(bobBlob)), 0},
		"encrypted size":   {md("emf", oid, len(blob)+32), 0},
		"FILE_NAME clear":  {with(md("emf", oid, len(blob)), "FILE_NAME", "f.txt"), 0},
		"contentType key":  {with(md("emf", oid, len(blob)), "contentType", "14"), 0},
		"version 3":        {with(md("emf", oid, len(blob)), "e2eeVersion", "3"), 86},
	} {
		if r := m.sendMedia(AliceMID, BobMID, 14, tc.md, chunks); !isTalk(r, tc.want) {
			t.Errorf("%s: %v, want %d", name, r, tc.want)
		}
	}
	for name, p := range map[string]string{"text payload": `{"text":"hi"}`, "short key": `{"keyMaterial":"AAAA"}`} {
		if r := m.sendMedia(AliceMID, BobMID, 14, md("emf", oid, len(blob)), m.tSealPayload(AliceMID, BobMID, 14, p)); !isTalk(r, 85) {
			t.Errorf("%s: %v, want 85", name, r)
		}
	}
	r := m.sendMedia(AliceMID, BobMID, 14, md("emf", oid, len(blob)), chunks)
	if got := msgByID(t, m.s, r["data"].(map[string]any)["id"].(string)); string(got.Media) != "file body" || got.MediaName != "f.txt" {
		t.Fatalf("file: %+v", got)
	}
}

func TestInjectMediaPlainAndSealed(t *testing.T) {
	m := newSim(t)
	pic := []byte("injected picture")
	plain, err := m.s.InjectMedia(MediaInjection{From: CarolMID, To: AliceMID, ContentType: 1, Name: "x.png", Data: pic})
	if err != nil {
		t.Fatal(err)
	}
	op := m.lastMsg(AliceMID)
	md := op["contentMetadata"].(map[string]any)
	if op["id"] != plain.ID || op["hasContent"] != true || md["FILE_SIZE"] != strconv.Itoa(len(pic)) ||
		md["MEDIA_CONTENT_INFO"] != `{"category":"original","extension":"png","fileSize":16}` {
		t.Fatalf("plain op: %v", op)
	}
	if st, _, b := m.obsDo("GET", "/r/talk/m/"+plain.ID, m.obsTok(AliceMID), nil, nil); st != 200 || !bytes.Equal(b, pic) {
		t.Fatalf("plain download: %d %q", st, b)
	}
	sealed, err := m.s.InjectMedia(MediaInjection{From: BobMID, To: AliceMID, ContentType: 14, Name: "r.pdf", Data: pic, Sealed: true})
	if err != nil {
		t.Fatal(err)
	}
	op = m.lastMsg(AliceMID)
	md = op["contentMetadata"].(map[string]any)
	a, b := m.acct(AliceMID), m.acct(BobMID)
	txt, ok := tOpenV2(m.secret11(AliceMID, BobMID, a.KeyID), chunksOf(op), tAADct(tLower33(AliceMID), tLower33(BobMID), b.KeyID, a.KeyID, 14))
	var p struct{ KeyMaterial, FileName string }
	if !ok || json.Unmarshal([]byte(txt), &p) != nil || p.FileName != "r.pdf" || md["SID"] != "emf" || md["e2eeVersion"] != "2" {
		t.Fatalf("sealed op: %v (%q %v)", op, txt, ok)
	}
	km, _ := base64.StdEncoding.DecodeString(p.KeyMaterial)
	want := tFileCrypt(t, km, pic)
	st, _, blob := m.obsDo("GET", "/r/talk/emf/"+md["OID"].(string), m.obsTok(AliceMID), nil, func(h http.Header) { h.Set("x-talk-meta", talkMeta(sealed.ID)) })
	if st != 200 || !bytes.Equal(blob, want) || md["FILE_SIZE"] != strconv.Itoa(len(pic)) || md["FILE_NAME"] != nil {
		t.Fatalf("sealed download: %d", st)
	}
	if _, err := m.s.InjectMedia(MediaInjection{From: BobMID, To: CarolMID, ContentType: 1, Data: pic, Sealed: true}); err == nil {
		t.Fatal("sealed to an account without Letter Sealing")
	}
	_, r := raw(t, m.srv, "POST", "/_sandbox/inject-media", fmt.Sprintf(`{"from":%q,"to":%q,"data":%q}`, BobMID, FamilyMID, enc(pic)), "", nil)
	if r["ok"] != true || m.lastMsg(CarolMID)["id"] != r["id"] || m.lastMsg(CarolMID)["contentType"] != float64(1) {
		t.Fatalf("admin inject-media: %v", r)
	}
	if st, r := raw(t, m.srv, "POST", "/_sandbox/inject-media", `{"data":"!"}`, "", nil); st != 400 {
		t.Fatalf("admin bad data: %d %v", st, r)
	}
}

func TestOBSFaults(t *testing.T) {
	m := newSim(t)
	r := m.sendMedia(AliceMID, CarolMID, 1, map[string]string{"FILE_SIZE": "4"}, nil)
	id := r["data"].(map[string]any)["id"].(string)
	tok := m.obsTok(AliceMID)
	m.s.Fail("obs-upload", Fault503, 1)
	if st, _ := m.upload("/r/talk/m/"+id, tok, "image", []byte("data")); st != 503 {
		t.Fatalf("503: %d", st)
	}
	if msgByID(t, m.s, id).Media != nil {
		t.Fatal("stored through a 503")
	}
	m.s.Fail("obs-upload", FaultDropAfter, 1)
	req, _ := http.NewRequest("POST", m.srv.URL+"/r/talk/m/"+id, strings.NewReader("data"))
	req.Header.Set("x-line-access", tok)
	req.Header.Set("x-line-application", "CHROMEOS")
	req.Header.Set("content-type", "application/octet-stream")
	req.Header.Set("x-obs-params", obsParamsOf("image"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("drop-after answered")
	}
	if string(msgByID(t, m.s, id).Media) != "data" {
		t.Fatal("drop-after did not store")
	}
	m.s.Fail("obs-download", Fault429, 1)
	if st, _, _ := m.obsDo("GET", "/r/talk/m/"+id, tok, nil, nil); st != 429 {
		t.Fatalf("429: %d", st)
	}
}

func TestSealedImageToGroup(t *testing.T) {
	m := newSim(t)
	if err := m.s.SetGroupKey(OpsMID, BobMID); err != nil {
		t.Fatal(err)
	}
	g, ans := m.groupPriv(AliceMID, OpsMID, 0)
	gid := int(ans["groupKeyId"].(float64))
	km, blob, oid := m.sealedUpload(AliceMID, "emi", []byte("group picture"))
	a := m.acct(AliceMID)
	aad := tAADct(tLower33(OpsMID), tLower33(AliceMID), a.KeyID, gid, 1)
	chunks := tSealV2(tDH(t, g, a.Key.PublicKey().Bytes()), []byte(`{"keyMaterial":"`+enc(km)+`"}`), aad, a.KeyID, gid)
	md := map[string]string{"SID": "emi", "OID": oid, "FILE_SIZE": strconv.Itoa(len(blob) - 32), "e2eeVersion": "2"}
	r := m.sendMedia(AliceMID, OpsMID, 1, md, chunks)
	if code(r) != 0 {
		t.Fatalf("group send: %v", r)
	}
	id := r["data"].(map[string]any)["id"].(string)
	if got := msgByID(t, m.s, id); string(got.Media) != "group picture" || got.MediaErr != "" {
		t.Fatalf("stored: %+v", got)
	}
	if st, _, b := m.obsDo("GET", "/r/talk/emi/"+oid, m.obsTok(BobMID), nil, func(h http.Header) { h.Set("x-talk-meta", talkMeta(id)) }); st != 200 || !bytes.Equal(b, blob) {
		t.Fatalf("member download: %d", st)
	}
}

// with returns a copy of md with k set to v.
func with(md map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range md {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}
