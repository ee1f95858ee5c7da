package simgw

// The simulator's own Letter Sealing crypto, written from PROTOCOL.md §4/§8
// independently of package sealing (it uses crypto/ecdh and its own Thrift
// writer), so that a disagreement between the two fails a test.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
)

func h256(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func fold(b []byte) []byte {
	out := make([]byte, 16)
	for i := range out {
		out[i] = b[i] ^ b[i+16]
	}
	return out
}

func dh(priv *ecdh.PrivateKey, pub []byte) ([]byte, error) {
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return priv.ECDH(p)
}

func cbcCrypt(secret, data []byte, enc bool) ([]byte, error) {
	blk, err := aes.NewCipher(h256(secret, []byte("Key")))
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data)%16 != 0 {
		return nil, errors.New("not whole blocks")
	}
	iv := fold(h256(secret, []byte("IV")))
	out := make([]byte, len(data))
	if enc {
		cipher.NewCBCEncrypter(blk, iv).CryptBlocks(out, data)
	} else {
		cipher.NewCBCDecrypter(blk, iv).CryptBlocks(out, data)
	}
	return out, nil
}

// keyChain encodes E2EEKeyChain{1: list<E2EEKey{1 version, 2 keyId, 4 pub, 5 priv, 6 created}>} in Thrift compact.
func keyChain(keyID int, pub, priv []byte) []byte {
	var b []byte
	varint := func(v uint64) { b = binary.AppendUvarint(b, v) }
	zz := func(v int64) { varint(uint64((v << 1) ^ (v >> 63))) }
	b = append(b, 0x19, 0x1c) // field 1 list, 1 element of struct
	b = append(b, 0x15)       // field 1 i32
	zz(1)
	b = append(b, 0x15) // field 2 i32
	zz(int64(keyID))
	b = append(b, 0x28) // field 4 binary
	varint(uint64(len(pub)))
	b = append(b, pub...)
	b = append(b, 0x18) // field 5 binary
	varint(uint64(len(priv)))
	b = append(b, priv...)
	b = append(b, 0x16) // field 6 i64
	zz(1773625290000)
	b = append(b, 0, 0)
	for len(b)%16 != 0 {
		b = append(b, 0)
	}
	return b
}

// keyChainFor returns qrCodeLoginV2's metaData: the account's key chain
// encrypted for the client's login key. Caller holds s.mu.
func (s *Server) keyChainFor(mid string, loginPub []byte) map[string]any {
	acc := s.accounts[mid]
	if acc == nil || !acc.LetterSealing {
		return map[string]any{"errorCode": "E2EE_NOT_ENABLED"}
	}
	eph, _ := ecdh.X25519().GenerateKey(rand.Reader)
	s.lastEph = eph
	shared, err := dh(eph, loginPub)
	if err != nil {
		return map[string]any{"errorCode": "INVALID_PUBLIC_KEY"}
	}
	enc, _ := cbcCrypt(shared, keyChain(acc.KeyID, acc.Key.PublicKey().Bytes(), acc.Key.Bytes()), true)
	return map[string]any{"keyId": strconv.Itoa(acc.KeyID), "publicKey": b64(eph.PublicKey().Bytes()),
		"encryptedKeyChain": b64(enc), "e2eeVersion": "1", "errorCode": ""}
}

// groupKey is a chat's registered group key.
type groupKey struct {
	id      int
	creator string
	credKey int
	priv    []byte
	wrapped map[string][]byte // member → encryptedSharedKey
	keyIDs  map[string]int
}

func (g *groupKey) answerFor(mid string) map[string]any {
	return map[string]any{"keyVersion": 1, "groupKeyId": g.id, "creator": g.creator, "creatorKeyId": g.credKey,
		"receiver": mid, "receiverKeyId": g.keyIDs[mid], "encryptedSharedKey": b64(g.wrapped[mid]),
		"allowedTypes": []int{0, 15}, "specVersion": 2}
}

func pad16(b []byte) []byte {
	n := 16 - len(b)%16
	out := append([]byte{}, b...)
	for i := 0; i < n; i++ {
		out = append(out, byte(n))
	}
	return out
}

// SetGroupKey registers a group key for chat as if creator's device did. Caller must not hold s.mu.
func (s *Server) SetGroupKey(chat, creator string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, cr := s.chats[chat], s.accounts[creator]
	if c == nil || cr == nil || !cr.LetterSealing {
		return errors.New("no such chat or creator without Letter Sealing")
	}
	gk, _ := ecdh.X25519().GenerateKey(rand.Reader)
	g := &groupKey{id: 5000 + len(s.groupKeys), creator: creator, credKey: cr.KeyID, priv: gk.Bytes(), wrapped: map[string][]byte{}, keyIDs: map[string]int{}}
	for _, m := range c.Members {
		a := s.accounts[m]
		if a == nil || !a.LetterSealing {
			return errors.New("a member has Letter Sealing off")
		}
		shared, _ := dh(cr.Key, a.Key.PublicKey().Bytes())
		g.wrapped[m], _ = cbcCrypt(shared, pad16(g.priv), true)
		g.keyIDs[m] = a.KeyID
	}
	s.groupKeys[chat] = g
	return nil
}

// registerE2EEGroupKey [keyVersion, chatMid, members, keyIds, encryptedSharedKeys]:
// every member's wrapped key must unwrap, with that member's key, to one group key.
func (s *Server) registerE2EEGroupKey(req *request) (any, error) {
	var version int
	var chat string
	var members []string
	var keyIDs []int
	var wrapped []string
	if json.Unmarshal(req.args[0], &version) != nil || version != 1 || json.Unmarshal(req.args[1], &chat) != nil ||
		json.Unmarshal(req.args[2], &members) != nil || json.Unmarshal(req.args[3], &keyIDs) != nil ||
		json.Unmarshal(req.args[4], &wrapped) != nil || len(members) != len(keyIDs) || len(members) != len(wrapped) {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.accounts[req.mid]
	c, err := s.memberChat(chat, req.mid)
	if err != nil {
		return nil, err
	}
	if len(members) != len(c.Members) {
		return nil, talk(85, "members do not match the chat")
	}
	g := &groupKey{id: 5000 + len(s.groupKeys) + 1, creator: req.mid, credKey: me.KeyID, wrapped: map[string][]byte{}, keyIDs: map[string]int{}}
	for i, m := range members {
		a := s.accounts[m]
		if a == nil || !c.isMember(m) || !a.LetterSealing {
			return nil, talk(85, "not a sealed member: "+m)
		}
		if keyIDs[i] != a.KeyID {
			return nil, talk(84, "receiver key changed")
		}
		enc, err := base64.StdEncoding.DecodeString(wrapped[i])
		if err != nil {
			return nil, gw(10102)
		}
		shared, err := dh(a.Key, me.Key.PublicKey().Bytes())
		if err != nil {
			return nil, talk(85, "bad key")
		}
		plain, err := cbcCrypt(shared, enc, false)
		if err != nil || len(plain) != 48 || plain[47] != 16 {
			return nil, talk(85, "encryptedSharedKey does not unwrap for "+m)
		}
		if g.priv == nil {
			g.priv = plain[:32]
		} else if string(g.priv) != string(plain[:32]) {
			return nil, talk(85, "members got different group keys")
		}
		g.wrapped[m], g.keyIDs[m] = enc, keyIDs[i]
	}
	s.groupKeys[chat] = g
	return g.answerFor(req.mid), nil
}

func gcmAAD(to, from string, senderKeyID, receiverKeyID, contentType int) []byte {
	b := []byte(to + from)
	for _, v := range []int{senderKeyID, receiverKeyID, 2, contentType} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// openSealed decrypts a sealed message the way its recipient's device would.
// Caller holds s.mu.
func (s *Server) openSealed(from, to string, version string, chunks []string) (string, error) {
	raw := make([][]byte, len(chunks))
	for i, c := range chunks {
		b, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return "", talk(85, "chunk is not base64")
		}
		raw[i] = b
	}
	if len(raw) != 5 || len(raw[3]) != 4 || len(raw[4]) != 4 {
		return "", talk(85, "bad chunks")
	}
	senderKeyID, receiverKeyID := int(binary.BigEndian.Uint32(raw[3])), int(binary.BigEndian.Uint32(raw[4]))
	sender := s.accounts[from]
	if sender == nil || !sender.LetterSealing || sender.KeyID != senderKeyID {
		return "", talk(83, "sender key changed")
	}
	var shared []byte
	var err error
	if toTypeOf(to) == 0 {
		peer := s.accounts[to]
		if peer == nil || !peer.LetterSealing || peer.KeyID != receiverKeyID {
			return "", talk(84, "receiver key changed")
		}
		shared, err = dh(peer.Key, sender.Key.PublicKey().Bytes())
	} else {
		g := s.groupKeys[to]
		if g == nil || g.id != receiverKeyID {
			return "", talk(99, "E2EE_RECREATE_GROUP_KEY")
		}
		gk, gerr := ecdh.X25519().NewPrivateKey(g.priv)
		if gerr != nil {
			return "", talk(85, "bad group key")
		}
		shared, err = dh(gk, sender.Key.PublicKey().Bytes())
	}
	if err != nil {
		return "", talk(85, "bad key")
	}
	key := h256(shared, raw[0], []byte("Key"))
	blk, _ := aes.NewCipher(key)
	switch version {
	case "2":
		g, err := cipher.NewGCMWithNonceSize(blk, len(raw[2]))
		if err != nil {
			return "", talk(85, "bad nonce")
		}
		plain, err := g.Open(nil, raw[2], raw[1], gcmAAD(to, from, senderKeyID, receiverKeyID, 0))
		if err != nil {
			return "", talk(85, "message does not decrypt")
		}
		var p struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(plain, &p) != nil {
			return "", talk(85, "plaintext is not JSON")
		}
		return p.Text, nil
	case "1":
		mac := make([]byte, 16)
		blk.Encrypt(mac, fold(h256(raw[1])))
		if string(mac) != string(raw[2]) || len(raw[1])%16 != 0 || len(raw[1]) == 0 {
			return "", talk(85, "MAC mismatch")
		}
		plain := make([]byte, len(raw[1]))
		cipher.NewCBCDecrypter(blk, fold(h256(shared, raw[0], []byte("IV")))).CryptBlocks(plain, raw[1])
		n := int(plain[len(plain)-1])
		if n == 0 || n > 16 {
			return "", talk(85, "bad padding")
		}
		return string(plain[:len(plain)-n]), nil
	}
	return "", talk(86, "E2EE_INVALID_VERSION")
}

// sealFor encrypts text from → to as from's device would (V2 JSON or V1 raw).
// Caller holds s.mu.
func (s *Server) sealFor(from, to string, version int, text string, badKeyID bool) ([]string, error) {
	sender := s.accounts[from]
	if sender == nil || !sender.LetterSealing {
		return nil, errors.New("sender without Letter Sealing")
	}
	var shared []byte
	var receiverKeyID int
	var err error
	if toTypeOf(to) == 0 {
		peer := s.accounts[to]
		if peer == nil || !peer.LetterSealing {
			return nil, errors.New("recipient without Letter Sealing")
		}
		shared, err = dh(sender.Key, peer.Key.PublicKey().Bytes())
		receiverKeyID = peer.KeyID
	} else {
		g := s.groupKeys[to]
		if g == nil {
			return nil, errors.New("chat has no group key")
		}
		gk, _ := ecdh.X25519().NewPrivateKey(g.priv)
		shared, err = dh(gk, sender.Key.PublicKey().Bytes())
		receiverKeyID = g.id
	}
	if err != nil {
		return nil, err
	}
	senderKeyID := sender.KeyID
	if badKeyID {
		senderKeyID += 777
	}
	salt := make([]byte, 16)
	if version == 1 {
		salt = salt[:8]
	}
	_, _ = rand.Read(salt)
	key := h256(shared, salt, []byte("Key"))
	blk, _ := aes.NewCipher(key)
	var ct, third []byte
	if version == 1 {
		plain := pad16([]byte(text))
		ct = make([]byte, len(plain))
		cipher.NewCBCEncrypter(blk, fold(h256(shared, salt, []byte("IV")))).CryptBlocks(ct, plain)
		third = make([]byte, 16)
		blk.Encrypt(third, fold(h256(ct)))
	} else {
		g, _ := cipher.NewGCM(blk)
		third = make([]byte, 12)
		_, _ = rand.Read(third)
		payload, _ := json.Marshal(map[string]string{"text": text})
		ct = g.Seal(nil, third, payload, gcmAAD(to, from, senderKeyID, receiverKeyID, 0))
	}
	ids := binary.BigEndian.AppendUint32(nil, uint32(senderKeyID))
	rids := binary.BigEndian.AppendUint32(nil, uint32(receiverKeyID))
	return []string{b64(salt), b64(ct), b64(third), b64(ids), b64(rids)}, nil
}

// SealFault spoils an injected sealed message.
type SealFault int

// Ways to spoil a sealed message.
const (
	SealOK       SealFault = iota
	SealBadKeyID           // a sender key id nobody has
	SealTampered           // one ciphertext bit flipped
)

// InjectSealedMessage delivers a Letter Sealing message from → to (version 1
// or 2) as RECEIVE_MESSAGE operations.
func (s *Server) InjectSealedMessage(from, to string, version int, text string, fault SealFault) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	chunks, err := s.sealFor(from, to, version, text, fault == SealBadKeyID)
	if err != nil {
		return err
	}
	if fault == SealTampered {
		ct, _ := base64.StdEncoding.DecodeString(chunks[1])
		ct[0] ^= 1
		chunks[1] = b64(ct)
	}
	s.seq += 7919
	msg := map[string]any{"from": from, "to": to, "toType": toTypeOf(to), "id": strconv.FormatInt(s.seq, 10),
		"createdTime": strconv.FormatInt(s.now().UnixMilli(), 10), "hasContent": false, "contentType": 0,
		"contentMetadata": map[string]string{"e2eeVersion": strconv.Itoa(version)}, "chunks": chunks, "sessionId": 0, "reactions": []any{}}
	s.deliver(from, to, msg)
	return nil
}
