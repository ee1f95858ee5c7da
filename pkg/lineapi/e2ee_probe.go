package lineapi

import (
	"context"
	"errors"
)

// E2EEPublicKey is a Letter Sealing public key of an account.
type E2EEPublicKey struct {
	Version     int    `json:"version"`
	KeyID       int    `json:"keyId"`
	KeyData     string `json:"keyData"` // base64 X25519 public key
	CreatedTime I64    `json:"createdTime,omitempty"`
}

// NegotiateResult is negotiateE2EEPublicKey's answer. specVersion -1 and no
// allowed types mean Letter Sealing is not possible with that peer.
type NegotiateResult struct {
	PublicKey    *E2EEPublicKey `json:"publicKey,omitempty"`
	AllowedTypes []int          `json:"allowedTypes"`
	SpecVersion  int            `json:"specVersion"`
}

// NegotiateE2EEPublicKey asks for a peer's Letter Sealing key.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/negotiateE2EEPublicKey [mid]
func (c *Client) NegotiateE2EEPublicKey(ctx context.Context, mid string) (*NegotiateResult, error) {
	var r NegotiateResult
	if err := c.thriftCall(ctx, "Talk/TalkService", "negotiateE2EEPublicKey", []any{mid}, &r, true, true); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetE2EEPublicKey returns mid's Letter Sealing public key with the given id,
// also one the peer has since rotated away from (negotiateE2EEPublicKey
// gives only the current one). keyVersion is 1. Evidence: the extension's
// fetchUserPublicKey, beeper/line e2ee_keys.go, OkLine e2ee.py.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getE2EEPublicKey [mid, 1, keyId]
func (c *Client) GetE2EEPublicKey(ctx context.Context, mid string, keyID int) (*E2EEPublicKey, error) {
	var r E2EEPublicKey
	if err := c.thriftCall(ctx, "Talk/TalkService", "getE2EEPublicKey", []any{mid, 1, keyID}, &r, true, true); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetE2EEGroupSharedKey returns the chat's group key with the given id,
// wrapped for this account (getLastE2EEGroupSharedKey gives only the newest).
// Evidence: the extension's fetchGroupKey, beeper/line methods.go.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getE2EEGroupSharedKey [1, chatMid, groupKeyId]
func (c *Client) GetE2EEGroupSharedKey(ctx context.Context, chatMID string, groupKeyID int) (*GroupSharedKey, error) {
	var r GroupSharedKey
	if err := c.thriftCall(ctx, "Talk/TalkService", "getE2EEGroupSharedKey", []any{1, chatMID, groupKeyID}, &r, true, true); err != nil {
		return nil, err
	}
	return &r, nil
}

// GroupSharedKey is a chat's Letter Sealing group key, wrapped for this account.
type GroupSharedKey struct {
	KeyVersion         int    `json:"keyVersion,omitempty"`
	GroupKeyID         int    `json:"groupKeyId"`
	Creator            string `json:"creator"`
	CreatorKeyID       int    `json:"creatorKeyId"`
	Receiver           string `json:"receiver"`
	ReceiverKeyID      int    `json:"receiverKeyId"`
	EncryptedSharedKey string `json:"encryptedSharedKey"`
	AllowedTypes       []int  `json:"allowedTypes,omitempty"`
	SpecVersion        int    `json:"specVersion,omitempty"`
}

// GetLastE2EEGroupSharedKey returns the chat's current group key;
// ErrNotFound (TalkException 5) when none was registered.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getLastE2EEGroupSharedKey [1, chatMid]
func (c *Client) GetLastE2EEGroupSharedKey(ctx context.Context, chatMID string) (*GroupSharedKey, error) {
	var r GroupSharedKey
	if err := c.thriftCall(ctx, "Talk/TalkService", "getLastE2EEGroupSharedKey", []any{1, chatMID}, &r, true, true); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetLastE2EEPublicKeys returns the members' current public keys;
// ErrE2EERetryPlain (TalkException 98 "member settings off") when some member
// has Letter Sealing off.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/getLastE2EEPublicKeys [chatMid]
func (c *Client) GetLastE2EEPublicKeys(ctx context.Context, chatMID string) (map[string]E2EEPublicKey, error) {
	var r map[string]E2EEPublicKey
	if err := c.thriftCall(ctx, "Talk/TalkService", "getLastE2EEPublicKeys", []any{chatMID}, &r, true, true); err != nil {
		return nil, err
	}
	return r, nil
}

// Probe is what the Letter Sealing probe found out about one destination.
type Probe struct {
	MID         string
	ToType      ToType
	Usable      bool
	SpecVersion int
	// AllowedTypes are the content types LINE lets be sealed here; nil when
	// the probe did not say (a group without a key yet).
	AllowedTypes []int
	Reason       string
	PeerKey      *E2EEPublicKey           // user: the peer's key
	GroupKey     *GroupSharedKey          // group/room: the current group key
	MemberKeys   map[string]E2EEPublicKey // group/room without a key: members' keys
}

// ProbeE2EE runs the Letter Sealing probe the extension runs before sending
// (docs/protocol.md §6, as in a capture of the extension): for a user negotiateE2EEPublicKey; for a
// group or room getLastE2EEGroupSharedKey, then on "not found"
// getLastE2EEPublicKeys. LINE's refusals that mean "send plain" (5 then 98)
// are answers, not errors.
func (c *Client) ProbeE2EE(ctx context.Context, mid string) (*Probe, error) {
	t, err := ParseMID(mid)
	if err != nil {
		return nil, err
	}
	p := &Probe{MID: mid, ToType: t, SpecVersion: -1}
	if t == ToUser {
		r, err := c.NegotiateE2EEPublicKey(ctx, mid)
		if err != nil {
			return nil, err
		}
		p.SpecVersion, p.PeerKey, p.AllowedTypes = r.SpecVersion, r.PublicKey, r.AllowedTypes
		p.Usable = r.SpecVersion > 0 && r.PublicKey != nil && r.PublicKey.KeyData != ""
		if !p.Usable {
			p.Reason = "peer has Letter Sealing off"
		}
		return p, nil
	}
	gk, err := c.GetLastE2EEGroupSharedKey(ctx, mid)
	if err == nil {
		// The group key's spec version decides V1 or V2 (the extension
		// switches on it); a key that does not say is V2.
		p.Usable, p.GroupKey, p.SpecVersion, p.AllowedTypes = true, gk, gk.SpecVersion, gk.AllowedTypes
		if p.SpecVersion <= 0 {
			p.SpecVersion = 2
		}
		return p, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	keys, err := c.GetLastE2EEPublicKeys(ctx, mid)
	var te *TalkError
	switch {
	case errors.Is(err, ErrE2EERetryPlain) && errors.As(err, &te):
		p.Reason = te.Reason
		if p.Reason == "" {
			p.Reason = "member settings off"
		}
		return p, nil
	case err != nil:
		return nil, err
	}
	p.Usable, p.MemberKeys, p.SpecVersion = true, keys, 2
	p.Reason = "no group key yet: one must be registered"
	return p, nil
}

// Allows reports whether LINE lets contentType be sealed here: the
// extension sends a content type that allowedTypes does not list plain
// (encryptMessage). A probe that did not say (nil) allows every type.
func (p *Probe) Allows(contentType int) bool {
	if p.AllowedTypes == nil {
		return true
	}
	for _, t := range p.AllowedTypes {
		if t == contentType {
			return true
		}
	}
	return false
}

// RegisterE2EEGroupKey registers a new group key: for each member (and key
// id) the group private key wrapped for that member. It returns the group
// key as this account sees it.
//
// Gateway: POST /api/talk/thrift/Talk/TalkService/registerE2EEGroupKey [1, chatMid, members, keyIds, encryptedSharedKeys]
func (c *Client) RegisterE2EEGroupKey(ctx context.Context, chatMID string, members []string, keyIDs []int, wrapped []string) (*GroupSharedKey, error) {
	var r GroupSharedKey
	if err := c.thriftCall(ctx, "Talk/TalkService", "registerE2EEGroupKey", []any{1, chatMID, members, keyIDs, wrapped}, &r, true, false); err != nil {
		return nil, err
	}
	return &r, nil
}
