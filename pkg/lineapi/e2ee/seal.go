package e2ee

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// Sealer seals and opens messages for one account. Its zero value is not
// usable: GW, Keys and MID must be set.
type Sealer struct {
	GW   Gateway
	Keys KeyStore
	MID  string    // this account
	Rand io.Reader // nil: crypto/rand
	// Debugf, when set, is told which keys and AAD forms were used.
	Debugf func(format string, args ...any)

	mu       sync.Mutex
	recreate map[string]bool // chats whose group key LINE asked to recreate (99)
}

func (s *Sealer) debugf(format string, args ...any) {
	if s.Debugf != nil {
		s.Debugf(format, args...)
	}
}

// OwnKey returns the account's key with the id, or with id 0 its newest key
// (the highest key id: the extension's getLatestMyKeyId).
func (s *Sealer) OwnKey(id int) (sealing.KeyPair, error) {
	keys := s.Keys.OwnKeys()
	if len(keys) == 0 {
		return sealing.KeyPair{}, ErrNoKeys
	}
	if id == 0 {
		k, _ := sealing.LatestKey(keys)
		return k, nil
	}
	for _, k := range keys {
		if k.KeyID == id {
			return k, nil
		}
	}
	return sealing.KeyPair{}, fmt.Errorf("%w: own key %d is not in this device's key chain", sealing.ErrUnknownKey, id)
}

// Seal encrypts m's text for the destination the probe describes — V1 where
// its spec version is 1, else V2 — filling Chunks and ContentMetadata and
// removing Text. It returns the version used. The caller decides whether to
// seal at all (probe.Usable, probe.Allows).
func (s *Sealer) Seal(ctx context.Context, p *lineapi.Probe, m *lineapi.OutgoingMessage) (int, error) {
	if p.SpecVersion > 2 {
		return 0, fmt.Errorf("Letter Sealing version %d is not supported (E2EE_NOT_SUPPORTED_VERSION)", p.SpecVersion)
	}
	own, err := s.OwnKey(0)
	if err != nil {
		return 0, err
	}
	var secret []byte
	var receiverKeyID int
	if p.ToType == lineapi.ToUser {
		if p.PeerKey == nil {
			return 0, fmt.Errorf("%w: the probe named no key for %s", sealing.ErrUnknownKey, m.To)
		}
		pub, err := unb64(p.PeerKey.KeyData)
		if err != nil {
			return 0, err
		}
		s.Keys.SetPeerKey(m.To, p.PeerKey.KeyID, pub)
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
	payload := m.SealedPayload
	if payload == nil {
		if payload, err = marshalText(m.Text); err != nil {
			return 0, err
		}
	}
	msg := sealing.Message{From: m.From, To: m.To, SenderKeyID: own.KeyID, ReceiverKeyID: receiverKeyID, ContentType: m.ContentType}
	version := 2
	var chunks [][]byte
	if p.SpecVersion == 1 {
		version = 1
		chunks, err = sealing.EncryptV1(secret, msg, payload, s.Rand)
	} else {
		chunks, err = sealing.EncryptV2(secret, msg, payload, s.Rand)
	}
	if err != nil {
		return 0, err
	}
	s.debugf("sealed V%d to %s with own key %d and receiver key %d", version, m.To, own.KeyID, receiverKeyID)
	m.Chunks = make([]string, len(chunks))
	for i, c := range chunks {
		m.Chunks[i] = base64.StdEncoding.EncodeToString(c)
	}
	md := make(map[string]string, len(m.ContentMetadata)+1)
	for k, v := range m.ContentMetadata { // a media message's SID, OID, FILE_SIZE…
		md[k] = v
	}
	md["e2eeVersion"] = strconv.Itoa(version)
	m.ContentMetadata = md
	m.Text = ""
	return version, nil
}

// marshalText is the plaintext of a text message, V1 and V2 alike.
func marshalText(text string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sealing.TextPayload{Text: text}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Forget drops cached keys of a destination after LINE said one changed
// (83, 84) or asked for a new group key (99, recreateGroup).
func (s *Sealer) Forget(to string, recreateGroup bool) {
	s.Keys.Forget(to)
	if recreateGroup {
		s.mu.Lock()
		if s.recreate == nil {
			s.recreate = map[string]bool{}
		}
		s.recreate[NormalizeMID(to)] = true
		s.mu.Unlock()
	}
}

func (s *Sealer) mustRecreate(chat string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recreate[NormalizeMID(chat)]
}

// groupKey returns the chat's group key for sealing: cached, unwrapped from
// the probe's answer, or newly registered when the chat has none.
func (s *Sealer) groupKey(ctx context.Context, p *lineapi.Probe, own sealing.KeyPair) (int, []byte, error) {
	chat := p.MID
	if gk := p.GroupKey; gk != nil && !s.mustRecreate(chat) {
		priv, err := s.unwrap(ctx, chat, gk)
		return gk.GroupKeyID, priv, err
	}
	keys := p.MemberKeys
	if len(keys) == 0 {
		var err error
		if keys, err = s.GW.GetLastE2EEPublicKeys(ctx, chat); err != nil {
			return 0, nil, err
		}
	}
	return s.register(ctx, chat, own, keys)
}

// unwrap returns a group key's private half, from the cache or unwrapped with
// the own key the copy was made for and its creator's key of the id it names
// (fetched by id: the creator may have rotated keys since).
func (s *Sealer) unwrap(ctx context.Context, chat string, gk *lineapi.GroupSharedKey) ([]byte, error) {
	if priv, ok := s.Keys.GroupKey(chat, gk.GroupKeyID); ok {
		return priv, nil
	}
	mine, err := s.OwnKey(gk.ReceiverKeyID)
	if err != nil {
		return nil, fmt.Errorf("group key %d of %s: %w", gk.GroupKeyID, chat, err)
	}
	creatorPub, err := s.publicKey(ctx, gk.Creator, gk.CreatorKeyID)
	if err != nil {
		return nil, fmt.Errorf("group key %d of %s: creator %s: %w", gk.GroupKeyID, chat, gk.Creator, err)
	}
	wrapped, err := unb64(gk.EncryptedSharedKey)
	if err != nil {
		return nil, err
	}
	priv, err := sealing.UnwrapGroupKey(mine.Private, creatorPub, wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap group key %d of %s: %w", gk.GroupKeyID, chat, err)
	}
	s.debugf("group key %d of %s unwrapped (own key %d, creator %s key %d)", gk.GroupKeyID, chat, gk.ReceiverKeyID, gk.Creator, gk.CreatorKeyID)
	s.Keys.SetGroupKey(chat, gk.GroupKeyID, priv)
	return priv, nil
}

// register creates a group key, wraps it for every member's current key with
// the account's newest key, and registers it.
func (s *Sealer) register(ctx context.Context, chat string, own sealing.KeyPair, keys map[string]lineapi.E2EEPublicKey) (int, []byte, error) {
	gk, err := sealing.GenerateKeyPair(s.Rand)
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
		ids[i], wrapped[i] = keys[m].KeyID, base64.StdEncoding.EncodeToString(w)
	}
	res, err := s.GW.RegisterE2EEGroupKey(ctx, chat, members, ids, wrapped)
	if err != nil {
		return 0, nil, fmt.Errorf("registerE2EEGroupKey: %w", err)
	}
	s.mu.Lock()
	delete(s.recreate, NormalizeMID(chat))
	s.mu.Unlock()
	s.debugf("registered group key %d for %s (%d members)", res.GroupKeyID, chat, len(members))
	s.Keys.SetGroupKey(chat, res.GroupKeyID, gk.Private)
	return res.GroupKeyID, gk.Private, nil
}

// publicKey returns mid's public key with the id: the account's own, cached,
// or fetched by id (getE2EEPublicKey), which also finds rotated-away keys.
func (s *Sealer) publicKey(ctx context.Context, mid string, id int) ([]byte, error) {
	if SameMID(mid, s.MID) {
		k, err := s.OwnKey(id)
		return k.Public, err
	}
	if pub, ok := s.Keys.PeerKey(mid, id); ok {
		return pub, nil
	}
	r, err := s.GW.GetE2EEPublicKey(ctx, mid, id)
	if errors.Is(err, lineapi.ErrNotFound) {
		return nil, fmt.Errorf("%w: LINE knows no key %d of %s", sealing.ErrUnknownKey, id, mid)
	}
	if err != nil {
		return nil, fmt.Errorf("getE2EEPublicKey %s key %d: %w", mid, id, err)
	}
	if r.KeyID != id {
		return nil, fmt.Errorf("%w: asked for key %d of %s, LINE answered key %d", sealing.ErrUnknownKey, id, mid, r.KeyID)
	}
	pub, err := unb64(r.KeyData)
	if err != nil {
		return nil, err
	}
	s.Keys.SetPeerKey(mid, id, pub)
	return pub, nil
}

func unb64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", sealing.ErrBadKey)
	}
	return b, nil
}
