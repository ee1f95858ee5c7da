package delivery

import (
	"errors"
	"maps"
	"testing"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/obs"
)

// Each kind answers what the Sender asks it: its content type, its part of
// the message, and whether it is sealed where the probe found a key.
func TestContentKinds(t *testing.T) {
	sticker := lineapi.Sticker{PackageID: 446, ID: 1988, Version: 100, Text: "[OK]"}
	image := &Media{ContentType: lineapi.ContentImage, Name: "a.png", Source: obs.BytesSource([]byte("png")),
		Metadata: map[string]string{"MEDIA_CONTENT_INFO": `{"category":"original"}`}}
	file := &Media{ContentType: lineapi.ContentFile, Name: "a.bin", Source: obs.BytesSource([]byte("data"))}
	var (
		none      = &lineapi.Probe{Usable: true}                         // a group with no key yet: no allowedTypes
		textOnly  = &lineapi.Probe{Usable: true, AllowedTypes: []int{0}} // stickers and media not listed
		all       = &lineapi.Probe{Usable: true, AllowedTypes: []int{0, 1, 7, 14}}
		noText    = &lineapi.Probe{Usable: true, AllowedTypes: []int{15}}
		mention   = `{"MENTIONEES":[{"S":"0","E":"4","M":"u1"}]}`
		stickerMD = sticker.Metadata()
	)
	for _, tc := range []struct {
		name     string
		c        Content
		typ      int
		text     string
		metadata map[string]string
		reply    string
		// sealed (and the refusal) in a chat whose probe is none, textOnly, all, noText
		sealed  [4]bool
		refused [4]bool
	}{
		{name: "text", c: Text{Text: "hi"}, typ: 0, text: "hi", sealed: [4]bool{true, true, true, false}},
		{name: "text with a mention", c: Text{Text: "@bob hi", Mention: mention}, typ: 0, text: "@bob hi",
			metadata: map[string]string{"MENTION": mention}, sealed: [4]bool{true, true, true, false}},
		{name: "sticker: plain unless allowedTypes lists 7, refused where it does", c: Sticker{Sticker: sticker}, typ: 7,
			metadata: stickerMD, sealed: [4]bool{false, false, true, false}, refused: [4]bool{false, false, true, false}},
		{name: "a reply of a text", c: Reply{To: "m-1", Content: Text{Text: "ok", Mention: mention}}, typ: 0, text: "ok",
			metadata: map[string]string{"MENTION": mention}, reply: "m-1", sealed: [4]bool{true, true, true, false}},
		{name: "a reply of a sticker", c: Reply{To: "m-2", Content: Sticker{Sticker: sticker}}, typ: 7,
			metadata: stickerMD, reply: "m-2", sealed: [4]bool{false, false, true, false}, refused: [4]bool{false, false, true, false}},
		{name: "image: its plain metadata", c: image, typ: 1,
			metadata: map[string]string{"MEDIA_CONTENT_INFO": `{"category":"original"}`}, sealed: [4]bool{true, false, true, false}},
		{name: "file: its name and size", c: file, typ: 14,
			metadata: map[string]string{"FILE_NAME": "a.bin", "FILE_SIZE": "4"}, sealed: [4]bool{true, false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Type(); got != tc.typ {
				t.Fatalf("Type %d, want %d", got, tc.typ)
			}
			m := tc.c.Message()
			if m.ContentType != tc.typ || m.Text != tc.text || m.RelatedMessageID != tc.reply || len(m.Chunks) != 0 {
				t.Fatalf("message %+v", m)
			}
			if !maps.Equal(m.ContentMetadata, tc.metadata) {
				t.Fatalf("metadata %v, want %v", m.ContentMetadata, tc.metadata)
			}
			// The map is the message's own: the Sealer may change it.
			if m.ContentMetadata != nil {
				m.ContentMetadata["X"] = "y"
				if _, ok := tc.c.Message().ContentMetadata["X"]; ok {
					t.Fatal("Message shares its metadata map between calls")
				}
			}
			for i, p := range []*lineapi.Probe{none, textOnly, all, noText} {
				sealed, err := tc.c.Sealable(p)
				if sealed != tc.sealed[i] || (err != nil) != tc.refused[i] {
					t.Fatalf("probe %d: sealed %v, err %v; want %v, refused %v", i, sealed, err, tc.sealed[i], tc.refused[i])
				}
				if err != nil && !errors.Is(err, ErrNeedsE2EE) {
					t.Fatalf("a refusal that is not ErrNeedsE2EE: %v", err)
				}
			}
		})
	}
}
