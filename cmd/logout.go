package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/keystore"
	"github.com/linectl/linectl/pkg/lineapi"
)

type logoutOptions struct {
	ForgetDevice bool
}

func newCmdLogout(f *factory, runF func(*logoutOptions) error) *cobra.Command {
	opts := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "End the session on LINE and remove the tokens from the config",
		Long: `End this device's session on LINE (logoutV2) and remove the tokens from the config.

The certificate is kept so that the next login skips the PIN; --forget-device removes it
too, along with the Letter Sealing keys. Logging out when not logged in exits 3.`,
		Example: `  linectl logout
  linectl logout --forget-device`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runLogout(cmd, f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.ForgetDevice, "forget-device", false, "also remove the certificate and Letter Sealing keys")
	return cmd
}

// logoutLine is printed after a logout.
type logoutLine struct {
	Type         string `json:"type"` // "logout"
	MID          string `json:"mid"`
	ForgotDevice bool   `json:"forgotDevice"`
	// Remote is false when LINE had already ended the session; the local tokens were removed anyway.
	Remote bool `json:"remote"`
}

func runLogout(cmd *cobra.Command, f *factory, opts *logoutOptions) error {
	cl, err := f.Client(true)
	if err != nil {
		return err
	}
	remote := true
	if err := cl.Logout(cmd.Context()); err != nil {
		if !lineapi.IsSessionGone(err) && !errors.Is(err, lineapi.ErrMustRefreshToken) {
			return fmt.Errorf("logout: %w", err)
		}
		remote = false // already ended on LINE's side: still clear locally
	}
	c, err := f.store.Update(func(c *config.Config) error {
		c.Tokens = config.Tokens{}
		if opts.ForgetDevice {
			c.Account.Certificate = ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.sessionUsed = false
	if opts.ForgetDevice {
		// Under the key store's lock, so that a running receive or send
		// that saves its key cache afterwards finds it gone.
		if err := keystore.Remove(e2eeKeysPath(f)); err != nil {
			return err
		}
	}
	f.info("Logged out.")
	return f.Out().line(logoutLine{Type: "logout", MID: c.Account.MID, ForgotDevice: opts.ForgetDevice, Remote: remote})
}
