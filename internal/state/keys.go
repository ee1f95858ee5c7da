// The Letter Sealing key store (e2ee-keys.json, moved from internal/keystore): the account's own key pairs from its key
// chain, and caches of peers' public keys and chats' group keys by key id.
//
// It follows the config store's rules: 0600 in a 0700 directory, replaced
// atomically under a lock, read inside the lock before every write so that
// concurrent linectl processes lose nothing, never overwritten when it
// cannot be read (the account's private keys would be lost), refused when
// other users could read it. A run only merges its cache entries into the
// file; only a login writes the account's own keys, and once the file is
// removed (logout --forget-device) no running process writes it back.

package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// maxKeysSize bounds what is read: a key chain and years of cached keys are a
// few hundred kilobytes.
const maxKeysSize = 16 << 20

// keyData is the key file's contents.
type keyData struct {
	MID    string                     `json:"mid"`
	Own    []sealing.KeyPair          `json:"own"`
	Peers  map[string]sealing.KeyPair `json:"peers,omitempty"`  // "mid/keyId" → public key
	Groups map[string]groupKey        `json:"groups,omitempty"` // "chat/groupKeyId" → group private key
}

type groupKey struct {
	GroupKeyID int    `json:"groupKeyId"`
	Private    []byte `json:"privateKey"`
}

// KeyFile is the key store at one path. It implements e2ee.KeyStore; Save
// merges what was learnt into the file.
type KeyFile struct {
	path string

	mu        sync.Mutex
	d         keyData
	dirty     bool
	forgotten []string // MIDs whose cached keys must also go from the file
}

var _ e2ee.KeyStore = (*KeyFile)(nil)

// Open reads the store at path. A missing file is an empty store. A file
// that cannot be read or parsed is an error (wrapping config.ErrCorrupt or
// config.ErrInsecure) and is left as it is.
func openKeys(path string) (*KeyFile, error) {
	d, err := readKeys(path)
	if err != nil {
		return nil, err
	}
	f := &KeyFile{path: path}
	if d != nil {
		f.d = *d
	}
	return f, nil
}

// Path is the file's path.
func (f *KeyFile) Path() string { return f.path }

// MID is the account the keys belong to ("" when there are none).
func (f *KeyFile) MID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.d.MID
}

// read returns the file's contents, nil when it does not exist, under the
// config package's rules for a file of secrets (config.ReadPrivateFile: a
// regular file, not a link, not readable by others, bounded).
func readKeys(path string) (*keyData, error) {
	b, err := config.ReadPrivateFile(path, "your Letter Sealing private keys", maxKeysSize)
	if err != nil || b == nil {
		return nil, err
	}
	var d keyData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (it holds your Letter Sealing private keys: fix it or move it away; linectl will not overwrite it)",
			config.ErrCorrupt, path, err)
	}
	return &d, nil
}

// OwnKeys implements e2ee.KeyStore.
func (f *KeyFile) OwnKeys() []sealing.KeyPair {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sealing.KeyPair(nil), f.d.Own...)
}

// PeerKey implements e2ee.KeyStore.
func (f *KeyFile) PeerKey(mid string, id int) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.d.Peers[e2ee.CacheKey(mid, id)]
	return k.Public, ok
}

// SetPeerKey implements e2ee.KeyStore.
func (f *KeyFile) SetPeerKey(mid string, id int, pub []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.d.Peers == nil {
		f.d.Peers = map[string]sealing.KeyPair{}
	}
	f.d.Peers[e2ee.CacheKey(mid, id)] = sealing.KeyPair{KeyID: id, Public: pub}
	f.dirty = true
}

// GroupKey implements e2ee.KeyStore.
func (f *KeyFile) GroupKey(chat string, id int) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.d.Groups[e2ee.CacheKey(chat, id)]
	return g.Private, ok
}

// SetGroupKey implements e2ee.KeyStore.
func (f *KeyFile) SetGroupKey(chat string, id int, priv []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.d.Groups == nil {
		f.d.Groups = map[string]groupKey{}
	}
	f.d.Groups[e2ee.CacheKey(chat, id)] = groupKey{GroupKeyID: id, Private: priv}
	f.dirty = true
}

// Forget implements e2ee.KeyStore.
func (f *KeyFile) Forget(mid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e2ee.ForgetFrom(f.d.Peers, mid)
	e2ee.ForgetFrom(f.d.Groups, mid)
	f.forgotten = append(f.forgotten, mid)
	f.dirty = true
}

// Save merges the cache entries learnt since Open into the file, under its
// lock. It writes nothing when nothing was learnt, when the file is gone
// (the device was forgotten, or no login ever stored keys), or when it now
// belongs to another account.
func (f *KeyFile) Save() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dirty {
		return nil
	}
	return f.update(func(disk *keyData) *keyData {
		if disk == nil || !e2ee.SameMID(disk.MID, f.d.MID) {
			return nil
		}
		for _, mid := range f.forgotten {
			e2ee.ForgetFrom(disk.Peers, mid)
			e2ee.ForgetFrom(disk.Groups, mid)
		}
		disk.Peers = mergeKeys(disk.Peers, f.d.Peers)
		disk.Groups = mergeKeys(disk.Groups, f.d.Groups)
		f.dirty, f.forgotten = false, nil
		return disk
	})
}

func mergeKeys[V any](dst, src map[string]V) map[string]V {
	if dst == nil && len(src) > 0 {
		dst = map[string]V{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// update runs fn on the file's current contents (nil when missing) under the
// lock and writes what it returns (nothing when nil).
func (f *KeyFile) update(fn func(disk *keyData) *keyData) error {
	unlock, err := (&config.Store{Path: f.path}).Lock()
	if err != nil {
		return err
	}
	defer unlock()
	disk, err := readKeys(f.path)
	if err != nil {
		return err
	}
	out := fn(disk)
	if out == nil {
		return nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(f.path, b)
}

// SetOwn stores the account's key chain after a login: the own keys are
// replaced, and the caches cleared when the account changed. A file that
// cannot be read is refused, not replaced: it may hold the only copy of
// keys that older messages need.
func setOwnKeys(path, mid string, keys []sealing.KeyPair) error {
	f := &KeyFile{path: path}
	return f.update(func(disk *keyData) *keyData {
		if disk == nil || !e2ee.SameMID(disk.MID, mid) {
			disk = &keyData{}
		}
		disk.MID, disk.Own = mid, keys
		return disk
	})
}

// Remove deletes the store under its lock (logout --forget-device); a
// running process that saves afterwards finds it gone and writes nothing.
func removeKeys(path string) error {
	unlock, err := (&config.Store{Path: path}).Lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Keys opens the Letter Sealing key store (e2ee-keys.json). A missing file
// is an empty store; one that cannot be read or parsed is an error
// (config.ErrCorrupt or config.ErrInsecure) and is left as it is.
func (d *Dir) Keys() (*KeyFile, error) { return openKeys(d.path(FileE2EEKeys)) }

// SetOwnKeys stores the account's key chain after a login (see setOwnKeys).
func (d *Dir) SetOwnKeys(mid string, keys []sealing.KeyPair) error {
	return setOwnKeys(d.path(FileE2EEKeys), mid, keys)
}

// RemoveKeys deletes the key store under its lock (logout --forget-device):
// a running process that saves afterwards finds it gone and writes nothing.
func (d *Dir) RemoveKeys() error { return removeKeys(d.path(FileE2EEKeys)) }
