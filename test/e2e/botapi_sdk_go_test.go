package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"

	"github.com/linectl/linectl/internal/simgw"
)

// LINE's Go SDK, unmodified but for its endpoint, against linectl serve:
// push, the retry key, multicast, a reply with a webhook's reply token
// (the SDK's own webhook.ParseRequest checks linectl's signature), profile
// and content download.
func TestServeGoSDK(t *testing.T) {
	e := newSandboxEnv(t)
	e.loginQRWithKeys()

	var mu sync.Mutex
	var events []webhook.EventInterface
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		cb, err := webhook.ParseRequest(secret, r)
		if err != nil {
			t.Errorf("webhook.ParseRequest: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		events = append(events, cb.Events...)
	}))
	defer hook.Close()
	l := e.addBotToken("--name", "go-sdk", "--webhook", hook.URL+"/callback")
	mu.Lock()
	secret = l["channelSecret"].(string)
	mu.Unlock()
	srv := e.startServing([]string{"serve"}, "serve")

	bot, err := messaging_api.NewMessagingApiAPI(l["token"].(string), messaging_api.WithEndpoint(srv.url))
	if err != nil {
		t.Fatal(err)
	}
	blob, err := messaging_api.NewMessagingApiBlobAPI(l["token"].(string), messaging_api.WithBlobEndpoint(srv.url))
	if err != nil {
		t.Fatal(err)
	}

	// push, then the same retry key again: 409, one message.
	const key = "9f2b1c1e-3d4a-4b5c-8d6e-7f8091a2b3c4"
	res, err := bot.PushMessage(&messaging_api.PushMessageRequest{To: simgw.BobMID,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "from the Go SDK"}}}, key)
	if err != nil || len(res.SentMessages) != 1 || res.SentMessages[0].Id == "" || res.SentMessages[0].QuoteToken == "" {
		t.Fatalf("push: %+v %v", res, err)
	}
	resp, _, err := bot.PushMessageWithHttpInfo(&messaging_api.PushMessageRequest{To: simgw.BobMID,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "from the Go SDK"}}}, key)
	if err == nil || resp.StatusCode != 409 || resp.Header.Get("X-Line-Accepted-Request-Id") == "" {
		t.Fatalf("push again: %v %v", resp, err)
	}
	if n := storedTexts(e)["from the Go SDK"]; n != 1 {
		t.Fatalf("stored %d times", n)
	}
	// multicast
	if _, err := bot.Multicast(&messaging_api.MulticastRequest{To: []string{simgw.BobMID, simgw.CarolMID},
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "Go multicast"}}}, ""); err != nil {
		t.Fatal(err)
	}
	if n := storedTexts(e)["Go multicast"]; n != 2 {
		t.Fatalf("multicast stored %d", n)
	}
	// profile
	p, err := bot.GetProfile(simgw.CarolMID)
	if err != nil || p.DisplayName != "Carol" || p.UserId != simgw.CarolMID {
		t.Fatalf("profile %+v %v", p, err)
	}
	// Bad input, as the SDK reports it.
	if _, err := bot.PushMessage(&messaging_api.PushMessageRequest{To: simgw.BobMID,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: strings.Repeat("x", 5001)}}}, ""); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("5001 characters: %v", err)
	}
	bad, _ := messaging_api.NewMessagingApiAPI("revoked-or-never-issued", messaging_api.WithEndpoint(srv.url))
	if _, err := bad.GetProfile(simgw.BobMID); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("unknown token: %v", err)
	}

	// A message and an image arrive: the webhook (checked by the SDK) gets them;
	// the reply token answers; the content downloads.
	waitFor(t, func() bool { return countCalls(e, "getLastOpRevision") > 0 })
	time.Sleep(1500 * time.Millisecond) // serve looks for webhook tokens every second
	e.sim.InjectMessage(simgw.BobMID, simgw.AliceMID, "ping")
	pic := testPNG(t, 16, 16)
	if _, err := e.sim.InjectMedia(simgw.MediaInjection{From: simgw.BobMID, To: simgw.AliceMID, ContentType: 1, Name: "p.png", Data: pic, Sealed: true}); err != nil {
		t.Fatal(err)
	}
	var text *webhook.MessageEvent
	var imageID string
	deadline := time.Now().Add(20 * time.Second)
	for (text == nil || imageID == "") && time.Now().Before(deadline) {
		mu.Lock()
		for _, ev := range events {
			if me, ok := ev.(webhook.MessageEvent); ok {
				switch m := me.Message.(type) {
				case webhook.TextMessageContent:
					if m.Text == "ping" && m.QuoteToken != "" {
						me := me
						text = &me
					}
				case webhook.ImageMessageContent:
					imageID = m.Id
				}
			}
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	if text == nil || imageID == "" {
		t.Fatalf("webhook events %+v", events)
	}
	if us, ok := text.Source.(webhook.UserSource); !ok || us.UserId != simgw.BobMID {
		t.Fatalf("source %+v", text.Source)
	}
	if _, err := bot.ReplyMessage(&messaging_api.ReplyMessageRequest{ReplyToken: text.ReplyToken,
		Messages: []messaging_api.MessageInterface{&messaging_api.TextMessage{Text: "pong"}}}); err != nil {
		t.Fatal(err)
	}
	if n := storedTexts(e)["pong"]; n != 1 {
		t.Fatalf("pong stored %d times (a sealed text shows as \"\")", n)
	}
	cr, err := blob.GetMessageContent(imageID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(cr.Body)
	cr.Body.Close()
	if !bytes.Equal(got, pic) {
		t.Fatalf("content: %d bytes", len(got))
	}
}
