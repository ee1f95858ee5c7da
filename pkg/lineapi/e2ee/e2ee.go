// Package e2ee seals and opens LINE Letter Sealing messages for one account,
// the way LINE's own apps do: it picks the account's key, fetches peers' and
// groups' keys by id from the gateway (also keys that have since been
// rotated away), registers a group key where a chat has none, and caches what
// it learns in a KeyStore. The cryptography itself is package sealing.
//
// A program that sends with lineapi uses a Sealer as the Encrypter of its
// sends and OpenMessage on the messages it receives (the account's own keys
// come from its login: lineapi.Session.LetterSealingKeys):
//
//	s := &e2ee.Sealer{GW: client, Keys: store, MID: myMID}
//	probe, _ := client.ProbeE2EE(ctx, to)
//	if probe.Usable && probe.Allows(0) {
//		version, err := s.Seal(ctx, probe, &msg)
//		…
//	}
//	if op.Message != nil && op.Message.Sealed() { // a stream.Operation
//		opened, err := s.OpenMessage(ctx, op.Message)
//		…
//	}
//
// The package's Example receives and decrypts with pkg/lineapi alone.
//
// The choices and their evidence are in docs/letter-sealing.md.
package e2ee

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// ErrNoKeys means the key store holds none of the account's own keys.
var ErrNoKeys = errors.New("no Letter Sealing keys for this account")

// Gateway is what a Sealer asks LINE for. *lineapi.Client implements it.
type Gateway interface {
	GetE2EEPublicKey(ctx context.Context, mid string, keyID int) (*lineapi.E2EEPublicKey, error)
	GetE2EEGroupSharedKey(ctx context.Context, chatMID string, groupKeyID int) (*lineapi.GroupSharedKey, error)
	GetLastE2EEPublicKeys(ctx context.Context, chatMID string) (map[string]lineapi.E2EEPublicKey, error)
	RegisterE2EEGroupKey(ctx context.Context, chatMID string, members []string, keyIDs []int, wrapped []string) (*lineapi.GroupSharedKey, error)
}

// KeyStore holds the account's own key pairs and caches other accounts'
// public keys and chats' group private keys, each by key id. Methods may be
// called from several goroutines.
type KeyStore interface {
	// OwnKeys returns the account's key pairs, in any order.
	OwnKeys() []sealing.KeyPair
	PeerKey(mid string, keyID int) (public []byte, ok bool)
	SetPeerKey(mid string, keyID int, public []byte)
	GroupKey(chatMID string, groupKeyID int) (private []byte, ok bool)
	SetGroupKey(chatMID string, groupKeyID int, private []byte)
	// Forget drops every cached key of mid (a peer or a chat).
	Forget(mid string)
}

// MemoryKeyStore is a KeyStore in memory (for programs that persist keys
// their own way, and for tests). The zero value is empty and ready.
type MemoryKeyStore struct {
	Own []sealing.KeyPair

	mu     sync.Mutex
	peers  map[string][]byte
	groups map[string][]byte
}

// CacheKey is how a key of mid with the id is named in caches: "mid/keyId",
// the MID normalized.
func CacheKey(mid string, id int) string { return NormalizeMID(mid) + "/" + strconv.Itoa(id) }

// OwnKeys implements KeyStore.
func (m *MemoryKeyStore) OwnKeys() []sealing.KeyPair {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sealing.KeyPair(nil), m.Own...)
}

// PeerKey implements KeyStore.
func (m *MemoryKeyStore) PeerKey(mid string, id int) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.peers[CacheKey(mid, id)]
	return k, ok
}

// SetPeerKey implements KeyStore.
func (m *MemoryKeyStore) SetPeerKey(mid string, id int, pub []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.peers == nil {
		m.peers = map[string][]byte{}
	}
	m.peers[CacheKey(mid, id)] = pub
}

// GroupKey implements KeyStore.
func (m *MemoryKeyStore) GroupKey(chat string, id int) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.groups[CacheKey(chat, id)]
	return k, ok
}

// SetGroupKey implements KeyStore.
func (m *MemoryKeyStore) SetGroupKey(chat string, id int, priv []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.groups == nil {
		m.groups = map[string][]byte{}
	}
	m.groups[CacheKey(chat, id)] = priv
}

// Forget implements KeyStore.
func (m *MemoryKeyStore) Forget(mid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ForgetFrom(m.peers, mid)
	ForgetFrom(m.groups, mid)
}

// ForgetFrom deletes a cache map's entries of mid (keys "mid/keyId", the MID
// in normalized form), for KeyStore implementations.
func ForgetFrom[V any](cache map[string]V, mid string) {
	prefix := NormalizeMID(mid) + "/"
	for k := range cache {
		if strings.HasPrefix(k, prefix) {
			delete(cache, k)
		}
	}
}

// NormalizeMID is the form MIDs are compared and cached in: lower case. The
// gateway carries "U…"/"C…"/"R…" where older endpoints carry "u…"; both name
// the same account.
func NormalizeMID(mid string) string { return strings.ToLower(mid) }

// SameMID reports whether two MIDs name the same account or chat.
func SameMID(a, b string) bool { return strings.EqualFold(a, b) }
