package lineapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Media content types (LINE's ContentType enum: IMAGE 1, FILE 14; linejs
// line_types.ts, beeper/line pkg/connector/consts.go).
const (
	ContentImage = 1
	ContentFile  = 14
)

// IsMedia reports whether a content type is an object on LINE's storage.
func IsMedia(contentType int) bool { return contentType == ContentImage || contentType == ContentFile }

// Media flows of determineMediaMessageFlow's flowMap.
const (
	FlowPlain  = 1 // upload after sendMessage, to the message id
	FlowSealed = 2 // encrypted upload first, then a sealed sendMessage
)

// MediaFlow is determineMediaMessageFlow's answer for a chat.
type MediaFlow struct {
	FlowMap  map[string]int `json:"flowMap"` // content type (decimal) → FlowPlain | FlowSealed
	CacheTTL I64            `json:"cacheTtlMillis"`
}

// Flow returns the flow of a content type. A type the map does not name is
// plain, as in LINE's extension 3.7.2 (checkAndGetMediaMessageFlow:
// flowMap[t] ?? V1); beeper/line seals it instead, but the extension decides.
func (f *MediaFlow) Flow(contentType int) int {
	if v, ok := f.FlowMap[strconv.Itoa(contentType)]; ok && v == FlowSealed {
		return FlowSealed
	}
	return FlowPlain
}

// DetermineMediaMessageFlow asks whether media to chat goes plain or sealed.
//
// Gateway: POST …/Talk/TalkService/determineMediaMessageFlow [{"chatMid": chat}]
// (beeper/line methods.go DetermineMediaMessageFlow; OkLine docs/ENDPOINTS.md).
func (c *Client) DetermineMediaMessageFlow(ctx context.Context, chat string) (*MediaFlow, error) {
	var out MediaFlow
	arg := map[string]string{"chatMid": chat}
	if err := c.thriftCall(ctx, "Talk/TalkService", "determineMediaMessageFlow", []any{arg}, &out, true, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// featureOBSGeneral is FeatureType OBS_GENERAL (beeper/line, OkLine enums.py).
const featureOBSGeneral = 2

// AcquireEncryptedAccessToken returns the raw answer of
// acquireEncryptedAccessToken [2]: "<seconds>\x1e<OBS token>" (see
// obs.ParseToken). The OBS token authorises object-storage requests only.
func (c *Client) AcquireEncryptedAccessToken(ctx context.Context) (string, error) {
	body, err := marshalBody([]any{featureOBSGeneral})
	if err != nil {
		return "", err
	}
	var out string
	err = c.do(ctx, &call{
		method: http.MethodPost, path: "/api/talk/thrift/Talk/TalkService/acquireEncryptedAccessToken", name: "acquireEncryptedAccessToken",
		body: body, auth: true, repeatable: true, secretAnswer: true, // the OBS token: never in a debug log
	}, &out)
	return out, err
}

// HTTPClient returns the HTTP client the gateway client uses, so that
// object-storage requests share its transport settings.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// UserAgent returns the user-agent header the client sends.
func (c *Client) UserAgent() string { return c.userAgent }

// OBSBaseURLFor returns the object storage that goes with a gateway: LINE's
// for LINE's gateway, and the gateway itself for a loopback simulator (which
// serves both).
func OBSBaseURLFor(gateway string) string {
	if u, err := url.Parse(gateway); err == nil && isLoopback(u.Hostname()) {
		return trimSlash(gateway)
	}
	return "https://obs.line-apps.com"
}

// OBSTokenTTLMargin is how long before its stated expiry an OBS token is
// renewed (beeper/line renews 30 s early).
const OBSTokenTTLMargin = 30 * time.Second
