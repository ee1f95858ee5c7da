package lineapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// receivePath returns the operation stream's request URI for a revision,
// with the extension's query (docs/protocol.md §7).
func receivePath(localRev int64, version, language string) string {
	q := "localRev=" + strconv.FormatInt(localRev, 10) +
		"&version=" + url.QueryEscape(version) +
		"&lastPartialFullSyncs=%7B%7D&language=" + url.QueryEscape(language)
	return "/api/operation/receive?" + q
}

// OpenOperationStream opens the Server-Sent Events stream of operations
// after localRev and returns its body (read it with package sse). Like the
// browser's EventSource it carries no x-hmac; it authenticates with the lct
// cookie, plus x-line-access as non-browser clients do. A 401 (10004) or a
// 119 refreshes the token once and reopens.
//
// Gateway: GET /api/operation/receive?localRev=…&version=3.7.2&lastPartialFullSyncs=%7B%7D&language=en_US
func (c *Client) OpenOperationStream(ctx context.Context, localRev int64) (io.ReadCloser, error) {
	path := receivePath(localRev, c.version, c.language)
	for refreshed := false; ; refreshed = true {
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		if token == "" {
			return nil, ErrNotLoggedIn
		}
		body, err := c.openStream(ctx, path, token)
		if err == nil {
			return body, nil
		}
		if refreshed || !(errors.Is(err, ErrNeedLogin) || errors.Is(err, ErrMustRefreshToken)) {
			return nil, err
		}
		if rl, ok := c.tokens.(Reloader); ok {
			if _, newer := rl.Reload(ctx, token); newer {
				continue
			}
		}
		if _, err := c.tokens.Refresh(ctx, token); err != nil {
			return nil, err
		}
	}
}

func (c *Client) openStream(ctx context.Context, path, token string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("accept", "text/event-stream")
	h.Set("cache-control", "no-cache")
	c.setExtensionHeaders(h, token)
	c.logRequest(req, nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &TransportError{Method: "receive", Written: true, Err: err}
	}
	if resp.StatusCode == http.StatusOK {
		if c.debug != nil {
			c.logResponse(resp, nil)
		}
		return resp.Body, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	c.logResponse(resp, data)
	if _, err := ParseEnvelope(resp.StatusCode, data); err != nil {
		var ge *GatewayError
		if errors.As(err, &ge) && ge.Code == 0 && resp.StatusCode == http.StatusUnauthorized {
			return nil, &GatewayError{Code: CodeRequestNeedLogin, Message: "REQUEST_NEED_LOGIN", HTTPStatus: 401}
		}
		return nil, fmt.Errorf("receive: %w", err)
	}
	return nil, fmt.Errorf("receive: %w", &GatewayError{HTTPStatus: resp.StatusCode})
}
