package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// faultRow is one row of docs/sandbox.md's fault table, as a script author
// would try it: arm the fault with `linectl sandbox fault`, run the command.
type faultRow struct {
	row   string     // the row's first column, as written in the docs
	doc   []string   // what its last column must say
	arm   [][]string // `linectl sandbox fault` argument lists, before run
	login bool       // arm before logging in (login is the command under test)
	runs  []faultRun
	check func(t *testing.T, e *env)
}

type faultRun struct {
	args []string
	exit int
	kind string
}

var sendFamily = []string{"send", "--confirm-timeout", "300ms", "--to-name", "Family", "hi"}

func sendRun(exit int, kind string) []faultRun { return []faultRun{{sendFamily, exit, kind}} }

func callsOf(e *env, method string) int { return count(e.sim.CallNames(), method) }

var faultRows = []faultRow{
	{row: "`503`", doc: []string{"0: retried"}, arm: [][]string{{"503"}}, runs: sendRun(0, ""),
		check: func(t *testing.T, e *env) { wantCalls(t, e, "sendMessage", 2) }},
	{row: "`503 --persist`", doc: []string{"5 `temporary`"}, arm: [][]string{{"503", "--persist"}}, runs: sendRun(5, "temporary")},
	{row: "`429`", doc: []string{"0: retried"}, arm: [][]string{{"429"}}, runs: sendRun(0, ""),
		check: func(t *testing.T, e *env) { wantCalls(t, e, "sendMessage", 2) }},
	{row: "`429 --persist`", doc: []string{"5 `rate_limited`"}, arm: [][]string{{"429", "--persist"}}, runs: sendRun(5, "rate_limited")},
	{row: "`drop-before`", doc: []string{"6 `outcome_unknown`"}, arm: [][]string{{"drop-before"}}, runs: sendRun(6, "outcome_unknown")},
	{row: "`drop-after`", doc: []string{"0: settled", `"confirmed":true`}, arm: [][]string{{"drop-after"}}, runs: sendRun(0, ""),
		check: func(t *testing.T, e *env) { wantStored(t, e, 1) }},
	{row: "`talk --code 10 --reason \"not a member\" --persist`", doc: []string{"4 `rejected`"},
		arm: [][]string{{"talk", "--code", "10", "--reason", "not a member", "--persist"}}, runs: sendRun(4, "rejected")},
	{row: "`talk --code 82 --reason \"can not send using plain mode\" --persist`", doc: []string{"4 `e2ee_required`"},
		arm: [][]string{{"talk", "--code", "82", "--reason", "can not send using plain mode", "--persist"}}, runs: sendRun(4, "e2ee_required")},
	{row: "`talk --code 119`", doc: []string{"0: refreshed and retried"}, arm: [][]string{{"talk", "--code", "119"}}, runs: sendRun(0, ""),
		check: func(t *testing.T, e *env) { wantCalls(t, e, "tokenRefresh", 1) }},
	{row: "`talk --code 119 --persist`", doc: []string{"3 `session_ended`"}, arm: [][]string{{"talk", "--code", "119", "--persist"}}, runs: sendRun(3, "session_ended")},
	{row: "`delay --delay 3s`", doc: []string{"`linectl --timeout 1s send …`", "0 once the stream settles it", "6 `outcome_unknown` when `--confirm-timeout` (e.g. `500ms`)"},
		arm: [][]string{{"delay", "--delay", "3s"}},
		runs: []faultRun{
			{[]string{"--timeout", "1s", "send", "--to-name", "Family", "hi"}, 0, ""},
			{[]string{"--timeout", "1s", "send", "--confirm-timeout", "500ms", "--to-name", "Family", "hi"}, 6, "outcome_unknown"},
		},
		check: func(t *testing.T, e *env) { e.must("", "sandbox", "fault", "delay", "--delay", "0") }},
	{row: "`not-json`, `empty`, `truncated`", doc: []string{"6 `outcome_unknown`"}, arm: [][]string{{"not-json"}, {"empty"}, {"truncated"}},
		runs: []faultRun{{sendFamily, 6, "outcome_unknown"}, {sendFamily, 6, "outcome_unknown"}, {sendFamily, 6, "outcome_unknown"}}},
	{row: "`html`", doc: []string{"6 `outcome_unknown`"}, arm: [][]string{{"html"}}, runs: sendRun(6, "outcome_unknown")},
	{row: "`upstream`", doc: []string{"6 `outcome_unknown`"}, arm: [][]string{{"upstream"}}, runs: sendRun(6, "outcome_unknown")},
	{row: "`expire-windows --count 1`", doc: []string{"`login qr` polls again: 0", "`--count 2` ends the login: 3 `login_timeout`"},
		login: true, arm: [][]string{{"expire-windows", "--count", "1"}},
		runs: []faultRun{{[]string{"login", "qr"}, 0, ""}},
		check: func(t *testing.T, e *env) {
			wantCalls(t, e, "checkQrCodeVerified", 2)
			e.must("", "sandbox", "fault", "expire-windows", "--count", "2")
			r := e.run("", "login", "qr")
			wantExit(t, r, 3, "login_timeout")
			// LINE's windows ran out, not --wait (6m): the words say so.
			if !strings.Contains(r.stderr, "in the time LINE allows for it (the code expired)") || strings.Contains(r.stderr, "--wait") {
				t.Fatalf("stderr: %s", r.stderr)
			}
		}},
	{row: "`refresh-retry --count 2`", doc: []string{"`session refresh` retries per LINE's policy: 0"}, arm: [][]string{{"refresh-retry", "--count", "2"}},
		runs:  []faultRun{{[]string{"session", "refresh"}, 0, ""}},
		check: func(t *testing.T, e *env) { wantCalls(t, e, "tokenRefresh", 3) }},
	{row: "`drop-stream-every --count 2`", doc: []string{"`receive` reconnects; nothing lost or repeated"}, arm: [][]string{{"drop-stream-every", "--count", "2"}},
		runs: []faultRun{{[]string{"receive", "--wait", "200ms"}, 0, ""}}, // the starting position
		check: func(t *testing.T, e *env) {
			injectN(e, "m", 0, 9)
			r := e.must("", "receive", "--wait", "300ms", "--text-only")
			if got, want := strings.Join(messageTexts(t, r), ","), strings.Join(names("m", 0, 9), ","); got != want {
				t.Fatalf("printed %s, want %s", got, want)
			}
			if n := callsOf(e, "receive"); n < 5 {
				t.Fatalf("%d stream connections: the drops did not happen", n)
			}
			if got := messageTexts(t, e.must("", "receive", "--wait", "300ms", "--text-only")); len(got) != 0 {
				t.Fatalf("repeated: %v", got)
			}
			e.must("", "sandbox", "fault", "clear")
		}},
}

func wantCalls(t *testing.T, e *env, method string, n int) {
	t.Helper()
	if got := callsOf(e, method); got != n {
		t.Fatalf("%d %s calls, want %d: %v", got, method, n, e.sim.CallNames())
	}
}

func wantStored(t *testing.T, e *env, n int) {
	t.Helper()
	st := e.must("", "sandbox", "do", "state").first(t, "sandbox-state")
	if got := len(st["messages"].([]any)); got != n {
		t.Fatalf("the sandbox stored %d messages, want %d", got, n)
	}
}

// docFaultTable reads the rows of docs/sandbox.md's fault table: first
// column → last column.
func docFaultTable(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/sandbox.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| `linectl sandbox fault …` |")
	if !ok {
		t.Fatal("docs/sandbox.md: no fault table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	rows := map[string]string{}
	cell := regexp.MustCompile(`\s*\|\s*`)
	for _, line := range strings.Split(table, "\n")[2:] {
		cells := cell.Split(strings.Trim(line, "| "), -1)
		rows[cells[0]] = cells[len(cells)-1]
	}
	return rows
}

// Every row of docs/sandbox.md's fault table, run as it says: the fault
// armed with `linectl sandbox fault`, then the command, against the sandbox.
// A row added to the docs without a case here fails, and so does a case
// whose exit code the docs do not state.
func TestSandboxFaultTableAsDocumented(t *testing.T) {
	docs := docFaultTable(t)
	for _, fr := range faultRows {
		last, ok := docs[fr.row]
		if !ok {
			t.Errorf("docs/sandbox.md has no fault row %s", fr.row)
			continue
		}
		delete(docs, fr.row)
		for _, d := range fr.doc {
			if !strings.Contains(last, d) {
				t.Errorf("docs/sandbox.md row %s says %q, not %q", fr.row, last, d)
			}
		}
	}
	for row := range docs {
		t.Errorf("docs/sandbox.md fault row %s has no test here", row)
	}
	for _, fr := range faultRows {
		t.Run(fr.row, func(t *testing.T) {
			e := newSandboxEnv(t)
			if !fr.login {
				e.loginQR()
			}
			for _, a := range fr.arm {
				e.must("", append([]string{"sandbox", "fault"}, a...)...)
			}
			for _, r := range fr.runs {
				res := e.run("", r.args...)
				wantExit(t, res, r.exit, r.kind)
			}
			if fr.check != nil {
				fr.check(t, e)
			}
			// What a row arms for a count of calls is used up by its runs:
			// nothing is left to break the next one.
			if l := e.must("", "sandbox", "fault", "list"); l.stdout != "" && !strings.Contains(fr.row, "--persist") {
				t.Fatalf("left armed: %s", l.stdout)
			}
		})
	}
}

// `sandbox fault list` prints what is armed; `sandbox fault clear` disarms it
// all, so a fault left over from an earlier run does not break the next.
func TestSandboxFaultListAndClear(t *testing.T) {
	e := newSandboxEnv(t)
	e.loginQR()
	if out := e.must("", "sandbox", "fault", "list").stdout; out != "" {
		t.Fatalf("a fresh sandbox lists %q", out)
	}
	e.must("", "sandbox", "fault", "503", "--count", "10")
	e.must("", "sandbox", "fault", "talk", "--method", "getProfile", "--code", "10", "--reason", "not a member", "--persist")
	e.must("", "sandbox", "fault", "html", "--status", "502")
	e.must("", "sandbox", "fault", "delay", "--method", "getContacts", "--delay", "2s")
	if l := e.must("", "sandbox", "fault", "drop-stream-every", "--count", "4").first(t, "sandbox-fault"); l["method"] != "" || l["persist"] != true {
		t.Fatalf("drop-stream-every armed as %v", l)
	}
	e.must("", "sandbox", "fault", "refresh-retry", "--count", "2")
	wantExit(t, e.run("", "send", "--to-name", "Family", "hi"), 5, "temporary") // uses 3 of the 10
	r := e.must("", "sandbox", "fault", "list")
	var got []string
	for _, l := range r.lines(t) {
		if l["type"] != "sandbox-fault" {
			t.Fatalf("line %v", l)
		}
		delete(l, "type")
		b, _ := json.Marshal(l)
		got = append(got, string(b))
	}
	want := []string{
		`{"code":10,"count":0,"kind":"talk","method":"getProfile","persist":true,"reason":"not a member"}`,
		`{"count":7,"kind":"503","method":"sendMessage"}`,
		`{"count":1,"kind":"html","method":"sendMessage","status":502}`,
		`{"count":0,"delay":"2s","kind":"delay","method":"getContacts","persist":true}`,
		`{"count":2,"kind":"refresh-retry","method":""}`,
		`{"count":4,"kind":"drop-stream-every","method":"","persist":true}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fault list:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	e.must("", "sandbox", "fault", "clear")
	if out := e.must("", "sandbox", "fault", "list").stdout; out != "" {
		t.Fatalf("after clear: %q", out)
	}
	e.must("", "send", "--to-name", "Family", "hi") // the leftover 503s are gone
	wantExit(t, e.run("", "sandbox", "fault", "429", "--persist", "--count", "2"), 2, "usage")
	wantExit(t, e.run("", "sandbox", "fault", "expire-windows", "--persist"), 2, "usage")
	wantExit(t, e.run("", "sandbox", "fault", "list", "extra"), 2, "usage")
	wantExit(t, e.run("", "sandbox", "fault", "delay"), 2, "usage")
	wantExit(t, e.run("", "sandbox", "fault", "talk"), 2, "usage")
	if h := e.must("", "sandbox", "fault", "--help"); !strings.Contains(h.stdout+h.stderr, "sandbox fault clear") {
		t.Fatal("sandbox fault --help does not mention clear")
	}
}
