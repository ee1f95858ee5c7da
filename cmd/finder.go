package cmd

import (
	"context"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// streamFinder finds SEND_MESSAGE operations on the operation stream.
type streamFinder struct{ cl *lineapi.Client }

func (s *streamFinder) FindSends(ctx context.Context, fromRevision int64, reqSeqs []int64) (map[int64]string, error) {
	return stream.FindSends(ctx, s.cl, fromRevision, reqSeqs)
}
