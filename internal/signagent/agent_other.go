//go:build !(linux || darwin || freebsd)

package signagent

import (
	"context"
	"errors"
	"net"

	"github.com/linectl/linectl/pkg/lineapi"
)

// Serve is not available here.
func (s *Server) Serve(context.Context, net.Listener) error {
	return errors.New("the signer agent needs a Unix system")
}

// Client is not available here.
type Client struct{}

// Dial is not available here.
func Dial(string) (*Client, error) { return nil, ErrUnavailable }

// Sign is not available here.
func (*Client) Sign(context.Context, lineapi.SignRequest) (string, error) { return "", ErrUnavailable }

// Ping is not available here.
func (*Client) Ping(context.Context) (Status, error) { return Status{}, ErrUnavailable }

// Stop is not available here.
func (*Client) Stop(context.Context) (Status, error) { return Status{}, ErrUnavailable }

// Close does nothing here.
func (*Client) Close() error { return nil }
