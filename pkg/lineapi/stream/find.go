package stream

import (
	"context"
	"errors"
	"time"
)

// Operation types of the conversation calls (docs/protocol.md §7, §10).
const (
	OpSendChatChecked        OpType = 40
	OpDestroyMessage         OpType = 64
	OpNotifiedDestroyMessage OpType = 65
	OpSendReaction           OpType = 139
	OpNotifiedSendReaction   OpType = 140
)

// FindOp follows the stream from rev until an operation matches or ctx
// ends; it reports whether one matched. It settles a call whose answer was
// lost by the operation the call makes (unsendMessage's DESTROY_MESSAGE).
func FindOp(ctx context.Context, open Opener, rev int64, match func(*Operation) bool) (bool, error) {
	found := false
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &Follower{Open: open, From: rev, Follow: true, Backoff: 200 * time.Millisecond,
		OnOp: func(op *Operation, _ []byte) error {
			if !found && match(op) {
				found = true
				cancel()
			}
			return nil
		}}
	if l, ok := open.(interface {
		GetLastOpRevision(context.Context) (int64, error)
	}); ok {
		f.Latest = l.GetLastOpRevision
	}
	err := f.Run(ctx)
	if found || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return found, nil
	}
	return found, err
}
