package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/linectl/linectl/pkg/lineapi"
)

type loginPasswordOptions struct {
	Email         string
	PasswordStdin bool
	NoE2EE        bool
	Wait          time.Duration
}

func newCmdLoginPassword(f *factory, runF func(*loginPasswordOptions) error) *cobra.Command {
	opts := &loginPasswordOptions{}
	cmd := &cobra.Command{
		Use:   "password --email EMAIL",
		Short: "Log in with email and password (PIN confirmed on the phone)",
		Long: `Log in with the email and password of your LINE account.

The password is never taken as a flag value (argv is visible to other users). It comes from
--password-stdin, the LINECTL_PASSWORD environment variable, or a no-echo prompt when stdin
is a terminal.

With a certificate saved by an earlier login, LINE lets the login through at once. Otherwise
LINE shows nothing on the phone until you confirm: linectl prints a PIN
({"type":"pin","pin":"…"} on stdout, and on stderr) and waits (up to --wait) until you
confirm it in the LINE app.`,
		Example: `  linectl login password --email me@example.com
  printf '%s\n' "$LINE_PASSWORD" | linectl login password --email me@example.com --password-stdin`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateEmail(opts.Email); err != nil {
				return err
			}
			if err := checkDuration("--wait", opts.Wait, time.Second, time.Hour); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLoginPassword(cmd, f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Email, "email", "", "email address of the LINE account (required)")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from stdin (first line)")
	cmd.Flags().BoolVar(&opts.NoE2EE, "no-e2ee", false, "skip the Letter Sealing login attempt")
	cmd.Flags().DurationVar(&opts.Wait, "wait", 6*time.Minute, "how long to wait for the PIN to be confirmed")
	return cmd
}

func validateEmail(e string) error {
	switch {
	case e == "":
		return usageErrorf("--email is required")
	case !utf8.ValidString(e) || strings.ContainsAny(e, " \t\r\n") || !strings.Contains(e, "@"):
		return usageErrorf("--email %q is not an email address", e)
	case len(e) > 255:
		return usageErrorf("--email is too long")
	}
	return nil
}

// readPassword gets the password from stdin, the environment or a prompt.
func readPassword(f *factory, opts *loginPasswordOptions) (string, error) {
	var pw string
	switch {
	case opts.PasswordStdin:
		line, err := bufio.NewReader(f.IO.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", usageErrorf("read password from stdin: %v", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	case os.Getenv("LINECTL_PASSWORD") != "":
		pw = os.Getenv("LINECTL_PASSWORD")
	case f.IO.InTTY:
		fmt.Fprintf(f.IO.ErrOut, "LINE password for %s: ", opts.Email)
		b, err := term.ReadPassword(f.IO.inFd)
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", usageErrorf("read password: %v", err)
		}
		pw = string(b)
	default:
		return "", usageErrorf("no password: use --password-stdin, set LINECTL_PASSWORD, or run in a terminal")
	}
	if pw == "" {
		return "", usageErrorf("the password is empty")
	}
	if !utf8.ValidString(pw) {
		return "", usageErrorf("the password is not valid UTF-8")
	}
	return pw, nil
}

func runLoginPassword(cmd *cobra.Command, f *factory, opts *loginPasswordOptions) error {
	pw, err := readPassword(f, opts)
	if err != nil {
		return err
	}
	cfg, cl, ctx, cancel, err := loginSetup(cmd, f, opts.Wait)
	if err != nil {
		return err
	}
	defer cancel()
	in := lineapi.PasswordLogin{
		Email: opts.Email, Password: pw, Certificate: cfg.Account.Certificate, Events: loginEvents(f),
	}
	if !opts.NoE2EE {
		in.E2EE = &lineapi.LetterSealingLogin{}
	}
	s, err := cl.LoginWithPassword(ctx, in)
	if err != nil {
		return loginError(ctx, err, opts.Wait, "the PIN was not confirmed on the phone")
	}
	return finishLogin(f, s)
}
