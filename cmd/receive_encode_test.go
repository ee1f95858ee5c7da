package cmd

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/linectl/linectl/pkg/lineapi/stream"
)

func TestOperationLine(t *testing.T) {
	raw := `{"revision":"947937","createdTime":"1773625305500","type":25,"reqSeq":662642008,"param1":"0","message":{"from":"u1","to":"c1","toType":2,"id":"605311889450205372","createdTime":"1773625305497","text":"\u30c6\u30b9\u30c8 \ud83d\ude00 \"q\"\n<&>","contentMetadata":{"e2eeVersion":"2"}}}`
	op, err := stream.ParseOperation([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendOperationLine(nil, &op, nil))
	want := `{"type":"operation","revision":"947937","opType":25,"opName":"SEND_MESSAGE","createdTime":"1773625305500","reqSeq":662642008,"param1":"0","message":{"from":"u1","to":"c1","toType":2,"id":"605311889450205372","createdTime":"1773625305497","text":"テスト 😀 \"q\"\n<&>","contentMetadata":{"e2eeVersion":"2"}}}` + "\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	got = string(appendMessageLine(nil, &op, "u1", nil))
	want = `{"type":"message","chat":"c1","from":"u1","text":"テスト 😀 \"q\"\n<&>","messageId":"605311889450205372","createdTime":"1773625305497","revision":"947937"}` + "\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "テスト", "\x00\x1f\"\\", "\u2028", "\xff", "😀\n\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("round trip %q -> %q", s, back)
		}
	})
}
