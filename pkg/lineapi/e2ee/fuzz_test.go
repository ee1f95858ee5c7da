package e2ee

import (
	"context"
	"strings"
	"testing"
)

// Open reads what the network delivers: whatever the chunks, versions and
// MIDs, it returns an error or a message, never panics.
func FuzzOpen(f *testing.F) {
	v := loadVectorsF(f)
	for _, m := range v.Messages {
		f.Add(m.Message.From, m.Message.To, m.Message.ContentMetadata["e2eeVersion"], strings.Join(m.Message.Chunks, ","), m.Recipient)
	}
	f.Add("u1", "c", "2", ",,,,", "A")
	f.Add("", "", "", "", "B")
	f.Fuzz(func(t *testing.T, from, to, version, chunks, who string) {
		if _, ok := v.Accounts[who]; !ok {
			who = "B"
		}
		s, _ := v.sealerFor(who)
		_, _ = s.Open(context.Background(), Sealed{From: from, To: to, Version: version, Chunks: strings.Split(chunks, ",")})
	})
}
