package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/signer"
)

// newCmdSandboxScan is the sandbox phone reading the QR code from the
// screen: a real phone reads the login key (the QR URL's secret) from the
// code; the simulated one is handed the URL.
func newCmdSandboxScan(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "scan [URL]",
		Short: "Make the sandbox's phone scan a QR login code, so Letter Sealing keys arrive",
		Long: `Hands the QR login URL to the sandbox's simulated phone, as a real phone reads it from the
QR code. Only then can the phone wrap the account's Letter Sealing key chain for linectl's
login key (the URL's secret): a phone that scans blind (the sandbox's automatic phone) logs
you in without keys, and chats that require Letter Sealing then refuse to send.

Without URL it reads linectl's JSON lines on stdin, copies them to stdout, and scans the
URL of the first {"type":"qr"} line: put it after 'linectl login qr' in a pipe. The sandbox
is the one at --gateway / LINECTL_GATEWAY. This talks only to the sandbox, never to LINE.`,
		Example: `  linectl login qr | linectl sandbox scan
  linectl sandbox scan 'https://line.me/R/au/lgn/sq/…?secret=…&e2eeVersion=1'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			gw, err := sandboxGateway(f)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return sandboxScan(gw, args[0])
			}
			return scanFromLines(f, gw)
		},
	}
}

// scanFromLines copies stdin to stdout and scans the first qr line's URL.
func scanFromLines(f *factory, gateway string) error {
	in := bufio.NewScanner(f.IO.In)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	scanned := false
	for in.Scan() {
		line := in.Bytes()
		if _, err := fmt.Fprintf(f.IO.Out, "%s\n", line); err != nil {
			return err
		}
		var l qrLine
		if !scanned && json.Unmarshal(line, &l) == nil && l.Type == "qr" && l.URL != "" {
			scanned = true
			if err := sandboxScan(gateway, l.URL); err != nil {
				return err
			}
			f.info("sandbox: the phone scanned the QR code")
		}
	}
	if err := in.Err(); err != nil {
		return err
	}
	if !scanned {
		return usageErrorf(`no {"type":"qr"} line on stdin`)
	}
	return nil
}

func sandboxScan(gateway, url string) error {
	_, err := sandboxPost(gateway, "scan", map[string]any{"url": url})
	return err
}

// sandboxPost calls one of the sandbox's own control endpoints
// (/_sandbox/…) and returns its answer.
func sandboxPost(gateway, endpoint string, body map[string]any) ([]byte, error) {
	return sandboxCall(gateway, http.MethodPost, endpoint, body)
}

// sandboxCall is sandboxPost with another HTTP method (GET lists the armed
// faults, DELETE clears them).
func sandboxCall(gateway, method, endpoint string, body map[string]any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(gateway, "/")+"/_sandbox/"+endpoint, rd)
	if err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", endpoint, err)
	}
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, withExit(ExitRejected, kindRejected, fmt.Errorf("sandbox %s: %s: %s", endpoint, resp.Status, bytes.TrimSpace(msg)))
	}
	return msg, nil
}

// sandboxGateway is the configured gateway, which must be a sandbox on loopback.
func sandboxGateway(f *factory) (string, error) {
	c, err := f.Config()
	if err != nil {
		return "", err
	}
	if !signer.IsLoopbackURL(c.Gateway) {
		return "", usageErrorf("this talks to a sandbox on a loopback address; the gateway is %s (set --gateway or LINECTL_GATEWAY)", c.Gateway)
	}
	return c.Gateway, nil
}
