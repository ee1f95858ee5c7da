package simgw

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// handler is one RPC.
type handler struct {
	fn     func(*Server, *request) (any, error)
	http   string // "POST" or "GET"
	arity  int    // number of positional args; -1 = any
	auth   bool
	object bool // body is a JSON object, not an array
}

var services = map[string]bool{
	"Talk/TalkService": true, "Talk/AuthService": true,
	"LoginQrCode/SecondaryQrCodeLoginService": true, "LoginQrCode/SecondaryQrCodeLoginPermitNoticeService": true,
}

var thriftMethods map[string]handler

func init() {
	post := func(fn func(*Server, *request) (any, error), arity int, auth bool) handler {
		return handler{fn: fn, http: "POST", arity: arity, auth: auth}
	}
	qrs := "LoginQrCode/SecondaryQrCodeLoginService/"
	qrn := "LoginQrCode/SecondaryQrCodeLoginPermitNoticeService/"
	thriftMethods = map[string]handler{
		"Talk/TalkService/getRSAKeyInfo":                    post((*Server).getRSAKeyInfo, 1, false),
		"Talk/AuthService/loginV2":                          post((*Server).loginV2, 1, false),
		"Talk/AuthService/logoutV2":                         post((*Server).logoutV2, 0, true),
		"Talk/AuthService/confirmE2EELogin":                 post((*Server).confirmE2EELogin, 2, false),
		"Talk/TalkService/getProfile":                       post((*Server).getProfile, 1, true),
		"Talk/TalkService/getLastOpRevision":                post((*Server).getLastOpRevision, 0, true),
		"Talk/TalkService/getAllChatMids":                   post((*Server).getAllChatMids, 2, true),
		"Talk/TalkService/getChats":                         post((*Server).getChats, 2, true),
		"Talk/TalkService/getAllContactIds":                 post((*Server).getAllContactIds, 1, true),
		"Talk/TalkService/getContactsV2":                    post((*Server).getContactsV2, 2, true),
		"Talk/TalkService/sendMessage":                      post((*Server).sendMessage, 2, true),
		"Talk/TalkService/negotiateE2EEPublicKey":           post((*Server).negotiateE2EEPublicKey, 1, true),
		"Talk/TalkService/getLastE2EEGroupSharedKey":        post((*Server).getLastE2EEGroupSharedKey, 2, true),
		"Talk/TalkService/getLastE2EEPublicKeys":            post((*Server).getLastE2EEPublicKeys, 1, true),
		"Talk/TalkService/registerE2EEGroupKey":             post((*Server).registerE2EEGroupKey, 5, true),
		"Talk/TalkService/getE2EEPublicKey":                 post((*Server).getE2EEPublicKey, 3, true),
		"Talk/TalkService/getE2EEGroupSharedKey":            post((*Server).getE2EEGroupSharedKey, 3, true),
		"Talk/TalkService/acquireEncryptedAccessToken":      post((*Server).acquireEncryptedAccessToken, 1, true),
		"Talk/TalkService/determineMediaMessageFlow":        post((*Server).determineMediaMessageFlow, 1, true),
		"Talk/TalkService/unsendMessage":                    post((*Server).unsendMessage, 2, true),
		"Talk/TalkService/react":                            post((*Server).react, 1, true),
		"Talk/TalkService/cancelReaction":                   post((*Server).cancelReaction, 1, true),
		"Talk/TalkService/getRecentMessagesV2":              post((*Server).getRecentMessagesV2, 2, true),
		"Talk/TalkService/getPreviousMessagesV2WithRequest": post((*Server).getPreviousMessagesV2WithRequest, 2, true),
		"Talk/TalkService/sendChatChecked":                  post((*Server).sendChatChecked, -1, true),
		qrs + "createSession":                               post((*Server).createSession, 1, false),
		qrs + "createQrCode":                                post((*Server).createQrCode, 1, false),
		qrs + "verifyCertificate":                           post((*Server).verifyCertificate, 1, false),
		qrs + "createPinCode":                               post((*Server).createPinCode, 1, false),
		qrs + "qrCodeLoginV2":                               post((*Server).qrCodeLoginV2, 1, false),
		qrn + "checkQrCodeVerified":                         post((*Server).checkQrCodeVerified, 1, false),
		qrn + "checkPinCodeVerified":                        post((*Server).checkPinCodeVerified, 1, false),
	}
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

func (s *Server) getProfile(req *request) (any, error) {
	if err := syncReason(req.args[0]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[req.mid]
	return map[string]any{"mid": a.MID, "displayName": a.DisplayName, "statusMessage": "", "regionCode": "JP"}, nil
}

func (s *Server) getLastOpRevision(req *request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.rev, 10), nil
}

func (s *Server) getAllChatMids(req *request) (any, error) {
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

func (s *Server) getChats(req *request) (any, error) {
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

func (s *Server) getAllContactIds(req *request) (any, error) {
	if err := syncReason(req.args[0]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.accounts[req.mid].Contacts...), nil
}

func (s *Server) getContactsV2(req *request) (any, error) {
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
