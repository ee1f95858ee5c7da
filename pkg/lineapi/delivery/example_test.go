package delivery_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/linectl/linectl/internal/simgw"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// A Go program sending exactly once with pkg/lineapi alone: log in, then
// send through a Sender, which probes Letter Sealing, sends, and settles a
// lost answer from the operation stream instead of sending again. Here the
// project's gateway simulator stands in for LINE; against LINE, use
// lineapi.DefaultBaseURL, a signer (lineapi.WithSigner) and a TokenSource
// that refreshes and saves the tokens.
func Example() {
	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	ctx := context.Background()

	anon, err := lineapi.New(url)
	if err != nil {
		log.Fatal(err)
	}
	s, err := anon.LoginWithPassword(ctx, lineapi.PasswordLogin{Email: simgw.CarolEmail, Password: simgw.DemoPassword})
	if err != nil {
		log.Fatal(err)
	}
	cl, err := lineapi.New(url, lineapi.WithTokenSource(lineapi.StaticToken(s.Tokens.AccessToken)))
	if err != nil {
		log.Fatal(err)
	}
	sender := &delivery.Sender{GW: cl, Finder: delivery.StreamFinder{Open: cl}, From: s.MID, E2EE: delivery.E2EEAuto}
	res, err := sender.Send(ctx, simgw.RoomMID, "backup finished")
	if err != nil {
		log.Fatal(err) // errors.Is(err, delivery.ErrOutcomeUnknown): it may have been delivered; never resend blindly
	}
	fmt.Println("sent:", res.MessageID != "", "sealed:", res.E2EE)
	// Output: sent: true sealed: false
}
