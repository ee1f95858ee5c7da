package cmd

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"

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
	si := &sealedInfo{text: o.Text, decrypted: true}
	if lineapi.IsMedia(sealed.ContentType) {
		var p struct {
			FileName string `json:"fileName"`
		}
		_ = json.Unmarshal(o.Payload, &p)
		si.fileName = p.FileName
	}
	return si
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
