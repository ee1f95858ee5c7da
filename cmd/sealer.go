package cmd

import (
	"context"
	"fmt"

	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
)

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
func newSealer(f *factory, cl *lineapi.Client) (*e2ee.Sealer, *state.KeyFile, error) {
	st, err := f.State()
	if err != nil {
		return nil, nil, err
	}
	ks, err := st.Keys()
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

// sealerOpener gives a run the account's Letter Sealing sealer/opener and
// what saves the keys it fetched (a command's dependency; fakes in tests).
type sealerOpener func(ctx context.Context, cl *lineapi.Client) (s *e2ee.Sealer, save func() error, err error)

// storedSealer is newSealer as it is: its MID from the config or the key
// store (receive opens what arrives; it asks LINE for nothing more).
func (f *factory) storedSealer(_ context.Context, cl *lineapi.Client) (*e2ee.Sealer, func() error, error) {
	s, keys, err := newSealer(f, cl)
	if err != nil {
		return nil, nil, err
	}
	return s, keys.Save, nil
}

// accountSealer is the sealer of a run that sends or must know whose
// messages it opens: its MID is the account's (accountMID).
func (f *factory) accountSealer(ctx context.Context, cl *lineapi.Client) (*e2ee.Sealer, func() error, error) {
	s, save, err := f.storedSealer(ctx, cl)
	if err != nil {
		return nil, nil, err
	}
	if s.MID, err = accountMID(ctx, f, cl); err != nil {
		return nil, nil, err
	}
	return s, save, nil
}
