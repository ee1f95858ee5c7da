package cmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// A typo in a subcommand, at any level, or a bare group command is a usage
// error (exit 2) with nothing on stdout: a systemd unit with a typo must not
// "succeed", and stdout carries JSON lines only.
func TestGroupCommandsAreStrict(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // on stderr
	}{
		{[]string{"notify", "serv"}, `unknown command "serv" for "linectl notify"; did you mean "serve"?`},
		{[]string{"notify", "token", "ad"}, `did you mean "add"?`},
		{[]string{"login", "pasword"}, `did you mean "password"?`},
		{[]string{"session", "refrsh"}, `did you mean "refresh"?`},
		{[]string{"completion", "fish2"}, `did you mean "fish"?`},
		{[]string{"sned", "hello"}, `did you mean "send"?`},
		{[]string{"sned", "--to", "c0123456789abcdef0123456789abcdef", "hello"}, `unknown command "sned" for "linectl"; did you mean "send"?`},
		{[]string{"notify", "serv", "--listen", "127.0.0.1:8093"}, `did you mean "serve"?`},
		{[]string{"signer", "stat"}, `did you mean "status"?`},
		{[]string{"sandbox", "fualt"}, `did you mean "fault"?`},
		{[]string{"login", "zzzzzz"}, `its subcommands: password, qr`},
		{[]string{"login"}, "linectl login needs a subcommand: password, qr"},
		{[]string{"notify"}, "linectl notify needs a subcommand: serve, token"},
		{[]string{"notify", "token"}, "needs a subcommand: add, list, revoke"},
		{[]string{"session"}, "needs a subcommand: refresh"},
		{[]string{"signer"}, "linectl signer needs a subcommand"},
		{[]string{"completion"}, "needs a subcommand: bash, fish, powershell, zsh"},
		{nil, "linectl needs a subcommand"},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), &iostreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, tc.args)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if out.Len() != 0 {
				t.Errorf("stdout is not empty:\n%s", out.String())
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errOut.String())
			}
			if !strings.Contains(errOut.String(), `"exitCode":2`) {
				t.Errorf("no JSON error line on stderr:\n%s", errOut.String())
			}
			if len(tc.args) < 2 && !strings.Contains(errOut.String(), "Usage:") {
				t.Errorf("a bare group command prints its help on stderr:\n%s", errOut.String())
			}
		})
	}
}

// An explicit --help is not an error: help on stdout, exit 0.
func TestGroupHelpFlag(t *testing.T) {
	for _, args := range [][]string{{"login", "--help"}, {"notify", "token", "--help"}, {"--help"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), &iostreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); code != ExitOK {
			t.Errorf("%v: exit %d\n%s", args, code, errOut.String())
		}
		if !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%v: no help on stdout", args)
		}
	}
}

// A group's usage line is "group [command]", never "group [flags]" (it
// runs nothing by itself: exit 2); a command that runs keeps its own.
func TestGroupUsageLine(t *testing.T) {
	for args, want := range map[string]struct{ has, hasNot string }{
		"login --help":            {"linectl login [command]", "linectl login [flags]"},
		"notify token --help":     {"linectl notify token [command]", "linectl notify token [flags]"},
		"--help":                  {"linectl [command]", "linectl [flags]"},
		"send --help":             {"linectl send --to MID", ""},
		"notify token add --help": {"linectl notify token add (--to MID", ""},
		"sandbox --help":          {"linectl sandbox [flags]", ""},
	} {
		var out bytes.Buffer
		run(context.Background(), &iostreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}, strings.Fields(args))
		usage, _, _ := strings.Cut(out.String()[strings.Index(out.String(), "Usage:"):], "\n\n")
		if !strings.Contains(usage, want.has) || want.hasNot != "" && strings.Contains(usage, want.hasNot) {
			t.Errorf("%s: usage %q", args, usage)
		}
	}
}
