package e2e

import (
	"strings"
	"testing"

	"github.com/linectl/linectl/internal/simgw"
)

// stickers returns the simulator's sticker messages (contentType 7).
func stickers(e *env) []simgw.Message {
	var out []simgw.Message
	for _, m := range e.sim.Messages() {
		if m.ContentType == 7 {
			out = append(out, m)
		}
	}
	return out
}

func wantSticker(t *testing.T, m simgw.Message, to, pkg, id, ver string) {
	t.Helper()
	if m.To != to || m.Text != "" || len(m.Chunks) != 0 || m.Metadata["STKPKGID"] != pkg || m.Metadata["STKID"] != id ||
		m.Metadata["STKVER"] != ver || m.Metadata["e2eeVersion"] != "" {
		t.Fatalf("stored sticker %+v, want %s %s/%s v%s plain", m, to, pkg, id, ver)
	}
}

func TestStickerToPlainGroup(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	r := e.must("", "send", "--to", simgw.FamilyMID, "--sticker", "446/1988")
	s := r.first(t, "sent")
	if s["contentType"] != 7.0 || s["e2ee"] != false || s["messageId"] == "" {
		t.Fatalf("sent %v", s)
	}
	e.must("", "send", "--to", simgw.FamilyMID, "--sticker", "11537/52002734", "--sticker-version", "3", "--confirm")
	st := stickers(e)
	if len(st) != 2 {
		t.Fatalf("%d stickers stored", len(st))
	}
	wantSticker(t, st[0], simgw.FamilyMID, "446", "1988", "100")
	wantSticker(t, st[1], simgw.FamilyMID, "11537", "52002734", "3")
	// As the extension's Cb: hasContent true, and exactly the known keys.
	e.must("", "send", "--to", simgw.FamilyMID, "--sticker", "446/1988", "--sticker-text", "[OK]", "--sticker-option", "A")
	e.must(`{"to":"`+simgw.FamilyMID+`","sticker":"446/1989","stickerText":"[Thanks]"}`+"\n", "send", "--jsonl")
	st = stickers(e)
	if len(st) != 4 || st[2].Metadata["STKTXT"] != "[OK]" || st[2].Metadata["STKOPT"] != "A" || len(st[2].Metadata) != 5 ||
		st[3].Metadata["STKTXT"] != "[Thanks]" || len(st[3].Metadata) != 4 || len(st[0].Metadata) != 3 {
		t.Fatalf("stickers %+v", st)
	}
	for _, m := range st {
		if !m.HasContent {
			t.Fatalf("sticker sent with hasContent false: %+v", m)
		}
	}
	// A text's sent line has no contentType.
	if l := e.must("", "send", "--to", simgw.FamilyMID, "hi").first(t, "sent"); l["contentType"] != nil {
		t.Fatalf("text sent line %v", l)
	}
}

// Letter Sealing on both sides: text is sealed, a sticker goes plain because
// allowedTypes (the default) does not list 7; where LINE lists 7, linectl refuses
// rather than guess a sealed sticker's format.
func TestStickerToSealedChats(t *testing.T) {
	e := sealedEnv(t)
	e.loginQRWithKeys()
	for _, to := range []string{daveMID, sealedMID} {
		s := e.must("", "send", "--to", to, "--sticker", "446/1988").first(t, "sent")
		if s["e2ee"] != false || s["contentType"] != 7.0 {
			t.Fatalf("sent %v", s)
		}
		if s := e.must("", "send", "--to", to, "sealed text").first(t, "sent"); s["e2ee"] != true {
			t.Fatalf("text not sealed: %v", s)
		}
	}
	st := stickers(e)
	if len(st) != 2 {
		t.Fatalf("%d stickers stored", len(st))
	}
	wantSticker(t, st[0], daveMID, "446", "1988", "100")
	wantSticker(t, st[1], sealedMID, "446", "1988", "100")

	r := e.run("", "send", "--e2ee", "require", "--to", daveMID, "--sticker", "446/1988")
	wantExit(t, r, 4, "e2ee_required")
	e.sim.SetAllowedTypes(daveMID, []int{0, 7, 15})
	r = e.run("", "send", "--to", daveMID, "--sticker", "446/1988")
	wantExit(t, r, 4, "e2ee_required")
	if !strings.Contains(r.stderr, "how a sealed sticker looks is not established") {
		t.Fatalf("stderr %s", r.stderr)
	}
	if len(stickers(e)) != 2 {
		t.Fatal("a sticker was stored")
	}
}

func TestStickerBadFlags(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	for _, args := range [][]string{
		{"--sticker", "446/1988", "some text"},
		{"--sticker", "446"},
		{"--sticker", "0/1988"},
		{"--sticker", "446/-1"},
		{"--sticker", "446/x"},
		{"--sticker", "446/1988", "--sticker-version", "0"},
		{"--sticker-version", "2", "text"},
	} {
		r := e.run("", append([]string{"send", "--to", simgw.FamilyMID}, args...)...)
		wantExit(t, r, 2, "usage")
		if r.stdout != "" {
			t.Fatalf("%v: stdout %q", args, r.stdout)
		}
	}
	wantExit(t, e.run("", "send", "--jsonl", "--sticker", "446/1988"), 2, "usage")
	if n := len(e.sim.Messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestStickerJSONL(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	in := `{"to":"` + simgw.FamilyMID + `","sticker":"446/1988"}
{"to":"` + simgw.FamilyMID + `","sticker":"446/1988","text":"both"}
{"to":"` + simgw.FamilyMID + `","text":"plain text"}
{"to":"` + simgw.OpsMID + `","sticker":"1/2","stickerVersion":5}
{"to":"` + simgw.OpsMID + `","sticker":"1/0"}
`
	r := e.run(in, "send", "--jsonl")
	wantExit(t, r, 0, "") // refused lines beside sent ones: exit 0 with a warning
	ls := r.lines(t)
	if len(ls) != 5 {
		t.Fatalf("lines %v", ls)
	}
	want := []struct {
		typ string
		ct  any
	}{{"sent", 7.0}, {"failed", nil}, {"sent", nil}, {"sent", 7.0}, {"failed", nil}}
	for i, w := range want {
		if ls[i]["type"] != w.typ || ls[i]["contentType"] != w.ct {
			t.Fatalf("line %d: %v", i+1, ls[i])
		}
	}
	if ls[1]["exitCode"] != 2.0 || ls[1]["line"] != 2.0 || !strings.Contains(ls[1]["message"].(string), "not both") {
		t.Fatalf("line 2: %v", ls[1])
	}
	st := stickers(e)
	if len(st) != 2 {
		t.Fatalf("%d stickers", len(st))
	}
	wantSticker(t, st[0], simgw.FamilyMID, "446", "1988", "100")
	wantSticker(t, st[1], simgw.OpsMID, "1", "2", "5")
	// Only sticker lines: every line refused → exit 2.
	wantExit(t, e.run(`{"to":"`+simgw.FamilyMID+`","sticker":"x"}`+"\n", "send", "--jsonl"), 2, "usage")
}

// LINE Notify's stickerPackageId + stickerId: the message, then the sticker.
func TestNotifySticker(t *testing.T) {
	e := newEnv(t)
	e.loginQR()
	tok, _ := e.addToken("--to", simgw.FamilyMID)
	ns := e.startNotify()
	api := ns.url + "/api/notify"
	wantNotify(t, curl(t, tok, api, "-F", "message=disk full", "-F", "stickerPackageId=446", "-F", "stickerId=1988"), 200, "ok")
	wantNotify(t, curl(t, tok, api, "--data-urlencode", "message=again", "--data-urlencode", "stickerPackageId=1", "--data-urlencode", "stickerId=2"), 200, "ok")
	wantNotify(t, curl(t, tok, api, "-F", "message=half", "-F", "stickerId=1988"), 400, "stickerPackageId and stickerId must be given together")
	wantNotify(t, curl(t, tok, api, "-F", "message=bad", "-F", "stickerPackageId=446", "-F", "stickerId=x"), 400, "stickerId: must be a positive number")
	wantNotify(t, curl(t, tok, api, "-F", "stickerPackageId=446", "-F", "stickerId=1988"), 400, "message: must not be empty")
	msgs := e.sim.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d messages stored: %+v", len(msgs), msgs)
	}
	if msgs[0].Text != "disk full" || msgs[0].ContentType != 0 || msgs[2].Text != "again" {
		t.Fatalf("stored %+v", msgs)
	}
	wantSticker(t, msgs[1], simgw.FamilyMID, "446", "1988", "100")
	wantSticker(t, msgs[3], simgw.FamilyMID, "1", "2", "100")
	if code := ns.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	reqs := ns.requestLines()
	if len(reqs) != 5 || reqs[0]["status"] != 200.0 || reqs[0]["messageId"] != msgs[0].ID {
		t.Fatalf("request lines %v", reqs)
	}
	if strings.Contains(ns.stdoutText(), tok) || strings.Contains(ns.stdoutText(), "disk full") {
		t.Fatal("token or text in the log")
	}
}
