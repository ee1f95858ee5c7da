package delivery_test

import (
	"context"
	"fmt"
	"log"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// A Go program sending exactly once with pkg/lineapi alone (nothing from
// linectl's internal packages): log in, keep the tokens in a
// RefreshingTokens that saves every renewed set, and send through a Sender,
// which probes Letter Sealing, sends, and settles a lost answer from the
// operation stream instead of sending again. startGateway stands in for
// LINE (the project's simulator); against LINE, use lineapi.DefaultBaseURL
// and a signer (lineapi.WithSigner).
func Example() {
	url, stop := startGateway()
	defer stop()
	ctx := context.Background()

	anon, err := lineapi.New(url)
	if err != nil {
		log.Fatal(err)
	}
	s, err := anon.LoginWithPassword(ctx, lineapi.PasswordLogin{Email: exampleEmail, Password: examplePassword})
	if err != nil {
		log.Fatal(err)
	}
	tokens := &lineapi.RefreshingTokens{Tokens: *s.Tokens, Save: func(ctx context.Context, t lineapi.TokenV3IssueResult) error {
		return nil // write t where the next run finds it, before it is used
	}}
	cl, err := lineapi.New(url, lineapi.WithTokenSource(tokens))
	if err != nil {
		log.Fatal(err)
	}
	tokens.Client = cl
	sender := &delivery.Sender{GW: cl, Finder: delivery.StreamFinder{Open: cl}, From: s.MID, E2EE: delivery.E2EEAuto}
	res, err := sender.Send(ctx, exampleRoom, "backup finished")
	if err != nil {
		log.Fatal(err) // errors.Is(err, delivery.ErrOutcomeUnknown): it may have been delivered; never resend blindly
	}
	fmt.Println("sent:", res.MessageID != "", "sealed:", res.E2EE)
	// Output: sent: true sealed: false
}
