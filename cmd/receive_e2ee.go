package cmd

import (
	"context"
	"strconv"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/e2ee"
)

// sealedInfo is what receive adds to a Letter Sealing message.
type sealedInfo struct {
	text      string
	fileName  string // a sealed image's or file's name: only in its payload
	decrypted bool
	reason    string
}

// openSealed decrypts a sealed message (one with chunks) for printing;
// nil when m is not sealed. Failures are reported in the result, never
// returned: the message is printed either way.
func openSealed(ctx context.Context, s *e2ee.Sealer, m *lineapi.Message) *sealedInfo {
	if m == nil || !m.Sealed() {
		return nil
	}
	o, err := s.OpenMessage(ctx, m)
	if err != nil {
		return &sealedInfo{reason: err.Error()}
	}
	return &sealedInfo{text: o.Text, fileName: o.FileName, decrypted: true}
}

// appendSealed writes the fields receive adds to a sealed message object.
func appendSealed(b []byte, si *sealedInfo) []byte {
	if si.decrypted {
		b = append(b, `,"text":`...)
		b = appendString(b, si.text)
	}
	b = append(b, `,"e2ee":true,"decrypted":`...)
	b = strconv.AppendBool(b, si.decrypted)
	if !si.decrypted {
		b = append(b, `,"decryptError":`...)
		b = appendString(b, si.reason)
	}
	return b
}
