package cmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Flags and input from a script are untrusted too: whatever the values of
// send's and receive's flags and the text, a run ends with a documented exit
// code and never panics or sends (no session here: it never gets that far
// unless the input is valid, and then exits 3).
func FuzzSendAndReceiveFlags(f *testing.F) {
	f.Add("u0b0b0000000000000000000000000b0b", "10", "15s", "hello", "2s", "0")
	f.Add("", "NaN", "-1s", "\x00", "0", "-3")
	f.Add("C"+strings.Repeat("f", 32), "1e-300", "1000h", "\u200b\ufeff", "10000h", "9223372036854775807")
	f.Add("uzz", "+Inf", "1ns", "\xff", "-1ms", "x")
	f.Fuzz(func(t *testing.T, to, rate, confirm, text, wait, rev string) {
		cfg := filepath.Join(t.TempDir(), "config.yaml")
		t.Setenv("LINECTL_CONFIG", cfg)
		t.Setenv("LINECTL_GATEWAY", "http://127.0.0.1:1")
		for _, args := range [][]string{
			{"send", "--to", to, "--rate", rate, "--confirm-timeout", confirm, "--", text},
			{"send", "--to-name", to, "--e2ee", text, text},
			{"receive", "--wait", wait, "--from-revision", rev, "--chat", to},
		} {
			var out, errb bytes.Buffer
			code := run(context.Background(), &iostreams{In: strings.NewReader(text), Out: &out, ErrOut: &errb}, args)
			switch code {
			case ExitUsage, ExitLogin:
			default:
				t.Fatalf("%q: exit %d\n%s", args, code, errb.String())
			}
			if out.Len() != 0 {
				t.Fatalf("%q printed on stdout: %s", args, out.String())
			}
		}
	})
}
