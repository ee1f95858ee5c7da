package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/linectl/linectl/internal/delivery"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// sealer seals messages with the account's Letter Sealing keys and caches
// peer and group keys (by key id) in the key store.
type sealer struct {
	cl       *lineapi.Client
	ks       *keyStore
	me       string
	recreate map[string]bool // chats whose group key LINE asked to recreate (99)
}

// newEncrypter returns the encrypter for sends; it fails at Seal time (not
// before) when this config holds no Letter Sealing keys.
func newEncrypter(f *factory, cl *lineapi.Client) delivery.Encrypter {
	ks, err := loadKeyStore(f)
	if err != nil {
		ks = &keyStore{path: e2eeKeysPath(f), Peers: map[string]sealing.KeyPair{}, Groups: map[string]groupKeyEntry{}}
	}
	me := ""
	if f.cfg != nil {
		me = f.cfg.Account.MID
	}
	return &sealer{cl: cl, ks: ks, me: me, recreate: map[string]bool{}}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", sealing.ErrBadKey)
	}
	return b, nil
}

// Seal encrypts m for the destination the probe describes (V2 when the
// spec version allows, else V1) and returns the spec version used.
func (s *sealer) Seal(ctx context.Context, p *lineapi.Probe, m *lineapi.OutgoingMessage) (int, error) {
	own, err := s.ks.own(0)
	if err != nil {
		return 0, err
	}
	var secret []byte
	var receiverKeyID int
	if p.ToType == lineapi.ToUser {
		pub, err := unb64(p.PeerKey.KeyData)
		if err != nil {
			return 0, err
		}
		s.ks.putPeer(m.To, sealing.KeyPair{KeyID: p.PeerKey.KeyID, Public: pub})
		if secret, err = sealing.SharedSecret(own.Private, pub); err != nil {
			return 0, err
		}
		receiverKeyID = p.PeerKey.KeyID
	} else {
		gid, gpriv, err := s.groupKey(ctx, p, own)
		if err != nil {
			return 0, err
		}
		if secret, err = sealing.SharedSecret(gpriv, own.Public); err != nil {
			return 0, err
		}
		receiverKeyID = gid
	}
	msg := sealing.Message{From: m.From, To: m.To, SenderKeyID: own.KeyID, ReceiverKeyID: receiverKeyID, ContentType: m.ContentType}
	version := 2
	var chunks [][]byte
	if p.SpecVersion == 1 {
		version = 1
		chunks, err = sealing.EncryptV1(secret, msg, []byte(m.Text), nil)
	} else {
		payload, _ := json.Marshal(sealing.TextPayload{Text: m.Text})
		chunks, err = sealing.EncryptV2(secret, msg, payload, nil)
	}
	if err != nil {
		return 0, err
	}
	m.Chunks = make([]string, len(chunks))
	for i, c := range chunks {
		m.Chunks[i] = b64(c)
	}
	m.ContentMetadata = map[string]string{"e2eeVersion": fmt.Sprint(version)}
	m.Text = ""
	_ = s.ks.save() // the cache is an optimisation: a failed save costs a lookup next time
	return version, nil
}

// Forget drops cached keys of a destination after LINE said one changed
// (83, 84) or asked for a new group key (99).
func (s *sealer) Forget(to string, recreateGroup bool) {
	s.ks.forget(to)
	if recreateGroup {
		s.recreate[to] = true
	}
}

// groupKey returns the chat's group key: cached, unwrapped from LINE's
// answer, or newly registered when the chat has none.
func (s *sealer) groupKey(ctx context.Context, p *lineapi.Probe, own sealing.KeyPair) (int, []byte, error) {
	chat := p.MID
	if gk := p.GroupKey; gk != nil && !s.recreate[chat] {
		if priv, ok := s.ks.group(chat, gk.GroupKeyID); ok {
			return gk.GroupKeyID, priv, nil
		}
		mine, err := s.ks.own(gk.ReceiverKeyID)
		if err != nil {
			return 0, nil, err
		}
		creatorPub, err := s.publicKey(ctx, gk.Creator, gk.CreatorKeyID)
		if err != nil {
			return 0, nil, fmt.Errorf("group key creator %s: %w", gk.Creator, err)
		}
		wrapped, err := unb64(gk.EncryptedSharedKey)
		if err != nil {
			return 0, nil, err
		}
		priv, err := sealing.UnwrapGroupKey(mine.Private, creatorPub, wrapped)
		if err != nil {
			return 0, nil, fmt.Errorf("unwrap group key: %w", err)
		}
		s.ks.putGroup(chat, gk.GroupKeyID, priv)
		return gk.GroupKeyID, priv, nil
	}
	keys := p.MemberKeys
	if len(keys) == 0 {
		var err error
		if keys, err = s.cl.GetLastE2EEPublicKeys(ctx, chat); err != nil {
			return 0, nil, err
		}
	}
	return s.register(ctx, chat, own, keys)
}

// register creates a group key and wraps it for every member.
func (s *sealer) register(ctx context.Context, chat string, own sealing.KeyPair, keys map[string]lineapi.E2EEPublicKey) (int, []byte, error) {
	gk, err := sealing.GenerateKeyPair(nil)
	if err != nil {
		return 0, nil, err
	}
	members := make([]string, 0, len(keys))
	for m := range keys {
		members = append(members, m)
	}
	sort.Strings(members)
	ids := make([]int, len(members))
	wrapped := make([]string, len(members))
	for i, m := range members {
		pub, err := unb64(keys[m].KeyData)
		if err != nil {
			return 0, nil, err
		}
		w, err := sealing.WrapGroupKey(own.Private, pub, gk.Private)
		if err != nil {
			return 0, nil, err
		}
		ids[i], wrapped[i] = keys[m].KeyID, b64(w)
	}
	res, err := s.cl.RegisterE2EEGroupKey(ctx, chat, members, ids, wrapped)
	if err != nil {
		return 0, nil, fmt.Errorf("registerE2EEGroupKey: %w", err)
	}
	delete(s.recreate, chat)
	s.ks.putGroup(chat, res.GroupKeyID, gk.Private)
	return res.GroupKeyID, gk.Private, nil
}

// publicKey returns mid's public key with the id: own, cached, or negotiated.
func (s *sealer) publicKey(ctx context.Context, mid string, id int) ([]byte, error) {
	if mid == s.me || mid == s.ks.MID {
		k, err := s.ks.own(id)
		return k.Public, err
	}
	if k, ok := s.ks.peer(mid, id); ok {
		return k.Public, nil
	}
	r, err := s.cl.NegotiateE2EEPublicKey(ctx, mid)
	if err != nil {
		return nil, err
	}
	if r.PublicKey == nil || r.PublicKey.KeyID != id {
		return nil, fmt.Errorf("%w: %s key %d (LINE offers only the current key)", sealing.ErrUnknownKey, mid, id)
	}
	pub, err := unb64(r.PublicKey.KeyData)
	if err != nil {
		return nil, err
	}
	s.ks.putPeer(mid, sealing.KeyPair{KeyID: id, Public: pub})
	return pub, nil
}

// groupPrivate returns a chat's group private key with the id (receive side).
func (s *sealer) groupPrivate(ctx context.Context, chat string, id int) ([]byte, error) {
	if priv, ok := s.ks.group(chat, id); ok {
		return priv, nil
	}
	gk, err := s.cl.GetLastE2EEGroupSharedKey(ctx, chat)
	if err != nil {
		return nil, err
	}
	if gk.GroupKeyID != id {
		return nil, fmt.Errorf("%w: group key %d (current is %d)", sealing.ErrUnknownKey, id, gk.GroupKeyID)
	}
	own, err := s.ks.own(0)
	if err != nil {
		return nil, err
	}
	gid, priv, err := s.groupKey(ctx, &lineapi.Probe{MID: chat, GroupKey: gk}, own)
	if err != nil {
		return nil, err
	}
	if gid != id {
		return nil, sealing.ErrUnknownKey
	}
	return priv, nil
}
