package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// keyStore is the account's Letter Sealing keys and the peer/group key cache,
// kept 0600 beside the config (e2ee-keys.json) and removed by
// `logout --forget-device`.
type keyStore struct {
	MID    string                     `json:"mid"`
	Own    []sealing.KeyPair          `json:"own"`
	Peers  map[string]sealing.KeyPair `json:"peers,omitempty"`  // "mid/keyId" → public key
	Groups map[string]groupKeyEntry   `json:"groups,omitempty"` // "chat/groupKeyId" → group private key

	mu   sync.Mutex
	path string
}

type groupKeyEntry struct {
	GroupKeyID int    `json:"groupKeyId"`
	Private    []byte `json:"privateKey"`
}

var errNoKeys = errors.New("no Letter Sealing keys for this account: log in with 'linectl login qr' (the QR login brings the account's key chain)")

func loadKeyStore(f *factory) (*keyStore, error) {
	ks := &keyStore{path: e2eeKeysPath(f), Peers: map[string]sealing.KeyPair{}, Groups: map[string]groupKeyEntry{}}
	b, err := os.ReadFile(ks.path)
	if errors.Is(err, os.ErrNotExist) {
		return ks, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, ks); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %v", ks.path, err)
	}
	if ks.Peers == nil {
		ks.Peers = map[string]sealing.KeyPair{}
	}
	if ks.Groups == nil {
		ks.Groups = map[string]groupKeyEntry{}
	}
	return ks, nil
}

func (ks *keyStore) save() error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	b, err := json.Marshal(ks)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(ks.path, b)
}

// own returns this account's key with the id (0 = the newest).
func (ks *keyStore) own(id int) (sealing.KeyPair, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if len(ks.Own) == 0 {
		return sealing.KeyPair{}, errNoKeys
	}
	if id == 0 {
		return ks.Own[len(ks.Own)-1], nil
	}
	for _, k := range ks.Own {
		if k.KeyID == id {
			return k, nil
		}
	}
	return sealing.KeyPair{}, fmt.Errorf("%w: own key %d", sealing.ErrUnknownKey, id)
}

func peerKey(mid string, id int) string { return mid + "/" + strconv.Itoa(id) }

func (ks *keyStore) peer(mid string, id int) (sealing.KeyPair, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	k, ok := ks.Peers[peerKey(mid, id)]
	return k, ok
}

func (ks *keyStore) putPeer(mid string, k sealing.KeyPair) {
	ks.mu.Lock()
	ks.Peers[peerKey(mid, k.KeyID)] = sealing.KeyPair{KeyID: k.KeyID, Public: k.Public}
	ks.mu.Unlock()
}

func (ks *keyStore) group(chat string, id int) ([]byte, bool) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	g, ok := ks.Groups[peerKey(chat, id)]
	return g.Private, ok
}

func (ks *keyStore) putGroup(chat string, id int, priv []byte) {
	ks.mu.Lock()
	ks.Groups[peerKey(chat, id)] = groupKeyEntry{GroupKeyID: id, Private: priv}
	ks.mu.Unlock()
}

// forget drops the cached keys of a peer or chat (after LINE says a key changed).
func (ks *keyStore) forget(mid string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for k := range ks.Peers {
		if len(k) > len(mid) && k[:len(mid)+1] == mid+"/" {
			delete(ks.Peers, k)
		}
	}
	for k := range ks.Groups {
		if len(k) > len(mid) && k[:len(mid)+1] == mid+"/" {
			delete(ks.Groups, k)
		}
	}
}

func e2eeKeysPath(f *factory) string {
	return filepath.Join(filepath.Dir(f.store.Path), "e2ee-keys.json")
}
