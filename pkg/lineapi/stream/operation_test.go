package stream

import (
	"strings"
	"testing"
)

// Operations from the seed capture (text as \uXXXX escapes).
var seedOps = []string{
	`{"revision":"947934","createdTime":"1773625292915","type":40,"reqSeq":65421321,"param1":"<group MID>","param2":"605311845963661626","param3":"0"}`,
	`{"revision":"947937","createdTime":"1773625305500","type":25,"reqSeq":662642008,"param1":"0","message":{"from":"u1","to":"c1","toType":2,"id":"605311889450205372","createdTime":"1773625305497","text":"\u30c6\u30b9\u30c8","hasContent":false,"contentType":0,"contentMetadata":{},"sessionId":0,"reactions":[]}}`,
	`{"revision":"947935","createdTime":"1773625299390","type":25,"reqSeq":-1,"param1":"0","message":{"text":"\ud83d\ude00"}}`,
}

func TestParseSeedOperations(t *testing.T) {
	op, err := ParseOperation([]byte(seedOps[1]))
	if err != nil {
		t.Fatal(err)
	}
	if op.Revision != 947937 || op.Type != OpSendMessage || op.ReqSeq != 662642008 || op.CreatedTime != 1773625305500 {
		t.Fatalf("%+v", op)
	}
	if got := op.Message.Text; got != "テスト" {
		t.Fatalf("text %q", got)
	}
	op, _ = ParseOperation([]byte(seedOps[2]))
	if op.ReqSeq != -1 || op.Message.Text != "😀" {
		t.Fatalf("%+v", op)
	}
	if op, _ := ParseOperation([]byte(seedOps[0])); op.Param3.String() != "0" || op.Message != nil || !op.Param2.Exists() {
		t.Fatalf("%+v", op)
	}
}

func TestParseOperationRejects(t *testing.T) {
	for _, in := range []string{``, `[]`, `{}`, `{"revision":"x","type":1}`, `{"revision":"1"}`, `{"revision":"1","type":-3}`,
		`{"revision":"99999999999999999999999","type":1}`, `{"revision":"1","type":1,"message":"no"}`, `{"revision":`} {
		if _, err := ParseOperation([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestOpTypeNames(t *testing.T) {
	if OpType(26).String() != "RECEIVE_MESSAGE" || OpType(167).String() != "OP_167" {
		t.Fatal(OpType(26).String(), OpType(167).String())
	}
	for in, want := range map[string]OpType{"26": 26, "receive_message": 26, "SEND_MESSAGE": 25, "OP_150": 150} {
		if got, ok := ParseOpType(in); !ok || got != want {
			t.Errorf("ParseOpType(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := ParseOpType("NOPE"); ok {
		t.Error("NOPE accepted")
	}
}

func FuzzParseOperation(f *testing.F) {
	for _, s := range seedOps {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"reasons":[1],"nextRevision":"5"}`))
	f.Add([]byte(`{"code":119,"reason":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := ParseOperation(data)
		if err == nil && (op.Revision <= 0 || op.Type < 0) {
			t.Fatalf("accepted bad op %+v", op)
		}
		_, _ = parseFullSync(data)
		_, _ = parseTalkException(data)
		_ = op.Type.String()
		if op.Message != nil {
			_ = strings.ToUpper(op.Message.Text)
		}
	})
}

// An Operation owns its data: overwriting the event's buffer (as the SSE
// reader does for the next event) leaves it intact.
func TestOperationOwnsItsData(t *testing.T) {
	buf := []byte(`{"revision":"5","createdTime":"1","type":26,"reqSeq":0,"param1":"p","message":{"from":"u1","text":"hello"}}`)
	op, err := ParseOperation(buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if op.Message.Text != "hello" || op.Message.From != "u1" || string(op.Message.JSON) != `{"from":"u1","text":"hello"}` ||
		op.Param1.String() != "p" || string(op.Param1.JSON()) != `"p"` || op.Revision != 5 {
		t.Fatalf("operation changed with its buffer: %+v", op)
	}
}
