package cmd

import (
	"context"

	"github.com/linectl/linectl/internal/botapi"
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
// what the sender sends; nil until the send path carries them.
func composeFunc() func(botapi.Message, string) (delivery.Content, error) { return nil }
