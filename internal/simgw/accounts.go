package simgw

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// Account is a simulated LINE account.
type Account struct {
	MID           string
	Email         string
	Password      string
	DisplayName   string
	LetterSealing bool
	// KeyID and Key are the account's current Letter Sealing key pair (set
	// when LetterSealing): the one with the highest id.
	KeyID int
	Key   *ecdh.PrivateKey
	// PastKeys are the keys RotateKey retired, oldest first. Old messages
	// and group keys still name them, so they stay retrievable by id.
	PastKeys []SealKey
	// SpecVersion is the Letter Sealing version the account's app speaks (default 2).
	SpecVersion int
	// AllowedTypes are the content types the account's app accepts sealed
	// (nil: defaultAllowedTypes, every type the extension can seal); others
	// it takes plain.
	AllowedTypes []int
	// Contacts are the MIDs of the account's friends.
	Contacts []string
}

// Chat is a simulated group or room.
type Chat struct {
	MID      string
	Name     string
	Members  []string
	Invitees []string
}

// Demo data of the sandbox.
const (
	AliceMID      = "u1a11ce0000000000000000000000a11c"
	BobMID        = "u0b0b0000000000000000000000000b0b"
	CarolMID      = "uca401000000000000000000000ca4010"
	FamilyMID     = "cfa0117000000000000000000000fa011"
	OpsMID        = "c0b5a1e4700000000000000000000b5a1"
	RoomMID       = "r4000000000000000000000000000r00m"
	AliceEmail    = "alice@example.com"
	BobEmail      = "bob@example.com"
	CarolEmail    = "carol@example.com"
	DemoPassword  = "sandbox-password"
	DefaultKeyHex = "linectl-sandbox" // the sandbox's public, documented signing key
)

// AddAccount adds an account; a Letter Sealing account gets a key pair.
func (s *state) AddAccount(a Account) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := a
	if acc.LetterSealing && acc.Key == nil {
		acc.Key, _ = ecdh.X25519().GenerateKey(rand.Reader)
		if acc.KeyID == 0 {
			acc.KeyID = 1000 + len(s.order)
		}
	}
	s.accounts[acc.MID] = &acc
	s.order = append(s.order, acc.MID)
	return &acc
}

// SetLetterSealing turns an account's Letter Sealing on (with a key pair if
// it has none) or off.
func (s *state) SetLetterSealing(mid string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[mid]
	if a == nil {
		return
	}
	a.LetterSealing = on
	if on && a.Key == nil {
		a.Key, _ = ecdh.X25519().GenerateKey(rand.Reader)
		if a.KeyID == 0 {
			a.KeyID = 1000 + len(s.order)
		}
	}
}

// AddChat adds a group (c…) or room (r…).
func (s *state) AddChat(c Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cc := c
	s.chats[cc.MID] = &cc
	s.chatList = append(s.chatList, cc.MID)
}

// RemoveMember takes mid out of a chat (it left, or was removed).
func (s *state) RemoveMember(chat, mid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chat]
	if c == nil {
		return
	}
	out := c.Members[:0]
	for _, m := range c.Members {
		if m != mid {
			out = append(out, m)
		}
	}
	c.Members = out
}

// Account returns an account by MID.
func (s *state) Account(mid string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[mid]
}

// NewSandbox returns a simulator with the demo accounts and chats.
func NewSandbox(opts Options) *Server {
	s := New(opts)
	// Alice and Bob both have Letter Sealing, so the sandbox shows sealing
	// between two of its people; Carol keeps a plain account.
	s.AddAccount(Account{MID: AliceMID, Email: AliceEmail, Password: DemoPassword, DisplayName: "Alice", LetterSealing: true,
		Contacts: []string{BobMID, CarolMID}})
	s.AddAccount(Account{MID: BobMID, Email: BobEmail, Password: DemoPassword, DisplayName: "Bob", LetterSealing: true,
		Contacts: []string{AliceMID}})
	s.AddAccount(Account{MID: CarolMID, Email: CarolEmail, Password: DemoPassword, DisplayName: "Carol",
		Contacts: []string{AliceMID}})
	s.AddChat(Chat{MID: FamilyMID, Name: "Family", Members: []string{AliceMID, BobMID, CarolMID}})
	s.AddChat(Chat{MID: OpsMID, Name: "Ops alerts", Members: []string{AliceMID, BobMID}})
	s.AddChat(Chat{MID: RoomMID, Name: "", Members: []string{AliceMID, CarolMID}})
	return s
}

// SetAllowedTypes sets the content types an account's app accepts sealed.
func (s *state) SetAllowedTypes(mid string, types []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[mid]; a != nil {
		a.AllowedTypes = types
	}
}

// allowedTypes are the content types a's app accepts sealed.
func (a *Account) allowedTypes() []int {
	if a.AllowedTypes != nil {
		return a.AllowedTypes
	}
	return defaultAllowedTypes
}

func allows(types []int, contentType int) bool {
	for _, t := range types {
		if t == contentType {
			return true
		}
	}
	return false
}

// toTypeOf returns the destination kind of a MID from its first letter.
func toTypeOf(mid string) int {
	switch strings.ToLower(mid[:1]) {
	case "u":
		return 0
	case "r":
		return 1
	case "c":
		return 2
	}
	return -1
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Chat) isMember(mid string) bool {
	for _, m := range c.Members {
		if m == mid {
			return true
		}
	}
	return false
}
