package cmd

import (
	"reflect"
	"testing"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// A login keeps in the file the gateway and signer it was made with, so a
// later run without the login's flags and environment (cron) uses them.
func TestKeepLoginSettings(t *testing.T) {
	sandbox, signer := "http://127.0.0.1:8765", "/usr/bin/linectl sandbox signer --key linectl-sandbox"
	cmdSigner := config.Signer{Kind: config.SignerCommand, Command: signer}
	wasm := config.Signer{Kind: config.SignerWasm, Dir: "signer"}
	for _, tc := range []struct {
		name       string
		file, used config.Config
		want       config.Config
		kept       int
	}{
		{"sandbox from the environment", config.Config{}, config.Config{Gateway: sandbox, Signer: cmdSigner},
			config.Config{Gateway: sandbox, Signer: cmdSigner}, 2},
		{"LINE's gateway, default and imported module: nothing to add", config.Config{Signer: wasm},
			config.Config{Gateway: lineapi.DefaultBaseURL, Signer: wasm}, config.Config{Signer: wasm}, 0},
		{"back to LINE's gateway from a sandbox config", config.Config{Gateway: sandbox, Signer: cmdSigner},
			config.Config{Gateway: lineapi.DefaultBaseURL, Signer: wasm}, config.Config{Gateway: lineapi.DefaultBaseURL, Signer: config.Signer{Kind: config.SignerWasm}}, 2},
		{"already saved", config.Config{Gateway: sandbox, Signer: cmdSigner}, config.Config{Gateway: sandbox, Signer: cmdSigner},
			config.Config{Gateway: sandbox, Signer: cmdSigner}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.file
			kept := keepLoginSettings(&c, &tc.used)
			if len(kept) != tc.kept || !reflect.DeepEqual(c, tc.want) {
				t.Fatalf("kept %q, file %+v; want %d kept, %+v", kept, c, tc.kept, tc.want)
			}
		})
	}
}
