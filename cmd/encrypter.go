package cmd

import (
	"github.com/linectl/linectl/internal/delivery"
	"github.com/linectl/linectl/pkg/lineapi"
)

// newEncrypter returns the Letter Sealing encrypter for sends, or nil when
// this config holds no Letter Sealing keys.
func newEncrypter(f *factory, cl *lineapi.Client) delivery.Encrypter { return nil }
