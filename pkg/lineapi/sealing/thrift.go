package sealing

import (
	"encoding/binary"
	"errors"
)

// The key chain is Thrift compact protocol (CHRLINE decodes it with
// TCompactProtocol): struct E2EEKeyChain { 1: list<E2EEKey> keychain }, struct
// E2EEKey { 1: i32 version, 2: i32 keyId, 4: binary publicKey,
// 5: binary privateKey, 6: i64 createdTime }.

const (
	ctStop   = 0
	ctTrue   = 1
	ctFalse  = 2
	ctByte   = 3
	ctI16    = 4
	ctI32    = 5
	ctI64    = 6
	ctDouble = 7
	ctBinary = 8
	ctList   = 9
	ctSet    = 10
	ctMap    = 11
	ctStruct = 12
)

var errThrift = errors.New("sealing: malformed key chain")

type reader struct {
	b     []byte
	depth int
}

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, errThrift
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, errThrift
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) zigzag() (int64, error) {
	u, err := r.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

func (r *reader) binary() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil || n > uint64(len(r.b)) {
		return nil, errThrift
	}
	out := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return out, nil
}

// fieldHeader returns (id, type); type ctStop ends the struct.
func (r *reader) fieldHeader(last int16) (int16, byte, error) {
	h, err := r.byte()
	if err != nil || h == ctStop {
		return 0, ctStop, err
	}
	t := h & 0x0f
	if d := int16(h >> 4); d != 0 {
		return last + d, t, nil
	}
	id, err := r.zigzag()
	return int16(id), t, err
}

func (r *reader) listHeader() (int, byte, error) {
	h, err := r.byte()
	if err != nil {
		return 0, 0, err
	}
	n, t := int(h>>4), h&0x0f
	if n == 15 {
		u, err := r.uvarint()
		if err != nil || u > uint64(len(r.b)) {
			return 0, 0, errThrift
		}
		n = int(u)
	}
	return n, t, nil
}

func (r *reader) skip(t byte) error {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 32 {
		return errThrift
	}
	switch t {
	case ctTrue, ctFalse:
		return nil
	case ctByte:
		_, err := r.byte()
		return err
	case ctI16, ctI32, ctI64:
		_, err := r.uvarint()
		return err
	case ctDouble:
		if len(r.b) < 8 {
			return errThrift
		}
		r.b = r.b[8:]
		return nil
	case ctBinary:
		_, err := r.binary()
		return err
	case ctList, ctSet:
		n, et, err := r.listHeader()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := r.skip(et); err != nil {
				return err
			}
		}
		return nil
	case ctMap:
		n, err := r.uvarint()
		if err != nil || n > uint64(len(r.b)) {
			return errThrift
		}
		if n == 0 {
			return nil
		}
		kv, err := r.byte()
		if err != nil {
			return err
		}
		for i := uint64(0); i < n; i++ {
			if err := r.skip(kv >> 4); err != nil {
				return err
			}
			if err := r.skip(kv & 0x0f); err != nil {
				return err
			}
		}
		return nil
	case ctStruct:
		var last int16
		for {
			id, ft, err := r.fieldHeader(last)
			if err != nil {
				return err
			}
			if ft == ctStop {
				return nil
			}
			last = id
			if err := r.skip(ft); err != nil {
				return err
			}
		}
	}
	return errThrift
}

// decodeKeyChain reads an E2EEKeyChain. Bytes after the struct are ignored.
func decodeKeyChain(b []byte) ([]KeyPair, error) {
	r := &reader{b: b}
	var keys []KeyPair
	var last int16
	for {
		id, t, err := r.fieldHeader(last)
		if err != nil {
			return nil, err
		}
		if t == ctStop {
			break
		}
		last = id
		if id != 1 || t != ctList {
			if err := r.skip(t); err != nil {
				return nil, err
			}
			continue
		}
		n, et, err := r.listHeader()
		if err != nil || et != ctStruct {
			return nil, errThrift
		}
		for i := 0; i < n; i++ {
			k, err := r.key()
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errThrift
	}
	return keys, nil
}

func (r *reader) key() (KeyPair, error) {
	var k KeyPair
	var last int16
	for {
		id, t, err := r.fieldHeader(last)
		if err != nil {
			return k, err
		}
		if t == ctStop {
			break
		}
		last = id
		switch {
		case id == 1 && t == ctI32:
			v, err := r.zigzag()
			if err != nil {
				return k, err
			}
			k.Version = int(v)
		case id == 2 && t == ctI32:
			v, err := r.zigzag()
			if err != nil {
				return k, err
			}
			k.KeyID = int(v)
		case id == 4 && t == ctBinary:
			if k.Public, err = r.binary(); err != nil {
				return k, err
			}
		case id == 5 && t == ctBinary:
			if k.Private, err = r.binary(); err != nil {
				return k, err
			}
		default:
			if err := r.skip(t); err != nil {
				return k, err
			}
		}
	}
	if len(k.Public) != 32 || len(k.Private) != 32 {
		return k, ErrBadKey
	}
	return k, nil
}
