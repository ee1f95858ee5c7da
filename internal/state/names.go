package state

import (
	"encoding/json"
	"time"

	"github.com/linectl/linectl/internal/config"
)

// Chat is one chat of the names cache (and of `linectl chats`).
type Chat struct {
	Type    string `json:"type"` // "chat"
	MID     string `json:"mid"`
	Name    string `json:"name"`
	Kind    string `json:"kind"` // "group" | "room"
	Members int    `json:"members"`
	Invited bool   `json:"invited"`
}

// Contact is one contact of the names cache (and of `linectl contacts`).
type Contact struct {
	Type        string `json:"type"` // "contact"
	MID         string `json:"mid"`
	DisplayName string `json:"displayName"`
}

// Names is the cached chats and contacts of an account
// (directory-cache.json).
type Names struct {
	MID       string    `json:"mid"`
	ChatsAt   time.Time `json:"chatsFetchedAt,omitzero"`
	Chats     []Chat    `json:"chats"`
	ContactAt time.Time `json:"contactsFetchedAt,omitzero"`
	Contacts  []Contact `json:"contacts"`
}

// Names reads the cache; a missing or unreadable cache is empty. Whose it
// is (MID) is the caller's to check.
func (d *Dir) Names() *Names {
	n := &Names{}
	if b, err := config.ReadFile(d.path(FileDirectory)); err == nil && b != nil {
		_ = json.Unmarshal(b, n)
	}
	return n
}

// SaveNames writes the cache.
func (d *Dir) SaveNames(n *Names) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(d.path(FileDirectory), b)
}
