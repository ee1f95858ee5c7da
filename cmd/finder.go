package cmd

import (
	"context"
	"errors"

	"github.com/linectl/linectl/pkg/lineapi"
)

// streamFinder finds SEND_MESSAGE operations on the operation stream.
type streamFinder struct{ cl *lineapi.Client }

func (s *streamFinder) FindSends(ctx context.Context, fromRevision int64, reqSeqs []int64) (map[int64]string, error) {
	return nil, errors.New("operation stream reader not available yet")
}
