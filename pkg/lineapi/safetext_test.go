package lineapi

import "testing"

func TestSafeTextAndErrors(t *testing.T) {
	if got := SafeText("ok テスト"); got != "ok テスト" {
		t.Fatal(got)
	}
	if got := SafeText("a\u009b31m\u202eb\x1b[2J\xff"); got != `a\u009b31m\u202eb\u001b[2J`+"\ufffd" {
		t.Fatalf("%q", got)
	}
	_, err := ParseEnvelope(400, []byte(`{"code":10051,"data":{"name":"TalkException","code":10,"reason":"x\u009b31m\u202e"}}`))
	if got := err.Error(); got != `TalkException 10 (NOT_A_MEMBER): x\u009b31m\u202e` {
		t.Fatalf("%q", got)
	}
}
