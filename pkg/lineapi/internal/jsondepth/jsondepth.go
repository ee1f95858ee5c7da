// Package jsondepth bounds how deep a JSON text nests before any parser
// sees it: pkg/lineapi's envelope parser and its operation stream use it.
package jsondepth

import "bytes"

// Within reports whether the JSON text b nests at most max levels of
// arrays and objects. It does not validate; it only counts, in one pass,
// brackets outside strings — cheap enough to run before any parser, so a
// hostile depth never reaches one.
func Within(b []byte, max int) bool {
	// Fewer opening brackets than the bound (strings included: an upper
	// bound) cannot nest past it; bytes.Count is vectorised, the scan is not.
	if bytes.Count(b, []byte{'{'})+bytes.Count(b, []byte{'['}) <= max {
		return true
	}
	depth, inStr := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			if depth++; depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}
