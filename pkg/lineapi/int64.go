package lineapi

import (
	"bytes"
	"fmt"
	"strconv"
)

// I64 is a Thrift i64. The gateway sends i64 values as JSON strings
// ("1773625305497"); I64 accepts a string or a number and marshals as a string.
type I64 int64

// MarshalJSON encodes the value as a JSON string.
func (v I64) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(v), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts "123", 123 or null.
func (v *I64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*v = 0
		return nil
	}
	if b[0] == '"' {
		if len(b) < 2 || b[len(b)-1] != '"' {
			return fmt.Errorf("i64: bad string %q", b)
		}
		b = b[1 : len(b)-1]
		if len(b) == 0 {
			*v = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("i64: %w", err)
	}
	*v = I64(n)
	return nil
}

// String returns the decimal form.
func (v I64) String() string { return strconv.FormatInt(int64(v), 10) }
