package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tetratelabs/wazero"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/wasmsign"
)

// wasmSigner opens the imported LINE signing module, with wazero's compiled
// code cached in the user cache directory so a cron run starts fast.
func (f *factory) wasmSigner(c *config.Config) (lineapi.Signer, error) {
	dir := c.Signer.Dir
	if dir == "" {
		dir = filepath.Join(filepath.Dir(f.store.Path), "signer")
	}
	info, err := wasmsign.ReadInfo(dir)
	if err != nil {
		return nil, withExit(ExitUsage, "no_signer", err)
	}
	var cache wazero.CompilationCache
	if cd, err := os.UserCacheDir(); err == nil {
		if cc, err := wazero.NewCompilationCacheWithDir(filepath.Join(cd, "linectl", "wazero")); err == nil {
			cache = cc
		}
	}
	s, err := wasmsign.OpenFile(context.Background(), filepath.Join(dir, "ltsm.wasm"), wasmsign.Options{Token: info.Token, Version: info.Version, Cache: cache,
		AllowUnknownBuild: true, StateDir: dir, SHA256: info.WasmSHA256})
	if err != nil {
		return nil, withExit(ExitUsage, "no_signer", fmt.Errorf("load the signing module: %w", err))
	}
	f.closers = append(f.closers, s.Close)
	f.signerVersion = info.Version
	return s, nil
}

func e2eeKeysPath(f *factory) string {
	return filepath.Join(filepath.Dir(f.store.Path), "e2ee-keys.json")
}
