package stream

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/linectl/linectl/pkg/lineapi/internal/jsondepth"
)

func TestOversizedEventIsSkippedNotFatal(t *testing.T) {
	big := strings.Repeat("x", 3000)
	in := "id: 7\ndata: " + big + "\ndata: more\n\n" + // over the data bound
		"id: 8\ndata: a" + big + "\n\n" + // one line over the line bound
		"data: ok\n\n"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
		rd := NewReaderSize(r, 16, 1<<10)
		for _, id := range []string{"7", "8"} {
			_, err := rd.Next()
			var tl *TooLargeError
			if !errors.As(err, &tl) || !errors.Is(err, ErrEventTooLarge) || tl.ID != id || tl.Bytes < 3000 {
				t.Fatalf("err %v (%+v), want TooLargeError id %s", err, tl, id)
			}
		}
		ev, err := rd.Next()
		if err != nil || string(ev.Data) != "ok" || ev.OwnID {
			t.Fatalf("after skipping: %q %v", ev.Data, err)
		}
	}
}

func TestNestingBound(t *testing.T) {
	deep := `{"revision":"5","type":26,"message":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	if _, err := ParseOperation([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("err %v", err)
	}
	// Brackets inside strings do not count.
	ok := `{"revision":"5","type":26,"message":{"text":"` + strings.Repeat("[{\\\"", 100) + `"}}`
	if _, err := ParseOperation([]byte(ok)); err != nil {
		t.Fatalf("err %v", err)
	}
}

type fakeOpener struct{ bodies []string }

func (o *fakeOpener) OpenOperationStream(ctx context.Context, rev int64) (io.ReadCloser, error) {
	if len(o.bodies) == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	b := o.bodies[0]
	o.bodies = o.bodies[1:]
	return io.NopCloser(strings.NewReader(b)), nil
}

func TestImplausibleRevisionsAreRefused(t *testing.T) {
	body := "id: 1\ndata: {\"revision\":\"101\",\"type\":26}\n\n" +
		"id: 2\ndata: {\"revision\":\"9000000000000000000\",\"type\":26}\n\n" +
		"event: fullSync\ndata: {\"reasons\":[1],\"nextRevision\":\"9223372036854775807\"}\n\n" +
		"id: 3\ndata: {\"revision\":\"102\",\"type\":26}\n\n" +
		"id: 4\ndata: {\"revision\":\"500000\",\"type\":26}\n\n" // within the margin of LINE's newest
	var got []int64
	var refused []int64
	latestCalls := 0
	f := &Follower{Open: &fakeOpener{bodies: []string{body}}, From: 100,
		Latest: func(context.Context) (int64, error) { latestCalls++; return 103, nil },
		OnOp:   func(op *Operation, _ []byte) error { got = append(got, op.Revision); return nil },
		OnIdle: func(rev int64) error {
			if rev > 1<<40 {
				t.Fatalf("saved %d", rev)
			}
			return nil
		},
		OnNotice: func(n Notice) {
			if n.Event == "revisionRefused" {
				refused = append(refused, n.Revision)
			}
		},
	}
	if err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 101 || got[1] != 102 || got[2] != 500000 || f.Revision() != 500000 {
		t.Fatalf("handed out %v, revision %d", got, f.Revision())
	}
	if len(refused) != 2 || latestCalls != 1 {
		t.Fatalf("refused %v, %d getLastOpRevision calls", refused, latestCalls)
	}
}

func FuzzNestingOK(f *testing.F) {
	for _, s := range []string{`{}`, `[[["a"]]]`, `{"a":"[[[["}`, `"\\"`, `[`, `]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !jsondepth.Within(b, 3) {
			return
		}
		_, _ = ParseOperation(b)
		_, _ = parseFullSync(b)
		_, _ = parseTalkException(b)
	})
}
