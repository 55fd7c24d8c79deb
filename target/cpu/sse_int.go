package cpu

import (
	"encoding/binary"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// The packed-integer instructions of MMX, SSE and SSE2 (SDM Vol. 1 9.4,
// 10.4.7, 11.4.2; Vol. 2 instruction pages). Each works on a 64-bit MMX
// register or a 128-bit XMM register with the same lane rules, so one
// implementation takes the width n (8 or 16 bytes).

// vec is a register image: 8 (MMX) or 16 (XMM) little-endian bytes used.
type vec [16]byte

func (v *vec) w(i int) uint16          { return binary.LittleEndian.Uint16(v[2*i:]) }
func (v *vec) d(i int) uint32          { return binary.LittleEndian.Uint32(v[4*i:]) }
func (v *vec) q(i int) uint64          { return binary.LittleEndian.Uint64(v[8*i:]) }
func (v *vec) setW(i int, x uint16)    { binary.LittleEndian.PutUint16(v[2*i:], x) }
func (v *vec) setD(i int, x uint32)    { binary.LittleEndian.PutUint32(v[4*i:], x) }
func (v *vec) setQ(i int, x uint64)    { binary.LittleEndian.PutUint64(v[8*i:], x) }
func mkvec(lo, hi uint64) (v vec)      { v.setQ(0, lo); v.setQ(1, hi); return }
func (v *vec) halves() (lo, hi uint64) { return v.q(0), v.q(1) }

func satS8(x int32) uint8 {
	if x > 127 {
		return 127
	}
	if x < -128 {
		return 0x80
	}
	return uint8(x)
}

func satU8(x int32) uint8 {
	if x > 255 {
		return 255
	}
	if x < 0 {
		return 0
	}
	return uint8(x)
}

func satS16(x int32) uint16 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return 0x8000
	}
	return uint16(x)
}

func satU16(x int32) uint16 {
	if x > 65535 {
		return 65535
	}
	if x < 0 {
		return 0
	}
	return uint16(x)
}

// sseIntOps are the packed-integer instructions of this file, on XMM and
// MMX registers.
var sseIntOps = []x86asm.Op{
	x86asm.PADDB, x86asm.PADDW, x86asm.PADDD, x86asm.PADDQ, x86asm.PADDSB, x86asm.PADDSW, x86asm.PADDUSB, x86asm.PADDUSW,
	x86asm.PSUBB, x86asm.PSUBW, x86asm.PSUBD, x86asm.PSUBQ, x86asm.PSUBSB, x86asm.PSUBSW, x86asm.PSUBUSB, x86asm.PSUBUSW,
	x86asm.PMULLW, x86asm.PMULHW, x86asm.PMULHUW, x86asm.PMULUDQ, x86asm.PMADDWD,
	x86asm.PAVGB, x86asm.PAVGW, x86asm.PMAXUB, x86asm.PMAXSW, x86asm.PMINUB, x86asm.PMINSW, x86asm.PSADBW,
	x86asm.PCMPEQB, x86asm.PCMPEQW, x86asm.PCMPEQD, x86asm.PCMPGTB, x86asm.PCMPGTW, x86asm.PCMPGTD,
	x86asm.PAND, x86asm.PANDN, x86asm.POR, x86asm.PXOR,
	x86asm.PSLLW, x86asm.PSLLD, x86asm.PSLLQ, x86asm.PSRLW, x86asm.PSRLD, x86asm.PSRLQ, x86asm.PSRAW, x86asm.PSRAD,
	x86asm.PSLLDQ, x86asm.PSRLDQ,
	x86asm.PACKSSWB, x86asm.PACKSSDW, x86asm.PACKUSWB,
	x86asm.PUNPCKLBW, x86asm.PUNPCKLWD, x86asm.PUNPCKLDQ, x86asm.PUNPCKLQDQ,
	x86asm.PUNPCKHBW, x86asm.PUNPCKHWD, x86asm.PUNPCKHDQ, x86asm.PUNPCKHQDQ,
	x86asm.PINSRW, x86asm.PEXTRW,
}

// isIntOp marks the ops of this file.
var isIntOp = func() (t [x86asm.XTEST + 1]bool) {
	for _, op := range sseIntOps {
		t[op] = true
	}
	return t
}()

// execSSEInt executes a packed-integer instruction; false if op is not one.
func (c *CPU) execSSEInt(in *inst) bool {
	op := x86asm.Op(in.op)
	if int(op) >= len(isIntOp) || !isIntOp[op] {
		return false
	}
	mmx := isMMX(in)
	n := 16
	if mmx {
		c.checkMMX()
		n = 8
	} else {
		c.checkSSE()
	}
	dk := in.args[0].kind
	if (mmx && dk != argMMX && op != x86asm.PEXTRW) || (!mmx && dk != argXMM && op != x86asm.PEXTRW) {
		c.raise(x86.VecUD)
	}
	switch op {
	case x86asm.PEXTRW:
		if dk != argReg {
			c.raise(x86.VecUD)
		}
		lo, hi := c.srcV(in, 1)
		sel := imm8(in) & 7
		if mmx {
			sel &= 3
		}
		v := mkvec(lo, hi)
		c.gpr[in.args[0].reg] = uint64(v.w(int(sel)))
		if mmx {
			c.mmxEnter()
		}
		return true
	case x86asm.PINSRW:
		x, _ := c.srcV(in, 1)
		sel := imm8(in) & 7
		if mmx {
			sel &= 3
			v := c.mmx(in.args[0].reg)
			v = v&^(0xffff<<(16*sel)) | (x&0xffff)<<(16*sel)
			c.setMMX(in.args[0].reg, v)
			c.mmxEnter()
			return true
		}
		lo, hi := c.xmm(in.args[0].reg)
		v := mkvec(lo, hi)
		v.setW(int(sel), uint16(x))
		lo, hi = v.halves()
		c.setXMM(in.args[0].reg, lo, hi)
		return true
	}
	var dlo, dhi uint64
	r := in.args[0].reg
	if mmx {
		dlo = c.mmx(r)
	} else {
		dlo, dhi = c.xmm(r)
	}
	var slo, shi uint64
	imm := in.args[1].kind == argImm
	if imm {
		slo = uint64(imm8(in))
	} else {
		slo, shi = c.srcV(in, 1)
	}
	// The frequent bitwise forms and byte compares on whole quadwords
	// (glibc's string functions are made of them).
	switch op {
	case x86asm.PAND:
		dlo, dhi = dlo&slo, dhi&shi
	case x86asm.PANDN:
		dlo, dhi = ^dlo&slo, ^dhi&shi
	case x86asm.POR:
		dlo, dhi = dlo|slo, dhi|shi
	case x86asm.PXOR:
		dlo, dhi = dlo^slo, dhi^shi
	case x86asm.PCMPEQB:
		dlo, dhi = eqBytes(dlo, slo), eqBytes(dhi, shi)
	case x86asm.PADDQ:
		dlo, dhi = dlo+slo, dhi+shi
	case x86asm.PSUBQ:
		dlo, dhi = dlo-slo, dhi-shi
	default:
		d, s := mkvec(dlo, dhi), mkvec(slo, shi)
		intLanes(op, &d, &s, n, imm)
		dlo, dhi = d.halves()
	}
	if mmx {
		c.setMMX(r, dlo)
		c.mmxEnter()
	} else {
		c.setXMM(r, dlo, dhi)
	}
	return true
}

// eqBytes is PCMPEQB on a quadword: 0xff in each byte where a and b
// agree. Adding 0x7f to the low seven bits of each byte of a^b sets bit 7
// exactly when the byte is not zero, with no carry out of the byte.
func eqBytes(a, b uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	x := a ^ b
	t := ((x & lo7) + lo7) | x
	m := ^t & 0x8080808080808080
	return (m >> 7) * 0xff
}

// intLanes applies op lane by lane to d with source s (or the immediate
// count in s for the shifts by immediate); n is 8 or 16 bytes.
func intLanes(op x86asm.Op, d, s *vec, n int, imm bool) {
	switch op {
	case x86asm.PADDB, x86asm.PSUBB, x86asm.PADDSB, x86asm.PSUBSB, x86asm.PADDUSB, x86asm.PSUBUSB,
		x86asm.PAVGB, x86asm.PMAXUB, x86asm.PMINUB, x86asm.PCMPGTB:
		for i := 0; i < n; i++ {
			a, b := d[i], s[i]
			var r uint8
			switch op {
			case x86asm.PADDB:
				r = a + b
			case x86asm.PSUBB:
				r = a - b
			case x86asm.PADDSB:
				r = satS8(int32(int8(a)) + int32(int8(b)))
			case x86asm.PSUBSB:
				r = satS8(int32(int8(a)) - int32(int8(b)))
			case x86asm.PADDUSB:
				r = satU8(int32(a) + int32(b))
			case x86asm.PSUBUSB:
				r = satU8(int32(a) - int32(b))
			case x86asm.PAVGB:
				r = uint8((uint16(a) + uint16(b) + 1) >> 1)
			case x86asm.PMAXUB:
				r = max(a, b)
			case x86asm.PMINUB:
				r = min(a, b)
			case x86asm.PCMPGTB:
				if int8(a) > int8(b) {
					r = 0xff
				}
			}
			d[i] = r
		}
	case x86asm.PADDW, x86asm.PSUBW, x86asm.PADDSW, x86asm.PSUBSW, x86asm.PADDUSW, x86asm.PSUBUSW,
		x86asm.PAVGW, x86asm.PMAXSW, x86asm.PMINSW, x86asm.PCMPEQW, x86asm.PCMPGTW,
		x86asm.PMULLW, x86asm.PMULHW, x86asm.PMULHUW:
		for i := 0; i < n/2; i++ {
			a, b := d.w(i), s.w(i)
			var r uint16
			switch op {
			case x86asm.PADDW:
				r = a + b
			case x86asm.PSUBW:
				r = a - b
			case x86asm.PADDSW:
				r = satS16(int32(int16(a)) + int32(int16(b)))
			case x86asm.PSUBSW:
				r = satS16(int32(int16(a)) - int32(int16(b)))
			case x86asm.PADDUSW:
				r = satU16(int32(a) + int32(b))
			case x86asm.PSUBUSW:
				r = satU16(int32(a) - int32(b))
			case x86asm.PAVGW:
				r = uint16((uint32(a) + uint32(b) + 1) >> 1)
			case x86asm.PMAXSW:
				r = uint16(max(int16(a), int16(b)))
			case x86asm.PMINSW:
				r = uint16(min(int16(a), int16(b)))
			case x86asm.PCMPEQW:
				if a == b {
					r = 0xffff
				}
			case x86asm.PCMPGTW:
				if int16(a) > int16(b) {
					r = 0xffff
				}
			case x86asm.PMULLW:
				r = a * b
			case x86asm.PMULHW:
				r = uint16(uint32(int32(int16(a))*int32(int16(b))) >> 16)
			case x86asm.PMULHUW:
				r = uint16(uint32(a) * uint32(b) >> 16)
			}
			d.setW(i, r)
		}
	case x86asm.PADDD, x86asm.PSUBD, x86asm.PCMPEQD, x86asm.PCMPGTD, x86asm.PMADDWD:
		for i := 0; i < n/4; i++ {
			a, b := d.d(i), s.d(i)
			var r uint32
			switch op {
			case x86asm.PADDD:
				r = a + b
			case x86asm.PSUBD:
				r = a - b
			case x86asm.PCMPEQD:
				if a == b {
					r = 0xffffffff
				}
			case x86asm.PCMPGTD:
				if int32(a) > int32(b) {
					r = 0xffffffff
				}
			case x86asm.PMADDWD:
				r = uint32(int32(int16(d.w(2*i)))*int32(int16(s.w(2*i))) +
					int32(int16(d.w(2*i+1)))*int32(int16(s.w(2*i+1))))
			}
			d.setD(i, r)
		}
	case x86asm.PMULUDQ:
		for i := 0; i < n/8; i++ {
			d.setQ(i, uint64(d.d(2*i))*uint64(s.d(2*i)))
		}
	case x86asm.PSADBW:
		for i := 0; i < n/8; i++ {
			var sum uint64
			for j := 8 * i; j < 8*i+8; j++ {
				a, b := int(d[j]), int(s[j])
				if a > b {
					sum += uint64(a - b)
				} else {
					sum += uint64(b - a)
				}
			}
			d.setQ(i, sum)
		}
	case x86asm.PSLLW, x86asm.PSRLW, x86asm.PSRAW:
		cnt := s.q(0)
		for i := 0; i < n/2; i++ {
			a := d.w(i)
			var r uint16
			switch {
			case op == x86asm.PSRAW:
				r = uint16(int16(a) >> min(cnt, 15))
			case cnt > 15:
			case op == x86asm.PSLLW:
				r = a << cnt
			default:
				r = a >> cnt
			}
			d.setW(i, r)
		}
	case x86asm.PSLLD, x86asm.PSRLD, x86asm.PSRAD:
		cnt := s.q(0)
		for i := 0; i < n/4; i++ {
			a := d.d(i)
			var r uint32
			switch {
			case op == x86asm.PSRAD:
				r = uint32(int32(a) >> min(cnt, 31))
			case cnt > 31:
			case op == x86asm.PSLLD:
				r = a << cnt
			default:
				r = a >> cnt
			}
			d.setD(i, r)
		}
	case x86asm.PSLLQ, x86asm.PSRLQ:
		cnt := s.q(0)
		for i := 0; i < n/8; i++ {
			a := d.q(i)
			var r uint64
			switch {
			case cnt > 63:
			case op == x86asm.PSLLQ:
				r = a << cnt
			default:
				r = a >> cnt
			}
			d.setQ(i, r)
		}
	case x86asm.PSLLDQ, x86asm.PSRLDQ:
		cnt := int(min(s.q(0), 16))
		var r vec
		for i := 0; i < 16; i++ {
			j := i - cnt
			if op == x86asm.PSRLDQ {
				j = i + cnt
			}
			if j >= 0 && j < 16 {
				r[i] = d[j]
			}
		}
		*d = r
	case x86asm.PACKSSWB, x86asm.PACKUSWB:
		var r vec
		for i := 0; i < n; i++ {
			var x int32
			if i < n/2 {
				x = int32(int16(d.w(i)))
			} else {
				x = int32(int16(s.w(i - n/2)))
			}
			if op == x86asm.PACKSSWB {
				r[i] = satS8(x)
			} else {
				r[i] = satU8(x)
			}
		}
		*d = r
	case x86asm.PACKSSDW:
		var r vec
		for i := 0; i < n/2; i++ {
			var x int32
			if i < n/4 {
				x = int32(d.d(i))
			} else {
				x = int32(s.d(i - n/4))
			}
			r.setW(i, satS16(x))
		}
		*d = r
	case x86asm.PUNPCKLBW, x86asm.PUNPCKLWD, x86asm.PUNPCKLDQ, x86asm.PUNPCKLQDQ,
		x86asm.PUNPCKHBW, x86asm.PUNPCKHWD, x86asm.PUNPCKHDQ, x86asm.PUNPCKHQDQ:
		e, off := 1, 0
		switch op {
		case x86asm.PUNPCKLWD, x86asm.PUNPCKHWD:
			e = 2
		case x86asm.PUNPCKLDQ, x86asm.PUNPCKHDQ:
			e = 4
		case x86asm.PUNPCKLQDQ, x86asm.PUNPCKHQDQ:
			e = 8
		}
		switch op {
		case x86asm.PUNPCKHBW, x86asm.PUNPCKHWD, x86asm.PUNPCKHDQ, x86asm.PUNPCKHQDQ:
			off = n / 2
		}
		var r vec
		for i := 0; i < n/(2*e); i++ {
			copy(r[2*i*e:(2*i+1)*e], d[off+i*e:off+(i+1)*e])
			copy(r[(2*i+1)*e:(2*i+2)*e], s[off+i*e:off+(i+1)*e])
		}
		*d = r
	}
}
