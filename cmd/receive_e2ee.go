package cmd

import (
	"context"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi/e2ee"
)

// sealedInfo is what receive adds to a Letter Sealing message.
type sealedInfo struct {
	text      string
	decrypted bool
	reason    string
}

// openSealed decrypts a sealed message (one with chunks) for printing.
// Failures are reported in the result, never returned: the message is
// printed either way.
func openSealed(ctx context.Context, s *e2ee.Sealer, msg gjson.Result) *sealedInfo {
	chunksR := msg.Get("chunks")
	if !chunksR.IsArray() {
		return nil
	}
	sealed := e2ee.Sealed{From: msg.Get("from").String(), To: msg.Get("to").String(),
		ContentType: int(msg.Get("contentType").Int()), Version: msg.Get("contentMetadata.e2eeVersion").String()}
	for _, c := range chunksR.Array() {
		sealed.Chunks = append(sealed.Chunks, c.String())
	}
	o, err := s.Open(ctx, sealed)
	if err != nil {
		return &sealedInfo{reason: err.Error()}
	}
	return &sealedInfo{text: o.Text, decrypted: true}
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
