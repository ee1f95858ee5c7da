package cmd

import (
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/linectl/linectl/pkg/lineapi"
	"github.com/linectl/linectl/pkg/lineapi/stream"
)

// appendOperationLine writes one "operation" line:
//
//	{"type":"operation","revision":"…","opType":N,"opName":"…","createdTime":"…","reqSeq":N,
//	 "param1":…,"param2":…,"param3":…,"message":{…}}
//
// Message strings are decoded (LINE sends \uXXXX escapes) and written as
// UTF-8; i64s stay strings. Hand-written for throughput; locked by tests.
func appendOperationLine(b []byte, op *stream.Operation, si *sealedInfo) []byte {
	b = append(b, `{"type":"operation","revision":"`...)
	b = strconv.AppendInt(b, op.Revision, 10)
	b = append(b, `","opType":`...)
	b = strconv.AppendInt(b, int64(op.Type), 10)
	b = append(b, `,"opName":"`...)
	b = append(b, op.Type.String()...)
	b = append(b, `","createdTime":"`...)
	b = strconv.AppendInt(b, op.CreatedTime, 10)
	b = append(b, `","reqSeq":`...)
	b = strconv.AppendInt(b, op.ReqSeq, 10)
	for i, p := range [3]stream.Param{op.Param1, op.Param2, op.Param3} {
		if !p.Exists() {
			continue
		}
		b = append(b, `,"param`...)
		b = append(b, byte('1'+i))
		b = append(b, `":`...)
		b = appendValue(b, gjson.ParseBytes(p.JSON()))
	}
	if op.Message != nil {
		b = append(b, `,"message":`...)
		b = appendValue(b, gjson.ParseBytes(op.Message.JSON)) // every field, as LINE sent it
		if si != nil {
			b = appendSealed(b[:len(b)-1], si) // inside the message object
			b = append(b, '}')
		}
	}
	return append(b, "}\n"...)
}

// appendMessageLine writes the compact --text-only form:
// {"type":"message","chat":…,"from":…,"text":…,"messageId":…,"createdTime":…,"revision":"…"}
// (with "replyTo", "mentions" and "mentionsMe" where the message has them).
func appendMessageLine(b []byte, op *stream.Operation, me string, si *sealedInfo) []byte {
	return appendMessage(b, op.Message, op.Revision, me, si)
}

// appendMessage writes one message line; rev 0 (history) omits "revision".
func appendMessage(b []byte, m *lineapi.Message, rev int64, me string, si *sealedInfo) []byte {
	from, to := m.From, m.To
	chat := to
	if m.ToType == lineapi.ToUser && to == me {
		chat = from
	}
	b = append(b, `{"type":"message","chat":`...)
	b = appendString(b, chat)
	b = append(b, `,"from":`...)
	b = appendString(b, from)
	ct := m.ContentType
	switch {
	case lineapi.IsMedia(ct):
		b = appendMedia(b, m, ct, si)
		if si != nil {
			b = append(b, `,"e2ee":true`...)
		}
	case si != nil:
		b = appendSealed(b, si)
	default:
		b = append(b, `,"text":`...)
		b = appendString(b, m.Text)
	}
	if !lineapi.IsMedia(ct) {
		b = append(b, `,"messageId":`...)
		b = appendString(b, m.ID)
	}
	if m.CreatedTime != 0 {
		b = append(b, `,"createdTime":"`...)
		b = strconv.AppendInt(b, m.CreatedTime, 10)
		b = append(b, '"')
	}
	b = appendConversation(b, m, me)
	if rev != 0 {
		b = append(b, `,"revision":"`...)
		b = strconv.AppendInt(b, rev, 10)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

// appendMedia writes what a script needs of an image or file message:
// its type, id (for 'linectl download'), name, size and object on LINE's
// storage. The key material of
// a sealed one stays in its chunks.
func appendMedia(b []byte, m *lineapi.Message, ct int, si *sealedInfo) []byte {
	b = append(b, `,"contentType":`...)
	b = strconv.AppendInt(b, int64(ct), 10)
	b = append(b, `,"messageId":`...)
	b = appendString(b, m.ID)
	if name, ok := m.ContentMetadata["FILE_NAME"]; ok {
		b = append(b, `,"fileName":`...)
		b = appendString(b, name)
	} else if si != nil && si.fileName != "" {
		// Sealed: the name travels only in the payload (as LINE's extension
		// sends it: encryptWithE2eeChannel deletes FILE_NAME).
		b = append(b, `,"fileName":`...)
		b = appendString(b, si.fileName)
	}
	if size := m.MetadataInt("FILE_SIZE"); size > 0 {
		b = append(b, `,"fileSize":`...)
		b = strconv.AppendInt(b, size, 10)
	}
	if r, err := mediaRefOf(m); err == nil {
		b = append(b, `,"object":`...)
		b = appendString(b, r.path)
	}
	return b
}

// appendValue re-encodes a JSON value with strings decoded to UTF-8.
func appendValue(b []byte, v gjson.Result) []byte {
	switch {
	case v.Type == gjson.String:
		return appendString(b, v.Str)
	case v.IsObject():
		b = append(b, '{')
		first := true
		v.ForEach(func(k, val gjson.Result) bool {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k.Str)
			b = append(b, ':')
			b = appendValue(b, val)
			return true
		})
		return append(b, '}')
	case v.IsArray():
		b = append(b, '[')
		first := true
		v.ForEach(func(_, val gjson.Result) bool {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendValue(b, val)
			return true
		})
		return append(b, ']')
	case v.Type == gjson.Number || v.Type == gjson.True || v.Type == gjson.False || v.Type == gjson.Null:
		return append(b, v.Raw...)
	default:
		return append(b, "null"...)
	}
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string: UTF-8 kept, control characters
// (C0, DEL, C1), bidi controls, U+2028/U+2029, quotes and backslashes
// escaped, invalid UTF-8 replaced by U+FFFD. Nothing that can steer a
// terminal is written raw.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' || lineapi.IsSteering(r) {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
