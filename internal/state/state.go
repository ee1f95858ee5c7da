// Package state owns every file beside the config: the Letter Sealing key
// store, send's probe cache and revision, receive's position and its lock,
// the chats and contacts cache, the object-storage token, and where
// notify serve's tokens and the imported signer live.
//
// One discipline for all of them, the config's (internal/config's helpers,
// not copies): files 0600 in the config's 0700 directory, written atomically
// (config.WriteFileAtomic), read bounded and never from a FIFO or device
// (config.ReadFile), secrets never through a symbolic link and refused when
// others may read them (config.ReadPrivateFile), read-merge-write under a
// lock where several processes may write. The formats are this package's.
//
// A Dir is made from the config's path by Open and is ready to use: no
// method depends on another having been called first.
package state

import (
	"path/filepath"
	"time"
)

// The files beside the config.
const (
	FileReceiveState = "receive-state.json"   // receive's position
	FileReceiveLock  = "receive.lock"         // one receive per config
	FileProbeCache   = "probe-cache.json"     // Letter Sealing probes, 1 h
	FileSendState    = "send-state.json"      // the revision a send searches from
	FileDirectory    = "directory-cache.json" // chat and contact names
	FileE2EEKeys     = "e2ee-keys.json"       // Letter Sealing keys
	FileNotifyTokens = "notify-tokens.json"   // notify serve's tokens (format: internal/notify)
	FileOBSToken     = "obs-token.json"       // the object-storage token, until its lifetime ends (a secret)
	FileBotTokens    = "bot-tokens.json"      // serve's Messaging API tokens (format: internal/botapi)
	FileBotSecrets   = "bot-secrets.json"     // their channel secrets (webhook signatures)
	FileBotRetryKeys = "bot-retry-keys.json"  // X-Line-Retry-Key records, 24 h (format: internal/botapi)
	FileBotRetryLock = "bot-retry-keys.lock"  // one keeper of them per config
	FileBotWebhooks  = "bot-webhooks.json"    // the webhooks' stream position
	FileBotHooksLock = "bot-webhooks.lock"    // one webhook dispatcher per config
	DirSigner        = "signer"               // the imported signing module (format: pkg/lineapi/wasmsign)
)

// Dir is the state of one config: the files in its directory.
type Dir struct {
	dir string
	now func() time.Time
}

// Open returns the state beside the config file at configPath. now is the
// clock that dates entries (nil: time.Now). Nothing is read or created
// until a file is used; the directory is created 0700 on the first write.
func Open(configPath string, now func() time.Time) *Dir {
	if now == nil {
		now = time.Now
	}
	return &Dir{dir: filepath.Dir(configPath), now: now}
}

// path is the file name in the config's directory.
func (d *Dir) path(name string) string { return filepath.Join(d.dir, name) }

// NotifyTokensPath is notify serve's token store (its format is
// internal/notify's).
func (d *Dir) NotifyTokensPath() string { return d.path(FileNotifyTokens) }

// BotTokensPaths are serve's Messaging API tokens and their channel
// secrets (their format is internal/botapi's).
func (d *Dir) BotTokensPaths() (tokens, secrets string) {
	return d.path(FileBotTokens), d.path(FileBotSecrets)
}

// BotRetryKeysPath is serve's X-Line-Retry-Key records (internal/botapi's).
func (d *Dir) BotRetryKeysPath() string { return d.path(FileBotRetryKeys) }

// LockBotRetryKeys takes the lock of the retry key records without waiting
// (ErrLocked when another serve holds it): one process keeps them, or two
// would each lose the other's keys and a retry sent to the other could send
// its message twice.
func (d *Dir) LockBotRetryKeys() (unlock func(), err error) { return tryLock(d.path(FileBotRetryLock)) }

// SignerDir is where `signer import` puts LINE's module.
func (d *Dir) SignerDir() string { return d.path(DirSigner) }
