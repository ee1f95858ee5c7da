package simgw

import (
	"crypto/ecdh"
	"sync"
	"time"
)

// state is what LINE keeps behind its gateway, shared by every concern:
// accounts, chats, stored messages, the operation streams and their
// revision, the clock, the calls received and the armed faults. One lock,
// mu, guards all of it; a concern's own fields (its struct) are guarded by
// the same lock. A handler takes mu for what it reads and writes and never
// holds it while it waits (long polls and the stream wait on wake).
type state struct {
	opts Options

	mu       sync.Mutex
	settling sync.Mutex // settle: one reader decrypts the unopened media at a time
	unopened []unopened // sealed media to decrypt before the messages are read (decryptLater)
	offset   time.Duration
	accounts map[string]*Account // by MID
	order    []string
	chats    map[string]*Chat
	chatList []string
	rev      int64
	ops      map[string][]op // MID → operations
	wake     chan struct{}   // closed and replaced when anything changes
	messages []Message
	calls    []Call
	faults   faults
	seq      int64
	carried  carried // every message the streams carried (history, replies)
}

// The concerns: each embeds the shared state and names the other concerns
// it calls. The Server embeds them all, so their exported methods are the
// Server's.
type (
	// authPhone: logins (RSA key, loginV2, QR sessions, PINs, long polls),
	// token refresh and rotation, and the simulated phone (auth.go, qr.go,
	// faults_refresh.go).
	authPhone struct {
		*state
		seal *sealing // the key chain a login carries

		rsaKeys  map[string]*rsaSession // keynm → session
		verifier map[string]*pending    // password-login verifiers
		qr       map[string]*qrSession  // authSessionId
		tokens   map[string]*token      // access token
		refresh  map[string]*refreshTok // refresh token
		certs    map[string]string      // certificate → MID
	}
	// talkStream: profile and chat lookups, sendMessage, injected messages
	// and the operation stream (talk.go, messages.go, stream.go).
	talkStream struct {
		*state
		auth  *authPhone   // the stream's token check
		seal  *sealing     // opening sealed messages, chats' allowedTypes
		obs   *objectStore // media messages
		convs *convos      // replies and mentions
	}
	// sealing: Letter Sealing keys, group keys, negotiation, and opening
	// and making sealed messages (seal.go, seal_keys.go).
	sealing struct {
		*state
		groupKeys map[string][]*groupKey // chat → its group keys, oldest first
		gkSeq     int                    // group key ids ever issued: ids only grow
		lastEph   *ecdh.PrivateKey       // the key of the newest key chain (for confirmE2EELogin)
		chatTypes map[string][]int       // chat → its group key's allowedTypes (SetChatAllowedTypes)
	}
	// objectStore: OBS uploads and downloads, OBS tokens, media messages
	// (obs.go, media.go).
	objectStore struct {
		*state
		seal *sealing   // sealed media's keys
		auth *authPhone // whose session a refresh renewed (afterCall)

		obsTokens map[string]*obsToken  // OBS token → its account
		objects   map[string]*obsObject // "sid/oid" → a sealed media object
		obsReqIDs map[string]string     // "owner/sid/reqid" → OID
		noOID     bool                  // plain uploads answered without x-obs-oid
	}
	// convos: replies, mentions, unsend, reactions, history, read marks
	// (conversation.go, history.go).
	convos struct {
		*state
		conv conversations // unsent, reactions, read marks
	}
	// faultAdmin: fault rules and the other knobs tests arm (faults.go,
	// faults_list.go, faults_refresh.go's refresh faults). The /_sandbox/
	// endpoints (admin.go) are the Server's: they drive every concern.
	faultAdmin struct {
		*state
		auth *authPhone // expiring and kicking tokens
	}
)
