package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

type whoamiOptions struct {
	deps
}

func newCmdWhoami(f *factory, runF func(*whoamiOptions) error) *cobra.Command {
	opts := &whoamiOptions{deps: f.deps()}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the logged-in account and the session state",
		Long: `Show the logged-in account's profile (getProfile) and the state of the saved session:
whether a certificate is saved and when the access token is due for refresh. Secrets are
never printed. A session that is due is refreshed first, so this is also a health check.`,
		Example: `  linectl whoami
  linectl whoami | jq -r .displayName`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runWhoami(cmd.Context(), opts)
		},
	}
	return cmd
}

// whoamiLine is the profile plus the session state.
type whoamiLine struct {
	Type          string       `json:"type"` // "whoami"
	MID           string       `json:"mid"`
	DisplayName   string       `json:"displayName"`
	StatusMessage string       `json:"statusMessage,omitempty"`
	Session       sessionState `json:"session"`
}

// sessionState describes the saved session without secrets.
type sessionState struct {
	LoggedIn      bool   `json:"loggedIn"`
	Certificate   bool   `json:"certificate"`
	RefreshDue    string `json:"refreshDue,omitempty"`
	TokenIssuedAt int64  `json:"tokenIssuedAt,omitempty"`
	LoginMethod   string `json:"loginMethod,omitempty"`
	Gateway       string `json:"gateway"`
	ConfigFile    string `json:"configFile"`
}

func runWhoami(ctx context.Context, opts *whoamiOptions) error {
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	p, err := cl.GetProfile(ctx)
	if err != nil {
		return err // names the call already
	}
	c, err := opts.Config()
	if err != nil {
		return err
	}
	store, err := opts.Store()
	if err != nil {
		return err
	}
	t := opts.Session().Tokens() // after any refresh the call made
	return opts.Out.line(whoamiLine{
		Type: "whoami", MID: p.MID, DisplayName: p.DisplayName, StatusMessage: p.StatusMessage,
		Session: sessionState{
			LoggedIn: t.LoggedIn(), Certificate: c.Account.Certificate != "", RefreshDue: t.RefreshDue,
			TokenIssuedAt: t.TokenIssueTimeEpochSec, LoginMethod: c.Account.LoginMethod,
			Gateway: c.Gateway, ConfigFile: store.Path,
		},
	})
}
