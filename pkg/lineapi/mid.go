package lineapi

import "fmt"

// ToType is the kind of a message's destination (docs/protocol.md §6).
type ToType int

// Destination kinds.
const (
	ToUser  ToType = 0
	ToRoom  ToType = 1
	ToGroup ToType = 2
)

// String returns "user", "room" or "group".
func (t ToType) String() string {
	switch t {
	case ToUser:
		return "user"
	case ToRoom:
		return "room"
	case ToGroup:
		return "group"
	default:
		return fmt.Sprintf("toType(%d)", int(t))
	}
}

// ParseMID checks a MID and returns its destination kind from the first
// letter, case-insensitively, as the extension does: u/U user, c/C group,
// r/R room. The tail is 32 to 64 characters of [0-9A-Za-z_=+/-]: the older
// form is 32 lowercase hex digits, and captures show 44-character gateway
// forms whose alphabet is not documented, so the tail is not over-validated.
func ParseMID(mid string) (ToType, error) {
	if len(mid) < 33 || len(mid) > 65 {
		return 0, fmt.Errorf("malformed MID %q: want u, c or r followed by 32 hex digits", clip(mid))
	}
	var t ToType
	switch mid[0] {
	case 'u', 'U':
		t = ToUser
	case 'c', 'C':
		t = ToGroup
	case 'r', 'R':
		t = ToRoom
	default:
		return 0, fmt.Errorf("malformed MID %q: must start with u (user), c (group) or r (room)", clip(mid))
	}
	for i := 1; i < len(mid); i++ {
		b := mid[i]
		ok := b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b == '-' || b == '=' || b == '+' || b == '/'
		if !ok {
			return 0, fmt.Errorf("malformed MID %q: unexpected character %q", clip(mid), b)
		}
	}
	return t, nil
}

func clip(s string) string {
	if len(s) > 70 {
		return s[:70] + "…"
	}
	return s
}
