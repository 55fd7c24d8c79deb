package dwarfcfi

import (
	"encoding/binary"
	"fmt"
)

// reader decodes the fixed-size and LEB128 fields of a frame section or a
// CFA program. Its error is sticky: after the first read past the end
// every read returns zero and err says where the data ran out, so the
// parsers check once per entry instead of after every field, and corrupt
// input can never index out of range.
type reader struct {
	data  []byte
	off   int
	order binary.ByteOrder
	err   error
}

func (r *reader) fail(n int) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated: %d bytes wanted at offset %#x, %d left", n, r.off, len(r.data)-r.off)
	}
	r.off = len(r.data)
}

func (r *reader) left() int { return len(r.data) - r.off }

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > r.left() {
		r.fail(n)
		return nil
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return r.order.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return r.order.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return r.order.Uint64(b)
	}
	return 0
}

// uint reads an n-byte unsigned value (n is 1, 2, 4 or 8).
func (r *reader) uint(n int) uint64 {
	switch n {
	case 1:
		return uint64(r.u8())
	case 2:
		return uint64(r.u16())
	case 4:
		return uint64(r.u32())
	default:
		return r.u64()
	}
}

// uleb reads an unsigned LEB128 number (DWARF 4 §7.6). Bits beyond the
// 64th are dropped rather than rejected: no field that matters here is
// wider, and a padded encoding is still valid.
func (r *reader) uleb() uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b := r.u8()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 {
			return v
		}
	}
}

// sleb reads a signed LEB128 number (DWARF 4 §7.6).
func (r *reader) sleb() int64 {
	var v int64
	shift := uint(0)
	for {
		b := r.u8()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// cstring reads a NUL-terminated string.
func (r *reader) cstring() string {
	for i := r.off; i < len(r.data); i++ {
		if r.data[i] == 0 {
			s := string(r.data[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.fail(r.left() + 1)
	return ""
}
