package jsondepth

import (
	"strings"
	"testing"
)

func TestWithin(t *testing.T) {
	deep := strings.Repeat("[", 5) + strings.Repeat("]", 5)
	for _, tc := range []struct {
		json string
		max  int
		ok   bool
	}{
		{`{}`, 1, true},
		{deep, 5, true},
		{deep, 4, false},
		{`{"a":"[[[[[[["}`, 1, true},     // brackets inside a string do not nest
		{`{"a":"\"[[[[[["}`, 1, true},    // nor after an escaped quote
		{`[{"a":[{"b":[]}]}]`, 4, false}, // objects and arrays both count
		{`[][][][][]`, 1, true},          // siblings do not nest
	} {
		if got := Within([]byte(tc.json), tc.max); got != tc.ok {
			t.Errorf("Within(%s, %d) = %v, want %v", tc.json, tc.max, got, tc.ok)
		}
	}
}
