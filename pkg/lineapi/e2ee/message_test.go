package e2ee

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
)

// A received message opens from its JSON alone: every vector as the stream
// carries it, a sealed text and file sealed here (the file's name and key
// material come from the payload), and a plain message is ErrNotSealed.
func TestOpenMessage(t *testing.T) {
	v := loadVectors(t)
	ctx := context.Background()
	for _, vec := range v.Messages {
		s, _ := v.sealerFor(vec.Recipient)
		raw, _ := json.Marshal(vec.Message)
		m, err := lineapi.ParseMessage(raw)
		if err != nil {
			t.Fatalf("%s: parse: %v", vec.Name, err)
		}
		o, err := s.OpenMessage(ctx, m)
		if err != nil || o.Text != vec.Text {
			t.Fatalf("%s: %+v, %v; want text %q", vec.Name, o, err, vec.Text)
		}
	}

	a, b := v.Accounts["A"], v.Accounts["B"]
	bNew, _ := latest(b.Keys)
	sa, _ := v.sealerFor("A")
	sb, _ := v.sealerFor("B")
	probe := &lineapi.Probe{MID: b.MID, ToType: lineapi.ToUser, Usable: true, SpecVersion: 2,
		PeerKey: &lineapi.E2EEPublicKey{Version: 1, KeyID: bNew.KeyID, KeyData: base64.StdEncoding.EncodeToString(bNew.Public)}}
	km := bytes.Repeat([]byte{7}, 32)
	received := func(out lineapi.OutgoingMessage) *lineapi.Message {
		t.Helper()
		if _, err := sa.Seal(ctx, probe, &out); err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(map[string]any{"id": "100", "from": out.From, "to": out.To, "toType": 0,
			"contentType": out.ContentType, "contentMetadata": out.ContentMetadata, "chunks": out.Chunks})
		m, err := lineapi.ParseMessage(raw)
		if err != nil || !m.Sealed() {
			t.Fatalf("parse: %v (sealed %v)", err, m != nil && m.Sealed())
		}
		return m
	}
	o, err := sb.OpenMessage(ctx, received(lineapi.OutgoingMessage{From: a.MID, To: b.MID, Text: "hi <&>"}))
	if err != nil || o.Text != "hi <&>" || o.FileName != "" || o.KeyMaterial != nil {
		t.Fatalf("text: %+v, %v", o, err)
	}
	payload, _ := json.Marshal(map[string]string{"keyMaterial": base64.StdEncoding.EncodeToString(km), "fileName": "a.pdf"})
	o, err = sb.OpenMessage(ctx, received(lineapi.OutgoingMessage{From: a.MID, To: b.MID, ContentType: 14,
		ContentMetadata: map[string]string{"FILE_SIZE": "3"}, SealedPayload: payload}))
	if err != nil || o.FileName != "a.pdf" || !bytes.Equal(o.KeyMaterial, km) {
		t.Fatalf("file: %+v, %v", o, err)
	}

	plain, _ := lineapi.ParseMessage([]byte(`{"id":"1","from":"` + a.MID + `","to":"` + b.MID + `","text":"x"}`))
	if _, err := sb.OpenMessage(ctx, plain); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("plain message: %v, want ErrNotSealed", err)
	}
}
