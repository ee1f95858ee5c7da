package cmd

import (
	"errors"
	"io"
	"testing"

	"github.com/spf13/cobra"
)

func TestComposeMentions(t *testing.T) {
	cm := &chatMembers{
		members: map[string]bool{"u1": true, "u2": true, "u3": true},
		names:   map[string]string{"u1": "Bob", "u2": "ボブ 😀", "u3": "Bobby"},
	}
	for _, tc := range []struct {
		name, text string
		mids       []string
		byNames    bool
		want, md   string
		exit       int
	}{
		{"placeholder", "disk full @ look", []string{"u1"}, false,
			"disk full @Bob look", `{"MENTIONEES":[{"S":"10","E":"14","M":"u1"}]}`, 0},
		{"at the start", "disk full", []string{"u1", "all"}, false,
			"@Bob @All disk full", `{"MENTIONEES":[{"S":"0","E":"4","M":"u1"},{"S":"5","E":"9","A":"1"}]}`, 0},
		{"UTF-16 code units, not bytes", "😀 @, @!", []string{"u2", "u1"}, false,
			"😀 @ボブ 😀, @Bob!", `{"MENTIONEES":[{"S":"3","E":"9","M":"u2"},{"S":"11","E":"15","M":"u1"}]}`, 0},
		{"an e-mail address is no placeholder", "mail ops@example.com", []string{"u1"}, false,
			"@Bob mail ops@example.com", `{"MENTIONEES":[{"S":"0","E":"4","M":"u1"}]}`, 0},
		{"names, longest first, whole names", "@Bobby and @Bob, not @Bobx", nil, true,
			"@Bobby and @Bob, not @Bobx", `{"MENTIONEES":[{"S":"0","E":"6","M":"u3"},{"S":"11","E":"15","M":"u1"}]}`, 0},
		{"not a member", "hi", []string{"u9"}, false, "", "", ExitUsage},
		{"placeholders do not match", "@ and @", []string{"u1"}, false, "", "", ExitUsage},
		{"no name in the text", "hello", nil, true, "", "", ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, md, err := composeMentions(tc.text, tc.mids, tc.byNames, "c1", cm)
			if tc.exit != 0 {
				var ee *exitError
				if !errors.As(err, &ee) || ee.code != tc.exit {
					t.Fatalf("err %v, want exit %d", err, tc.exit)
				}
				return
			}
			if err != nil || got != tc.want || md != tc.md {
				t.Fatalf("got %q %s %v\nwant %q %s", got, md, err, tc.want, tc.md)
			}
		})
	}
}

func TestConversationArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"unsend", "605311889450205372"}, true},
		{[]string{"unsend", "abc"}, false},
		{[]string{"unsend"}, false},
		{[]string{"react", "1", "--reaction", "amazing"}, true},
		{[]string{"react", "1", "--reaction", "like"}, false},
		{[]string{"react", "1"}, false},
		{[]string{"react", "1", "--reaction", "nice", "--cancel"}, false},
		{[]string{"react", "1", "--cancel"}, true},
		{[]string{"history", "--chat", "c0123456789abcdef0123456789abcdef"}, true},
		{[]string{"history"}, false},
		{[]string{"history", "--chat", "c0123456789abcdef0123456789abcdef", "--limit", "0"}, false},
		{[]string{"history", "--chat", "c0123456789abcdef0123456789abcdef", "--before", "x"}, false},
		{[]string{"read", "--chat", "x"}, false},
		{[]string{"read", "--chat", "u0123456789abcdef0123456789abcdef"}, true},
		{[]string{"send", "--to", "c0123456789abcdef0123456789abcdef", "--reply-to", "12", "hi"}, true},
		{[]string{"send", "--to", "c0123456789abcdef0123456789abcdef", "--reply-to", "-1", "hi"}, false},
		{[]string{"send", "--to", "c0123456789abcdef0123456789abcdef", "--mention", "c0123456789abcdef0123456789abcdef", "hi"}, false},
		{[]string{"send", "--to", "c0123456789abcdef0123456789abcdef", "--mention", "all", "--sticker", "1/2"}, false},
		{[]string{"send", "--jsonl", "--reply-to", "12"}, false},
	} {
		err := parseOnly(t, tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.args, err)
		}
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != ExitUsage) {
			t.Errorf("%v: %v is not a usage error", tc.args, err)
		}
	}
}

// parseOnly runs a conversation command's argument checks, not the command.
func parseOnly(t *testing.T, args []string) error {
	t.Helper()
	f, _, _ := testFactory(t)
	var c *cobra.Command
	switch args[0] {
	case "unsend":
		c = newCmdUnsend(f, func(*unsendOptions) error { return nil })
	case "react":
		c = newCmdReact(f, func(*reactOptions) error { return nil })
	case "history":
		c = newCmdHistory(f, func(*historyOptions) error { return nil })
	case "read":
		c = newCmdRead(f, func(*readOptions) error { return nil })
	case "send":
		c = newCmdSend(f, func(*sendOptions) error { return nil })
	}
	c.SetArgs(args[1:])
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	c.SilenceErrors, c.SilenceUsage = true, true
	return c.Execute()
}
