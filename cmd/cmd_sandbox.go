package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/linectl/linectl/internal/signer"
	"github.com/linectl/linectl/internal/simgw"
	"github.com/linectl/linectl/internal/simsign"
	"github.com/linectl/linectl/pkg/lineapi"
)

type sandboxOptions struct {
	Addr        string
	Key         string
	NoHMAC      bool
	PhoneDelay  time.Duration
	Manual      bool
	ManualScan  bool
	Verbose     bool
	Latency     time.Duration
	ConnLatency time.Duration
}

func newCmdSandbox(f *factory, runF func(*sandboxOptions) error) *cobra.Command {
	opts := &sandboxOptions{}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the gateway simulator locally, to try linectl without a LINE account",
		Long: `Run linectl's gateway simulator on a loopback port. It speaks the same protocol as LINE's
Chrome-extension gateway and rejects what the real gateway rejects (missing headers, bad
x-hmac signatures, wrong body shapes, expired tokens, reused RSA keys), so scripts tested
against it exercise linectl's real code paths. Nothing reaches LINE.

It prints one line, {"type":"sandbox","url":…,"signerCommand":…,"accounts":[…]}, then
serves until interrupted. Point linectl at it in another shell (use a separate config so
your real session is untouched):

  export LINECTL_CONFIG=/tmp/sandbox/config.yaml
  export LINECTL_GATEWAY=<url>
  export LINECTL_SIGNER_COMMAND="<signerCommand>"
  linectl login qr | linectl sandbox scan    # the phone reads the QR code
  linectl chats
  linectl send --to-name Family "hello"
  linectl send --to u0b0b0000000000000000000000000b0b "hello Bob"   # sealed

Demo accounts: alice@example.com (the phone's account) and bob@example.com, password
"sandbox-password", both with Letter Sealing on; carol@example.com has it off. Groups
"Family" (Alice, Bob, Carol: plain, as Carol cannot read sealed messages) and "Ops
alerts" (Alice, Bob: sealed). What Alice sends Bob is sealed, and the sandbox opens it as
Bob's app would; a sealed answer from Bob: /_sandbox/inject-sealed.

Letter Sealing keys come with a QR login whose code the phone has read: 'linectl sandbox
scan' hands it the URL. Left alone, the phone scans blind after --phone-delay and the login
brings no keys (sealed chats then refuse to send). A password login of a sealed account
shows a PIN of linectl's own that only a person can read: confirm it with /_sandbox/pin
(or log in with --no-e2ee); after a QR login the saved certificate skips the PIN.

Requests must be signed (x-hmac) with the sandbox's public key, as LINE's gateway requires a
signature; 'linectl sandbox signer' is a signer co-process for it (--no-hmac turns the check
off). The phone acts after --phone-delay; with --manual-phone drive it yourself:

  curl -d '{"url":"<qr url>"}' <url>/_sandbox/scan     # scan a QR code
  curl -d '{"pin":"123456"}'   <url>/_sandbox/pin      # confirm a PIN
  curl -d '{"from":"u0b0b…","to":"cfa01…","text":"hi"}' <url>/_sandbox/inject
  curl -d '{"from":"u0b0b…","to":"u1a11…","text":"hi","version":2}' <url>/_sandbox/inject-sealed
  curl -d '{"mid":"u0b0b…"}' <url>/_sandbox/rotate-key    # Bob's app makes a new key
  curl <url>/_sandbox/state                             # accounts, chats, stored messages

To test a script's exit-code handling, make the sandbox fail ('linectl sandbox fault --help':
503, 429, dropped connections, TalkExceptions, delays, hostile answers; --persist until
'linectl sandbox fault clear'; 'fault list' shows what is armed) and drive its clock,
tokens and sessions ('linectl sandbox do --help'). All of it: docs/sandbox.md.`,
		Example: `  linectl sandbox
  linectl sandbox --addr 127.0.0.1:8765 --phone-delay 3s
  linectl sandbox --manual-phone --no-hmac`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDuration("--phone-delay", opts.PhoneDelay, 0, time.Minute); err != nil {
				return err
			}
			if err := checkDuration("--latency", opts.Latency, 0, 10*time.Second); err != nil {
				return err
			}
			if err := checkDuration("--conn-latency", opts.ConnLatency, 0, 10*time.Second); err != nil {
				return err
			}
			if !signer.IsLoopbackURL("http://" + opts.Addr) {
				return usageErrorf("--addr must be a loopback address (127.0.0.1 or localhost)")
			}
			if runF != nil {
				return runF(opts)
			}
			f.runsAsService("sandbox")
			return runSandbox(cmd, f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0 = any free port)")
	cmd.Flags().StringVar(&opts.Key, "key", simgw.DefaultKeyHex, "x-hmac signing key the sandbox checks (public; not a secret)")
	cmd.Flags().BoolVar(&opts.NoHMAC, "no-hmac", false, "do not check x-hmac signatures")
	cmd.Flags().DurationVar(&opts.PhoneDelay, "phone-delay", 2*time.Second, "how long the simulated phone takes to scan or confirm")
	cmd.Flags().BoolVar(&opts.Manual, "manual-phone", false, "the phone acts only through /_sandbox/scan and /_sandbox/pin")
	cmd.Flags().BoolVar(&opts.ManualScan, "manual-scan", false, "the phone scans QR codes only when handed the URL ('linectl sandbox scan'); PINs still after --phone-delay")
	cmd.Flags().BoolVar(&opts.Verbose, "verbose", false, "log each request on stderr")
	cmd.Flags().DurationVar(&opts.Latency, "latency", 0, "add this round trip to every answer, as a far gateway would (0-10s)")
	cmd.Flags().DurationVar(&opts.ConnLatency, "conn-latency", 0, "add this to every new connection, as TCP and TLS set-up to a far gateway would (0-10s)")
	cmd.AddCommand(newCmdSandboxSigner(f), newCmdSandboxScan(f), newCmdSandboxFault(f), newCmdSandboxDo(f))
	return cmd
}

type sandboxLine struct {
	Type          string   `json:"type"` // "sandbox"
	URL           string   `json:"url"`
	SignerCommand string   `json:"signerCommand,omitempty"`
	Accounts      []string `json:"accounts"`
}

func runSandbox(cmd *cobra.Command, f *factory, opts *sandboxOptions) error {
	so := simgw.Options{PhoneDelay: opts.PhoneDelay, ManualScan: opts.ManualScan, Latency: opts.Latency, ConnLatency: opts.ConnLatency}
	if opts.Manual {
		so.PhoneDelay = -1
	}
	if !opts.NoHMAC {
		so.SigningKey = []byte(opts.Key)
	}
	if opts.Verbose {
		so.Logf = func(format string, a ...any) { f.progress("sandbox: "+format, a...) }
	}
	sim := simgw.NewSandbox(so)
	url, err := sim.Start(opts.Addr)
	if err != nil {
		return withExit(ExitUsage, kindUsage, fmt.Errorf("sandbox: %w", err))
	}
	defer sim.Close()
	l := sandboxLine{Type: "sandbox", URL: url, Accounts: []string{simgw.AliceEmail, simgw.BobEmail}}
	if !opts.NoHMAC {
		self, err := os.Executable()
		if err != nil {
			self = "linectl"
		}
		l.SignerCommand = self + " sandbox signer --key " + opts.Key
	}
	if err := f.Out().line(l); err != nil {
		return err
	}
	f.progress("Sandbox gateway at %s (Ctrl-C to stop). In another shell:", url)
	f.progress("  export LINECTL_CONFIG=$(mktemp -d)/config.yaml LINECTL_GATEWAY=%s", url)
	if l.SignerCommand != "" {
		f.progress("  export LINECTL_SIGNER_COMMAND=%q", l.SignerCommand)
	}
	f.progress("  linectl login qr | linectl sandbox scan")
	<-cmd.Context().Done()
	return nil
}

func newCmdSandboxSigner(f *factory) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "signer",
		Short: "x-hmac signer co-process for the sandbox (signer.kind: command)",
		Long: `Reads one JSON request per line on stdin ({"path","body","accessToken","version"}) and
writes the sandbox's x-hmac for it, one base64 line each: the protocol of linectl's
'command' signer. It signs with the sandbox's public test key; LINE's gateway does not
accept these signatures.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in := bufio.NewScanner(f.IO.In)
			in.Buffer(make([]byte, 64<<10), 16<<20)
			out := bufio.NewWriter(f.IO.Out)
			for in.Scan() {
				var r lineapi.SignRequest
				if err := json.Unmarshal(in.Bytes(), &r); err != nil {
					return usageErrorf("signer: bad request line: %v", err)
				}
				fmt.Fprintln(out, simsign.Sign([]byte(key), r.Version, r.AccessToken, r.Path, r.Body))
				if err := out.Flush(); err != nil {
					return err
				}
			}
			return in.Err()
		},
	}
	cmd.Flags().StringVar(&key, "key", simgw.DefaultKeyHex, "the sandbox's signing key")
	return cmd
}
