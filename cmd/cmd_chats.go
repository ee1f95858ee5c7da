package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/state"
)

type listOptions struct {
	deps
	Directory directoryStore // the chats and contacts cache
	Refresh   bool
}

// directoryStore keeps the chats and contacts cache (the file beside the
// config; a map in tests).
type directoryStore interface {
	Load() *state.Names
	Save(*state.Names) error
}

// fileDirectory is the cache file of the factory's config.
type fileDirectory struct{ f *factory }

func (d fileDirectory) Load() *state.Names        { return loadDirectory(d.f) }
func (d fileDirectory) Save(x *state.Names) error { return saveDirectory(d.f, x) }

func newListOptions(f *factory) *listOptions {
	return &listOptions{deps: f.deps(), Directory: fileDirectory{f}}
}

func newCmdChats(f *factory, runF func(*listOptions) error) *cobra.Command {
	opts := newListOptions(f)
	cmd := &cobra.Command{
		Use:   "chats",
		Short: "List the groups and rooms the account is in or invited to",
		Long: `List every group and room the account is a member of or invited to, one line each:

  {"type":"chat","mid":"c…","name":"Family","kind":"group","members":3,"invited":false}

The list comes from LINE (getAllChatMids, then getChats in batches of 100) and is cached in
the config directory; --to-name and shell completion read the cache. The cache is used when
it is younger than 24 hours unless --refresh is given.`,
		Example: `  linectl chats
  linectl chats --refresh | jq -r 'select(.name=="Family") | .mid'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runList(cmd.Context(), opts, true)
		},
	}
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "fetch from LINE even if the cache is fresh")
	return cmd
}

func newCmdContacts(f *factory, runF func(*listOptions) error) *cobra.Command {
	opts := newListOptions(f)
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "List the account's friends",
		Long: `List the account's friends, one line each:

  {"type":"contact","mid":"u…","displayName":"Bob"}

The list comes from LINE (getAllContactIds, then getContactsV2 in batches of 100) and is
cached like 'linectl chats' (24 hours unless --refresh).`,
		Example: `  linectl contacts | jq -r 'select(.displayName=="Bob") | .mid'`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runList(cmd.Context(), opts, false)
		},
	}
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "fetch from LINE even if the cache is fresh")
	return cmd
}

func runList(ctx context.Context, opts *listOptions, chats bool) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	if !cfg.Tokens.LoggedIn() {
		return errNotLoggedIn
	}
	d := opts.Directory.Load()
	now := opts.Now()
	fresh := now.Sub(d.ChatsAt) <= DirectoryMaxAge
	if !chats {
		fresh = now.Sub(d.ContactAt) <= DirectoryMaxAge
	}
	if opts.Refresh || !fresh {
		cl, err := opts.Client(true)
		if err != nil {
			return err
		}
		if chats {
			if d.Chats, err = fetchChats(ctx, cl); err != nil {
				return err
			}
			d.ChatsAt = now
		} else {
			if d.Contacts, err = fetchContacts(ctx, cl); err != nil {
				return err
			}
			d.ContactAt = now
		}
		if err := opts.Directory.Save(d); err != nil {
			return err
		}
	}
	out := opts.Out
	if chats {
		for _, c := range d.Chats {
			if err := out.line(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range d.Contacts {
		if err := out.line(c); err != nil {
			return err
		}
	}
	return nil
}

// completeDestinations completes --to with cached MIDs and --to-name with names.
func completeDestinations(f *factory, names bool) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		d := loadDirectory(f)
		var out []string
		add := func(mid, name string) {
			if !strings.HasPrefix(mid, prefix) && !strings.HasPrefix(name, prefix) {
				return
			}
			if names {
				out = append(out, name)
			} else {
				out = append(out, mid+"\t"+name)
			}
		}
		for _, c := range d.Chats {
			add(c.MID, c.Name)
		}
		for _, c := range d.Contacts {
			add(c.MID, c.DisplayName)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
