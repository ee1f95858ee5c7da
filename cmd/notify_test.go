package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/notify"
)

func testFactory(t *testing.T) (*factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	f := newFactory(&iostreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
	f.ConfigPath = filepath.Join(t.TempDir(), "linectl", "config.yaml")
	return f, &out, &errb
}

func TestNotifyServeArgs(t *testing.T) {
	cases := []struct {
		args []string
		ok   bool
		want notify.Rate
	}{
		{nil, true, notify.DefaultRate},
		{[]string{"--listen", "127.0.0.1:0", "--rate-limit", "5/s"}, true, notify.Rate{Calls: 5, Per: time.Second}},
		{[]string{"--listen", "localhost:8093"}, true, notify.DefaultRate},
		{[]string{"--listen", "[::1]:8093"}, true, notify.DefaultRate},
		{[]string{"--listen", "0.0.0.0:8093"}, false, notify.Rate{}},
		{[]string{"--listen", ":8093"}, false, notify.Rate{}},
		{[]string{"--listen", "192.168.1.2:8093"}, false, notify.Rate{}},
		{[]string{"--listen", "example.com:8093"}, false, notify.Rate{}},
		{[]string{"--listen", "0.0.0.0:8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, true, notify.DefaultRate},
		{[]string{"--listen", "0.0.0.0:8443", "--tls-cert", "c.pem"}, false, notify.Rate{}},
		{[]string{"--tls-key", "k.pem"}, false, notify.Rate{}},
		{[]string{"--listen", "8093"}, false, notify.Rate{}},
		{[]string{"--rate-limit", "1000"}, false, notify.Rate{}},
		{[]string{"--rate-limit", "0/h"}, false, notify.Rate{}},
		{[]string{"--e2ee", "maybe"}, false, notify.Rate{}},
		{[]string{"--confirm-timeout", "1ms"}, false, notify.Rate{}},
		{[]string{"extra"}, false, notify.Rate{}},
	}
	for _, c := range cases {
		f, _, _ := testFactory(t)
		var got *notifyServeOptions
		cmd := newCmdNotifyServe(f, func(o *notifyServeOptions) error { got = o; return nil })
		cmd.SetArgs(c.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if c.ok != (err == nil) {
			t.Fatalf("%v: err %v", c.args, err)
		}
		if err != nil {
			if cl := classify(err); cl.code != ExitUsage {
				t.Fatalf("%v: exit %d, want 2", c.args, cl.code)
			}
			continue
		}
		if got.Rate != c.want {
			t.Fatalf("%v: rate %v", c.args, got.Rate)
		}
	}
}

func TestNotifyTokenAddArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--to", "cfa0117000000000000000000000fa011"}, true},
		{[]string{"--to-name", "Family"}, true},
		{nil, false},
		{[]string{"--to", "cfa0117000000000000000000000fa011", "--to-name", "Family"}, false},
		{[]string{"--to", "nope"}, false},
		{[]string{"--to-name", "\u200b"}, false},
	} {
		f, _, _ := testFactory(t)
		cmd := newCmdNotifyTokenAdd(f, func(*notifyTokenAddOptions) error { return nil })
		cmd.SetArgs(c.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.Execute(); c.ok != (err == nil) {
			t.Fatalf("%v: err %v", c.args, err)
		}
	}
}

// add, list, revoke through the command tree: the token is printed once,
// list never shows it, revoke removes it.
func TestNotifyTokenCommands(t *testing.T) {
	f, out, _ := testFactory(t)
	linectl := func(args ...string) (int, []map[string]any) {
		out.Reset()
		var errb bytes.Buffer
		io := &iostreams{In: strings.NewReader(""), Out: out, ErrOut: &errb}
		code := run(context.Background(), io, append([]string{"--config", f.ConfigPath}, args...))
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if l == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q", l)
			}
			lines = append(lines, m)
		}
		return code, lines
	}
	code, lines := linectl("notify", "token", "add", "--to", "cfa0117000000000000000000000fa011")
	if code != 0 || len(lines) != 1 || lines[0]["type"] != "notifyToken" || len(lines[0]["token"].(string)) < 43 || len(lines[0]["id"].(string)) != 8 {
		t.Fatalf("add: %d %v", code, lines)
	}
	token, id := lines[0]["token"].(string), lines[0]["id"].(string)
	code, lines = linectl("notify", "token", "list")
	if code != 0 || len(lines) != 1 || lines[0]["id"] != id || lines[0]["token"] != nil || strings.Contains(out.String(), token) {
		t.Fatalf("list: %d %v", code, lines)
	}
	if code, _ := linectl("notify", "token", "revoke", "ffffffff"); code != ExitUsage {
		t.Fatalf("revoke unknown: %d", code)
	}
	if code, _ := linectl("notify", "token", "revoke"); code != ExitUsage {
		t.Fatalf("revoke without id: %d", code)
	}
	code, lines = linectl("notify", "token", "revoke", id)
	if code != 0 || len(lines) != 1 || lines[0]["revoked"] != true || lines[0]["id"] != id {
		t.Fatalf("revoke: %d %v", code, lines)
	}
	if code, lines = linectl("notify", "token", "list"); code != 0 || len(lines) != 0 {
		t.Fatalf("list after revoke: %d %v", code, lines)
	}
}
