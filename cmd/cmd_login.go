package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/pkg/lineapi"
)

func newCmdLogin(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in as a secondary device (QR code or email + password)",
		Long: `Log in to LINE as a secondary device, as LINE's Chrome extension does.

Two ways:
  linectl login qr         scan a QR code with the LINE app on your phone
  linectl login password   email + password, confirmed on the phone with a PIN

The certificate LINE issues is saved, so later logins from this config skip the PIN.
The gateway and signer the login used are saved too when they came from flags or the
environment (--gateway, LINECTL_GATEWAY, LINECTL_SIGNER, LINECTL_SIGNER_COMMAND), so
later runs — cron, systemd — need none of them.
Tokens are saved in the config file (mode 0600) and refreshed automatically.`,
	}
	cmd.AddCommand(newCmdLoginQR(f, nil), newCmdLoginPassword(f, nil))
	return cmd
}

// loginLine is printed on stdout after a successful login.
type loginLine struct {
	Type            string `json:"type"` // "login"
	MID             string `json:"mid"`
	Method          string `json:"method"` // "qr" | "password"
	UsedCertificate bool   `json:"usedCertificate"`
	RefreshDue      string `json:"refreshDue,omitempty"`
	E2EEKeys        bool   `json:"e2eeKeys"`
	Config          string `json:"config"`
}

// pinLine is printed when the user must confirm a PIN on the phone.
type pinLine struct {
	Type string `json:"type"` // "pin"
	PIN  string `json:"pin"`
}

// loginEvents prints the PIN (stdout line + stderr for a person) and progress.
func loginEvents(f *factory) lineapi.LoginEvents {
	return lineapi.LoginEvents{
		PIN: func(pin string) {
			_ = f.Out().line(pinLine{Type: "pin", PIN: pin})
			f.info("PIN: %s — confirm it in the LINE app on your phone", pin)
		},
		Progress: func(msg string) { f.info("%s…", msg) },
	}
}

// withLoginDeadline bounds a whole login, PIN waits included.
func withLoginDeadline(ctx context.Context, wait time.Duration) (context.Context, context.CancelFunc) {
	if wait <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, wait)
}

// saveLogin stores the session: MID, certificate (kept if none issued),
// tokens, and the gateway and signer the login was made with (keepLoginSettings).
func saveLogin(f *factory, s *lineapi.Session) (*config.Config, error) {
	st, err := f.Store()
	if err != nil {
		return nil, err
	}
	used, err := f.Config()
	if err != nil {
		return nil, err
	}
	var kept []string
	defer func() {
		if len(kept) > 0 {
			f.info("Saved %s in %s: later runs use them without the flags or environment variables.", strings.Join(kept, " and "), st.Path)
		}
	}()
	return st.Update(func(c *config.Config) error {
		kept = keepLoginSettings(c, used)
		if c.Account.MID != "" && c.Account.MID != s.MID {
			c.Account.Certificate = "" // a certificate belongs to one account
		}
		c.Account.MID = s.MID
		if s.Certificate != "" {
			c.Account.Certificate = s.Certificate
		}
		c.Account.LoginMethod = s.Method
		c.Account.LoggedInAt = f.Now().UTC().Format(time.RFC3339)
		c.Tokens = session.Merge(config.Tokens{}, s.Tokens)
		return nil
	})
}

// keepLoginSettings writes into the file c the gateway and the signer the
// login was made with (used: the file with flags and environment laid over
// it) where they differ: the tokens belong to that gateway, and the gateway
// checks that signer's signatures, so a later run — cron or systemd, with
// none of the login's LINECTL_* variables — must use both as they are. The
// default gateway is left implicit. It names what it changed.
func keepLoginSettings(c, used *config.Config) (kept []string) {
	if used.Gateway != c.Gateway && !(c.Gateway == "" && used.Gateway == lineapi.DefaultBaseURL) {
		c.Gateway = used.Gateway
		kept = append(kept, "the gateway ("+used.Gateway+")")
	}
	if used.Signer.Kind != c.Signer.Kind || used.Signer.Command != c.Signer.Command {
		c.Signer.Kind, c.Signer.Command = used.Signer.Kind, used.Signer.Command
		kept = append(kept, "the signer ("+used.Signer.Kind+")")
	}
	return kept
}

func printLogin(f *factory, s *lineapi.Session, c *config.Config, e2eeKeys bool) error {
	f.info("Logged in as %s.", s.MID)
	return f.Out().line(loginLine{
		Type: "login", MID: s.MID, Method: s.Method, UsedCertificate: s.UsedCertificate,
		RefreshDue: c.Tokens.RefreshDue, E2EEKeys: e2eeKeys, Config: f.store.Path,
	})
}

// finishLogin saves the session and its Letter Sealing keys and prints the login line.
func finishLogin(f *factory, s *lineapi.Session) error {
	c, err := saveLogin(f, s)
	if err != nil {
		return err
	}
	keys, err := saveE2EELogin(f, s)
	if err != nil {
		return err
	}
	return printLogin(f, s, c, keys)
}

// loginSetup reads the config, builds an unauthenticated client and bounds the login by wait.
func loginSetup(cmd *cobra.Command, f *factory, wait time.Duration) (*config.Config, *lineapi.Client, context.Context, context.CancelFunc, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	// The session is saved at the end: a config that cannot be written (a
	// link to a missing file, a directory of another user's, a full disk) is
	// refused now, before the QR scan or the PIN at LINE.
	st, err := f.Store()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := st.CheckWritable(); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("login: the session could not be saved, so nothing was asked of LINE: %w", err)
	}
	cl, err := f.Client(false)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ctx, cancel := withLoginDeadline(cmd.Context(), wait)
	return cfg, cl, ctx, cancel, nil
}

// loginError says why a login failed in the person's terms: a wrong email
// or password is exit 4 (LINE refused; trying again will not help), a phone
// that did not act within --wait is exit 3 (still not logged in: log in
// again, with someone at the phone), not a network error scripts would retry.
func loginError(ctx context.Context, err error, wait time.Duration, what string) error {
	switch {
	case errors.Is(err, lineapi.ErrInvalidIdentityCredential), errors.Is(err, lineapi.ErrAuthenticationFailed):
		return withExit(ExitRejected, kindWrongCredentials, &humanError{"login: wrong email or password", fmt.Errorf("login: wrong email or password (%w)", err)})
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return withExit(ExitLogin, kindLoginTimeout, fmt.Errorf("login: %s within --wait %v; run the login again", what, wait))
	case errors.Is(err, lineapi.ErrLoginTimedOut):
		// LINE's own windows ran out before --wait did (a QR code lasts
		// longPollingMaxCount windows of longPollingIntervalSec).
		return withExit(ExitLogin, kindLoginTimeout, fmt.Errorf("login: %s in the time LINE allows for it (the code expired); run the login again", what))
	}
	return fmt.Errorf("login: %w", err)
}
