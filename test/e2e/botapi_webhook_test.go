package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/simgw"
)

// hookCall is one webhook call linectl made.
type hookCall struct {
	Destination string           `json:"destination"`
	Events      []map[string]any `json:"events"`
	signatureOK bool
}

// webhookSink records webhook calls, failing the first `fail` of them.
type webhookSink struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	calls  []hookCall
	fail   int
}

func newWebhookSink(t *testing.T) *webhookSink {
	s := &webhookSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var c hookCall
		_ = json.Unmarshal(body, &c)
		s.mu.Lock()
		defer s.mu.Unlock()
		m := hmac.New(sha256.New, []byte(s.secret))
		m.Write(body)
		c.signatureOK = r.Header.Get("X-Line-Signature") == base64.StdEncoding.EncodeToString(m.Sum(nil))
		s.calls = append(s.calls, c)
		if s.fail > 0 {
			s.fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) snapshot() []hookCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hookCall(nil), s.calls...)
}

// events are the events of the successful calls... and of every call when all.
func (s *webhookSink) eventsOf(kind string) []map[string]any {
	var out []map[string]any
	for _, c := range s.snapshot() {
		for _, e := range c.Events {
			if e["type"] == kind {
				out = append(out, e)
			}
		}
	}
	return out
}

func waitEvents(t *testing.T, s *webhookSink, kind string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ev := s.eventsOf(kind); len(ev) >= n {
			return ev
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d %s events, want %d: %+v", len(s.eventsOf(kind)), kind, n, s.snapshot())
	return nil
}

func TestServeWebhooksAndReply(t *testing.T) {
	e := newSandboxEnv(t) // Letter Sealing on: the reply is sealed, the image's key opened
	e.loginQRWithKeys()
	all, ops := newWebhookSink(t), newWebhookSink(t)
	l := e.addBotToken("--name", "all", "--webhook", all.srv.URL+"/callback")
	all.secret = l["channelSecret"].(string)
	tok := l["token"].(string)
	lo := e.addBotToken("--name", "ops", "--to", simgw.OpsMID, "--webhook", ops.srv.URL+"/callback")
	ops.secret = lo["channelSecret"].(string)
	srv := e.startServing([]string{"serve"}, "serve", "--webhook-backoff", "50ms")
	waitFor(t, func() bool { return countCalls(e, "getLastOpRevision") > 0 })
	time.Sleep(300 * time.Millisecond) // the stream is open

	e.sim.InjectMessage(simgw.BobMID, simgw.AliceMID, "hello bot")
	ev := waitEvents(t, all, "message", 1)[0]
	msg := ev["message"].(map[string]any)
	src := ev["source"].(map[string]any)
	if msg["type"] != "text" || msg["text"] != "hello bot" || msg["quoteToken"] == "" || src["type"] != "user" || src["userId"] != simgw.BobMID ||
		ev["mode"] != "active" || ev["replyToken"] == "" || ev["webhookEventId"] == "" || ev["deliveryContext"].(map[string]any)["isRedelivery"] != false {
		t.Fatalf("event %v", ev)
	}
	if c := all.snapshot()[0]; !c.signatureOK || c.Destination != simgw.AliceMID {
		t.Fatalf("call %+v", c)
	}
	// Reply with its token: once.
	reply := map[string]any{"replyToken": ev["replyToken"], "messages": []any{text("hello human")}}
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/reply", tok, reply), 200, "sentMessages")
	wantBot(t, botCall(t, "POST", srv.url+"/v2/bot/message/reply", tok, reply), 400, "Invalid reply token")
	if n := storedTexts(e)["hello human"]; n != 1 {
		t.Fatalf("reply stored %d times", n)
	}

	// A group message reaches both tokens; the Ops token hears only Ops.
	e.sim.InjectMessage(simgw.BobMID, simgw.OpsMID, "ops msg")
	waitEvents(t, ops, "message", 1)
	waitEvents(t, all, "message", 2)
	if got := ops.eventsOf("message"); len(got) != 1 || got[0]["source"].(map[string]any)["groupId"] != simgw.OpsMID {
		t.Fatalf("ops events %v", got)
	}

	// A failing webhook is called again, isRedelivery true, the same event id.
	all.mu.Lock()
	all.fail = 2
	all.mu.Unlock()
	e.sim.InjectMessage(simgw.CarolMID, simgw.AliceMID, "retry me")
	got := waitEvents(t, all, "message", 5)
	if got[2]["webhookEventId"] != got[4]["webhookEventId"] || got[4]["deliveryContext"].(map[string]any)["isRedelivery"] != true {
		t.Fatalf("retries %v", got[2:])
	}

	// An image: its content downloads through the API.
	pic := testPNG(t, 20, 10)
	if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.AliceMID, ContentType: 1, Name: "a.png", Data: pic, Sealed: true}); err != nil {
		t.Fatal(err)
	}
	img := waitEvents(t, all, "message", 6)[5]["message"].(map[string]any)
	if img["type"] != "image" || img["contentProvider"].(map[string]any)["type"] != "line" {
		t.Fatalf("image event %v", img)
	}
	a := botCall(t, "GET", srv.url+"/v2/bot/message/"+img["id"].(string)+"/content", tok, nil)
	if a.status != 200 || !bytes.Equal(a.raw, pic) || a.header.Get("Content-Type") != "image/png" {
		t.Fatalf("content %d %q (%d bytes) %s\n%s", a.status, a.header.Get("Content-Type"), len(a.raw), a.raw, srv.stderrText())
	}
	wantBot(t, botCall(t, "GET", srv.url+"/v2/bot/message/"+img["id"].(string)+"/content", lo["token"].(string), nil), 404, "Not found")

	// A file: its name and size.
	if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.FamilyMID, ContentType: 14, Name: "r.csv", Data: []byte("a,b\n")}); err != nil {
		t.Fatal(err)
	}
	if f := waitEvents(t, all, "message", 7)[6]["message"].(map[string]any); f["type"] != "file" || f["fileName"] != "r.csv" || f["fileSize"] != float64(4) {
		t.Fatalf("file event %v", f)
	}

	// Membership and unsend, as the stream carries them.
	e.sim.InjectOperation(simgw.AliceMID, 129, simgw.RoomMID, "", "")
	e.sim.InjectOperation(simgw.AliceMID, 127, simgw.RoomMID, "", "")
	e.sim.InjectOperation(simgw.AliceMID, 130, simgw.FamilyMID, simgw.CarolMID, "")
	e.sim.InjectOperation(simgw.AliceMID, 128, simgw.FamilyMID, simgw.CarolMID, "")
	e.sim.InjectOperation(simgw.AliceMID, 65, simgw.BobMID, img["id"].(string), "")
	if j := waitEvents(t, all, "memberJoined", 1)[0]; j["joined"].(map[string]any)["members"].([]any)[0].(map[string]any)["userId"] != simgw.CarolMID || j["replyToken"] == "" {
		t.Fatalf("memberJoined %v", j)
	}
	waitEvents(t, all, "memberLeft", 1)
	if j := waitEvents(t, all, "join", 1)[0]; j["source"].(map[string]any)["roomId"] != simgw.RoomMID || j["replyToken"] == "" {
		t.Fatalf("join %v", j)
	}
	if l := waitEvents(t, all, "leave", 1)[0]; l["replyToken"] != nil {
		t.Fatalf("leave %v", l)
	}
	if len(ops.eventsOf("join")) != 0 {
		t.Fatal("the Ops token heard of another chat")
	}
	if u := waitEvents(t, all, "unsend", 1)[0]; u["unsend"].(map[string]any)["messageId"] != img["id"] {
		t.Fatalf("unsend %v", u)
	}

	// Stopped while a webhook fails: after the restart the event is
	// delivered again (isRedelivery), none lost.
	all.mu.Lock()
	all.fail = 1000
	all.mu.Unlock()
	n := len(all.snapshot())
	e.sim.InjectMessage(simgw.BobMID, simgw.AliceMID, "across a restart")
	waitFor(t, func() bool { return len(all.snapshot()) > n })
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, srv.stderrText())
	}
	all.mu.Lock()
	all.fail = 0
	all.mu.Unlock()
	srv = e.startServing([]string{"serve"}, "serve", "--webhook-backoff", "50ms")
	deadline := time.Now().Add(20 * time.Second)
	for {
		var last map[string]any
		for _, ev := range all.eventsOf("message") {
			if ev["message"].(map[string]any)["text"] == "across a restart" {
				last = ev
			}
		}
		if last != nil && len(all.snapshot()) > n+1 && last["deliveryContext"].(map[string]any)["isRedelivery"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not redelivered after the restart: %+v", all.snapshot()[n:])
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = srv
}

// Two servers on one config: one calls the webhooks, once per event.
func TestServeWebhooksOneDispatcher(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	sink := newWebhookSink(t)
	sink.secret = e.addBotToken("--webhook", sink.srv.URL)["channelSecret"].(string)
	a := e.startServing([]string{"serve"}, "serve")
	waitFor(t, func() bool { return countCalls(e, "getLastOpRevision") > 0 })
	b := e.startServing([]string{"serve"}, "serve")
	waitFor(t, func() bool {
		return strings.Contains(b.stderrText(), "another 'linectl serve' calls this config's webhooks")
	})
	e.sim.InjectMessage(simgw.BobMID, simgw.AliceMID, "once only")
	waitEvents(t, sink, "message", 1)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := len(sink.eventsOf("message")); n != 1 {
		t.Fatalf("%d message events, want 1", n)
	}
}
