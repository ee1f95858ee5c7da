package simgw

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/delivery"
)

// stickerSender is linectl's delivery.Sender over a lineapi client logged
// in to the simulator as Alice.
func stickerSender(t *testing.T) (*Server, *delivery.Sender) {
	t.Helper()
	s := NewSandbox(Options{PhoneDelay: -1})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.mu.Lock()
	tok := s.issueTokens(AliceMID)["accessToken"].(string)
	s.mu.Unlock()
	cl, err := lineapi.New(srv.URL, lineapi.WithTokenSource(lineapi.StaticToken(tok)),
		lineapi.WithClock(func() time.Time { return time.UnixMilli(1773625306000) }))
	if err != nil {
		t.Fatal(err)
	}
	return s, &delivery.Sender{GW: cl, From: AliceMID, E2EE: delivery.E2EEAuto, SavedRevision: 1}
}

var sticker446 = &lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100}

// The exact body the gateway receives for a sticker: the extension's Cb.
func TestStickerBodyOnTheWire(t *testing.T) {
	s, snd := stickerSender(t)
	snd.E2EE = delivery.E2EEOff
	r, err := snd.SendMessage(context.Background(), FamilyMID, delivery.Sticker{Sticker: *sticker446})
	if err != nil {
		t.Fatal(err)
	}
	var body string
	for _, c := range s.Calls() {
		if c.Method == "sendMessage" {
			body = c.Body
		}
	}
	want := `[` + strconv.FormatInt(r.ReqSeq, 10) + `,{"from":"` + AliceMID + `","to":"` + FamilyMID + `","toType":2,"id":"local-` + strconv.FormatInt(r.ReqSeq, 10) +
		`","createdTime":"1773625306000","sessionId":0,"contentType":7,"contentMetadata":{"STKID":"1988","STKPKGID":"446","STKVER":"100"},"hasContent":true}]` // EXT Cb
	if body != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}
	if r.ContentType != 7 || r.E2EE || r.MessageID == "" {
		t.Fatalf("result %+v", r)
	}
}

// Stickers follow allowedTypes: plain where 7 is not listed (a sealed 1:1
// and a sealed group, whose probes do not list 7); refused, not guessed,
// where LINE lists 7.
func TestStickerLetterSealing(t *testing.T) {
	s, snd := stickerSender(t)
	for _, mid := range []string{AliceMID, BobMID, CarolMID} {
		s.SetLetterSealing(mid, true)
	}
	ctx := context.Background()
	for _, to := range []string{BobMID, FamilyMID} {
		r, err := snd.SendMessage(ctx, to, delivery.Sticker{Sticker: *sticker446})
		if err != nil || r.E2EE || r.ContentType != 7 {
			t.Fatalf("sticker to sealed %s: %+v, %v", to, r, err)
		}
	}
	// --e2ee require never sends plain.
	snd.E2EE = delivery.E2EERequire
	if _, err := snd.SendMessage(ctx, BobMID, delivery.Sticker{Sticker: *sticker446}); !errors.Is(err, delivery.ErrSealingImpossible) {
		t.Fatalf("require: %v", err)
	}
	snd.E2EE = delivery.E2EEAuto
	s.SetAllowedTypes(BobMID, []int{0, 7, 15})
	n := len(s.Messages())
	_, err := snd.SendMessage(ctx, BobMID, delivery.Sticker{Sticker: *sticker446})
	if !errors.Is(err, delivery.ErrStickerSealing) || !errors.Is(err, delivery.ErrNeedsE2EE) {
		t.Fatalf("sticker where 7 must be sealed: %v", err)
	}
	if len(s.Messages()) != n {
		t.Fatal("a message was stored")
	}
}
