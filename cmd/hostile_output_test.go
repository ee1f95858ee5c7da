package cmd

import (
	"strings"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

const steering = "a\u009b31m\u202eb\u2066c\u200fd\x7fe\x1bf"

func TestNoSteeringCharacterIsWrittenRaw(t *testing.T) {
	b, err := marshalLine(noticeLine{Type: "notice", Event: "x", Detail: steering})
	if err != nil {
		t.Fatal(err)
	}
	enc := string(appendString(nil, steering))
	for _, out := range []string{string(b), enc} {
		for _, r := range out {
			if r != '\n' && lineapi.IsSteering(r) {
				t.Fatalf("raw %U in %q", r, out)
			}
		}
		if !strings.Contains(out, `a\u009b31m\u202eb\u2066c\u200fd\u007fe\u001bf`) {
			t.Fatalf("not escaped as \\uXXXX: %q", out)
		}
	}
	if !strings.HasSuffix(string(b), "}\n") {
		t.Fatalf("line ending lost: %q", b)
	}
}

func TestBadResponseIsTemporaryForReads(t *testing.T) {
	_, err := lineapi.ParseEnvelope(200, []byte("OK"))
	if c := classify(err); c.code != ExitTemporary || c.kind != "bad_response" {
		t.Fatalf("%+v", c)
	}
}
