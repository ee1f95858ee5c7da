package cmd

import (
	"fmt"
	"time"

	"github.com/mdp/qrterminal/v3"
	"github.com/spf13/cobra"

	"github.com/linectl/linectl/pkg/lineapi"
)

type loginQROptions struct {
	QRStyle string // auto | half | ascii | none
	Wait    time.Duration
}

func newCmdLoginQR(f *factory, runF func(*loginQROptions) error) *cobra.Command {
	opts := &loginQROptions{}
	cmd := &cobra.Command{
		Use:   "qr",
		Short: "Log in by scanning a QR code with the LINE app",
		Long: `Log in by scanning a QR code with the LINE app on your phone.

linectl prints {"type":"qr","url":…} on stdout and draws the QR code on stderr. Scan it with
the LINE app's QR reader. If this config holds a certificate from an earlier login of the
same account, that is all; otherwise linectl prints a PIN ({"type":"pin","pin":…}) to type
in the app. The QR code is valid for two windows of 150 seconds.

--qr-style: auto draws compact half-block characters when stderr is a terminal and nothing
otherwise (the URL is on stdout). half sets its own colours (white on black), so it scans on
light and dark terminal themes alike. ascii draws with '#' and no colours, for terminals
without Unicode or colours: it scans on a dark background only.`,
		Example: `  linectl login qr
  linectl login qr --qr-style ascii`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.QRStyle {
			case "auto", "half", "ascii", "none":
			default:
				return usageErrorf("--qr-style must be auto, half, ascii or none (got %q)", opts.QRStyle)
			}
			if err := checkDuration("--wait", opts.Wait, time.Second, time.Hour); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLoginQR(cmd, f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.QRStyle, "qr-style", "auto", "how to draw the QR code on stderr: auto, half, ascii, none")
	cmd.Flags().DurationVar(&opts.Wait, "wait", 6*time.Minute, "how long to wait for the scan and PIN")
	return cmd
}

// qrLine is printed with the URL to scan.
type qrLine struct {
	Type string `json:"type"` // "qr"
	URL  string `json:"url"`
}

// qrColours fixes both colours of a drawn QR code: qrterminal draws light
// modules as glyphs (foreground) and dark ones as blanks (background), so
// without them the code is inverted — and undecodable — on a light-themed
// terminal. Bright white on black reads the same on every theme.
const (
	qrColours = "\x1b[97;40m"
	qrReset   = "\x1b[0m"
)

// qrQuietZone is the margin of light modules the QR standard asks for.
const qrQuietZone = 4

func drawQR(f *factory, style, url string) {
	if style == "auto" {
		style = "none"
		if f.IO.ErrTTY {
			style = "half"
		}
	}
	switch style {
	case "half":
		qrterminal.GenerateWithConfig(url, qrterminal.Config{
			Level: qrterminal.L, Writer: f.IO.ErrOut, HalfBlocks: true,
			BlackChar: qrColours + qrterminal.BLACK_BLACK, WhiteBlackChar: qrColours + qrterminal.WHITE_BLACK,
			WhiteChar: qrColours + qrterminal.WHITE_WHITE, BlackWhiteChar: qrColours + qrterminal.BLACK_WHITE,
			QuietZone: qrQuietZone,
		})
		fmt.Fprint(f.IO.ErrOut, qrReset)
	case "ascii":
		// Plain characters, no colours (logs, dumb terminals): '#' marks the
		// light modules, so it reads right on a dark background only.
		qrterminal.GenerateWithConfig(url, qrterminal.Config{
			Level: qrterminal.L, Writer: f.IO.ErrOut, BlackChar: "  ", WhiteChar: "##", QuietZone: qrQuietZone,
		})
	}
}

func runLoginQR(cmd *cobra.Command, f *factory, opts *loginQROptions) error {
	cfg, cl, ctx, cancel, err := loginSetup(cmd, f, opts.Wait)
	if err != nil {
		return err
	}
	defer cancel()
	ev := loginEvents(f)
	ev.QR = func(url string) {
		_ = f.Out().line(qrLine{Type: "qr", URL: url})
		drawQR(f, opts.QRStyle, url)
		f.info("Scan this QR code with the LINE app (Home > QR code reader).")
	}
	s, err := cl.LoginWithQR(ctx, lineapi.QRLogin{Certificate: cfg.Account.Certificate, Events: ev})
	if err != nil {
		return loginError(ctx, err, opts.Wait, "the QR code was not scanned (or the PIN not confirmed) on the phone")
	}
	return finishLogin(f, s)
}
