package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/config"
	"github.com/linectl/linectl/internal/notify"
	"github.com/linectl/linectl/internal/session"
	"github.com/linectl/linectl/internal/state"
	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Run functions called with their Options and fakes: a fake gateway that
// answers each method with a canned envelope, a fixed config, buffers.

// fakeGateway answers POST …/<method> with answers[method] (status 200) or
// a TalkException for a method it has no answer for.
func fakeGateway(t *testing.T, answers map[string]string) func(bool) (*lineapi.Client, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answers[path.Base(r.URL.Path)]
		if !ok {
			w.WriteHeader(400)
			body = `{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"TalkException","code":10,"reason":"not a member"}}`
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return func(bool) (*lineapi.Client, error) {
		return lineapi.New(srv.URL, lineapi.WithTokenSource(lineapi.StaticToken("tok")), lineapi.WithSleep(func(context.Context, time.Duration) error { return nil }))
	}
}

func fakeDeps(t *testing.T, client func(bool) (*lineapi.Client, error)) (deps, *bytes.Buffer) {
	var out bytes.Buffer
	return deps{
		Out: newPrinter(&out), Client: client,
		Config: func() (*config.Config, error) { return &config.Config{Gateway: "https://gw.example"}, nil },
		Now:    time.Now,
		Resolve: func(_ context.Context, mids, names []string) ([]string, error) {
			if len(names) > 0 {
				return nil, usageErrorf("--name %q: not found", names[0])
			}
			return mids, nil
		},
	}, &out
}

func TestRunWhoamiWithFakes(t *testing.T) {
	for _, c := range []struct {
		name    string
		answers map[string]string
		want    string
		code    int
	}{
		{"profile", map[string]string{"getProfile": `{"code":0,"message":"OK","data":{"mid":"u1","displayName":"Al"}}`}, `"displayName":"Al"`, 0},
		{"refused", nil, "", ExitRejected},
		{"not json", map[string]string{"getProfile": `<html>`}, "", ExitTemporary},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, out := fakeDeps(t, fakeGateway(t, c.answers))
			store := &config.Store{Path: "/c"}
			d.Store = func() (*config.Store, error) { return store, nil }
			d.Session = func() *session.Source { return session.New(store, config.Tokens{AccessToken: "a"}) }
			opts := &whoamiOptions{deps: d}
			err := runWhoami(context.Background(), opts)
			if got := classify(err).code; (err == nil) != (c.code == 0) || (err != nil && got != c.code) {
				t.Fatalf("err %v (exit %d), want exit %d", err, got, c.code)
			}
			if !strings.Contains(out.String(), c.want) || (c.code == 0 && !strings.Contains(out.String(), `"loggedIn":true`)) {
				t.Fatalf("out %s", out.String())
			}
		})
	}
	d, _ := fakeDeps(t, func(bool) (*lineapi.Client, error) { return nil, errNotLoggedIn })
	if err := runWhoami(context.Background(), &whoamiOptions{deps: d}); classify(err).code != ExitLogin {
		t.Fatalf("no session: %v", err)
	}
}

func TestRunProbeWithFakes(t *testing.T) {
	answers := map[string]string{
		"negotiateE2EEPublicKey": `{"code":0,"message":"OK","data":{"allowedTypes":[],"specVersion":-1}}`,
	}
	d, out := fakeDeps(t, fakeGateway(t, answers))
	err := runProbe(context.Background(), &probeOptions{deps: d, MIDs: []string{"u0123456789abcdef0123456789abcdef"}})
	if err != nil || !strings.Contains(out.String(), `"usable":false`) || !strings.Contains(out.String(), `"allowedTypes":[]`) {
		t.Fatalf("%v %s", err, out.String())
	}
	// A group the account is not in: the refusal names the MID, exit 4.
	err = runProbe(context.Background(), &probeOptions{deps: d, MIDs: []string{"c0123456789abcdef0123456789abcdef"}})
	if classify(err).code != ExitRejected || !strings.Contains(err.Error(), "c0123456789abcdef0123456789abcdef") {
		t.Fatalf("group: %v", err)
	}
	// Names that do not resolve: exit 2 before any call.
	err = runProbe(context.Background(), &probeOptions{deps: d, Names: []string{"Nobody"}})
	if classify(err).code != ExitUsage {
		t.Fatalf("names: %v", err)
	}
	d.Client = func(bool) (*lineapi.Client, error) { return nil, errors.New("unreachable") }
	if err := runProbe(context.Background(), &probeOptions{deps: d, MIDs: []string{"u0123456789abcdef0123456789abcdef"}}); err == nil {
		t.Fatal("client error lost")
	}
}

// argv → Options: the flags land where the run function reads them.
func TestArgsToOptions(t *testing.T) {
	f, _, _ := testFactory(t)
	var got *probeOptions
	cmd := newCmdProbeE2EE(f, func(o *probeOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"u0123456789abcdef0123456789abcdef", "--name", "Family", "--name", "Ops"})
	if err := cmd.Execute(); err != nil || len(got.MIDs) != 1 || strings.Join(got.Names, ",") != "Family,Ops" || got.Client == nil {
		t.Fatalf("%v %+v", err, got)
	}
	cmd = newCmdProbeE2EE(f, func(*probeOptions) error { t.Fatal("ran with a bad MID"); return nil })
	cmd.SetArgs([]string{"not-a-mid"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); classify(err).code != ExitUsage {
		t.Fatalf("bad MID: %v", err)
	}
}

// memDirectory is a chats and contacts cache in memory.
type memDirectory struct {
	d     state.Names
	saves int
}

func (m *memDirectory) Load() *state.Names { c := m.d; return &c }
func (m *memDirectory) Save(d *state.Names) error {
	m.d, m.saves = *d, m.saves+1
	return nil
}

// chats: a fresh cache answers without a call; a stale one (or --refresh)
// asks LINE and saves; a refusal leaves the cache alone.
func TestRunListWithFakes(t *testing.T) {
	answers := map[string]string{
		"getAllChatMids": `{"code":0,"message":"OK","data":{"memberChatMids":["c0123456789abcdef0123456789abcdef"],"invitedChatMids":[]}}`,
		"getChats":       `{"code":0,"message":"OK","data":{"chats":[{"chatMid":"c0123456789abcdef0123456789abcdef","chatName":"Family","extra":{"groupExtra":{"memberMids":{"u1":"1","u2":"2"}}}}]}}`,
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	d, out := fakeDeps(t, fakeGateway(t, answers))
	d.Now = func() time.Time { return now }
	d.Config = func() (*config.Config, error) {
		return &config.Config{Tokens: config.Tokens{AccessToken: "a"}}, nil
	}
	dir := &memDirectory{d: state.Names{ChatsAt: now.Add(-time.Hour), Chats: []chatEntry{{Type: "chat", MID: "c1", Name: "Cached"}}}}
	opts := &listOptions{deps: d, Directory: dir}
	if err := runList(context.Background(), opts, true); err != nil || !strings.Contains(out.String(), "Cached") || dir.saves != 0 {
		t.Fatalf("fresh cache: %v %s (saves %d)", err, out.String(), dir.saves)
	}
	out.Reset()
	opts.Refresh = true
	if err := runList(context.Background(), opts, true); err != nil || !strings.Contains(out.String(), `"name":"Family","kind":"group","members":2`) || dir.saves != 1 {
		t.Fatalf("refresh: %v %s (saves %d)", err, out.String(), dir.saves)
	}
	// Contacts are stale (never fetched): LINE refuses, nothing is saved.
	out.Reset()
	opts.Refresh = false
	if err := runList(context.Background(), opts, false); classify(err).code != ExitRejected || dir.saves != 1 || out.Len() != 0 {
		t.Fatalf("refused: %v, saves %d, out %q", err, dir.saves, out.String())
	}
	// Logged out: exit 3 before any call.
	opts.Config = func() (*config.Config, error) { return &config.Config{}, nil }
	if err := runList(context.Background(), opts, true); classify(err).code != ExitLogin {
		t.Fatalf("logged out: %v", err)
	}
}

// logout: LINE's logoutV2, then the tokens go (the certificate too with
// --forget-device); a session LINE already ended is still cleared locally;
// a network failure clears nothing.
func TestRunLogoutWithFakes(t *testing.T) {
	for _, c := range []struct {
		name         string
		answers      map[string]string
		forget       bool
		code         int
		remote, kept bool
	}{
		{"ok", map[string]string{"logoutV2": `{"code":0,"message":"OK"}`}, false, 0, true, false},
		{"forget", map[string]string{"logoutV2": `{"code":0,"message":"OK"}`}, true, 0, true, false},
		{"ended on LINE", map[string]string{"logoutV2": `{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"TalkException","code":1,"reason":"Authentication Failed."}}`}, false, 0, false, false},
		{"unreachable", map[string]string{"logoutV2": `<html>503</html>`}, false, ExitTemporary, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, out := fakeDeps(t, fakeGateway(t, c.answers))
			store := &config.Store{Path: filepath.Join(t.TempDir(), "c", "config.yaml")}
			if _, err := store.Update(func(cf *config.Config) error {
				cf.Account = config.Account{MID: "u1", Certificate: "cert"}
				cf.Tokens = config.Tokens{AccessToken: "a", RefreshToken: "r"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			d.Store = func() (*config.Store, error) { return store, nil }
			d.Info = func(string, ...any) {}
			forgot, ended, obsDropped := false, false, false
			opts := &logoutOptions{deps: d, ForgetDevice: c.forget, ForgetKeys: func() error { forgot = true; return nil },
				ForgetOBSToken: func() error { obsDropped = true; return nil }, Ended: func() { ended = true }}
			err := runLogout(context.Background(), opts)
			if got := classify(err).code; (err == nil) != (c.code == 0) || (err != nil && got != c.code) {
				t.Fatalf("err %v (exit %d), want %d", err, got, c.code)
			}
			cf, _ := store.Load()
			if cf.Tokens.LoggedIn() != c.kept || (c.forget && (cf.Account.Certificate != "" || !forgot)) || (!c.forget && forgot) {
				t.Fatalf("tokens kept %v, certificate %q, keys forgotten %v", cf.Tokens.LoggedIn(), cf.Account.Certificate, forgot)
			}
			if obsDropped != (c.code == 0) {
				t.Fatalf("object-storage token dropped %v (it was issued under the ended session)", obsDropped)
			}
			if c.code == 0 && (!ended || !strings.Contains(out.String(), fmt.Sprintf(`"remote":%v`, c.remote))) {
				t.Fatalf("out %s, ended %v", out.String(), ended)
			}
		})
	}
}

// download --message-id with a fake object storage: the file is written
// 0600 under --output; an existing file is kept without --force; an object
// never ready fails without leaving a file.
func TestRunDownloadWithFakes(t *testing.T) {
	objects := map[string]string{"/r/talk/m/42": "the bytes"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A plain download carries no X-Talk-Meta (the extension sends it
		// only for a sealed object).
		if r.Header.Get("x-line-access") != "obs-token" || r.Header.Get("x-talk-meta") != "" {
			w.WriteHeader(401)
			return
		}
		body, ok := objects[r.URL.Path]
		if !ok {
			w.WriteHeader(202) // not ready
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	d, out := fakeDeps(t, fakeGateway(t, nil))
	storage := func(*lineapi.Client) *obs.Client {
		return &obs.Client{BaseURL: srv.URL, HTTP: srv.Client(), Attempts: 2,
			Token: func(context.Context, bool) (string, error) { return "obs-token", nil },
			Sleep: func(context.Context, time.Duration) error { return nil }}
	}
	dir := t.TempDir()
	dest := filepath.Join(dir, "g.bin")
	opts := &downloadOptions{deps: d, Storage: storage, MessageID: "42", Output: dest}
	if err := runDownload(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dest)
	st, _ := os.Stat(dest)
	if string(b) != "the bytes" || st.Mode().Perm() != 0o600 || !strings.Contains(out.String(), `"size":9`) {
		t.Fatalf("%q %v %s", b, st.Mode(), out.String())
	}
	if err := runDownload(context.Background(), opts); classify(err).code != ExitUsage {
		t.Fatalf("existing file: %v", err)
	}
	opts.MessageID, opts.Output = "43", filepath.Join(dir, "never.bin")
	if err := runDownload(context.Background(), opts); err == nil {
		t.Fatal("an object never ready was saved")
	}
	if _, err := os.Stat(opts.Output); err == nil {
		t.Fatal("a file was left for an object never downloaded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// memPosition is receive's position in memory.
type memPosition struct {
	rev    int64
	saved  bool
	locked bool
}

func (m *memPosition) Load(string) (int64, bool, error) { return m.rev, m.saved, nil }
func (m *memPosition) Save(_ string, rev int64) error   { m.rev, m.saved = rev, true; return nil }
func (m *memPosition) Name() string                     { return "memory" }
func (m *memPosition) Lock() (func(), error) {
	if m.locked {
		return nil, withExit(ExitTemporary, kindAlreadyRunning, errors.New("already running"))
	}
	return func() {}, nil
}

// receive with a fake gateway: it reads the operations after the saved
// position up to LINE's newest, prints them, saves the last; a second
// reader is refused (5).
func TestRunReceiveWithFakes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Base(r.URL.Path) {
		case "getLastOpRevision":
			_, _ = w.Write([]byte(`{"code":0,"message":"OK","data":"103"}`))
		case "receive":
			w.Header().Set("content-type", "text/event-stream")
			for rev := 101; rev <= 103; rev++ {
				fmt.Fprintf(w, "data: {\"revision\":\"%d\",\"createdTime\":\"1\",\"type\":26,\"reqSeq\":0,\"param1\":\"0\",\"message\":{\"from\":\"u2\",\"to\":\"u1\",\"toType\":0,\"id\":\"%d\",\"text\":\"m%d\",\"contentMetadata\":{}}}\n\n", rev, rev, rev)
			}
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	d, _ := fakeDeps(t, func(bool) (*lineapi.Client, error) {
		return lineapi.New(srv.URL, lineapi.WithTokenSource(lineapi.StaticToken("tok")))
	})
	d.Config = func() (*config.Config, error) { return &config.Config{Account: config.Account{MID: "u1"}}, nil }
	pos := &memPosition{rev: 100, saved: true}
	var stdout bytes.Buffer
	opts := &receiveOptions{deps: d, Stdout: &stdout, Progress: func(string, ...any) {}, GiveUp: time.Second, Position: pos,
		Opener: func(context.Context, *lineapi.Client) (*e2ee.Sealer, func() error, error) {
			return &e2ee.Sealer{Keys: &e2ee.MemoryKeyStore{}}, func() error { return nil }, nil
		},
		Wait: 100 * time.Millisecond, TextOnly: true, StallTimeout: time.Second}
	if err := parseReceiveOptions(opts); err != nil {
		t.Fatal(err)
	}
	if err := runReceive(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(stdout.String(), `"type":"message"`); got != 3 || !strings.Contains(stdout.String(), `"text":"m103"`) || pos.rev != 103 {
		t.Fatalf("printed %d, saved %d:\n%s", got, pos.rev, stdout.String())
	}
	pos.locked = true
	if err := runReceive(context.Background(), opts); classify(err).kind != kindAlreadyRunning {
		t.Fatalf("second reader: %v", err)
	}
}

// memSendState keeps send's probes and revision in memory.
type memSendState struct {
	probes *memProbes
	rev    int64
}

type memProbes struct{ m map[string]*lineapi.Probe }

func (p *memProbes) Probe(mid string) (*lineapi.Probe, bool) { x, ok := p.m[mid]; return x, ok }
func (p *memProbes) SetProbe(mid string, x *lineapi.Probe)   { p.m[mid] = x }
func (p *memProbes) DropProbe(mid string)                    { delete(p.m, mid) }
func (p *memProbes) Save() error                             { return nil }

func (s *memSendState) Probes(string) probeStore               { return s.probes }
func (s *memSendState) Revision(string) int64                  { return s.rev }
func (s *memSendState) SaveRevision(_ string, rev int64) error { s.rev = rev; return nil }

// send with a fake gateway: a cold send probes and sends, a warm one only
// sends; an answer that proves nothing (a 500 page) is searched for on the
// stream and, not found, is exit 6 — never sent again.
func TestRunSendWithFakes(t *testing.T) {
	var mu sync.Mutex // the stream search asks getLastOpRevision while the stream opens
	var calls []string
	sendAnswer := `{"code":0,"message":"OK","data":{"id":"m1","createdTime":"1"}}`
	called := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(calls, ",") }
	reset := func(answer string) { mu.Lock(); defer mu.Unlock(); calls, sendAnswer = nil, answer }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := path.Base(r.URL.Path)
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, m)
		switch m {
		case "negotiateE2EEPublicKey":
			_, _ = w.Write([]byte(`{"code":0,"message":"OK","data":{"allowedTypes":[],"specVersion":-1}}`))
		case "getLastOpRevision":
			_, _ = w.Write([]byte(`{"code":0,"message":"OK","data":"500"}`))
		case "sendMessage":
			if strings.HasPrefix(sendAnswer, "<") {
				w.WriteHeader(500)
			}
			_, _ = w.Write([]byte(sendAnswer))
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	d, out := fakeDeps(t, func(bool) (*lineapi.Client, error) {
		return lineapi.New(srv.URL, lineapi.WithTokenSource(lineapi.StaticToken("tok")), lineapi.WithRetries(1))
	})
	d.Config = func() (*config.Config, error) { return &config.Config{}, nil }
	state := &memSendState{probes: &memProbes{m: map[string]*lineapi.Probe{}}}
	opts := &sendOptions{deps: d, In: strings.NewReader(""), Progress: func(string, ...any) {}, State: state, Grace: time.Second,
		Opener: func(context.Context, *lineapi.Client) (*e2ee.Sealer, func() error, error) {
			return &e2ee.Sealer{Keys: &e2ee.MemoryKeyStore{}, MID: "u1a11ce0000000000000000000000a11c"}, func() error { return nil }, nil
		},
		To: []string{"u0b0b0000000000000000000000000b0b"}, Text: "hi", E2EE: delivery.E2EEAuto, ConfirmTimeout: 200 * time.Millisecond}
	if err := runSend(context.Background(), opts); err != nil || !strings.Contains(out.String(), `"type":"sent"`) {
		t.Fatalf("cold: %v %s", err, out.String())
	}
	if _, ok := state.probes.m["u0b0b0000000000000000000000000b0b"]; !ok || state.rev != 500 {
		t.Fatalf("probe or revision not kept: %v %d", state.probes.m, state.rev)
	}
	reset(sendAnswer)
	if err := runSend(context.Background(), opts); err != nil || called() != "sendMessage" {
		t.Fatalf("warm: %v, calls %v", err, called())
	}
	reset("<html>500</html>")
	out.Reset()
	err := runSend(context.Background(), opts)
	if classify(err).code != ExitUnknown || strings.Count(called(), "sendMessage") != 1 || !strings.Contains(out.String(), `"kind":"outcome_unknown"`) {
		t.Fatalf("unknown outcome: %v (exit %d), calls %v, out %s", err, classify(err).code, called(), out.String())
	}
}

// notify token add/list/revoke with an in-memory-like store in a temporary
// directory and a name resolver: the token is printed once, listed without
// it, revoked by id; an unknown id is exit 2.
func TestNotifyTokensWithFakes(t *testing.T) {
	d, out := fakeDeps(t, nil)
	d.Info = func(string, ...any) {}
	d.Resolve = func(_ context.Context, _, names []string) ([]string, error) {
		if names[0] == "Family" {
			return []string{"c0123456789abcdef0123456789abcdef"}, nil
		}
		return nil, usageErrorf("--to-name %q: not found", names[0])
	}
	st := &notify.Store{Path: filepath.Join(t.TempDir(), "notify-tokens.json")}
	td := notifyTokenDeps{deps: d, Tokens: func() (*notify.Store, error) { return st, nil }, NameOf: func(string) string { return "Cached" }}
	if err := runNotifyTokenAdd(context.Background(), &notifyTokenAddOptions{notifyTokenDeps: td, ToName: "Family"}); err != nil {
		t.Fatal(err)
	}
	var added notifyTokenLine
	if err := json.Unmarshal(out.Bytes(), &added); err != nil || added.Token == "" || added.Name != "Family" || added.To != "c0123456789abcdef0123456789abcdef" {
		t.Fatalf("added %s (%v)", out.String(), err)
	}
	if err := runNotifyTokenAdd(context.Background(), &notifyTokenAddOptions{notifyTokenDeps: td, ToName: "Nobody"}); classify(err).code != ExitUsage {
		t.Fatalf("unknown name: %v", err)
	}
	out.Reset()
	if err := runNotifyTokenList(td); err != nil || strings.Contains(out.String(), added.Token) || !strings.Contains(out.String(), added.ID) {
		t.Fatalf("list: %v %s", err, out.String())
	}
	out.Reset()
	if err := runNotifyTokenRevoke(td, added.ID); err != nil || !strings.Contains(out.String(), `"revoked":true`) {
		t.Fatalf("revoke: %v %s", err, out.String())
	}
	if err := runNotifyTokenRevoke(td, added.ID); classify(err).code != ExitUsage {
		t.Fatalf("revoke again: %v", err)
	}
}

// download --max-time bounds a whole download: an object server trickling
// a byte at a time (never idle long enough for --idle-timeout) is cut off,
// exit 5, and no file is left.
func TestRunDownloadMaxTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-length", "1000000")
		for {
			if _, err := w.Write([]byte{'x'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	d, _ := fakeDeps(t, fakeGateway(t, nil))
	storage := func(*lineapi.Client) *obs.Client {
		return &obs.Client{BaseURL: srv.URL, HTTP: srv.Client(), Attempts: 1,
			Token: func(context.Context, bool) (string, error) { return "obs-token", nil }}
	}
	dest := filepath.Join(t.TempDir(), "slow.bin")
	opts := &downloadOptions{deps: d, Storage: storage, MessageID: "42", Output: dest, IdleTimeout: time.Second, MaxTime: 300 * time.Millisecond}
	err := runDownload(context.Background(), opts)
	if c := classify(err); c.code != ExitTemporary || !strings.Contains(err.Error(), "--max-time") {
		t.Fatalf("%v (exit %d)", err, c.code)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 0 {
		t.Fatalf("left %v", entries)
	}
}
