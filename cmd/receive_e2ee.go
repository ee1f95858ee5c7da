package cmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
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
func (s *sealer) openSealed(ctx context.Context, msg gjson.Result) *sealedInfo {
	chunksR := msg.Get("chunks")
	if !chunksR.IsArray() {
		return nil
	}
	text, err := s.open(ctx, msg, chunksR.Array())
	if err != nil {
		return &sealedInfo{reason: err.Error()}
	}
	return &sealedInfo{text: text, decrypted: true}
}

func (s *sealer) open(ctx context.Context, msg gjson.Result, arr []gjson.Result) (string, error) {
	chunks := make([][]byte, len(arr))
	for i, c := range arr {
		b, err := unb64(c.String())
		if err != nil {
			return "", err
		}
		chunks[i] = b
	}
	if len(chunks) != 5 {
		return "", sealing.ErrBadChunks
	}
	senderKeyID, err1 := sealing.KeyID(chunks[3])
	receiverKeyID, err2 := sealing.KeyID(chunks[4])
	if err1 != nil || err2 != nil {
		return "", sealing.ErrBadChunks
	}
	from, to := msg.Get("from").String(), msg.Get("to").String()
	me := s.ks.MID
	var secret []byte
	if t, err := lineapi.ParseMID(to); err == nil && t == lineapi.ToUser {
		mineID, other, otherID := receiverKeyID, from, senderKeyID
		if from == me {
			mineID, other, otherID = senderKeyID, to, receiverKeyID
		}
		mine, err := s.ks.own(mineID)
		if err != nil {
			return "", err
		}
		pub, err := s.publicKey(ctx, other, otherID)
		if err != nil {
			return "", err
		}
		if secret, err = sealing.SharedSecret(mine.Private, pub); err != nil {
			return "", err
		}
	} else {
		gpriv, err := s.groupPrivate(ctx, to, receiverKeyID)
		if err != nil {
			return "", err
		}
		senderPub, err := s.publicKey(ctx, from, senderKeyID)
		if err != nil {
			return "", err
		}
		if secret, err = sealing.SharedSecret(gpriv, senderPub); err != nil {
			return "", err
		}
	}
	m := sealing.Message{From: from, To: to, ContentType: int(msg.Get("contentType").Int())}
	switch v := msg.Get("contentMetadata.e2eeVersion").String(); v {
	case "2", "":
		plain, err := sealing.DecryptV2(secret, m, chunks)
		if err != nil {
			return "", err
		}
		return sealing.TextFromPlaintext(plain), nil
	case "1":
		plain, err := sealing.DecryptV1(secret, chunks)
		if err != nil {
			return "", err
		}
		return string(plain), nil
	default:
		return "", fmt.Errorf("unknown Letter Sealing version %q", v)
	}
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
