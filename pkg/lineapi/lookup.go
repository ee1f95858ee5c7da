package lineapi

import (
	"context"
	"encoding/json"
	"sort"
)

// MIDSet is a set of MIDs. LINE's Thrift model sends map<mid, joinTime>;
// a JSON array of MIDs is accepted too.
type MIDSet []string

// UnmarshalJSON accepts {"mid": time, …} or ["mid", …]; the result is sorted.
func (s *MIDSet) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*s = list
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	*s = out
	return nil
}

// ChatMIDs is getAllChatMids's answer.
type ChatMIDs struct {
	MemberChatMIDs  []string `json:"memberChatMids"`
	InvitedChatMIDs []string `json:"invitedChatMids"`
}

// GetAllChatMIDs lists the chats the account is in or invited to.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getAllChatMids [{withMemberChats, withInvitedChats}, 2]
func (c *Client) GetAllChatMIDs(ctx context.Context) (*ChatMIDs, error) {
	arg := struct {
		WithMemberChats  bool `json:"withMemberChats"`
		WithInvitedChats bool `json:"withInvitedChats"`
	}{true, true}
	var r ChatMIDs
	if err := c.thriftCall(ctx, "Talk/TalkService", "getAllChatMids", []any{arg, 2}, &r, true, true); err != nil {
		return nil, err
	}
	return &r, nil
}

// Chat is one chat of getChats.
type Chat struct {
	ChatMID  string `json:"chatMid"`
	ChatName string `json:"chatName"`
	Type     int    `json:"type"`
	Extra    struct {
		GroupExtra *struct {
			MemberMIDs  MIDSet `json:"memberMids"`
			InviteeMIDs MIDSet `json:"inviteeMids"`
		} `json:"groupExtra,omitempty"`
		PeerExtra *struct {
			MemberMIDs MIDSet `json:"memberMids"`
		} `json:"peerExtra,omitempty"`
	} `json:"extra"`
}

// MaxChatsPerCall is getChats' limit; more answers TalkException 6 INVALID_LENGTH.
const MaxChatsPerCall = 100

// GetChats returns up to MaxChatsPerCall chats with their members.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getChats [{chatMids, withMembers, withInvitees}, 2]
func (c *Client) GetChats(ctx context.Context, mids []string) ([]Chat, error) {
	arg := struct {
		ChatMIDs     []string `json:"chatMids"`
		WithMembers  bool     `json:"withMembers"`
		WithInvitees bool     `json:"withInvitees"`
	}{mids, true, true}
	var r struct {
		Chats []Chat `json:"chats"`
	}
	if err := c.thriftCall(ctx, "Talk/TalkService", "getChats", []any{arg, 2}, &r, true, true); err != nil {
		return nil, err
	}
	return r.Chats, nil
}

// GetAllContactIDs lists the account's friends' MIDs.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getAllContactIds [2]
func (c *Client) GetAllContactIDs(ctx context.Context) ([]string, error) {
	var r []string
	if err := c.thriftCall(ctx, "Talk/TalkService", "getAllContactIds", []any{2}, &r, true, true); err != nil {
		return nil, err
	}
	return r, nil
}

// Contact is one contact of getContactsV2.
type Contact struct {
	MID           string `json:"mid"`
	DisplayName   string `json:"displayName"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Type          int    `json:"type,omitempty"`
}

// GetContactsV2 returns contacts by MID (batch them by MaxChatsPerCall).
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getContactsV2 [{targetUserMids, neededContactCalendarEvents:[]}, 2]
func (c *Client) GetContactsV2(ctx context.Context, mids []string) (map[string]Contact, error) {
	arg := struct {
		TargetUserMIDs              []string `json:"targetUserMids"`
		NeededContactCalendarEvents []int    `json:"neededContactCalendarEvents"`
	}{mids, []int{}}
	var r struct {
		Contacts map[string]struct {
			Contact Contact `json:"contact"`
		} `json:"contacts"`
	}
	if err := c.thriftCall(ctx, "Talk/TalkService", "getContactsV2", []any{arg, 2}, &r, true, true); err != nil {
		return nil, err
	}
	out := make(map[string]Contact, len(r.Contacts))
	for mid, w := range r.Contacts {
		if w.Contact.MID == "" {
			w.Contact.MID = mid
		}
		out[mid] = w.Contact
	}
	return out, nil
}
