package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/pkg/lineapi"
)

type logoutOptions struct {
	deps
	// ForgetKeys removes the Letter Sealing key store (--forget-device).
	ForgetKeys func() error
	// ForgetOBSToken removes the object-storage token kept for later runs.
	ForgetOBSToken func() error
	// Ended tells the run that the session was ended on purpose (no
	// "session ended" handling of its errors).
	Ended        func()
	ForgetDevice bool
}

func newCmdLogout(f *factory, runF func(*logoutOptions) error) *cobra.Command {
	opts := &logoutOptions{deps: f.deps(),
		ForgetKeys: func() error {
			st, err := f.State()
			if err != nil {
				return err
			}
			return st.RemoveKeys()
		},
		ForgetOBSToken: func() error {
			st, err := f.State()
			if err != nil {
				return err
			}
			return st.RemoveOBSToken()
		},
		Ended: func() { f.sessionUsed = false },
	}
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
			return runLogout(cmd.Context(), opts)
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

func runLogout(ctx context.Context, opts *logoutOptions) error {
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	remote := true
	if err := cl.Logout(ctx); err != nil {
		if !lineapi.IsSessionGone(err) && !errors.Is(err, lineapi.ErrMustRefreshToken) {
			return fmt.Errorf("logout: %w", err)
		}
		remote = false // already ended on LINE's side: still clear locally
	}
	store, err := opts.Store()
	if err != nil {
		return err
	}
	c, err := store.Update(func(c *config.Config) error {
		c.Tokens = config.Tokens{}
		// The object-storage token was issued under the ended session.
		if err := opts.ForgetOBSToken(); err != nil {
			return err
		}
		if opts.ForgetDevice {
			c.Account.Certificate = ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	opts.Ended()
	if opts.ForgetDevice {
		// Under the key store's lock, so that a running receive or send
		// that saves its key cache afterwards finds it gone.
		if err := opts.ForgetKeys(); err != nil {
			return err
		}
	}
	opts.Info("Logged out.")
	return opts.Out.line(logoutLine{Type: "logout", MID: c.Account.MID, ForgotDevice: opts.ForgetDevice, Remote: remote})
}
