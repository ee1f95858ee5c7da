package delivery_test

import (
	"log"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// The examples' stand-in for LINE: the project's gateway simulator, with
// the sandbox's accounts (Carol's password login needs no phone).
const (
	exampleEmail    = simgw.CarolEmail
	examplePassword = simgw.DemoPassword
	exampleRoom     = simgw.RoomMID
)

func startGateway() (url string, stop func()) {
	sim := simgw.NewSandbox(simgw.Options{PhoneDelay: time.Millisecond})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return url, func() { _ = sim.Close() }
}
