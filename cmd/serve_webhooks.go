package cmd

import (
	"context"
	"errors"

	"github.com/linectl/linectl/internal/botapi"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// webhookState is the webhooks' dispatcher state.
type webhookState struct{}

// runWebhooks delivers the account's events to the tokens' webhooks until ctx ends.
func (b *botServer) runWebhooks(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// content is a message's image or file the server heard.
func (b *botServer) content(ctx context.Context, id string) ([]byte, string, string, error) {
	return nil, "", "", botapi.ErrNotFound
}

// composeFunc turns a reply (quoteToken) or a textV2 with mentions into
// what the sender sends: the reply relation and the MENTION metadata of
// 'linectl send --reply-to/--mention'.
func composeFunc() func(botapi.Message, string) (delivery.Content, error) {
	return func(m botapi.Message, chat string) (delivery.Content, error) {
		c := delivery.Content{Text: m.Text, Sticker: m.Sticker}
		if m.QuoteToken != "" {
			_, id, _ := botapi.ParseQuoteToken(m.QuoteToken)
			c.ReplyTo = id
		}
		if len(m.Mentions) > 0 {
			if tt, _ := lineapi.ParseMID(chat); tt == lineapi.ToUser {
				return c, errors.New("mentions are for groups and rooms: this chat is a user")
			}
			ms := make([]lineapi.Mentionee, len(m.Mentions))
			for i, x := range m.Mentions {
				ms[i] = lineapi.Mentionee{Start: x.S, End: x.E, MID: x.UserID, All: x.All}
			}
			c.Mention = lineapi.MentionMetadata(ms)
		}
		return c, nil
	}
}
