package simgw

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// addRoutes registers the lookups and sendMessage (the stream is served by serveStream).
func (s *talkStream) addRoutes(r routes) {
	r.thrift(talkSvc, "getProfile", s.getProfile, 1, true)
	r.thrift(talkSvc, "getLastOpRevision", s.getLastOpRevision, 0, true)
	r.thrift(talkSvc, "getAllChatMids", s.getAllChatMids, 2, true)
	r.thrift(talkSvc, "getChats", s.getChats, 2, true)
	r.thrift(talkSvc, "getAllContactIds", s.getAllContactIds, 1, true)
	r.thrift(talkSvc, "getContactsV2", s.getContactsV2, 2, true)
	r.thrift(talkSvc, "sendMessage", s.sendMessage, 2, true)
}

func errf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// argInt reads an i32 (a JSON number).
func argInt(raw json.RawMessage, v *int) error { return json.Unmarshal(raw, v) }

// argI64 reads an i64: a JSON string or number.
func argI64(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strconv.ParseInt(s, 10, 64)
	}
	var n int64
	err := json.Unmarshal(raw, &n)
	return n, err
}

func argString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", gw(10102)
	}
	return s, nil
}

func syncReason(raw json.RawMessage) error {
	var n int
	if argInt(raw, &n) != nil || n < 0 {
		return gw(10102)
	}
	return nil
}

func (s *talkStream) getProfile(req *request) (any, error) {
	if err := syncReason(req.args[0]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[req.mid]
	return map[string]any{"mid": a.MID, "displayName": a.DisplayName, "statusMessage": "", "regionCode": "JP"}, nil
}

func (s *talkStream) getLastOpRevision(req *request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.rev, 10), nil
}

func (s *talkStream) getAllChatMids(req *request) (any, error) {
	var a struct {
		WithMemberChats  *bool `json:"withMemberChats"`
		WithInvitedChats *bool `json:"withInvitedChats"`
	}
	if err := json.Unmarshal(req.args[0], &a); err != nil || a.WithMemberChats == nil || a.WithInvitedChats == nil {
		return nil, gw(10102)
	}
	if err := syncReason(req.args[1]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	member, invited := []string{}, []string{}
	for _, mid := range s.chatList {
		c := s.chats[mid]
		if *a.WithMemberChats && c.isMember(req.mid) {
			member = append(member, mid)
		}
		for _, i := range c.Invitees {
			if *a.WithInvitedChats && i == req.mid {
				invited = append(invited, mid)
			}
		}
	}
	return map[string]any{"memberChatMids": member, "invitedChatMids": invited}, nil
}

func (s *talkStream) getChats(req *request) (any, error) {
	var a struct {
		ChatMids     []string `json:"chatMids"`
		WithMembers  *bool    `json:"withMembers"`
		WithInvitees *bool    `json:"withInvitees"`
	}
	if err := json.Unmarshal(req.args[0], &a); err != nil || a.ChatMids == nil || a.WithMembers == nil || a.WithInvitees == nil {
		return nil, gw(10102)
	}
	if err := syncReason(req.args[1]); err != nil {
		return nil, err
	}
	if len(a.ChatMids) > 100 {
		return nil, talk(6, "Invalid Length")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chats := []any{}
	for _, mid := range a.ChatMids {
		c := s.chats[mid]
		if c == nil {
			continue
		}
		members, invitees := map[string]string{}, map[string]string{}
		for _, m := range c.Members {
			members[m] = "1773625290000"
		}
		for _, m := range c.Invitees {
			invitees[m] = "1773625290000"
		}
		chats = append(chats, map[string]any{"chatMid": c.MID, "chatName": c.Name, "type": map[bool]int{true: 1, false: 0}[strings.HasPrefix(c.MID, "r")],
			"extra": map[string]any{"groupExtra": map[string]any{"memberMids": members, "inviteeMids": invitees}}})
	}
	return map[string]any{"chats": chats}, nil
}

func (s *talkStream) getAllContactIds(req *request) (any, error) {
	if err := syncReason(req.args[0]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.accounts[req.mid].Contacts...), nil
}

func (s *talkStream) getContactsV2(req *request) (any, error) {
	var a struct {
		TargetUserMids              []string `json:"targetUserMids"`
		NeededContactCalendarEvents []int    `json:"neededContactCalendarEvents"`
	}
	if err := json.Unmarshal(req.args[0], &a); err != nil || a.TargetUserMids == nil || a.NeededContactCalendarEvents == nil {
		return nil, gw(10102)
	}
	if len(a.TargetUserMids) > 100 {
		return nil, talk(6, "Invalid Length")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for _, mid := range a.TargetUserMids {
		if acc := s.accounts[mid]; acc != nil {
			out[mid] = map[string]any{"contact": map[string]any{"mid": mid, "displayName": acc.DisplayName, "type": 0}}
		}
	}
	return map[string]any{"contacts": out}, nil
}
