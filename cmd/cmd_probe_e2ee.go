package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
)

type probeOptions struct {
	deps
	MIDs  []string
	Names []string
}

func newCmdProbeE2EE(f *factory, runF func(*probeOptions) error) *cobra.Command {
	opts := &probeOptions{deps: f.deps()}
	cmd := &cobra.Command{
		Use:   "probe-e2ee MID [MID…]",
		Short: "Ask LINE whether Letter Sealing (E2EE) is usable with a user, group or room",
		Long: `Run the Letter Sealing probe LINE's Chrome extension runs before each send, and print what
LINE answered, one line per MID:

  {"type":"e2ee","mid":…,"toType":N,"usable":bool,"specVersion":N,"allowedTypes":[…],"reason":…}

For a user: negotiateE2EEPublicKey. For a group or room: getLastE2EEGroupSharedKey, then
getLastE2EEPublicKeys when the chat has no group key yet. Key ids are shown when LINE sent keys.`,
		Example: `  linectl probe-e2ee u0123456789abcdef0123456789abcdef
  linectl probe-e2ee --name "Family"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.MIDs = args
			if len(args) == 0 && len(opts.Names) == 0 {
				return usageErrorf("give at least one MID (or --name)")
			}
			for _, m := range args {
				if _, err := lineapi.ParseMID(m); err != nil {
					return usageErrorf("%v", err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runProbe(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Names, "name", nil, "chat or contact by exact name; repeatable")
	cmd.ValidArgsFunction = completeDestinations(f, false)
	_ = cmd.RegisterFlagCompletionFunc("name", completeDestinations(f, true))
	return cmd
}

// probeLine is one probe-e2ee result.
type probeLine struct {
	Type         string         `json:"type"` // "e2ee"
	MID          string         `json:"mid"`
	ToType       int            `json:"toType"`
	Usable       bool           `json:"usable"`
	SpecVersion  int            `json:"specVersion"`
	AllowedTypes []int          `json:"allowedTypes"`
	Reason       string         `json:"reason,omitempty"`
	PeerKeyID    *int           `json:"peerKeyId,omitempty"`
	GroupKeyID   *int           `json:"groupKeyId,omitempty"`
	MemberKeyIDs map[string]int `json:"memberKeyIds,omitempty"`
}

func runProbe(ctx context.Context, opts *probeOptions) error {
	mids, err := opts.Resolve(ctx, opts.MIDs, opts.Names)
	if err != nil {
		return err
	}
	cl, err := opts.Client(true)
	if err != nil {
		return err
	}
	for _, mid := range mids {
		p, err := cl.ProbeE2EE(ctx, mid)
		if err != nil {
			return fmt.Errorf("probe %s: %w", mid, err)
		}
		l := probeLine{Type: "e2ee", MID: mid, ToType: int(p.ToType), Usable: p.Usable, SpecVersion: p.SpecVersion,
			AllowedTypes: p.AllowedTypes, Reason: p.Reason}
		if l.AllowedTypes == nil {
			l.AllowedTypes = []int{} // LINE did not say (a group without a key yet)
		}
		if p.PeerKey != nil {
			l.PeerKeyID = &p.PeerKey.KeyID
		}
		if p.GroupKey != nil {
			l.GroupKeyID = &p.GroupKey.GroupKeyID
		}
		if len(p.MemberKeys) > 0 {
			l.MemberKeyIDs = map[string]int{}
			for m, k := range p.MemberKeys {
				l.MemberKeyIDs[m] = k.KeyID
			}
		}
		if err := opts.Out.line(l); err != nil {
			return err
		}
	}
	return nil
}
