package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrFetch is the one error a token holder sees for an image URL that could
// not be fetched, whatever the reason (a refused address, no such host, a
// closed or open port, a timeout, a status, a size): different answers would
// let a caller map the server's network through it.
var ErrFetch = errors.New("the image URL could not be fetched")

// FetchError is ErrFetch with the reason, for the server's own log.
type FetchError struct{ Reason error }

func (e *FetchError) Error() string { return ErrFetch.Error() }
func (e *FetchError) Unwrap() error { return ErrFetch }

// ErrPrivateAddress: an image URL led to an address the server does not
// fetch from without --allow-private-image-urls.
var ErrPrivateAddress = errors.New("a loopback, link-local, private, multicast or unspecified address")

// sharedSpace is RFC 6598's carrier-grade NAT range (not IsPrivate, as
// internal as 10/8); thisNetwork is 0.0.0.0/8 ("this host", reaches local
// services on Linux).
var (
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
)

// publicAddr reports whether ip may be fetched from by default.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() &&
		!sharedSpace.Contains(ip) && !thisNetwork.Contains(ip)
}

// dialGuard is a net.Dialer Control hook: it sees the address actually being
// connected to (after DNS resolution, for every connection, so for every
// redirect too), and refuses a non-public one.
func dialGuard(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
	}
	if !publicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, ap.Addr())
	}
	return nil
}

// NewFetchClient is the HTTP client of FetchURL: at most 3 redirects, no
// proxy from the environment (a proxy would connect for it, past the
// guard), and unless allowPrivate, connections only to public addresses.
func NewFetchClient(allowPrivate bool) *http.Client {
	if allowPrivate {
		return newFetchClient(nil)
	}
	return newFetchClient(dialGuard)
}

func newFetchClient(control func(network, address string, c syscall.RawConn) error) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: control}
	tr := &http.Transport{
		Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: 10 * time.Second, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return errors.New("a redirect to a scheme other than http(s)")
		}
		return nil
	}}
}

// FetchURL is the FetchImage of --allow-image-urls: a GET with a time limit,
// at most MaxImage bytes, 200 only. Every failure is a *FetchError (the
// same message, ErrFetch, for any reason).
func FetchURL(client *http.Client, timeout time.Duration) func(context.Context, string) ([]byte, error) {
	return func(ctx context.Context, u string) ([]byte, error) {
		b, err := fetch(ctx, client, timeout, u)
		if err != nil {
			return nil, &FetchError{Reason: err}
		}
		return b, nil
	}
}

func fetch(ctx context.Context, client *http.Client, timeout time.Duration, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxImage+1))
	switch {
	case err != nil:
		return nil, err
	case len(b) > MaxImage:
		return nil, fmt.Errorf("larger than %d bytes", MaxImage)
	}
	return b, nil
}
