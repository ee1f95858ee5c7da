package cmd

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

func TestParseSticker(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *lineapi.Sticker
	}{
		{"446/1988", &lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100}},
		{"1/1", &lineapi.Sticker{PackageID: 1, ID: 1, Version: 100}},
		{"11537/52002734", &lineapi.Sticker{PackageID: 11537, ID: 52002734, Version: 100}},
		{"446", nil}, {"446/", nil}, {"/1988", nil}, {"0/1", nil}, {"1/0", nil}, {"-1/2", nil}, {"+1/2", nil},
		{"01/2", nil}, {"1/2/3", nil}, {" 1/2", nil}, {"1 /2", nil}, {"a/b", nil}, {"1.5/2", nil}, {"0x1/2", nil},
		{"99999999999999999999/1", nil}, {"１/2", nil},
	} {
		got, err := parseSticker(tc.in, 100)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%q: accepted as %+v", tc.in, got)
			}
			continue
		}
		if err != nil || *got != *tc.want {
			t.Errorf("%q: %+v, %v", tc.in, got, err)
		}
	}
}

func TestSendStickerArgs(t *testing.T) {
	const to = "c0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--to", to, "--sticker", "446/1988"}, true},
		{[]string{"--to", to, "--sticker", "446/1988", "--sticker-version", "3"}, true},
		{[]string{"--to", to, "--sticker", "446/1988", "--sticker-text", "[OK]", "--sticker-option", "A"}, true},
		{[]string{"--to", to, "--sticker", "446/1988", "--sticker-text", strings.Repeat("x", 101)}, false},
		{[]string{"--to", to, "--sticker-text", "[OK]", "text"}, false},
		{[]string{"--to", to, "--sticker-option", "A", "text"}, false},
		{[]string{"--to", to, "--sticker", "446/1988", "text"}, false},
		{[]string{"--to", to, "--sticker", "446/1988", "--sticker-version", "0"}, false},
		{[]string{"--to", to, "--sticker", "446"}, false},
		{[]string{"--to", to, "--sticker", "0/1988"}, false},
		{[]string{"--to", to, "--sticker-version", "3", "text"}, false},
		{[]string{"--jsonl", "--sticker", "446/1988"}, false},
		{[]string{"--sticker", "446/1988"}, false}, // no destination
	} {
		f, _, _ := testFactory(t)
		var got *sendOptions
		cmd := newCmdSend(f, func(o *sendOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		var ee *exitError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case !tc.ok && (!errors.As(err, &ee) || ee.code != ExitUsage):
			t.Errorf("%q: %v, want a usage error (exit 2)", tc.args, err)
		case tc.ok && (got.Sticker == nil || got.Sticker.PackageID != 446 || got.Sticker.ID != 1988 || got.Text != ""):
			t.Errorf("%q: options %+v", tc.args, got)
		}
	}
}

func TestJSONLStickerLines(t *testing.T) {
	const to = "c0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		line, err string
		want      *lineapi.Sticker
	}{
		{`{"to":"` + to + `","sticker":"446/1988"}`, "", &lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100}},
		{`{"to":"` + to + `","sticker":"446/1988","stickerVersion":7}`, "", &lineapi.Sticker{PackageID: 446, ID: 1988, Version: 7}},
		{`{"to":"` + to + `","sticker":"446/1988","text":"hi"}`, "text or a sticker, not both", nil},
		{`{"to":"` + to + `","sticker":"446/1988","text":""}`, "text or a sticker, not both", nil},
		{`{"to":"` + to + `","sticker":"446"}`, "use PKG/ID", nil},
		{`{"to":"` + to + `","sticker":446}`, "not a JSON object", nil},
		{`{"to":"` + to + `","stickerVersion":3,"text":"x"}`, "without sticker", nil},
		{`{"to":"` + to + `","stickerText":"[OK]","text":"x"}`, "without sticker", nil},
		{`{"to":"` + to + `","sticker":"446/1988","stickerText":"[OK]","stickerOption":"A"}`, "",
			&lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100, Text: "[OK]", Option: "A"}},
		{`{"to":"` + to + `","sticker":"446/1988","stickerText":"a\nb"}`, "control character", nil},
		{`{"to":"` + to + `","sticker":"446/1988","stickerText":"\u200b"}`, "empty to a reader", nil},
		{`{"to":"` + to + `","sticker":"446/1988","stickerOption":"A B"}`, "letters and digits", nil},
		{`{"to":"` + to + `","sticker":"1/2","stickerVersion":0}`, "positive", nil},
		{`{"to":"` + to + `"}`, "empty", nil},
	} {
		j := parseJSONL(3, tc.line)
		if tc.err != "" {
			var ee *exitError
			if j.err == nil || !errors.As(j.err, &ee) || ee.code != ExitUsage || !strings.Contains(j.err.Error(), tc.err) {
				t.Errorf("%s: %v, want exit 2 %q", tc.line, j.err, tc.err)
			}
			continue
		}
		if j.err != nil || j.sticker == nil || *j.sticker != *tc.want || j.text != "" || j.to != to {
			t.Errorf("%s: %+v", tc.line, j)
		}
	}
}

// The extension's Cb: exactly the non-empty string keys among STKPKGID,
// STKID, STKTXT, STKVER, STKOPT, STKHASH and STK_IMG_TXT (issue 24.5).
func TestStickerMetadataAsCb(t *testing.T) {
	for _, tc := range []struct {
		st   lineapi.Sticker
		want string
	}{
		{lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100}, "STKID=1988 STKPKGID=446 STKVER=100"},
		{lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100, Text: "[OK]", Option: "A"}, "STKID=1988 STKOPT=A STKPKGID=446 STKTXT=[OK] STKVER=100"},
		{lineapi.Sticker{PackageID: 1, ID: 2, Hash: "h", ImageText: "hi"}, "STKHASH=h STKID=2 STKPKGID=1 STK_IMG_TXT=hi"},
	} {
		md := tc.st.Metadata()
		var kv []string
		for k, v := range md {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		if got := strings.Join(kv, " "); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.st, got, tc.want)
		}
	}
}
