package cmd

import (
	"context"
	"reflect"
	"testing"

	"github.com/linectl/linectl/internal/botapi"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// A job becomes one kind of delivery.Content: a text, a sticker or media,
// and a reply of any of them; a media's upload shows progress.
func TestJobContent(t *testing.T) {
	st := &lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100}
	md := &delivery.Media{ContentType: lineapi.ContentFile, Name: "a.bin", Source: obs.BytesSource([]byte("data"))}
	var wrapped []string
	uploading := func(name string, src obs.Source) obs.Source { wrapped = append(wrapped, name); return src }
	for _, tc := range []struct {
		name string
		j    job
		want delivery.Content
	}{
		{"text", job{to: "c1", text: "hi"}, delivery.Text{Text: "hi"}},
		{"text reply", job{to: "c1", text: "ok", replyTo: "42"}, delivery.Reply{To: "42", Content: delivery.Text{Text: "ok"}}},
		{"sticker", job{to: "c1", sticker: st}, delivery.Sticker{Sticker: *st}},
		{"sticker reply", job{to: "c1", sticker: st, replyTo: "7"}, delivery.Reply{To: "7", Content: delivery.Sticker{Sticker: *st}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.j.content(context.Background(), nil, uploading)
			if err != nil || !reflect.DeepEqual(c, tc.want) {
				t.Fatalf("content %#v, %v; want %#v", c, err, tc.want)
			}
		})
	}
	c, err := job{to: "c1", media: md}.content(context.Background(), nil, uploading)
	got, ok := c.(*delivery.Media)
	if err != nil || !ok || got == md || got.Name != "a.bin" || !reflect.DeepEqual(wrapped, []string{"a.bin"}) {
		t.Fatalf("media %#v, %v (wrapped %v): want a copy with its source wrapped", c, err, wrapped)
	}
}

// serve's Messaging API mapping builds the same kinds: a quoteToken is the
// reply relation of a text or a sticker, textV2's substitutions a text's
// MENTION; a mention in a user chat is refused.
func TestComposeKinds(t *testing.T) {
	const group, user = "c0123456789abcdef0123456789abcdef", "u0123456789abcdef0123456789abcdef"
	st := &lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100}
	q := botapi.QuoteToken(group, "605311889450213291")
	ms := []botapi.Mention{{S: 0, E: 4, UserID: user}}
	mention := lineapi.MentionMetadata([]lineapi.Mentionee{{Start: 0, End: 4, MID: user}})
	compose := composeFunc()
	for _, tc := range []struct {
		name string
		m    botapi.Message
		chat string
		want delivery.Content
	}{
		{"a quoted text", botapi.Message{Text: "ok", QuoteToken: q}, group,
			delivery.Reply{To: "605311889450213291", Content: delivery.Text{Text: "ok"}}},
		{"a quoted sticker", botapi.Message{Sticker: st, QuoteToken: q}, group,
			delivery.Reply{To: "605311889450213291", Content: delivery.Sticker{Sticker: *st}}},
		{"a textV2 with a mention", botapi.Message{Text: "@bob hi", Mentions: ms}, group,
			delivery.Text{Text: "@bob hi", Mention: mention}},
		{"a mention in a user chat", botapi.Message{Text: "@bob hi", Mentions: ms}, user, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := compose(tc.m, tc.chat)
			if (err != nil) != (tc.want == nil) || !reflect.DeepEqual(c, tc.want) {
				t.Fatalf("content %#v, %v; want %#v", c, err, tc.want)
			}
		})
	}
}
