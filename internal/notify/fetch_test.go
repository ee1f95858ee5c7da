package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1::1": true, "8.8.8.8": true,
		"127.0.0.1": false, "127.9.9.9": false, "::1": false, "0.0.0.0": false, "0.1.2.3": false, "::": false,
		"10.0.0.1": false, "172.16.5.4": false, "192.168.1.1": false, "fd00::1": false, "100.64.0.1": false,
		"169.254.169.254": false, "fe80::1": false, "224.0.0.1": false, "ff02::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.1.1.1": false, "::ffff:93.184.216.34": true,
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: public %v, want %v", addr, got, want)
		}
	}
}

// A loopback server (by IP, by name through DNS, 0.0.0.0, and a redirect
// into it) is refused without allowPrivate, with one error for every
// failure — a closed port answers exactly as an open one. With
// allowPrivate the same URLs are fetched.
func TestFetchURLRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("image bytes"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + closed.Addr().String() + "/x.png"
	closed.Close()
	fetch := FetchURL(NewFetchClient(false), 5*time.Second)
	urls := []string{srv.URL + "/x.png", "http://localhost:" + port + "/x.png", "http://0.0.0.0:" + port + "/x.png", closedURL, "http://[::1]:" + port + "/x.png"}
	var msgs []string
	for _, u := range urls {
		_, err := fetch(context.Background(), u)
		if !errors.Is(err, ErrFetch) {
			t.Fatalf("%s: %v", u, err)
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs {
		if m != ErrFetch.Error() {
			t.Fatalf("messages differ: %q", msgs)
		}
	}
	var fe *FetchError
	if _, err := fetch(context.Background(), srv.URL); !errors.As(err, &fe) || !errors.Is(fe.Reason, ErrPrivateAddress) {
		t.Fatalf("reason %v", err)
	}
	// A redirect into loopback is checked on its own connection: the guard
	// here lets the first hop through (standing in for a public server).
	redir := httptest.NewServer(http.RedirectHandler(srv.URL+"/x.png", http.StatusFound))
	defer redir.Close()
	first := redir.Listener.Addr().String()
	viaPublic := FetchURL(newFetchClient(func(n, a string, c syscall.RawConn) error {
		if a == first {
			return nil
		}
		return dialGuard(n, a, c)
	}), 5*time.Second)
	if _, err := viaPublic(context.Background(), redir.URL); !errors.As(err, &fe) || !errors.Is(fe.Reason, ErrPrivateAddress) {
		t.Fatalf("redirect into loopback: %v", err)
	}
	allowed := FetchURL(NewFetchClient(true), 5*time.Second)
	for _, u := range []string{redir.URL, "http://localhost:" + port + "/x.png"} {
		if b, err := allowed(context.Background(), u); err != nil || string(b) != "image bytes" {
			t.Fatalf("allowed %s: %q %v", u, b, err)
		}
	}
}
