package e2ee

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/linectl/linectl/pkg/lineapi"
)

// ErrNotSealed is a message OpenMessage was given that carries no chunks.
var ErrNotSealed = errors.New("not a Letter Sealing message")

// OpenMessage opens a received Letter Sealing message (one with chunks),
// sent to or by this account: its text, and for an image or file the name
// and key material its payload carries (FILE_NAME travels only there, as
// LINE's extension seals it). Keys not cached are fetched by id; V2 tries
// the AAD forms in order of evidence (see Open).
func (s *Sealer) OpenMessage(ctx context.Context, m *lineapi.Message) (*Opened, error) {
	if m == nil || !m.Sealed() {
		return nil, ErrNotSealed
	}
	o, err := s.Open(ctx, Sealed{From: m.From, To: m.To, ContentType: m.ContentType,
		Version: m.ContentMetadata["e2eeVersion"], Chunks: m.Chunks})
	if err != nil {
		return nil, err
	}
	if lineapi.IsMedia(m.ContentType) {
		var p struct {
			KeyMaterial string `json:"keyMaterial"`
			FileName    string `json:"fileName"`
		}
		_ = json.Unmarshal(o.Payload, &p)
		o.FileName = p.FileName
		if p.KeyMaterial != "" {
			o.KeyMaterial, _ = base64.StdEncoding.DecodeString(p.KeyMaterial)
			if o.KeyMaterial == nil {
				o.KeyMaterial = []byte{} // carried, but not base64
			}
		}
	}
	return o, nil
}
