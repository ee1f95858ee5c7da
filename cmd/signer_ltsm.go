package cmd

import (
	"errors"
	"path/filepath"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

// wasmSigner opens the imported LINE signing module.
func (f *factory) wasmSigner(c *config.Config) (lineapi.Signer, error) {
	return nil, withExit(ExitUsage, "no_signer", errors.New("the wasm signer is not available in this build; use signer.kind: command"))
}

func e2eeKeysPath(f *factory) string {
	return filepath.Join(filepath.Dir(f.store.Path), "e2ee-keys.json")
}
