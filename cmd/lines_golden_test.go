package cmd

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/linectl/linectl/internal/gwagent"
	"github.com/linectl/linectl/internal/signagent"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLineFieldsGolden locks the field names of every JSON line type: a
// renamed field must break this test, not a user's script. Regenerate with
// `go test ./cmd -run Golden -update` only for an intended, documented change.
func TestLineFieldsGolden(t *testing.T) {
	tr, one := true, 1
	lines := []any{
		loginLine{Type: "login", MID: "u1", Method: "qr", UsedCertificate: true, RefreshDue: "2026-01-01T00:00:00Z", E2EEKeys: true, Config: "/c"},
		pinLine{Type: "pin", PIN: "123456"},
		qrLine{Type: "qr", URL: "https://line.me/R/au/lgn/sq/x?secret=y&e2eeVersion=1"},
		logoutLine{Type: "logout", MID: "u1", ForgotDevice: true, Remote: true},
		whoamiLine{Type: "whoami", MID: "u1", DisplayName: "A", StatusMessage: "s", Session: sessionState{LoggedIn: true, Certificate: true, RefreshDue: "d", TokenIssuedAt: 1, LoginMethod: "qr", Gateway: "g", ConfigFile: "f"}},
		versionLine{Type: "version", Version: "v", Commit: "c", Go: "go", ExtensionVersion: "3.7.2"},
		sentLine{Type: "sent", To: "c1", ToType: 2, MessageID: "m", ReqSeq: 5, CreatedTime: "1", E2EE: true, SpecVersion: 2, Confirmed: &tr},
		sentLine{Type: "sent", To: "c1", ToType: 2, MessageID: "m", ReqSeq: 6, CreatedTime: "1", ContentType: 7},
		sentLine{Type: "sent", To: "u1", ToType: 0, MessageID: "m", ReqSeq: 7, CreatedTime: "1", E2EE: true, SpecVersion: 2, ContentType: 1, FileName: "graph.png", FileSize: 5000, Object: "/r/talk/emi/0a1b"},
		pendingLine{Type: "pending", To: "c1", ToType: 2, MessageID: "605311889450205372", ReqSeq: 8, ContentType: 14, FileName: "backup.tar", FileSize: 5000, Line: 2},
		sentLine{Type: "sent", To: "c1", ToType: 2, MessageID: "m", ReqSeq: 8, CreatedTime: "1", ReplyTo: "605311889450205372", Mentions: []string{"u1", "all"}},
		unsentLine{Type: "unsent", MessageID: "605311889450205372", Confirmed: true},
		reactedLine{Type: "reacted", MessageID: "605311889450205372", Reaction: "nice"},
		reactedLine{Type: "reacted", MessageID: "605311889450205372", Cancelled: true},
		readMarkLine{Type: "read", Chat: "c1", MessageID: "605311889450205372"},
		failedLine{Type: "failed", To: "c1", ToType: &one, ReqSeq: 5, Line: 3, ExitCode: 4, Kind: "rejected", Code: 10, Reason: "r", Message: "m"},
		failedLine{Type: "failed", To: "c1", ToType: &one, ReqSeq: 8, ExitCode: 7, Kind: "upload_failed", Message: "m", MessageID: "605311889450205372"},
		uploadedLine{Type: "uploaded", MessageID: "605311889450205372", Object: "/r/talk/m/605311889450205372", FileName: "load.png", FileSize: 5000},
		downloadedLine{Type: "downloaded", MessageID: "m", File: "/tmp/graph.png", Size: 5000, E2EE: true},
		objectLine{Type: "object", MessageID: "605311889450205372", Object: "/r/talk/m/605311889450205372", Stored: false},
		probeLine{Type: "e2ee", MID: "c1", ToType: 2, Usable: false, SpecVersion: -1, AllowedTypes: []int{}, Reason: "member settings off", PeerKeyID: &one, GroupKeyID: &one, MemberKeyIDs: map[string]int{"u1": 1}},
		chatEntry{Type: "chat", MID: "c1", Name: "Family", Kind: "group", Members: 3, Invited: false},
		contactEntry{Type: "contact", MID: "u1", DisplayName: "Bob"},
		errorLine{Type: "error", ExitCode: 4, Kind: "rejected", Code: 10, Reason: "r", Message: "m"},
		sessionLine{Type: "session", RefreshDue: "d", IssuedAt: 1},
		signatureLine{Type: "signature", Path: "/p", HMAC: "h"},
		signerStatusLine{Type: "signer", Kind: "wasm", Command: "c", Dir: "d", Gateway: "g", Version: "3.7.2", Ready: true, Signature: "s", Problem: "p",
			AgentMode: "auto", Agent: &signagent.Status{PID: 7, Module: "h", Version: "3.7.2", Since: time.Unix(0, 0).UTC(), Signatures: 3, Idle: "15m0s"}},
		agentLine{Type: "signer-agent", State: "running", Socket: "/run/user/1000/linectl/signer-x.sock",
			Status: &signagent.Status{PID: 7, Module: "h", Version: "3.7.2", Since: time.Unix(0, 0).UTC(), Signatures: 0, Idle: "15m0s"}},
		gatewayAgentLine{Type: "gateway-agent", State: "running", Socket: "/run/user/1000/linectl/gateway-x.sock",
			Status: &gwagent.Status{PID: 7, Gateway: "https://line-chrome-gw.line-apps.com", Since: time.Unix(0, 0).UTC(), Requests: 3, Idle: "15m0s"}},
		signerImportLine{Type: "signer-import", Version: "3.7.2", SHA256: "h", Source: "s", Dir: "d"},
		signerExportLine{Type: "signer-export", Version: "3.7.2", SHA256: "h", File: "/home/u/linectl-signer.zip"},
		noticeLine{Type: "notice", Event: "fullSync", NextRevision: "5", Detail: "reasons [1]"},
		sandboxLine{Type: "sandbox", URL: "http://127.0.0.1:1", SignerCommand: "linectl sandbox signer", Accounts: []string{"a"}},
		sandboxFaultLine{Type: "sandbox-fault", Kind: "503", Method: "sendMessage", Count: 2},
		sandboxFaultLine{Type: "sandbox-fault", Kind: "talk", Method: "sendMessage", Persist: true, Code: 10, Reason: "not a member", Status: 502, Delay: "3s"},
		notifyTokenLine{Type: "notifyToken", Token: "t", ID: "0123abcd", To: "c1", Name: "Family", CreatedAt: "2026-01-01T00:00:00Z", Revoked: true},
		notifyServeLine{Type: "notify-serve", URL: "http://127.0.0.1:8093", Listen: "127.0.0.1:8093", TLS: false, Tokens: 2, RateLimit: "1000/h"},
		notifyLine{Type: "notify", Method: "POST", Path: "/api/notify", Status: 200, TokenID: "0123abcd", To: "c1", MessageID: "m", ReqSeq: 5, E2EE: true, ImageMessageID: "i", StickerMessageID: "s", Remote: "127.0.0.1:5", MS: 12, Error: "e"},
		botTokenLine{Type: "botToken", Token: "t", ChannelSecret: "0123456789abcdef0123456789abcdef", ID: "0123abcd", Name: "alerts", Webhook: "http://127.0.0.1:3000/callback", To: []string{"c1"}, CreatedAt: "2026-01-01T00:00:00Z", Revoked: true},
		serveLine{Type: "serve", URL: "http://127.0.0.1:8093", Listen: "127.0.0.1:8093", TLS: false, NotifyTokens: 1, BotTokens: 2, Webhooks: 1, RateLimit: "1000/h"},
		botLine{Type: "bot", Method: "POST", Path: "/v2/bot/message/push", Status: 200, RequestID: "r", TokenID: "0123abcd", To: []string{"c1"}, MessageIDs: []string{"m"}, RetryKey: "k", Remote: "127.0.0.1:5", MS: 12, Error: "e"},
		webhookLine{Type: "webhook", TokenID: "0123abcd", Revision: "947940", Events: 1, Attempt: 2, Redelivery: true, Status: 500, Error: "HTTP 500", GaveUp: true},
		map[string]any{"type": "sandbox-state", "accounts": []any{}, "chats": []any{}, "messages": []any{}, "revision": 947933},
	}
	var got bytes.Buffer
	for _, l := range lines {
		b, err := marshalLine(l)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(b)
	}
	for _, raw := range []string{
		`{"revision":"947937","createdTime":"1","type":25,"reqSeq":7,"param1":"0","message":{"from":"u1","to":"c1","toType":2,"id":"m","text":"\u30c6","contentMetadata":{}}}`,
		`{"revision":"947938","createdTime":"1","type":26,"reqSeq":0,"param1":"0","message":{"from":"u2","to":"u1","toType":0,"id":"m","chunks":["a"],"contentMetadata":{"e2eeVersion":"2"}}}`,
		`{"revision":"947939","createdTime":"1","type":26,"reqSeq":0,"param1":"0","message":{"from":"u2","to":"c1","toType":2,"id":"m","contentType":14,"hasContent":true,"contentMetadata":{"FILE_NAME":"r.csv","FILE_SIZE":"42"}}}`,
		`{"revision":"947940","createdTime":"1","type":26,"reqSeq":0,"param1":"0","message":{"from":"u2","to":"c1","toType":2,"id":"m2","createdTime":"2","text":"@A ok","contentMetadata":{"MENTION":"{\"MENTIONEES\":[{\"S\":\"0\",\"E\":\"2\",\"M\":\"u1\"}]}"},"relatedMessageId":"m","messageRelationType":3,"relatedMessageServiceCode":1}}`,
		`{"revision":"947941","createdTime":"1","type":65,"reqSeq":0,"param1":"c1","param2":"m2"}`,
		`{"revision":"947942","createdTime":"1","type":140,"reqSeq":0,"param1":"m","param2":"{\"chatMid\":\"c1\",\"curr\":{\"predefinedReactionType\":2}}","param3":"u2"}`,
		`{"revision":"947943","createdTime":"1","type":140,"reqSeq":0,"param1":"m","param2":"{\"chatMid\":\"c1\",\"curr\":null}","param3":"u2"}`,
	} {
		op, err := stream.ParseOperation([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		var si *sealedInfo
		if op.Message != nil && op.Message.Sealed() {
			si = &sealedInfo{text: "sealed", decrypted: true}
		}
		got.Write(appendOperationLine(nil, &op, si))
		if line, ok := appendConversationOp(nil, &op); ok {
			got.Write(line)
			continue
		}
		got.Write(appendMessageLine(nil, &op, "u1", si))
	}
	const golden = "testdata/lines.golden.jsonl"
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("JSON line fields changed.\n got:\n%s\nwant:\n%s", got.Bytes(), want)
	}
}
