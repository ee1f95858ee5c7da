package e2ee_test

import (
	"log"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// The example's stand-in for LINE: the project's gateway simulator, with
// the sandbox's accounts. Bob uses Letter Sealing and his phone confirms
// the PIN his login shows; Alice sends him a sealed message.
const (
	exampleEmail    = simgw.BobEmail
	examplePassword = simgw.DemoPassword
)

var sim *simgw.Server

func startGateway() (url string, stop func()) {
	sim = simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond, PhoneMID: simgw.BobMID, ManualScan: true})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return url, func() { _ = sim.Close() }
}

// confirmOnPhone is the person typing the PIN into LINE on the phone.
func confirmOnPhone(pin string) {
	go func() {
		if err := sim.ConfirmPIN(pin); err != nil {
			log.Fatal(err)
		}
	}()
}

// aliceSends has Alice send the account a sealed message (Letter Sealing V2).
func aliceSends(text string) {
	if err := sim.InjectSealedMessage(simgw.AliceMID, simgw.BobMID, 2, text, simgw.SealOK); err != nil {
		log.Fatal(err)
	}
}
