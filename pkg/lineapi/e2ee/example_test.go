package e2ee_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// A Go program receiving and decrypting Letter Sealing messages with
// pkg/lineapi alone (nothing from linectl's internal packages): a password
// login that brings the account's key chain (the person confirms the PIN
// on the phone), a Sealer holding the unwrapped keys, and the operation
// stream, whose messages arrive typed and are opened by the Sealer (peers'
// keys fetched by id). startGateway, confirmOnPhone and aliceSends stand
// in for LINE and its people (the project's simulator); against LINE, use
// lineapi.DefaultBaseURL and a signer (lineapi.WithSigner), show the PIN,
// and keep the keys and the revision where the next run finds them.
func Example_receive() {
	url, stop := startGateway()
	defer stop()
	ctx := context.Background()

	anon, err := lineapi.New(url)
	if err != nil {
		log.Fatal(err)
	}
	s, err := anon.LoginWithPassword(ctx, lineapi.PasswordLogin{
		Email: exampleEmail, Password: examplePassword,
		E2EE:   &lineapi.LetterSealingLogin{},
		Events: lineapi.LoginEvents{PIN: confirmOnPhone},
	})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := s.LetterSealingKeys()
	if err != nil {
		log.Fatal(err)
	}
	cl, err := lineapi.New(url, lineapi.WithTokenSource(lineapi.StaticToken(s.Tokens.AccessToken)))
	if err != nil {
		log.Fatal(err)
	}
	sealer := &e2ee.Sealer{GW: cl, Keys: &e2ee.MemoryKeyStore{Own: keys}, MID: s.MID}

	from, err := cl.GetLastOpRevision(ctx)
	if err != nil {
		log.Fatal(err)
	}
	aliceSends("the door code is 4711")

	errDone := errors.New("done")
	fw := &stream.Follower{Open: cl, From: from, Follow: true,
		OnOp: func(op *stream.Operation, _ []byte) error {
			m := op.Message
			if op.Type != stream.OpReceiveMessage || m == nil {
				return nil
			}
			if !m.Sealed() {
				fmt.Println("plain:", m.Text)
				return nil
			}
			opened, err := sealer.OpenMessage(ctx, m)
			if err != nil {
				return err // e.g. sealing.ErrUnknownKey: a key LINE no longer has
			}
			fmt.Println("sealed:", opened.Text)
			return errDone // an example reads one message; a program keeps following
		}}
	if err := fw.Run(ctx); !errors.Is(err, errDone) {
		log.Fatal(err)
	}
	// Output: sealed: the door code is 4711
}
