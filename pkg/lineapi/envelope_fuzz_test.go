package lineapi

import "testing"

func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"message":"OK","data":{"authSessionId":"x"}}`,
		`{"code":0,"message":"OK"}`,
		`{"code":10051,"message":"RESPONSE_ERROR","data":{"name":"TalkException","message":"TalkException","code":89,"reason":"not supported","parameterMap":null}}`,
		`{"code":10051,"data":{"name":"TalkException","code":98,"reason":"member settings off","parameterMap":{}}}`,
		`{"code":10052,"message":"RESPONSE_HTTP_ERROR","data":{"statusCode":410}}`,
		`{"code":10004,"message":"REQUEST_NEED_LOGIN"}`,
		`<html>`, ``, `[]`, `{"code":"0"}`, `{"code":1e999}`, `{"code":10051,"data":[1]}`,
	} {
		f.Add(200, []byte(s))
		f.Add(400, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		data, err := ParseEnvelope(status, body)
		if err == nil && data != nil && len(data) > len(body) {
			t.Fatal("data longer than body")
		}
		if err != nil {
			_ = err.Error()
			_ = Describe(err)
		}
	})
}
