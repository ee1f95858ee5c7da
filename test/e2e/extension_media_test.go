package e2e

import (
	"bytes"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// LINE's extension 3.7.2 never reads x-obs-oid on a plain upload
// (/r/talk/m/<id>, eE): an OBS that does not send it there stores the
// object all the same, and linectl must call that a success (issue 24.1).
func TestMediaPlainUploadWithoutOID(t *testing.T) {
	e := newEnv(t, func(o *simgw.Options) { o.PlainUploadNoOID = true })
	e.loginQR()
	pic := testPNG(t, 40, 30)
	img := writeFile(t, "chart.png", pic)
	doc := writeFile(t, "report.csv", []byte("a,b\n"))
	e.must("", "send", "--to", simgw.FamilyMID, "--image", img)
	e.must("", "send", "--to", simgw.AliceMID, "--file", doc)
	m := mediaMessages(e)
	if len(m) != 2 || !bytes.Equal(m[0].Media, pic) || string(m[1].Media) != "a,b\n" {
		t.Fatalf("stored %d media messages", len(m))
	}
	for _, c := range e.sim.Calls() {
		if c.Method == "obs-upload" && len(c.Body) == 0 {
			t.Fatalf("upload %s recorded without its body", c.Path)
		}
	}
}

// The sealed upload (reqid-…, nE) still needs x-obs-oid: the message must
// name the object. Without it nothing is sent.
func TestMediaSealedUploadNeedsOID(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	doc := writeFile(t, "a.txt", []byte("sealed"))
	e.sim.FailReply("obs-upload", simgw.Reply{Status: 201, ContentType: "text/plain", Process: true}, 1)
	r := e.run("", "send", "--to", daveMID, "--file", doc)
	if r.code == 0 {
		t.Fatalf("sent without an OID: %s", r.stdout)
	}
	if m := mediaMessages(e); len(m) != 0 {
		t.Fatalf("%d media messages sent", len(m))
	}
	wantExit(t, r, 4, "rejected")
}
