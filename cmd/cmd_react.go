package cmd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
)

type reactOptions struct {
	deps
	MessageID string
	Reaction  string
	Cancel    bool
	reaction  int
}

func newCmdReact(f *factory, runF func(*reactOptions) error) *cobra.Command {
	opts := &reactOptions{deps: f.deps()}
	names := strings.Join(lineapi.Reactions, "|")
	cmd := &cobra.Command{
		Use:   "react MESSAGE_ID --reaction " + names + " | --cancel",
		Short: "React to a message with one of LINE's six reactions, or take the reaction back",
		Long: `React to a message of a chat the account is in with one of LINE's six predefined
reactions, by their protocol names: nice (2), love (3), fun (4), amazing (5), sad (6), omg (7).
An account has one reaction per message: a new one replaces the old. --cancel takes it back.

  {"type":"reacted","messageId":"…","reaction":"nice"}
  {"type":"reacted","messageId":"…","cancelled":true}

An unknown or unsent message, or one of a chat the account is not in, exits 4.
A reaction sets a state: a lost answer is repeated (the repeat sets the same reaction,
and cancelling a reaction that is gone is not an error), so there is no unknown outcome.`,
		Example: `  linectl react 605311889450213291 --reaction nice
  linectl react 605311889450213291 --cancel`,
		Args: messageIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.MessageID = args[0]
			switch t, ok := lineapi.ReactionType(opts.Reaction); {
			case opts.Cancel && opts.Reaction != "":
				return usageErrorf("--cancel takes the reaction back: no --reaction with it")
			case !opts.Cancel && opts.Reaction == "":
				return usageErrorf("give --reaction %s, or --cancel", names)
			case !opts.Cancel && !ok:
				return usageErrorf("--reaction %q: one of %s", opts.Reaction, strings.ReplaceAll(names, "|", ", "))
			default:
				opts.reaction = t
			}
			if runF != nil {
				return runF(opts)
			}
			return runReact(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reaction, "reaction", "", "the reaction: "+strings.ReplaceAll(names, "|", ", "))
	cmd.Flags().BoolVar(&opts.Cancel, "cancel", false, "take the account's reaction back")
	_ = cmd.RegisterFlagCompletionFunc("reaction", cobra.FixedCompletions(lineapi.Reactions, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// reactedLine is a reaction set or taken back (by react, or by receive for
// a reaction in a chat).
type reactedLine struct {
	Type      string `json:"type"` // "reacted"
	MessageID string `json:"messageId"`
	Reaction  string `json:"reaction,omitempty"` // nice, love, fun, amazing, sad, omg
	Cancelled bool   `json:"cancelled,omitempty"`
	Chat      string `json:"chat,omitempty"`
	From      string `json:"from,omitempty"` // receive: who reacted
	Revision  string `json:"revision,omitempty"`
}

func runReact(ctx context.Context, opts *reactOptions) error {
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	seq := int64(rand.Int32N(1<<30)) + 1
	if opts.Cancel {
		err = cl.CancelReaction(ctx, seq, opts.MessageID)
	} else {
		err = cl.React(ctx, seq, opts.MessageID, opts.reaction)
	}
	if errors.Is(err, lineapi.ErrMessageNotFound) {
		return fmt.Errorf("react %s: no such message in a chat of this account (or it was unsent): %w", opts.MessageID, err)
	}
	if err != nil {
		return fmt.Errorf("react %s: %w", opts.MessageID, err)
	}
	return opts.Out.line(reactedLine{Type: "reacted", MessageID: opts.MessageID, Reaction: opts.Reaction, Cancelled: opts.Cancel})
}
