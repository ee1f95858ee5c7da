package cmd

import (
	"context"
	"fmt"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/keystore"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
)

// e2eeKeysPath is the Letter Sealing key store beside the config.
func e2eeKeysPath(f *factory) string {
	return f.store.Beside(config.FileE2EEKeys)
}

// accountMID is the logged-in account's MID: the config's, else LINE's
// answer to getProfile (a config from before the MID was saved).
func accountMID(ctx context.Context, f *factory, cl *lineapi.Client) (string, error) {
	if f.cfg != nil && f.cfg.Account.MID != "" {
		return f.cfg.Account.MID, nil
	}
	p, err := cl.GetProfile(ctx)
	if err != nil {
		return "", err
	}
	return p.MID, nil
}

// newSealer returns the account's Letter Sealing sealer/opener over the key
// store beside the config. A key store that cannot be read is an error (exit
// 2, kind config): it is kept as it is, never replaced by an empty one.
// The caller saves the store (ks.Save) when done.
func newSealer(f *factory, cl *lineapi.Client) (*e2ee.Sealer, *keystore.File, error) {
	ks, err := keystore.Open(e2eeKeysPath(f))
	if err != nil {
		return nil, nil, err
	}
	s := &e2ee.Sealer{GW: cl, Keys: ks, MID: ks.MID()}
	if f.cfg != nil && f.cfg.Account.MID != "" {
		s.MID = f.cfg.Account.MID
	}
	if f.Debug {
		s.Debugf = func(format string, a ...any) { fmt.Fprintf(f.IO.ErrOut, "debug: letter sealing: "+format+"\n", a...) }
	}
	return s, ks, nil
}
