package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// sandboxFaultKinds are the faults `linectl sandbox fault` arms, with what
// each does (the sandbox's /_sandbox/faults kinds). global: not per method.
var sandboxFaultKinds = []struct {
	kind, what string
	global     bool
}{
	{"503", "a load balancer's 503 page: nothing processed (linectl retries it; --persist: exit 5)", false},
	{"429", "throttled: nothing processed (linectl retries it; --persist: exit 5, kind rate_limited)", false},
	{"drop-before", "the connection drops after the request arrived, before it is processed (a send: exit 6)", false},
	{"drop-after", "processed, then the connection drops before the answer (a send: settled from the stream)", false},
	{"talk", "a TalkException --code/--reason (e.g. 82 plain refused, 10 not a member, 119 refresh)", false},
	{"delay", "answer --delay later, every call until --delay 0 (timeouts: combine with linectl --timeout)", false},
	{"not-json", "a 200 answer that is not JSON (a send: outcome unknown)", false},
	{"empty", "a 200 answer with no body", false},
	{"truncated", "a 200 answer cut off mid-JSON", false},
	{"html", "a proxy's HTML error page with --status (default 502)", false},
	{"upstream", "10052 RESPONSE_HTTP_ERROR with upstream --status (default 504)", false},
	{"expire-windows", "the next --count long-poll windows expire at once (QR and PIN waits)", true},
	{"refresh-retry", "the next --count token refreshes answer 10202 (retry required)", true},
	{"drop-stream-every", "the operation stream drops after every --count events (until cleared)", true},
}

func newCmdSandboxFault(f *factory) *cobra.Command {
	var method, reason, delay string
	var count, code, status int
	var persist bool
	long := `Arms a fault in the sandbox at --gateway / LINECTL_GATEWAY, so scripts can test how they
handle linectl's exit codes. Method names are the gateway's (sendMessage, getProfile,
negotiateE2EEPublicKey, tokenRefresh, …). A fault hits the next --count calls of the method
(default 1); faults armed for one method hit in the order they were armed.

linectl retries what it safely can (a 503 or 429 proves nothing was processed; an expired
token is refreshed), so one such fault ends in exit 0, as one hiccup of LINE's would. To see
the exit code your script must handle, arm it with --persist: it then hits every call until
'linectl sandbox fault clear'. 'linectl sandbox fault list' shows what is still armed.
Kinds:
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
		Example: `  linectl sandbox fault 429 --persist         # every send: exit 5, kind rate_limited
  linectl sandbox fault clear
  linectl sandbox fault 503 --method sendMessage --count 2
  linectl sandbox fault drop-after --method sendMessage
  linectl sandbox fault talk --code 10 --reason "not a member" --persist
  linectl sandbox fault delay --method sendMessage --delay 40s
  linectl sandbox fault drop-stream-every --count 3
  linectl sandbox fault list`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var out []string
			for _, k := range sandboxFaultKinds {
				out = append(out, k.kind+"\t"+k.what)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			known, global := false, false
			for _, k := range sandboxFaultKinds {
				if k.kind == args[0] {
					known, global = true, k.global
				}
			}
			if !known {
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					return usageErrorf("unknown fault kind %q; did you mean %s?", args[0], quoteJoin(s))
				}
				return usageErrorf("unknown fault kind %q: see 'linectl sandbox fault --help'", args[0])
			}
			if count < 1 || count > 1000 {
				return usageErrorf("--count must be from 1 to 1000")
			}
			if persist && (global || args[0] == "delay") {
				return usageErrorf("--persist is for the per-call kinds (503, 429, talk, …): %s has its own duration", args[0])
			}
			if persist && cmd.Flags().Changed("count") {
				return usageErrorf("--persist hits every call until 'linectl sandbox fault clear': leave out --count")
			}
			if args[0] == "delay" && delay == "" {
				return usageErrorf("kind delay needs --delay (0 clears it)")
			}
			if args[0] == "talk" && code <= 0 {
				return usageErrorf("kind talk needs --code, the TalkException's code (e.g. 10 not a member)")
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
				"code": code, "reason": reason, "delay": delay, "status": status, "persist": persist})
			if err != nil {
				return err
			}
			l := sandboxFaultLine{Type: "sandbox-fault", Kind: args[0], Method: method, Count: count, Persist: persist,
				Code: code, Reason: reason, Status: status, Delay: delay}
			if global {
				l.Method = ""
			}
			switch {
			case args[0] == "delay":
				d, _ := time.ParseDuration(delay)
				l.Count, l.Persist = 0, d > 0 // --delay 0 clears it
			case persist || args[0] == "drop-stream-every":
				l.Count, l.Persist = 0, true
			}
			return f.Out().line(l)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&method, "method", "sendMessage", "gateway method the fault hits")
	fl.IntVar(&count, "count", 1, "how many calls (or windows, or events) it hits")
	fl.BoolVar(&persist, "persist", false, "hit every call until 'linectl sandbox fault clear' (per-call kinds)")
	fl.IntVar(&code, "code", 0, "TalkException code (kind talk)")
	fl.StringVar(&reason, "reason", "", "TalkException reason (kind talk)")
	fl.StringVar(&delay, "delay", "", "how long to hold each answer (kind delay; 0 clears it)")
	fl.IntVar(&status, "status", 0, "HTTP status (kind html) or upstream status (kind upstream)")
	cmd.AddCommand(newCmdSandboxFaultList(f), newCmdSandboxFaultClear(f))
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

// sandboxFaultLine is a fault armed (by `sandbox fault`) or still armed (one
// line each from `sandbox fault list`): simgw.ArmedFault with a type.
type sandboxFaultLine struct {
	Type    string `json:"type"` // "sandbox-fault"
	Kind    string `json:"kind"`
	Method  string `json:"method"` // "" for expire-windows, refresh-retry, drop-stream-every
	Count   int    `json:"count"`  // calls it (still) hits; 0 with persist
	Persist bool   `json:"persist,omitempty"`
	Code    int    `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Status  int    `json:"status,omitempty"`
	Delay   string `json:"delay,omitempty"`
}

func newCmdSandboxFaultList(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Print the faults still armed in the sandbox, one JSON line each",
		Long: `Prints one {"type":"sandbox-fault",…} line for each fault still armed in the sandbox at
--gateway / LINECTL_GATEWAY: kind, method, count (calls it still hits; 0 with persist),
and code, reason, status, delay when set. Nothing armed: no lines.`,
		Example: `  linectl sandbox fault list
  linectl sandbox fault list | jq -r '"\(.kind) \(.method) \(.count)"'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			gw, err := sandboxGateway(f)
			if err != nil {
				return err
			}
			b, err := sandboxCall(gw, http.MethodGet, "faults", nil)
			if err != nil {
				return err
			}
			var list struct{ Faults []sandboxFaultLine }
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("sandbox faults: %w", err)
			}
			for _, l := range list.Faults {
				l.Type = "sandbox-fault"
				if err := f.Out().line(l); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func newCmdSandboxFaultClear(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "clear",
		Short: "Disarm every fault in the sandbox (delays and stream drops too)",
		Long: `Disarms every fault armed in the sandbox at --gateway / LINECTL_GATEWAY (what 'linectl
sandbox fault list' shows), so a test run starts from a working gateway whatever an earlier
run left armed. Prints nothing.`,
		Example: `  linectl sandbox fault clear
  linectl sandbox fault 429 --persist && ./my-script.sh; linectl sandbox fault clear`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			gw, err := sandboxGateway(f)
			if err != nil {
				return err
			}
			_, err = sandboxCall(gw, http.MethodDelete, "faults", nil)
			return err
		},
	}
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
