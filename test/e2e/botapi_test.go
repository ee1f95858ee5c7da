package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// botAnswer is one answer of linectl serve's Messaging API.
type botAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// botCall makes one request as an integration calling api.line.me would.
func botCall(t *testing.T, method, url, token string, body any, header ...string) botAnswer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := botAnswer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: body %q is not JSON", method, url, raw)
		}
	}
	if resp.Header.Get("X-Line-Request-Id") == "" {
		t.Fatalf("%s %s: no x-line-request-id", method, url)
	}
	return a
}

func wantBot(t *testing.T, a botAnswer, status int, msg string) {
	t.Helper()
	if a.status != status || !strings.Contains(string(a.raw), msg) {
		t.Fatalf("answer %d %s, want %d with %q", a.status, a.raw, status, msg)
	}
}

// addBotToken runs bot token add and returns its line.
func (e *env) addBotToken(args ...string) map[string]any {
	e.t.Helper()
	return e.must("", append([]string{"bot", "token", "add"}, args...)...).first(e.t, "botToken")
}

func text(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

func TestServePushAndErrors(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken("--name", "alerts")["token"].(string)
	if _, ok := e.addBotToken("--name", "x")["channelSecret"]; ok {
		t.Fatal("a channel secret without a webhook")
	}
	fam := e.addBotToken("--to", simgw.FamilyMID, "--webhook", "http://127.0.0.1:9/hook")
	if len(fam["channelSecret"].(string)) != 32 || fam["webhook"] != "http://127.0.0.1:9/hook" {
		t.Fatalf("token line %v", fam)
	}
	famTok := fam["token"].(string)
	list := e.must("", "bot", "token", "list")
	if ls := list.lines(t); len(ls) != 3 || strings.Contains(list.stdout, tok) || strings.Contains(list.stdout, fam["channelSecret"].(string)) {
		t.Fatalf("list %v", list.stdout)
	}
	wantExit(t, e.run("", "serve", "--listen", "0.0.0.0:0"), 2, "usage")
	wantExit(t, e.run("", "serve", "--webhook-backoff", "1ms"), 2, "usage")
	srv := e.startServing([]string{"serve"}, "serve")
	push := srv.url + "/v2/bot/message/push"

	a := botCall(t, "POST", push, tok, map[string]any{"to": simgw.BobMID, "messages": []any{text("deploy done"),
		map[string]any{"type": "sticker", "packageId": "446", "stickerId": "1988"}}})
	wantBot(t, a, 200, "sentMessages")
	sent := a.body["sentMessages"].([]any)
	if len(sent) != 2 || sent[0].(map[string]any)["id"] == "" || !strings.HasPrefix(sent[0].(map[string]any)["quoteToken"].(string), "lq1.") {
		t.Fatalf("sentMessages %v", sent)
	}
	if n := storedTexts(e)["deploy done"]; n != 1 {
		t.Fatalf("deploy done stored %d times", n)
	}
	// Notify's API on the same listener.
	notifyTok, _ := e.addToken("--to", simgw.BobMID)
	wantNotify(t, curl(t, notifyTok, srv.url+"/api/notify", "-F", "message=from notify"), 200, "ok")

	before := len(e.sim.Messages())
	// Bad input: nothing sent.
	wantBot(t, botCall(t, "POST", push, "nope", map[string]any{"to": simgw.BobMID, "messages": []any{text("x")}}), 401, "Authentication failed")
	wantBot(t, botCall(t, "POST", push, tok, `{"to":`), 400, "not valid JSON")
	six := []any{text("1"), text("2"), text("3"), text("4"), text("5"), text("6")}
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.BobMID, "messages": six}), 400, `"property":"messages"`)
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.BobMID, "messages": []any{text(strings.Repeat("a", 5001))}}), 400, `"property":"messages[0].text"`)
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": "u0123456789abcdef0123456789abcdef", "messages": []any{text("who?")}}), 400, "Failed to send messages")
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": "Ubogus", "messages": []any{text("x")}}), 400, `"property":"to"`)
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.BobMID, "messages": []any{map[string]any{"type": "flex", "altText": "x", "contents": map[string]any{}}}}), 400, `the message type \"flex\" is not supported`)
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.BobMID, "messages": []any{map[string]any{"type": "image", "originalContentUrl": "https://example.com/a.png", "previewImageUrl": "https://example.com/a.png"}}}), 400, "--allow-image-urls")
	wantBot(t, botCall(t, "POST", push, famTok, map[string]any{"to": simgw.BobMID, "messages": []any{text("not mine")}}), 403, "may not send to")
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/broadcast", tok, map[string]any{"messages": []any{text("all")}}), 403, "does not broadcast")
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/narrowcast", tok, map[string]any{"messages": []any{text("all")}}), 403, "does not broadcast")
	if n := len(e.sim.Messages()); n != before {
		t.Fatalf("bad requests sent %d messages", n-before)
	}

	// A revoked token is 401 at once.
	id := e.must("", "bot", "token", "list").lines(t)[0]["id"].(string)
	e.must("", "bot", "token", "revoke", id)
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.BobMID, "messages": []any{text("x")}}), 401, "Authentication failed")

	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM\n%s", code, srv.stderrText())
	}
	out := srv.stdoutText()
	if strings.Contains(out, tok) || strings.Contains(out, "deploy done") {
		t.Fatal("the log has a token or a message text")
	}
	var lines int
	for _, l := range srv.requestLines() {
		if l["type"] == "bot" {
			lines++
		}
	}
	if lines < 10 {
		t.Fatalf("%d bot lines:\n%s", lines, out)
	}
	_ = fmt.Sprint
}

// X-Line-Retry-Key as LINE documents it: the same key again is 409 with
// x-line-accepted-request-id and nothing sent; an unknown outcome is 500,
// settled by a retry with the same key (409 when found delivered, 500 while
// unknown, a send when proven not sent); kept across restarts.
func TestServeRetryKey(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	srv := e.startServing([]string{"serve"}, "serve", "--confirm-timeout", "1s")
	push := srv.url + "/v2/bot/message/push"
	multicast := srv.url + "/v2/bot/message/multicast"
	body := func(s string) map[string]any { return map[string]any{"to": simgw.BobMID, "messages": []any{text(s)}} }
	const k1 = "123e4567-e89b-12d3-a456-426614174000"

	first := botCall(t, "POST", push, tok, body("once"), "X-Line-Retry-Key", k1)
	wantBot(t, first, 200, "sentMessages")
	again := botCall(t, "POST", push, tok, body("once"), "X-Line-Retry-Key", k1)
	wantBot(t, again, 409, "The retry key is already accepted")
	if got, want := again.header.Get("X-Line-Accepted-Request-Id"), first.header.Get("X-Line-Request-Id"); got != want || got == "" {
		t.Fatalf("x-line-accepted-request-id %q, want %q", got, want)
	}
	wantBot(t, botCall(t, "POST", push, tok, body("once"), "X-Line-Retry-Key", "not-a-uuid"), 400, "UUID")
	wantBot(t, botCall(t, "GET", srv.url+"/v2/bot/info", tok, nil, "X-Line-Retry-Key", k1), 400, "not supported by this API")

	// Stored, its answer lost, and the stream not reachable at first: 500;
	// the retry finds it: 409.
	const k2 = "223e4567-e89b-12d3-a456-426614174000"
	e.sim.FailReply("sendMessage", simgw.Reply{Status: 502, ContentType: "text/html", Body: "<html>502</html>", Process: true}, 1)
	e.sim.StallNextStreams(1)
	wantBot(t, botCall(t, "POST", push, tok, body("lost answer"), "X-Line-Retry-Key", k2), 500, "may have been delivered")
	wantBot(t, botCall(t, "POST", push, tok, body("lost answer"), "X-Line-Retry-Key", k2), 409, "already accepted")

	// Not stored, answer lost: 500 while unknown, every time; never sent again.
	const k3 = "323e4567-e89b-12d3-a456-426614174000"
	e.sim.FailReply("sendMessage", simgw.ReplyHTML(502), 1)
	wantBot(t, botCall(t, "POST", push, tok, body("never stored"), "X-Line-Retry-Key", k3), 500, "may have been delivered")
	wantBot(t, botCall(t, "POST", push, tok, body("never stored"), "X-Line-Retry-Key", k3), 500, "still unknown")

	// Refused by LINE (nothing stored): the key stays free and the retry sends.
	const k4 = "423e4567-e89b-12d3-a456-426614174000"
	e.sim.FailTalk("sendMessage", simgw.FaultTalk, 0, "illegal argument", 1)
	wantBot(t, botCall(t, "POST", push, tok, body("throttled first"), "X-Line-Retry-Key", k4), 400, "Failed to send messages")
	wantBot(t, botCall(t, "POST", push, tok, body("throttled first"), "X-Line-Retry-Key", k4), 200, "sentMessages")

	// Multicast: {} and the same key again 409.
	const k5 = "523e4567-e89b-12d3-a456-426614174000"
	mc := map[string]any{"to": []string{simgw.BobMID, simgw.CarolMID}, "messages": []any{text("to both")}}
	if a := botCall(t, "POST", multicast, tok, mc, "X-Line-Retry-Key", k5); a.status != 200 || string(a.raw) != "{}" {
		t.Fatalf("multicast %d %s", a.status, a.raw)
	}
	wantBot(t, botCall(t, "POST", multicast, tok, mc, "X-Line-Retry-Key", k5), 409, "already accepted")
	wantBot(t, botCall(t, "POST", multicast, tok, map[string]any{"to": []string{simgw.FamilyMID}, "messages": []any{text("x")}}), 400, "must be a user's MID")

	// Kept across a restart.
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	srv = e.startServing([]string{"serve"}, "serve", "--confirm-timeout", "1s")
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/push", tok, body("once"), "X-Line-Retry-Key", k1), 409, "already accepted")
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/push", tok, body("never stored"), "X-Line-Retry-Key", k3), 500, "still unknown")

	got := storedTexts(e)
	for s, n := range map[string]int{"once": 1, "lost answer": 1, "never stored": 0, "throttled first": 1, "to both": 2} {
		if got[s] != n {
			t.Fatalf("%q stored %d times, want %d (%v)", s, got[s], n, got)
		}
	}
}

// kill -9 in the middle of a keyed push: the journal already held the
// record that its send was starting (synced before the send), so after a
// restart the same key is 500 — may have been delivered — and the message
// is never sent a second time.
func TestServeRetryKeyKilledMidSend(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	srv := e.startServing([]string{"serve"}, "serve", "--confirm-timeout", "1s")
	const key = "623e4567-e89b-12d3-a456-426614174000"
	body := map[string]any{"to": simgw.BobMID, "messages": []any{text("killed mid-send")}}
	e.sim.Delay("sendMessage", 2*time.Second)
	go func() { // its answer never comes: the server is killed
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.url+"/v2/bot/message/push", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Line-Retry-Key", key)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	journal := filepath.Join(filepath.Dir(e.config), "bot-retry-keys.json")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(journal); bytes.Contains(b, []byte(key)) && bytes.Contains(b, []byte(`"attempting"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the journal never said the send was starting")
		}
	}
	_ = srv.cmd.Process.Kill()
	<-srv.done
	e.sim.Delay("sendMessage", 0)
	time.Sleep(2500 * time.Millisecond) // the simulator finishes the delayed call (stored, or not)
	srv = e.startServing([]string{"serve"}, "serve", "--confirm-timeout", "1s")
	defer srv.stop()
	for range 2 {
		wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/push", tok, body, "X-Line-Retry-Key", key), 500, "linectl stopped while sending it")
	}
	if n := storedTexts(e)["killed mid-send"]; n > 1 {
		t.Fatalf("stored %d times", n)
	}
}

// Two serves on one config: the second answers the API, but a request with
// a retry key only where its keys are kept — it is refused there (500,
// nothing sent), or a retry sent to the other server could send twice.
func TestServeRetryKeysOneKeeper(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	first := e.startServing([]string{"serve"}, "serve")
	defer first.stop()
	second := e.startServing([]string{"serve"}, "serve")
	defer second.stop()
	body := map[string]any{"to": simgw.BobMID, "messages": []any{text("to the second")}}
	const key = "723e4567-e89b-12d3-a456-426614174000"
	wantBot(t, botCall(t, "POST", second.url+"/v2/bot/message/push", tok, body, "X-Line-Retry-Key", key), 500, "another 'linectl serve' keeps")
	if !strings.Contains(second.stderrText(), "requests with a retry key are refused here") {
		t.Fatalf("stderr %q", second.stderrText())
	}
	wantBot(t, botCall(t, "POST", second.url+"/v2/bot/message/push", tok, body), 200, "sentMessages")
	wantBot(t, botCall(t, "POST", first.url+"/v2/bot/message/push", tok, body, "X-Line-Retry-Key", key), 200, "sentMessages")
	if n := storedTexts(e)["to the second"]; n != 2 {
		t.Fatalf("stored %d times, want 2 (the unkeyed one and the keyed one on the first server)", n)
	}
}

// A full config disk: a keyed push whose record cannot be written is
// refused before anything is sent (500); once the journal exists, its lines
// go into the zeros written ahead of them, so keyed pushes go on while the
// disk is full.
func TestServeRetryKeysFullDisk(t *testing.T) {
	e := newEnv(t)
	d := mountConfigDisk(t, e)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	srv := e.startServing([]string{"serve"}, "serve")
	defer srv.stop()
	push := srv.url + "/v2/bot/message/push"
	body := func(s string) map[string]any { return map[string]any{"to": simgw.BobMID, "messages": []any{text(s)}} }

	d.fill()
	wantBot(t, botCall(t, "POST", push, tok, body("no journal"), "X-Line-Retry-Key", "823e4567-e89b-12d3-a456-426614174000"), 500, "nothing was sent")
	d.free()
	wantBot(t, botCall(t, "POST", push, tok, body("journal made"), "X-Line-Retry-Key", "923e4567-e89b-12d3-a456-426614174000"), 200, "sentMessages")
	d.fill()
	for i := range 5 {
		key := fmt.Sprintf("a23e4567-e89b-12d3-a456-42661417400%d", i)
		wantBot(t, botCall(t, "POST", push, tok, body("disk full"), "X-Line-Retry-Key", key), 200, "sentMessages")
		wantBot(t, botCall(t, "POST", push, tok, body("disk full"), "X-Line-Retry-Key", key), 409, "already accepted")
	}
	d.free()
	got := storedTexts(e)
	if got["no journal"] != 0 || got["journal made"] != 1 || got["disk full"] != 5 {
		t.Fatalf("stored %v", got)
	}
}

// quoteToken (a reply to that message) and textV2 mentions reach LINE as
// 'linectl send --reply-to/--mention' sends them.
func TestServeQuoteAndMentions(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	srv := e.startServing([]string{"serve"}, "serve")
	push := srv.url + "/v2/bot/message/push"
	a := botCall(t, "POST", push, tok, map[string]any{"to": simgw.OpsMID, "messages": []any{text("disk full")}})
	wantBot(t, a, 200, "sentMessages")
	sm := a.body["sentMessages"].([]any)[0].(map[string]any)
	q := map[string]any{"type": "text", "text": "fixed", "quoteToken": sm["quoteToken"]}
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.OpsMID, "messages": []any{q}}), 200, "sentMessages")
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.FamilyMID, "messages": []any{q}}), 400, "quotes a message of another chat")
	v2 := map[string]any{"type": "textV2", "text": "{bob}, please look", "substitution": map[string]any{
		"bob": map[string]any{"type": "mention", "mentionee": map[string]any{"type": "user", "userId": simgw.BobMID}}}}
	wantBot(t, botCall(t, "POST", push, tok, map[string]any{"to": simgw.OpsMID, "messages": []any{v2}}), 200, "sentMessages")
	var reply, mention *simgw.Message
	for _, m := range e.sim.Messages() {
		m := m
		switch {
		case m.Text == "fixed":
			reply = &m
		case strings.HasSuffix(m.Text, ", please look"):
			mention = &m
		}
	}
	if reply == nil || reply.ReplyTo != sm["id"] {
		t.Fatalf("reply %+v, want a reply to %v", reply, sm["id"])
	}
	if mention == nil || !strings.Contains(mention.Metadata["MENTION"], simgw.BobMID) || !strings.HasPrefix(mention.Text, "@") {
		t.Fatalf("mention %+v", mention)
	}
}

// The reading endpoints: the account's contacts and chats as the Messaging
// API shows them, only those the token may use.
func TestServeReading(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	opsTok := e.addBotToken("--to", simgw.OpsMID)["token"].(string)
	srv := e.startServing([]string{"serve"}, "serve")
	get := func(tok, p string) botAnswer { return botCall(t, "GET", srv.url+p, tok, nil) }

	a := get(tok, "/v2/bot/profile/"+simgw.BobMID)
	if a.status != 200 || a.body["displayName"] != "Bob" || a.body["userId"] != simgw.BobMID {
		t.Fatalf("profile %d %s", a.status, a.raw)
	}
	wantBot(t, get(tok, "/v2/bot/profile/u0123456789abcdef0123456789abcdef"), 404, "Not found")
	a = get(tok, "/v2/bot/group/"+simgw.FamilyMID+"/summary")
	if a.status != 200 || a.body["groupName"] != "Family" || a.body["groupId"] != simgw.FamilyMID {
		t.Fatalf("summary %d %s", a.status, a.raw)
	}
	a = get(tok, "/v2/bot/group/"+simgw.OpsMID+"/members/ids")
	if ids, _ := a.body["memberIds"].([]any); a.status != 200 || len(ids) != 2 {
		t.Fatalf("members %d %s", a.status, a.raw)
	}
	a = get(tok, "/v2/bot/info")
	if a.status != 200 || a.body["userId"] != simgw.AliceMID || a.body["displayName"] != "Alice" {
		t.Fatalf("info %d %s", a.status, a.raw)
	}
	// A token bound to Ops: Ops and its members only.
	wantBot(t, get(opsTok, "/v2/bot/group/"+simgw.FamilyMID+"/summary"), 404, "Not found")
	wantBot(t, get(opsTok, "/v2/bot/profile/"+simgw.CarolMID), 404, "Not found")
	if a := get(opsTok, "/v2/bot/profile/"+simgw.BobMID); a.status != 200 {
		t.Fatalf("a member's profile: %d %s", a.status, a.raw)
	}
	wantBot(t, get("", "/v2/bot/info"), 401, "Authentication failed")
	wantBot(t, get(tok, "/v2/bot/message/123/content"), 404, "Not found")
}

// An image message by URL: fetched with --allow-image-urls (here
// --allow-private-image-urls too, the test's server being on loopback)
// and sent as an image; without the opt-in, 400 and nothing sent.
func TestServeImageURL(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok := e.addBotToken()["token"].(string)
	pic := testPNG(t, 30, 20)
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pic)
	}))
	defer img.Close()
	msg := map[string]any{"to": simgw.FamilyMID, "messages": []any{map[string]any{"type": "image",
		"originalContentUrl": img.URL + "/graph.png", "previewImageUrl": img.URL + "/graph.png"}}}
	guarded := e.startServing([]string{"serve"}, "serve", "--allow-image-urls")
	wantBot(t, botCall(t, "POST", guarded.url+"/v2/bot/message/push", tok, msg), 400, "could not be fetched")
	if code := guarded.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	srv := e.startServing([]string{"serve"}, "serve", "--allow-image-urls", "--allow-private-image-urls")
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/push", tok, msg), 200, "sentMessages")
	if m := mediaMessages(e); len(m) != 1 || !bytes.Equal(m[0].Media, pic) || m[0].To != simgw.FamilyMID {
		t.Fatalf("image messages %+v", m)
	}
}
