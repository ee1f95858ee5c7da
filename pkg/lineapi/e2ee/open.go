package e2ee

import (
	"context"
	"errors"
	"fmt"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/sealing"
)

// Sealed is a received Letter Sealing message: what the operation's message
// carries.
type Sealed struct {
	From, To    string
	ContentType int
	Version     string   // contentMetadata.e2eeVersion ("1", "2"; "" is read as 2)
	Chunks      []string // base64
}

// Opened is a decrypted message.
type Opened struct {
	Payload     []byte // the decrypted JSON ({"text":…} for text)
	Text        string // the payload's text
	SpecVersion int
	// AAD is the MID form that authenticated a V2 message.
	AAD sealing.AADForm
	// FileName and KeyMaterial are a sealed image's or file's name and the
	// key of its object on LINE's storage (set by OpenMessage; KeyMaterial
	// is nil when the payload carries none, empty when it is not base64).
	FileName    string
	KeyMaterial []byte
}

// Open decrypts a sealed message sent to or by this account. For a 1:1
// message the secret is X25519(own key named by the chunks, the other side's
// key of the id the chunks name); for a group, X25519(the group key of the id
// the chunks name, the sender's key). Keys not cached are fetched by id.
// V2 is tried with the MIDs in beeper/line's form first, then as carried.
func (s *Sealer) Open(ctx context.Context, msg Sealed) (*Opened, error) {
	if len(msg.Chunks) != 5 {
		return nil, sealing.ErrBadChunks
	}
	chunks := make([][]byte, len(msg.Chunks))
	for i, c := range msg.Chunks {
		b, err := unb64(c)
		if err != nil {
			return nil, fmt.Errorf("%w: chunk %d is not base64", sealing.ErrBadChunks, i)
		}
		chunks[i] = b
	}
	senderKeyID, err1 := sealing.KeyID(chunks[3])
	receiverKeyID, err2 := sealing.KeyID(chunks[4])
	if err1 != nil || err2 != nil {
		return nil, sealing.ErrBadChunks
	}
	secret, err := s.openSecret(ctx, msg, senderKeyID, receiverKeyID)
	if err != nil {
		return nil, err
	}
	out := &Opened{}
	switch msg.Version {
	case "2", "":
		out.SpecVersion = 2
		out.Payload, out.AAD, err = openV2(secret, msg, chunks)
	case "1":
		out.SpecVersion = 1
		out.Payload, err = sealing.DecryptV1(secret, chunks)
	default:
		return nil, fmt.Errorf("unknown Letter Sealing version %q", msg.Version)
	}
	if err != nil {
		return nil, err
	}
	s.debugf("opened V%d from %s to %s (sender key %d, receiver key %d, AAD %s)", out.SpecVersion, msg.From, msg.To, senderKeyID, receiverKeyID, out.AAD)
	out.Text = sealing.TextFromPlaintext(out.Payload)
	return out, nil
}

// openV2 tries the AAD forms in order of evidence.
func openV2(secret []byte, msg Sealed, chunks [][]byte) ([]byte, sealing.AADForm, error) {
	m := sealing.Message{From: msg.From, To: msg.To, ContentType: msg.ContentType}
	var first error
	for _, form := range []sealing.AADForm{sealing.AADLower33, sealing.AADAsCarried} {
		m.AAD = form
		plain, err := sealing.DecryptV2(secret, m, chunks)
		if err == nil {
			return plain, form, nil
		}
		if first == nil {
			first = err
		}
		if !errors.Is(err, sealing.ErrAuth) {
			break
		}
	}
	return nil, 0, first
}

// openSecret is the shared secret a message was sealed with, from this
// account's side.
func (s *Sealer) openSecret(ctx context.Context, msg Sealed, senderKeyID, receiverKeyID int) ([]byte, error) {
	toType, err := lineapi.ParseMID(msg.To)
	if err != nil {
		return nil, err
	}
	if toType == lineapi.ToUser {
		mineID, other, otherID := receiverKeyID, msg.From, senderKeyID
		if SameMID(msg.From, s.MID) {
			mineID, other, otherID = senderKeyID, msg.To, receiverKeyID
		}
		mine, err := s.OwnKey(mineID)
		if err != nil {
			return nil, err
		}
		pub, err := s.publicKey(ctx, other, otherID)
		if err != nil {
			return nil, err
		}
		return sealing.SharedSecret(mine.Private, pub)
	}
	gpriv, err := s.groupPrivate(ctx, msg.To, receiverKeyID)
	if err != nil {
		return nil, err
	}
	senderPub, err := s.publicKey(ctx, msg.From, senderKeyID)
	if err != nil {
		return nil, err
	}
	return sealing.SharedSecret(gpriv, senderPub)
}

// groupPrivate returns a chat's group private key with the id: cached, or
// fetched by id (getE2EEGroupSharedKey) and unwrapped.
func (s *Sealer) groupPrivate(ctx context.Context, chat string, id int) ([]byte, error) {
	if priv, ok := s.Keys.GroupKey(chat, id); ok {
		return priv, nil
	}
	gk, err := s.GW.GetE2EEGroupSharedKey(ctx, chat, id)
	if errors.Is(err, lineapi.ErrNotFound) {
		return nil, fmt.Errorf("%w: LINE has no copy of group key %d of %s for this account", sealing.ErrUnknownKey, id, chat)
	}
	if err != nil {
		return nil, fmt.Errorf("getE2EEGroupSharedKey %s key %d: %w", chat, id, err)
	}
	if gk.GroupKeyID != id {
		return nil, fmt.Errorf("%w: asked for group key %d of %s, LINE answered %d", sealing.ErrUnknownKey, id, chat, gk.GroupKeyID)
	}
	return s.unwrap(ctx, chat, gk)
}
