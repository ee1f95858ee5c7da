package cmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
)

// DirectoryMaxAge is how old the chats/contacts cache may be before a
// command that reads it (name resolution) fetches it again.
const DirectoryMaxAge = 24 * time.Hour

// The lines of `linectl chats` and `linectl contacts` are the cache's
// entries as they are (internal/state owns the file).
type (
	chatEntry    = state.Chat
	contactEntry = state.Contact
)

// loadDirectory reads the cache; a missing or unreadable cache, or another
// account's, is empty.
func loadDirectory(f *factory) *state.Names {
	st, err := f.State()
	if err != nil {
		return &state.Names{}
	}
	d := st.Names()
	if cfg, err := f.Config(); err == nil && d.MID != "" && d.MID != cfg.Account.MID {
		return &state.Names{} // another account's cache
	}
	return d
}

// saveDirectory writes the cache, best-effort: it only saves calls, so a
// disk that cannot take it (full, read-only) is no reason to fail a command
// — stderr gets a warning and the command goes on.
func saveDirectory(f *factory, d *state.Names) error {
	if cfg, err := f.Config(); err == nil {
		d.MID = cfg.Account.MID
	}
	st, err := f.State()
	if err == nil {
		err = st.SaveNames(d)
	}
	if err != nil {
		f.progress("linectl: warning: could not save the chats and contacts cache (names are looked up again next time): %v", err)
	}
	return nil
}

// fetchChats lists every chat: getAllChatMids, then getChats in batches.
func fetchChats(ctx context.Context, cl *lineapi.Client) ([]chatEntry, error) {
	ids, err := cl.GetAllChatMIDs(ctx)
	if err != nil {
		return nil, err
	}
	invited := map[string]bool{}
	for _, m := range ids.InvitedChatMIDs {
		invited[m] = true
	}
	all := append(append([]string{}, ids.MemberChatMIDs...), ids.InvitedChatMIDs...)
	var out []chatEntry
	for start := 0; start < len(all); start += lineapi.MaxChatsPerCall {
		batch := all[start:min(start+lineapi.MaxChatsPerCall, len(all))]
		chats, err := cl.GetChats(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, c := range chats {
			e := chatEntry{Type: "chat", MID: c.ChatMID, Name: c.ChatName, Kind: "group", Invited: invited[c.ChatMID]}
			if t, err := lineapi.ParseMID(c.ChatMID); err == nil && t == lineapi.ToRoom {
				e.Kind = "room"
			}
			if g := c.Extra.GroupExtra; g != nil {
				e.Members = len(g.MemberMIDs)
			} else if p := c.Extra.PeerExtra; p != nil {
				e.Members = len(p.MemberMIDs)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// fetchContacts lists every contact: getAllContactIds, then getContactsV2 in batches.
func fetchContacts(ctx context.Context, cl *lineapi.Client) ([]contactEntry, error) {
	ids, err := cl.GetAllContactIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []contactEntry
	for start := 0; start < len(ids); start += lineapi.MaxChatsPerCall {
		batch := ids[start:min(start+lineapi.MaxChatsPerCall, len(ids))]
		cs, err := cl.GetContactsV2(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("getContactsV2: %w", err)
		}
		for _, mid := range batch {
			if c, ok := cs[mid]; ok {
				out = append(out, contactEntry{Type: "contact", MID: mid, DisplayName: c.DisplayName})
			}
		}
	}
	return out, nil
}

// nameMatch is one destination a name resolves to.
type nameMatch struct{ mid, kind, name string }

func lookupName(d *state.Names, name string) []nameMatch {
	var out []nameMatch
	if strings.TrimFunc(name, isInvisible) == "" {
		return nil // an empty name (an unnamed room) matches nothing
	}
	for _, c := range d.Chats {
		if c.Name == name {
			out = append(out, nameMatch{c.MID, c.Kind, c.Name})
		}
	}
	for _, c := range d.Contacts {
		if c.DisplayName == name {
			out = append(out, nameMatch{c.MID, "contact", c.DisplayName})
		}
	}
	return out
}

var errNameNotFound = errors.New("no chat or contact has that name")

// resolveNames turns --to-name values into MIDs (after the --to MIDs, in
// order), from the cache, refreshing it once when a name is missing or the
// cache is older than DirectoryMaxAge.
func resolveNames(ctx context.Context, f *factory, mids, names []string) ([]string, error) {
	if len(names) == 0 {
		return mids, nil
	}
	d := loadDirectory(f)
	now := f.Now()
	stale := now.Sub(d.ChatsAt) > DirectoryMaxAge || now.Sub(d.ContactAt) > DirectoryMaxAge
	refreshed := false
	out := append([]string{}, mids...)
	for _, name := range names {
		m := lookupName(d, name)
		if (len(m) == 0 || stale) && !refreshed {
			var err error
			if d, err = refreshDirectory(ctx, f); err != nil {
				return nil, err
			}
			refreshed, m = true, lookupName(d, name)
		}
		switch len(m) {
		case 0:
			return nil, usageErrorf("--to-name %q: %v (see 'linectl chats' and 'linectl contacts')", name, errNameNotFound)
		case 1:
			out = append(out, m[0].mid)
		default:
			var list []string
			for _, x := range m {
				list = append(list, fmt.Sprintf("%s (%s)", x.mid, x.kind))
			}
			sort.Strings(list)
			return nil, usageErrorf("--to-name %q matches %d chats/contacts: %s; use --to with the MID", name, len(m), strings.Join(list, ", "))
		}
	}
	return out, nil
}

func refreshDirectory(ctx context.Context, f *factory) (*state.Names, error) {
	cl, err := f.Client(true)
	if err != nil {
		return nil, err
	}
	chats, err := fetchChats(ctx, cl)
	if err != nil {
		return nil, err
	}
	contacts, err := fetchContacts(ctx, cl)
	if err != nil {
		return nil, err
	}
	now := f.Now()
	d := &state.Names{ChatsAt: now, Chats: chats, ContactAt: now, Contacts: contacts}
	return d, saveDirectory(f, d)
}
