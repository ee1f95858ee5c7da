package delivery

import (
	"context"

	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// StreamFinder is the Finder over a client's operation stream: it follows
// the stream from a revision for the SEND_MESSAGE operations carrying the
// reqSeqs (stream.FindSends). A *lineapi.Client is an Opener.
type StreamFinder struct{ Open stream.Opener }

// FindSends implements Finder.
func (f StreamFinder) FindSends(ctx context.Context, fromRevision int64, reqSeqs []int64) (map[int64]string, error) {
	return stream.FindSends(ctx, f.Open, fromRevision, reqSeqs)
}
