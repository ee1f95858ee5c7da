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
	err := search(ctx, open, rev, func(op *Operation) bool {
		found = match(op)
		return found
	})
	return found, err
}

// FindSends follows the stream from rev until every reqSeq's SEND_MESSAGE
// operation was seen or ctx ends; it returns reqSeq → message id of those seen.
func FindSends(ctx context.Context, open Opener, rev int64, reqSeqs []int64) (map[int64]string, error) {
	want := map[int64]bool{}
	for _, s := range reqSeqs {
		want[s] = true
	}
	found := map[int64]string{}
	err := search(ctx, open, rev, func(op *Operation) bool {
		if op.Type == OpSendMessage && want[op.ReqSeq] {
			if op.Message != nil {
				found[op.ReqSeq] = op.Message.ID
			} else {
				found[op.ReqSeq] = ""
			}
		}
		return len(found) == len(want)
	})
	return found, err
}

// search follows the stream from rev, handing each operation to visit,
// until visit says it is done or ctx ends (neither is an error: the caller
// reads what visit saw). The stream's newest revision is asked beside it
// when open can tell (Follower.Latest).
func search(ctx context.Context, open Opener, rev int64, visit func(*Operation) (done bool)) error {
	done := false
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &Follower{Open: open, From: rev, Follow: true, Backoff: 200 * time.Millisecond,
		OnOp: func(op *Operation, _ []byte) error {
			if !done && visit(op) {
				done = true
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
	if done || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
