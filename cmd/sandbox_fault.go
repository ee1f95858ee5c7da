package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// sandboxFaultKinds are the faults `linectl sandbox fault` arms, with what
// each does (the sandbox's /_sandbox/faults kinds).
var sandboxFaultKinds = []struct{ kind, what string }{
	{"503", "a load balancer's 503 page: nothing processed (linectl retries; exit 5 when it persists)"},
	{"429", "throttled: nothing processed (exit 5, kind rate_limited)"},
	{"drop-before", "the connection drops after the request arrived, before it is processed (a send: exit 6)"},
	{"drop-after", "processed, then the connection drops before the answer (a send: settled from the stream)"},
	{"talk", "a TalkException --code/--reason (e.g. 82 plain refused, 10 not a member, 119 refresh)"},
	{"delay", "answer --delay later (timeouts: combine with linectl --timeout)"},
	{"not-json", "a 200 answer that is not JSON (a send: outcome unknown)"},
	{"empty", "a 200 answer with no body"},
	{"truncated", "a 200 answer cut off mid-JSON"},
	{"html", "a proxy's HTML error page with --status (default 502)"},
	{"upstream", "10052 RESPONSE_HTTP_ERROR with upstream --status (default 504)"},
	{"expire-windows", "the next --count long-poll windows expire at once (QR and PIN waits)"},
	{"refresh-retry", "the next --count token refreshes answer 10202 (retry required)"},
	{"drop-stream-every", "the operation stream drops after every --count events"},
}

func newCmdSandboxFault(f *factory) *cobra.Command {
	var method, reason, delay string
	var count, code, status int
	long := `Arms a fault in the sandbox at --gateway / LINECTL_GATEWAY, so scripts can test how they
handle linectl's exit codes. Method names are the gateway's (sendMessage, getProfile,
negotiateE2EEPublicKey, tokenRefresh, …). Kinds:
`
	for _, k := range sandboxFaultKinds {
		long += fmt.Sprintf("\n  %-17s %s", k.kind, k.what)
	}
	long += `

See docs/sandbox.md for what each fault does to each command and its exit code.`
	cmd := &cobra.Command{
		Use:   "fault KIND",
		Short: "Make the sandbox fail: 503, 429, dropped connections, TalkExceptions, delays, hostile answers",
		Long:  long,
		Example: `  linectl sandbox fault 503 --method sendMessage --count 2
  linectl sandbox fault drop-after --method sendMessage
  linectl sandbox fault talk --method sendMessage --code 82 --reason "can not send using plain mode"
  linectl sandbox fault delay --method sendMessage --delay 40s
  linectl sandbox fault drop-stream-every --count 3`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var out []string
			for _, k := range sandboxFaultKinds {
				out = append(out, k.kind+"\t"+k.what)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			known := false
			for _, k := range sandboxFaultKinds {
				known = known || k.kind == args[0]
			}
			if !known {
				return usageErrorf("unknown fault kind %q: see 'linectl sandbox fault --help'", args[0])
			}
			if count < 1 || count > 1000 {
				return usageErrorf("--count must be from 1 to 1000")
			}
			if delay != "" {
				d, err := time.ParseDuration(delay)
				if err != nil || d < 0 || d > 10*time.Minute {
					return usageErrorf("--delay must be a duration from 0 to 10m (got %q)", delay)
				}
			}
			gw, err := sandboxGateway(f)
			if err != nil {
				return err
			}
			_, err = sandboxPost(gw, "faults", map[string]any{"kind": args[0], "method": method, "count": count,
				"code": code, "reason": reason, "delay": delay, "status": status})
			if err != nil {
				return err
			}
			return f.Out().line(sandboxFaultLine{Type: "sandbox-fault", Kind: args[0], Method: method, Count: count})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&method, "method", "sendMessage", "gateway method the fault hits")
	fl.IntVar(&count, "count", 1, "how many calls (or windows, or events) it hits")
	fl.IntVar(&code, "code", 0, "TalkException code (kind talk)")
	fl.StringVar(&reason, "reason", "", "TalkException reason (kind talk)")
	fl.StringVar(&delay, "delay", "", "how long to hold each answer (kind delay; 0 clears it)")
	fl.IntVar(&status, "status", 0, "HTTP status (kind html) or upstream status (kind upstream)")
	return cmd
}

// parseTypeList reads "0,15" (content types); "" is nil (the default).
func parseTypeList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 100 {
			return nil, fmt.Errorf("%q is not a content type (0 to 100)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

type sandboxFaultLine struct {
	Type   string `json:"type"` // "sandbox-fault"
	Kind   string `json:"kind"`
	Method string `json:"method"`
	Count  int    `json:"count"`
}

// newCmdSandboxDo is the sandbox's other controls: the clock, token expiry,
// kick-outs, injected messages, its state.
func newCmdSandboxDo(f *factory) *cobra.Command {
	var from, to string
	var sealed, asFile bool
	cmd := &cobra.Command{
		Use:   "do ACTION [ARG]",
		Short: "Drive the sandbox: advance its clock, expire tokens, kick a session, inject a message, show its state",
		Long: `Drives the sandbox at --gateway / LINECTL_GATEWAY. Actions:

  clock DURATION      advance the simulated clock (tokens expire by it)
  expire-tokens       every access token expires now (the next call refreshes)
  kick [MID]          end the account's session, as a login elsewhere does (exit 3)
  inject TEXT         deliver a message --from --to (add --sealed for Letter Sealing)
  inject-media PATH   deliver an image (or with --file, a file) --from --to, [--sealed]
  allowed-types LIST  the Letter Sealing allowedTypes that --to (a user's app, or a group's key) answers,
                      e.g. 0,15: text sealed, images and files sent plain ("" restores the default)
  plain-upload-oid on|off
                      off: object storage answers plain uploads without x-obs-oid (linectl needs it
                      only for sealed uploads, as LINE's extension)
  state               print accounts, chats and stored messages (one JSON line)`,
		Example: `  linectl sandbox do clock 169h
  linectl sandbox do kick u1a11ce0000000000000000000000a11c
  linectl sandbox do inject --from u0b0b0000000000000000000000000b0b --to u1a11ce0000000000000000000000a11c --sealed "hi"
  linectl sandbox do inject-media --from u0b0b0000000000000000000000000b0b --to u1a11ce0000000000000000000000a11c --sealed cat.png
  linectl sandbox do allowed-types --to u0b0b0000000000000000000000000b0b 0,15
  linectl sandbox do state | jq .messages`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			gw, err := sandboxGateway(f)
			if err != nil {
				return err
			}
			arg := ""
			if len(args) == 2 {
				arg = args[1]
			}
			var endpoint string
			body := map[string]any{}
			switch args[0] {
			case "clock":
				if d, err := time.ParseDuration(arg); err != nil || d <= 0 {
					return usageErrorf("clock takes a positive duration (got %q)", arg)
				}
				endpoint, body["advance"] = "clock", arg
			case "expire-tokens":
				endpoint = "expire-tokens"
			case "kick":
				endpoint, body["mid"] = "kick", arg
			case "inject":
				if from == "" || to == "" || arg == "" {
					return usageErrorf("inject needs --from, --to and a text")
				}
				endpoint, body["from"], body["to"], body["text"] = "inject", from, to, arg
				if sealed {
					endpoint = "inject-sealed"
				}
			case "inject-media":
				if from == "" || to == "" || arg == "" {
					return usageErrorf("inject-media needs --from, --to and a file")
				}
				b, err := os.ReadFile(arg)
				if err != nil || len(b) == 0 || len(b) > 20<<20 {
					return usageErrorf("inject-media %s: a readable file of 1 byte to 20 MiB (%v)", arg, err)
				}
				ct := 1
				if asFile {
					ct = 14
				}
				endpoint = "inject-media"
				body["from"], body["to"], body["contentType"], body["name"], body["data"], body["sealed"] =
					from, to, ct, filepath.Base(arg), base64.StdEncoding.EncodeToString(b), sealed
			case "allowed-types":
				if to == "" {
					return usageErrorf("allowed-types needs --to (a user or chat MID) and a list such as 0,15")
				}
				types, err := parseTypeList(arg)
				if err != nil {
					return usageErrorf("allowed-types %q: %v", arg, err)
				}
				endpoint, body["mid"], body["types"] = "allowed-types", to, types
			case "plain-upload-oid":
				if arg != "on" && arg != "off" {
					return usageErrorf("plain-upload-oid takes on or off (got %q)", arg)
				}
				endpoint, body["off"] = "plain-upload-oid", arg == "off"
			case "state":
				endpoint = "state"
			default:
				return usageErrorf("unknown action %q: clock, expire-tokens, kick, inject, inject-media, allowed-types, plain-upload-oid or state", args[0])
			}
			out, err := sandboxPost(gw, endpoint, body)
			if err != nil {
				return err
			}
			if endpoint == "state" {
				var st map[string]any
				if err := json.Unmarshal(out, &st); err != nil {
					return err
				}
				st["type"] = "sandbox-state"
				return f.Out().line(st)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "sender MID (inject, inject-media)")
	cmd.Flags().StringVar(&to, "to", "", "chat or recipient MID (inject, inject-media)")
	cmd.Flags().BoolVar(&sealed, "sealed", false, "seal the injected message as the sender's app would (inject, inject-media)")
	cmd.Flags().BoolVar(&asFile, "file", false, "inject-media: a file (content type 14), not an image")
	return cmd
}
