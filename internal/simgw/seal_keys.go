package simgw

// Key history: accounts rotate their Letter Sealing keys and chats renew
// their group keys, while old messages and group keys keep naming the old
// ids. LINE answers those by id (getE2EEPublicKey, getE2EEGroupSharedKey;
// docs/protocol.md §8 "Keys by id").

import (
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
)

// addRoutes registers the Letter Sealing calls.
func (s *sealing) addRoutes(r routes) {
	r.thrift(talkSvc, "negotiateE2EEPublicKey", s.negotiateE2EEPublicKey, 1, true)
	r.thrift(talkSvc, "getLastE2EEGroupSharedKey", s.getLastE2EEGroupSharedKey, 2, true)
	r.thrift(talkSvc, "getLastE2EEPublicKeys", s.getLastE2EEPublicKeys, 1, true)
	r.thrift(talkSvc, "getE2EEPublicKey", s.getE2EEPublicKey, 3, true)
	r.thrift(talkSvc, "getE2EEGroupSharedKey", s.getE2EEGroupSharedKey, 3, true)
	r.thrift(talkSvc, "registerE2EEGroupKey", s.registerE2EEGroupKey, 5, true)
}

// SealKey is one Letter Sealing key pair of an account.
type SealKey struct {
	ID  int
	Key *ecdh.PrivateKey
}

// keyCreated is a key's createdTime. Ids grow with every rotation, so a
// later id is also a later time.
func keyCreated(id int) int64 { return 1773625290000 + int64(id)*60000 }

// keyByID returns the account's key with that id, current or past (nil if none).
func (a *Account) keyByID(id int) *ecdh.PrivateKey {
	if a.KeyID == id && a.Key != nil {
		return a.Key
	}
	for _, k := range a.PastKeys {
		if k.ID == id {
			return k.Key
		}
	}
	return nil
}

// allKeys returns every key of the account, past ones first, current last.
func (a *Account) allKeys() []SealKey {
	return append(append([]SealKey{}, a.PastKeys...), SealKey{ID: a.KeyID, Key: a.Key})
}

// RotateKey retires mid's current Letter Sealing key into PastKeys and gives
// the account a fresh one with the next id, as a reinstalled app would.
func (s *sealing) RotateKey(mid string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[mid]
	if a == nil || !a.LetterSealing || a.Key == nil {
		return 0, errors.New("no such account with Letter Sealing")
	}
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return 0, err
	}
	a.PastKeys = append(a.PastKeys, SealKey{ID: a.KeyID, Key: a.Key})
	a.KeyID, a.Key = a.KeyID+1, k
	s.broadcast()
	return a.KeyID, nil
}

// publicKeyAnswer is the E2EEPublicKey struct LINE returns for one key.
func publicKeyAnswer(id int, k *ecdh.PrivateKey) map[string]any {
	return map[string]any{"version": 1, "keyId": id, "keyData": b64(k.PublicKey().Bytes()),
		"createdTime": strconv.FormatInt(keyCreated(id), 10)}
}

// account finds an account by MID in either case of the first letter: the
// gateway carries "U…" where older endpoints carry "u…" (docs/protocol.md §6).
// Caller holds s.mu.
func (s *state) account(mid string) *Account {
	if a := s.accounts[mid]; a != nil || mid == "" {
		return a
	}
	if a := s.accounts[strings.ToLower(mid[:1])+mid[1:]]; a != nil {
		return a
	}
	return s.accounts[strings.ToUpper(mid[:1])+mid[1:]]
}

// getE2EEPublicKey [mid, keyVersion, keyId]: one key of an account by id,
// also a rotated-away one.
func (s *sealing) getE2EEPublicKey(req *request) (any, error) {
	mid, err := argString(req.args[0])
	if err != nil {
		return nil, err
	}
	var v, id int
	if argInt(req.args[1], &v) != nil || v != 1 || argInt(req.args[2], &id) != nil {
		return nil, gw(10102)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(mid)
	if a == nil || !a.LetterSealing {
		return nil, talk(5, "not found")
	}
	k := a.keyByID(id)
	if k == nil {
		return nil, talk(5, "not found")
	}
	return publicKeyAnswer(id, k), nil
}

// getE2EEGroupSharedKey [keyVersion, chatMid, groupKeyId]: one group key of
// the chat by id, as wrapped for the caller.
func (s *sealing) getE2EEGroupSharedKey(req *request) (any, error) {
	var id int
	if argInt(req.args[2], &id) != nil {
		return nil, gw(10102)
	}
	return s.groupKeyAnswer(req, func(chat string) *groupKey { return s.groupKeyByID(chat, id) })
}

// groupKeyAnswer serves both group key lookups ([1, chatMid, …]): pick
// chooses the key among the chat's; the answer is its copy for the caller,
// or 5 when there is none. pick runs under s.mu.
func (s *sealing) groupKeyAnswer(req *request, pick func(chat string) *groupKey) (any, error) {
	var v int
	if argInt(req.args[0], &v) != nil || v != 1 {
		return nil, gw(10102)
	}
	chat, err := argString(req.args[1])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.memberChat(chat, req.mid); err != nil {
		return nil, err
	}
	if g := pick(chat); g != nil && g.wrapped[req.mid] != nil {
		return g.answerFor(req.mid, s.chatAllowedTypes(chat)), nil
	}
	return nil, talk(5, "not found")
}

// currentGroupKey is the chat's newest group key (nil if none). Caller holds s.mu.
func (s *sealing) currentGroupKey(chat string) *groupKey {
	h := s.groupKeys[chat]
	if len(h) == 0 {
		return nil
	}
	return h[len(h)-1]
}

// groupKeyByID finds one of the chat's group keys. Caller holds s.mu.
func (s *sealing) groupKeyByID(chat string, id int) *groupKey {
	for _, g := range s.groupKeys[chat] {
		if g.id == id {
			return g
		}
	}
	return nil
}

// addGroupKey gives g the next group key id and makes it the chat's current
// key. Caller holds s.mu.
func (s *sealing) addGroupKey(chat string, g *groupKey) {
	s.gkSeq++
	g.id = 5000 + s.gkSeq
	if g.spec == 0 {
		g.spec = 2
	}
	s.groupKeys[chat] = append(s.groupKeys[chat], g)
}

// GroupKeyOptions shapes a group key SetGroupKeyWith makes.
type GroupKeyOptions struct {
	SpecVersion  int // 0 = 2; 1 makes members seal with V1
	CreatorKeyID int // 0 = the creator's current key; else one of its past keys
}

// SetGroupKey registers a group key for chat as if creator's device did. Caller must not hold s.mu.
func (s *sealing) SetGroupKey(chat, creator string) error {
	_, err := s.SetGroupKeyWith(chat, creator, GroupKeyOptions{})
	return err
}

// SetGroupKeyWith registers a new current group key for chat, wrapped by
// creator's key CreatorKeyID for every member's current key, and returns its
// id. Caller must not hold s.mu.
func (s *sealing) SetGroupKeyWith(chat, creator string, o GroupKeyOptions) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, cr := s.chats[chat], s.accounts[creator]
	if c == nil || cr == nil || !cr.LetterSealing {
		return 0, errors.New("no such chat or creator without Letter Sealing")
	}
	credID := cr.KeyID
	if o.CreatorKeyID != 0 {
		credID = o.CreatorKeyID
	}
	credKey := cr.keyByID(credID)
	if credKey == nil {
		return 0, errors.New("creator has no key " + strconv.Itoa(credID))
	}
	gk, _ := ecdh.X25519().GenerateKey(rand.Reader)
	g := &groupKey{spec: o.SpecVersion, creator: creator, credKey: credID, priv: gk.Bytes(), wrapped: map[string][]byte{}, keyIDs: map[string]int{}}
	for _, m := range c.Members {
		a := s.accounts[m]
		if a == nil || !a.LetterSealing {
			return 0, errors.New("a member has Letter Sealing off")
		}
		shared, err := dh(credKey, a.Key.PublicKey().Bytes())
		if err != nil {
			return 0, err
		}
		g.wrapped[m], _ = cbcCrypt(shared, pad16(g.priv), true)
		g.keyIDs[m] = a.KeyID
	}
	s.addGroupKey(chat, g)
	return g.id, nil
}

func (s *sealing) negotiateE2EEPublicKey(req *request) (any, error) {
	mid, err := argString(req.args[0])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	peer := s.account(mid)
	if peer == nil {
		return nil, talk(5, "not found")
	}
	if !peer.LetterSealing || !s.accounts[req.mid].LetterSealing {
		return map[string]any{"allowedTypes": []int{}, "specVersion": -1}, nil
	}
	spec := peer.SpecVersion
	if spec == 0 {
		spec = 2
	}
	return map[string]any{"publicKey": publicKeyAnswer(peer.KeyID, peer.Key), "allowedTypes": peer.allowedTypes(), "specVersion": spec}, nil
}

func (s *sealing) getLastE2EEGroupSharedKey(req *request) (any, error) {
	return s.groupKeyAnswer(req, s.currentGroupKey)
}

func (s *sealing) getLastE2EEPublicKeys(req *request) (any, error) {
	chat, err := argString(req.args[0])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.memberChat(chat, req.mid)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, m := range c.Members {
		a := s.accounts[m]
		if a == nil || !a.LetterSealing {
			return nil, &talkErr{"TalkException", 98, "member settings off"}
		}
		out[m] = map[string]any{"version": 1, "keyId": a.KeyID, "keyData": b64(a.Key.PublicKey().Bytes())}
	}
	return out, nil
}

// defaultAllowedTypes are the content types an account's app, or a group
// key, lets be sealed unless set otherwise (SetAllowedTypes,
// SetChatAllowedTypes): GUESS — the types LINE's extension 3.7.2 can seal
// at all (fv: text 0, image 1, video 2, audio 3, file 14, location 15).
var defaultAllowedTypes = []int{0, 1, 2, 3, 14, 15}

// chatAllowedTypes are the allowedTypes of chat's group key. Caller holds s.mu.
func (s *sealing) chatAllowedTypes(chat string) []int {
	if t, ok := s.chatTypes[chat]; ok {
		return t
	}
	return defaultAllowedTypes
}

// SetChatAllowedTypes sets the allowedTypes a group's or room's key
// answers: a content type not listed is sent plain there (e.g. [0, 15]:
// text sealed, images and files plain). nil restores the default.
func (s *sealing) SetChatAllowedTypes(chat string, types []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if types == nil {
		delete(s.chatTypes, chat)
		return
	}
	s.chatTypes[chat] = append([]int{}, types...)
}
