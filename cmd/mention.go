package cmd

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// Mentions: send --mention MID / all and --mention-names put "@Display Name"
// in the text and the MENTION metadata that covers it (docs/protocol.md §10).

// mentionAll is --mention's word for everyone; its text is "@All" and its
// entry {"A":"1"} (the extension's xb tests "1"===e.A; beeper/line writes
// A "1" over "@all").
const (
	mentionAll     = "all"
	mentionAllName = "All"
)

// chatMembers are the members of a chat and their display names.
type chatMembers struct {
	members map[string]bool
	names   map[string]string
}

// memberLookup fetches a chat's members (getChats; a 1:1 chat's are its two
// parties) and their names (getContactsV2), once per chat in a run.
type memberLookup struct {
	cl    *lineapi.Client
	me    string
	cache map[string]*chatMembers
}

func (l *memberLookup) of(ctx context.Context, chat string) (*chatMembers, error) {
	if cm := l.cache[chat]; cm != nil {
		return cm, nil
	}
	cm := &chatMembers{members: map[string]bool{}, names: map[string]string{}}
	tt, err := lineapi.ParseMID(chat)
	if err != nil {
		return nil, err
	}
	if tt == lineapi.ToUser {
		cm.members[chat], cm.members[l.me] = true, true
	} else {
		chats, err := l.cl.GetChats(ctx, []string{chat})
		if err != nil {
			return nil, fmt.Errorf("members of %s: %w", chat, err)
		}
		for _, c := range chats {
			if c.ChatMID != chat {
				continue
			}
			if g := c.Extra.GroupExtra; g != nil {
				for _, m := range g.MemberMIDs {
					cm.members[m] = true
				}
			}
			if p := c.Extra.PeerExtra; p != nil {
				for _, m := range p.MemberMIDs {
					cm.members[m] = true
				}
			}
		}
	}
	mids := make([]string, 0, len(cm.members))
	for m := range cm.members {
		mids = append(mids, m)
	}
	sort.Strings(mids)
	for len(mids) > 0 {
		n := min(len(mids), lineapi.MaxChatsPerCall)
		contacts, err := l.cl.GetContactsV2(ctx, mids[:n])
		if err != nil {
			return nil, fmt.Errorf("names of %s's members: %w", chat, err)
		}
		for mid, c := range contacts {
			cm.names[mid] = c.DisplayName
		}
		mids = mids[n:]
	}
	if l.cache == nil {
		l.cache = map[string]*chatMembers{}
	}
	l.cache[chat] = cm
	return cm, nil
}

// isPlaceholder reports whether the '@' at byte i of s stands alone: not
// followed by a letter, digit or underscore (so "@" and "@," are
// placeholders, "@Bob" and "a@b" are not).
func isPlaceholder(s string, i int) bool {
	if i > 0 {
		r := []rune(s[:i])
		if p := r[len(r)-1]; unicode.IsLetter(p) || unicode.IsDigit(p) {
			return false // an e-mail address
		}
	}
	for _, r := range s[i+1:] {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
	}
	return true
}

// composeMentions puts "@Name" for each of mids (MIDs, or "all") into text
// — at its lone "@" placeholders in order, or, with none, at its start —
// and with byNames also marks every "@Display Name" of a member already in
// the text. It returns the text and its MENTION metadata ("" if nothing is
// mentioned). A MID that is not a member, or placeholders that do not match
// the --mention count, is a usage error: nothing is sent.
func composeMentions(text string, mids []string, byNames bool, chat string, cm *chatMembers) (string, string, error) {
	names := make([]string, len(mids))
	for i, mid := range mids {
		switch {
		case mid == mentionAll:
			names[i] = mentionAllName
		case !cm.members[mid]:
			return "", "", usageErrorf("--mention %s: not a member of %s (nothing sent)", mid, chat)
		default:
			names[i] = cm.names[mid]
			if strings.TrimFunc(names[i], isInvisible) == "" {
				names[i] = mid // no display name: LINE's apps show the MID's "@" too
			}
		}
	}
	var holes []int
	for i := 0; i < len(text); i++ {
		if text[i] == '@' && isPlaceholder(text, i) {
			holes = append(holes, i)
		}
	}
	var b strings.Builder
	var ms []lineapi.Mentionee
	units := 0
	add := func(s string) { b.WriteString(s); units += len(utf16.Encode([]rune(s))) }
	mention := func(i int) {
		start := units
		add("@" + names[i])
		m := lineapi.Mentionee{Start: start, End: units, MID: mids[i]}
		if mids[i] == mentionAll {
			m.MID, m.All = "", true
		}
		ms = append(ms, m)
	}
	switch {
	case len(mids) == 0:
		add(text)
	case len(holes) == 0:
		for i := range mids {
			mention(i)
			add(" ")
		}
		add(text)
	case len(holes) == len(mids):
		prev := 0
		for i, h := range holes {
			add(text[prev:h])
			mention(i)
			prev = h + 1
		}
		add(text[prev:])
	default:
		return "", "", usageErrorf("the text has %d lone @ placeholders for %d --mention: give one per --mention, or none (the mentions then go at the start)", len(holes), len(mids))
	}
	out := b.String()
	if byNames {
		ms = append(ms, mentionsByName(out, ms, cm)...)
	}
	if len(ms) == 0 {
		if byNames && len(mids) == 0 {
			return "", "", usageErrorf("--mention-names: no @Display Name of a member of %s in the text (nothing sent)", chat)
		}
		return out, "", nil
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Start < ms[j].Start })
	return out, lineapi.MentionMetadata(ms), nil
}

// mentionsByName finds "@Display Name" of members in text, longest names
// first, outside the spans already taken.
func mentionsByName(text string, taken []lineapi.Mentionee, cm *chatMembers) []lineapi.Mentionee {
	type cand struct{ mid, name string }
	var cands []cand
	for mid, n := range cm.names {
		if cm.members[mid] && strings.TrimFunc(n, isInvisible) != "" {
			cands = append(cands, cand{mid, n})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if len(cands[i].name) != len(cands[j].name) {
			return len(cands[i].name) > len(cands[j].name)
		}
		return cands[i].mid < cands[j].mid
	})
	u := utf16.Encode([]rune(text))
	used := make([]bool, len(u)+1)
	for _, t := range taken {
		for k := t.Start; k < t.End && k < len(used); k++ {
			used[k] = true
		}
	}
	var out []lineapi.Mentionee
	for _, c := range cands {
		pat := utf16.Encode([]rune("@" + c.name))
	scan:
		for i := 0; i+len(pat) <= len(u); i++ {
			for k := range pat {
				if u[i+k] != pat[k] || used[i+k] {
					continue scan
				}
			}
			// The name must end there: "@Bob" is not in "@Bobby".
			if end := i + len(pat); end < len(u) {
				if r := rune(u[end]); unicode.IsLetter(r) || unicode.IsDigit(r) {
					continue
				}
			}
			for k := range pat {
				used[i+k] = true
			}
			out = append(out, lineapi.Mentionee{Start: i, End: i + len(pat), MID: c.mid})
		}
	}
	return out
}

// mentionList is what a sent line shows of a MENTION: the MIDs, "all".
func mentionList(md string) []string {
	if md == "" {
		return nil
	}
	ms, _ := lineapi.ParseMention(md)
	var out []string
	for _, m := range ms {
		if m.All {
			out = append(out, mentionAll)
		} else {
			out = append(out, m.MID)
		}
	}
	return out
}

// checkConversation validates --reply-to and --mention before anything is
// sent: a message id is a decimal number; mentions go with a text.
func checkConversation(replyTo string, mentions []string, byNames, sticker, media bool) error {
	if replyTo != "" {
		if _, err := positiveDecimal(replyTo); err != nil {
			return usageErrorf("--reply-to: a message id (the messageId of a sent or received line): %v", err)
		}
		if media {
			return usageErrorf("--reply-to goes with a text or a sticker, not an image or a file")
		}
	}
	if (len(mentions) > 0 || byNames) && (sticker || media) {
		return usageErrorf("--mention and --mention-names go with a text: a sticker, image or file has none")
	}
	for _, m := range mentions {
		if m == mentionAll {
			continue
		}
		if _, err := lineapi.ParseMID(m); err != nil || strings.ToLower(m[:1]) != "u" {
			return usageErrorf("--mention %q: give a user MID (u…) of a member, or \"all\"", m)
		}
	}
	return nil
}

// addMentions composes j's mentions into the text c (the chat's members are
// looked up once per chat).
func addMentions(ctx context.Context, l *memberLookup, c *delivery.Text, j job) error {
	cm, err := l.of(ctx, j.to)
	if err != nil {
		return err
	}
	text, md, err := composeMentions(c.Text, j.mentions, j.mentionNames, j.to, cm)
	if err != nil {
		return err
	}
	if err := validateText(text); err != nil {
		return err
	}
	c.Text, c.Mention = text, md
	return nil
}
