package simgw

// The simulator's own Letter Sealing crypto, written from docs/protocol.md §4/§8
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
	"strings"
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

// keyChain encodes E2EEKeyChain{1: list<E2EEKey{1 version, 2 keyId, 4 pub,
// 5 priv, 6 created}>} in Thrift compact, PKCS#7-padded for CBC: LINE's
// module rejects zero padding (docs/protocol.md §8).
func keyChain(keys []SealKey) []byte {
	var b []byte
	varint := func(v uint64) { b = binary.AppendUvarint(b, v) }
	zz := func(v int64) { varint(uint64((v << 1) ^ (v >> 63))) }
	b = append(b, 0x19) // field 1 list
	if len(keys) < 15 {
		b = append(b, byte(len(keys)<<4|0x0c)) // n elements of struct
	} else {
		b = append(b, 0xfc)
		varint(uint64(len(keys)))
	}
	for _, k := range keys {
		pub, priv := k.Key.PublicKey().Bytes(), k.Key.Bytes()
		b = append(b, 0x15) // field 1 i32
		zz(1)
		b = append(b, 0x15) // field 2 i32
		zz(int64(k.ID))
		b = append(b, 0x28) // field 4 binary
		varint(uint64(len(pub)))
		b = append(b, pub...)
		b = append(b, 0x18) // field 5 binary
		varint(uint64(len(priv)))
		b = append(b, priv...)
		b = append(b, 0x16) // field 6 i64
		zz(keyCreated(k.ID))
		b = append(b, 0) // end of E2EEKey
	}
	b = append(b, 0) // end of E2EEKeyChain
	return pad16(b)
}

// keyChainFor returns qrCodeLoginV2's metaData: all the account's keys
// encrypted for the client's login key. Without a usable login key (a QR
// scanned blind carries none) it is an errorCode and no key chain.
// Caller holds s.mu.
func (s *sealing) keyChainFor(mid string, loginPub []byte) map[string]any {
	acc := s.accounts[mid]
	if acc == nil || !acc.LetterSealing || acc.Key == nil {
		return map[string]any{"errorCode": "E2EE_NOT_ENABLED"}
	}
	if len(loginPub) != 32 {
		return map[string]any{"errorCode": "NO_PUBLIC_KEY"}
	}
	eph, _ := ecdh.X25519().GenerateKey(rand.Reader)
	shared, err := dh(eph, loginPub)
	if err != nil {
		return map[string]any{"errorCode": "INVALID_PUBLIC_KEY"}
	}
	s.lastEph = eph
	enc, _ := cbcCrypt(shared, keyChain(acc.allKeys()), true)
	return map[string]any{"keyId": strconv.Itoa(acc.KeyID), "publicKey": b64(eph.PublicKey().Bytes()),
		"encryptedKeyChain": b64(enc), "e2eeVersion": "1", "errorCode": ""}
}

// groupKey is one registered group key of a chat.
type groupKey struct {
	id      int
	spec    int // the Letter Sealing version members seal with
	creator string
	credKey int // the creator's key id that wrapped it
	priv    []byte
	wrapped map[string][]byte // member → encryptedSharedKey
	keyIDs  map[string]int
}

func (g *groupKey) answerFor(mid string, allowed []int) map[string]any {
	return map[string]any{"keyVersion": 1, "groupKeyId": g.id, "creator": g.creator, "creatorKeyId": g.credKey,
		"receiver": mid, "receiverKeyId": g.keyIDs[mid], "encryptedSharedKey": b64(g.wrapped[mid]),
		"allowedTypes": allowed, "specVersion": g.spec}
}

// pad16 is PKCS#7 padding to the AES block.
func pad16(b []byte) []byte {
	n := 16 - len(b)%16
	out := append([]byte{}, b...)
	for i := 0; i < n; i++ {
		out = append(out, byte(n))
	}
	return out
}

// unpad16 strips PKCS#7 padding, checking every pad byte.
func unpad16(b []byte) ([]byte, bool) {
	if len(b) == 0 || len(b)%16 != 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > 16 {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// registerE2EEGroupKey [keyVersion, chatMid, members, keyIds, encryptedSharedKeys]:
// every member's wrapped key must unwrap, with that member's key, to one
// group key, which becomes the chat's current one.
func (s *sealing) registerE2EEGroupKey(req *request) (any, error) {
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
	if !me.LetterSealing || me.Key == nil {
		return nil, talk(85, "not a sealed member: "+req.mid)
	}
	g := &groupKey{creator: req.mid, credKey: me.KeyID, wrapped: map[string][]byte{}, keyIDs: map[string]int{}}
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
	s.addGroupKey(chat, g)
	return g.answerFor(req.mid, s.chatAllowedTypes(chat)), nil
}

// aadMID is a MID as LINE's module puts it in the V2 AAD: ASCII lower-case,
// zero-padded or truncated to 33 bytes (docs/protocol.md §8; BEEPER, verified live).
func aadMID(mid string) []byte {
	out := make([]byte, 33)
	copy(out, strings.ToLower(mid))
	return out
}

// gcmAAD is the V2 additional data; to and from are already in AAD form.
func gcmAAD(to, from []byte, senderKeyID, receiverKeyID, contentType int) []byte {
	b := append(append([]byte{}, to...), from...)
	for _, v := range []int{senderKeyID, receiverKeyID, 2, contentType} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// textOf reads the {"text":…} plaintext both versions carry.
func textOf(plain []byte) (string, error) {
	var p struct {
		Text *string `json:"text"`
	}
	if json.Unmarshal(plain, &p) != nil || p.Text == nil {
		return "", talk(85, "plaintext is not JSON")
	}
	return *p.Text, nil
}

// openSealed decrypts a sealed message the way its recipient's device would:
// current keys only, AAD in the lower-33 form with the message's content
// type, JSON plaintext in both versions; it returns the plaintext.
// Caller holds s.mu.
func (s *sealing) openSealed(from, to string, version string, chunks []string, contentType int) ([]byte, error) {
	raw := make([][]byte, len(chunks))
	for i, c := range chunks {
		b, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return nil, talk(85, "chunk is not base64")
		}
		raw[i] = b
	}
	if len(raw) != 5 || len(raw[3]) != 4 || len(raw[4]) != 4 {
		return nil, talk(85, "bad chunks")
	}
	senderKeyID, receiverKeyID := int(binary.BigEndian.Uint32(raw[3])), int(binary.BigEndian.Uint32(raw[4]))
	sender := s.accounts[from]
	if sender == nil || !sender.LetterSealing || sender.KeyID != senderKeyID {
		return nil, talk(83, "sender key changed")
	}
	shared, err := s.openSecret(sender, to, receiverKeyID)
	if err != nil {
		return nil, err
	}
	key := h256(shared, raw[0], []byte("Key"))
	blk, _ := aes.NewCipher(key)
	switch version {
	case "2":
		if len(raw[2]) != 12 && len(raw[2]) != 16 {
			return nil, talk(85, "bad nonce")
		}
		g, _ := cipher.NewGCMWithNonceSize(blk, len(raw[2]))
		plain, err := g.Open(nil, raw[2], raw[1], gcmAAD(aadMID(to), aadMID(from), senderKeyID, receiverKeyID, contentType))
		if err != nil {
			return nil, talk(85, "message does not decrypt")
		}
		return plain, nil
	case "1":
		if len(raw[1])%16 != 0 || len(raw[1]) == 0 {
			return nil, talk(85, "bad ciphertext")
		}
		mac := make([]byte, 16)
		blk.Encrypt(mac, fold(h256(raw[1])))
		if string(mac) != string(raw[2]) {
			return nil, talk(85, "MAC mismatch")
		}
		plain := make([]byte, len(raw[1]))
		cipher.NewCBCDecrypter(blk, fold(h256(shared, raw[0], []byte("IV")))).CryptBlocks(plain, raw[1])
		text, ok := unpad16(plain)
		if !ok {
			return nil, talk(85, "bad padding")
		}
		return text, nil
	}
	return nil, talk(86, "E2EE_INVALID_VERSION")
}

// openSecret is the recipient's shared secret: with the peer's current key,
// or the chat's current group key. Caller holds s.mu.
func (s *sealing) openSecret(sender *Account, to string, receiverKeyID int) ([]byte, error) {
	var shared []byte
	var err error
	if toTypeOf(to) == 0 {
		peer := s.accounts[to]
		if peer == nil || !peer.LetterSealing || peer.KeyID != receiverKeyID {
			return nil, talk(84, "receiver key changed")
		}
		shared, err = dh(peer.Key, sender.Key.PublicKey().Bytes())
	} else {
		g := s.currentGroupKey(to)
		if g == nil || g.id != receiverKeyID {
			return nil, talk(99, "E2EE_RECREATE_GROUP_KEY")
		}
		gk, gerr := ecdh.X25519().NewPrivateKey(g.priv)
		if gerr != nil {
			return nil, talk(85, "bad group key")
		}
		shared, err = dh(gk, sender.Key.PublicKey().Bytes())
	}
	if err != nil {
		return nil, talk(85, "bad key")
	}
	return shared, nil
}

// SealFault spoils an injected sealed message.
type SealFault int

// Ways to spoil a sealed message.
const (
	SealOK       SealFault = iota
	SealBadKeyID           // a sender key id nobody has
	SealTampered           // one ciphertext bit flipped
)

// SealedInjection is a Letter Sealing message another device sends.
type SealedInjection struct {
	From, To    string // as the simulator knows them
	Version     int    // 1 or 2
	Text        string
	Fault       SealFault
	SenderKeyID int // 0 = From's current key; else one of its past keys
	GroupKeyID  int // 0 = To's current group key; else an older one
	// AADAsCarried builds the V2 AAD from the MIDs exactly as carried
	// (CHRLINE/linejs form) instead of LINE's lower-33 form.
	AADAsCarried bool
	// UpperMIDs makes the message carry "U…"/"C…" forms: the first letter
	// of from and to upper-cased, as the gateway writes MIDs.
	UpperMIDs bool

	payload     []byte // the plaintext; nil = {"text": Text} (InjectMedia sets it)
	contentType int    // the message's content type, in the V2 AAD
}

// carried returns from and to as the message carries them.
func (in SealedInjection) carried() (string, string) {
	if !in.UpperMIDs {
		return in.From, in.To
	}
	up := func(m string) string {
		if m == "" {
			return m
		}
		return strings.ToUpper(m[:1]) + m[1:]
	}
	return up(in.From), up(in.To)
}

// sealSecret is the sender's shared secret and the receiver key id for in.
// Caller holds s.mu.
func (s *sealing) sealSecret(in SealedInjection, senderKey *ecdh.PrivateKey) ([]byte, int, error) {
	if toTypeOf(in.To) == 0 {
		peer := s.accounts[in.To]
		if peer == nil || !peer.LetterSealing {
			return nil, 0, errors.New("recipient without Letter Sealing")
		}
		shared, err := dh(senderKey, peer.Key.PublicKey().Bytes())
		return shared, peer.KeyID, err
	}
	g := s.currentGroupKey(in.To)
	if in.GroupKeyID != 0 {
		g = s.groupKeyByID(in.To, in.GroupKeyID)
	}
	if g == nil {
		return nil, 0, errors.New("chat has no such group key")
	}
	gk, err := ecdh.X25519().NewPrivateKey(g.priv)
	if err != nil {
		return nil, 0, err
	}
	shared, err := dh(gk, senderKey.PublicKey().Bytes())
	return shared, g.id, err
}

// sealFor encrypts in.Text as From's device would: JSON plaintext in both
// versions, V2 AAD in the lower-33 form unless AADAsCarried. Caller holds s.mu.
func (s *sealing) sealFor(in SealedInjection) ([]string, error) {
	sender := s.accounts[in.From]
	if sender == nil || !sender.LetterSealing {
		return nil, errors.New("sender without Letter Sealing")
	}
	if in.Version != 1 && in.Version != 2 {
		return nil, errors.New("version must be 1 or 2")
	}
	senderKeyID, senderKey := sender.KeyID, sender.Key
	if in.SenderKeyID != 0 {
		if senderKeyID, senderKey = in.SenderKeyID, sender.keyByID(in.SenderKeyID); senderKey == nil {
			return nil, errors.New("sender has no key " + strconv.Itoa(in.SenderKeyID))
		}
	}
	shared, receiverKeyID, err := s.sealSecret(in, senderKey)
	if err != nil {
		return nil, err
	}
	if in.Fault == SealBadKeyID {
		senderKeyID += 777
	}
	payload := in.payload
	if payload == nil {
		payload, _ = json.Marshal(map[string]string{"text": in.Text})
	}
	salt := make([]byte, 16)
	if in.Version == 1 {
		salt = salt[:8]
	}
	_, _ = rand.Read(salt)
	key := h256(shared, salt, []byte("Key"))
	blk, _ := aes.NewCipher(key)
	var ct, third []byte
	if in.Version == 1 {
		plain := pad16(payload)
		ct = make([]byte, len(plain))
		cipher.NewCBCEncrypter(blk, fold(h256(shared, salt, []byte("IV")))).CryptBlocks(ct, plain)
		third = make([]byte, 16)
		blk.Encrypt(third, fold(h256(ct)))
	} else {
		from, to := in.carried()
		aad := gcmAAD(aadMID(to), aadMID(from), senderKeyID, receiverKeyID, in.contentType)
		if in.AADAsCarried {
			aad = gcmAAD([]byte(to), []byte(from), senderKeyID, receiverKeyID, in.contentType)
		}
		g, _ := cipher.NewGCM(blk)
		third = make([]byte, 12)
		_, _ = rand.Read(third)
		ct = g.Seal(nil, third, payload, aad)
	}
	ids := binary.BigEndian.AppendUint32(nil, uint32(senderKeyID))
	rids := binary.BigEndian.AppendUint32(nil, uint32(receiverKeyID))
	return []string{b64(salt), b64(ct), b64(third), b64(ids), b64(rids)}, nil
}

// InjectSealedMessage delivers a Letter Sealing message from → to (version 1
// or 2) as RECEIVE_MESSAGE operations.
func (s *sealing) InjectSealedMessage(from, to string, version int, text string, fault SealFault) error {
	return s.InjectSealed(SealedInjection{From: from, To: to, Version: version, Text: text, Fault: fault})
}

// InjectSealed delivers a Letter Sealing message as RECEIVE_MESSAGE
// operations, sealed as in describes. Caller must not hold s.mu.
func (s *sealing) InjectSealed(in SealedInjection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	chunks, err := s.sealFor(in)
	if err != nil {
		return err
	}
	if in.Fault == SealTampered {
		ct, _ := base64.StdEncoding.DecodeString(chunks[1])
		ct[0] ^= 1
		chunks[1] = b64(ct)
	}
	from, to := in.carried()
	s.seq += 7919
	msg := map[string]any{"from": from, "to": to, "toType": toTypeOf(in.To), "id": strconv.FormatInt(s.seq, 10),
		"createdTime": strconv.FormatInt(s.now().UnixMilli(), 10), "hasContent": false, "contentType": 0,
		"contentMetadata": map[string]string{"e2eeVersion": strconv.Itoa(in.Version)}, "chunks": chunks, "sessionId": 0, "reactions": []any{}}
	s.deliver(in.From, in.To, msg)
	return nil
}
