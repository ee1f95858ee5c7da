package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newCmdSession(f *factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Manage the saved session",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "refresh",
		Short: "Refresh the access token now",
		Long: `Refresh the access token now (POST /api/auth/tokenRefresh), whether or not it is due, and
save the new tokens. linectl refreshes on its own before any call once the token is due and
whenever LINE says it expired, so this is not needed for normal use; it makes a good weekly
health check from cron: exit 0 means the session is alive, exit 3 means log in again.`,
		Example: `  0 9 * * 1  linectl session refresh >/dev/null || echo "LINE session needs a login" | mail -s linectl me`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSessionRefresh(cmd.Context(), f.deps())
		},
	})
	return cmd
}

// sessionLine is printed by session refresh.
type sessionLine struct {
	Type       string `json:"type"` // "session"
	RefreshDue string `json:"refreshDue,omitempty"`
	IssuedAt   int64  `json:"tokenIssuedAt,omitempty"`
}

// runSessionRefresh renews the access token now and prints the new state.
func runSessionRefresh(ctx context.Context, d deps) error {
	if _, err := d.Client(true); err != nil {
		return err
	}
	src := d.Session()
	if _, err := src.Refresh(ctx, src.Tokens().AccessToken); err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	t := src.Tokens()
	return d.Out.line(sessionLine{Type: "session", RefreshDue: t.RefreshDue, IssuedAt: t.TokenIssueTimeEpochSec})
}
