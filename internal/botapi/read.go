package botapi

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/linectl/linectl/pkg/lineapi"
)

func (s *Server) readFailed(w http.ResponseWriter, e *Entry, err error) {
	if errors.Is(err, ErrNotFound) {
		s.fail(w, e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
		return
	}
	var te *lineapi.TalkError
	if errors.As(err, &te) {
		s.fail(w, e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
		return
	}
	s.fail(w, e, &apiError{status: http.StatusInternalServerError, msg: "linectl could not read it from LINE: " + err.Error()})
}

// info is GET /v2/bot/info: the account itself.
func (s *Server) info(w http.ResponseWriter, r *http.Request, e *Entry, _ Token) {
	p, err := s.Backend.Me(r.Context())
	if err != nil {
		s.readFailed(w, e, err)
		return
	}
	e.Status = http.StatusOK
	writeJSON(w, http.StatusOK, map[string]any{
		"userId": p.MID, "basicId": p.MID, "displayName": p.DisplayName,
		"chatMode": "chat", "markAsReadMode": "manual",
	})
}

// profile is GET /v2/bot/profile/{userId}: a user the token may use, or a
// member of a group it may use.
func (s *Server) profile(w http.ResponseWriter, r *http.Request, e *Entry, t Token, mid string) {
	if tt, err := lineapi.ParseMID(mid); err != nil || tt != lineapi.ToUser {
		s.fail(w, e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
		return
	}
	if !t.May(mid) && !s.memberOfAllowed(r, t, mid) {
		s.fail(w, e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
		return
	}
	c, err := s.Backend.Profile(r.Context(), mid)
	if err != nil {
		s.readFailed(w, e, err)
		return
	}
	e.Status = http.StatusOK
	body := map[string]any{"userId": mid, "displayName": c.DisplayName}
	if c.StatusMessage != "" {
		body["statusMessage"] = c.StatusMessage
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) memberOfAllowed(r *http.Request, t Token, mid string) bool {
	for _, chat := range t.To {
		if tt, _ := lineapi.ParseMID(chat); tt == lineapi.ToUser {
			continue
		}
		c, err := s.Backend.Chat(r.Context(), chat)
		if err == nil && members(c)[mid] {
			return true
		}
	}
	return false
}

func members(c *lineapi.Chat) map[string]bool {
	out := map[string]bool{}
	if g := c.Extra.GroupExtra; g != nil {
		for _, m := range g.MemberMIDs {
			out[m] = true
		}
	}
	if p := c.Extra.PeerExtra; p != nil {
		for _, m := range p.MemberMIDs {
			out[m] = true
		}
	}
	return out
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, e *Entry, t Token, mid string) *lineapi.Chat {
	if tt, err := lineapi.ParseMID(mid); err != nil || tt == lineapi.ToUser || !t.May(mid) {
		s.fail(w, e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
		return nil
	}
	c, err := s.Backend.Chat(r.Context(), mid)
	if err != nil {
		s.readFailed(w, e, err)
		return nil
	}
	return c
}

// groupSummary is GET /v2/bot/group/{groupId}/summary.
func (s *Server) groupSummary(w http.ResponseWriter, r *http.Request, e *Entry, t Token, mid string) {
	c := s.chat(w, r, e, t, mid)
	if c == nil {
		return
	}
	e.Status = http.StatusOK
	writeJSON(w, http.StatusOK, map[string]any{"groupId": c.ChatMID, "groupName": c.ChatName})
}

// memberIDs is GET /v2/bot/group/{groupId}/members/ids: every member at
// once (no "next").
func (s *Server) memberIDs(w http.ResponseWriter, r *http.Request, e *Entry, t Token, mid string) {
	c := s.chat(w, r, e, t, mid)
	if c == nil {
		return
	}
	ids := []string{}
	for m := range members(c) {
		ids = append(ids, m)
	}
	sortStrings(ids)
	e.Status = http.StatusOK
	writeJSON(w, http.StatusOK, map[string]any{"memberIds": ids})
}

// content is GET /v2/bot/message/{messageId}/content: an image or file
// the server heard (sealed ones opened).
func (s *Server) content(w http.ResponseWriter, r *http.Request, e *Entry, t Token, id string) {
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		s.fail(w, e, &apiError{status: http.StatusNotFound, msg: msgNotFound})
		return
	}
	b, ct, chat, err := s.Backend.Content(r.Context(), id)
	if err == nil && !t.May(chat) {
		err = ErrNotFound
	}
	if err != nil {
		s.readFailed(w, e, err)
		return
	}
	e.Status = http.StatusOK
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func sortStrings(s []string) { slices.Sort(s) }
