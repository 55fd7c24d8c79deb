package cpu

import (
	"math/bits"

	"vmapstack/target/x86"
)

// mulFlags sets CF=OF=overflow; SF ZF PF follow the low result and AF is
// cleared (undefined in the SDM; this is what QEMU computes).
func (c *CPU) mulFlags(lo uint64, size uint8, overflow bool) {
	// SF ZF PF from the low half, CF=OF=overflow, AF 0: the shape of a
	// shift's flags, so they are kept lazily as one (a Linux boot runs
	// some 80 million IMULs, and few of their flags are ever read).
	c.setShiftFlags(size, lo, overflow, overflow)
}

// mul: unsigned rDX:rAX = rAX * r/m.
func (c *CPU) mul(in *inst) {
	s := in.args[0].size
	src := c.get(in, 0)
	a := c.gpr[RAX] & sizeMask(s)
	switch s {
	case 1:
		r := a * src
		c.setReg(RAX, 2, r)
		c.mulFlags(r, 1, r>>8 != 0)
	case 2, 4:
		r := a * src
		w := 8 * uint(s)
		c.setReg(RAX, s, r)
		c.setReg(RDX, s, r>>w)
		c.mulFlags(r, s, r>>w != 0)
	default:
		hi, lo := bits.Mul64(a, src)
		c.gpr[RAX], c.gpr[RDX] = lo, hi
		c.mulFlags(lo, 8, hi != 0)
	}
}

// imul covers the one-, two- and three-operand forms.
func (c *CPU) imul(in *inst) {
	s := in.args[0].size
	if in.nargs == 1 {
		src := int64(signExtend(c.get(in, 0), s))
		a := int64(signExtend(c.gpr[RAX], s))
		switch s {
		case 1:
			r := a * src
			c.setReg(RAX, 2, uint64(r))
			c.mulFlags(uint64(r), 1, r != int64(int8(r)))
		case 2, 4:
			r := a * src
			w := 8 * uint(s)
			c.setReg(RAX, s, uint64(r))
			c.setReg(RDX, s, uint64(r>>w))
			c.mulFlags(uint64(r), s, r != int64(signExtend(uint64(r), s)))
		default:
			hi, lo := mul64s(a, src)
			c.gpr[RAX], c.gpr[RDX] = lo, hi
			c.mulFlags(lo, 8, hi != uint64(int64(lo)>>63))
		}
		return
	}
	var x, y int64
	if in.nargs == 2 {
		x = int64(signExtend(c.get(in, 0), s))
		y = int64(signExtend(c.get(in, 1), s))
	} else {
		x = int64(signExtend(c.get(in, 1), s))
		y = int64(signExtend(c.get(in, 2), s))
	}
	var r uint64
	var ovf bool
	if s == 8 {
		hi, lo := mul64s(x, y)
		r, ovf = lo, hi != uint64(int64(lo)>>63)
	} else {
		p := x * y
		r, ovf = uint64(p), p != int64(signExtend(uint64(p), s))
	}
	c.set(in, 0, r)
	c.mulFlags(r, s, ovf)
}

// mul64s is the signed 64x64->128 product.
func mul64s(a, b int64) (hi, lo uint64) {
	hi, lo = bits.Mul64(uint64(a), uint64(b))
	if a < 0 {
		hi -= uint64(b)
	}
	if b < 0 {
		hi -= uint64(a)
	}
	return hi, lo
}

// div: unsigned division of rDX:rAX; #DE on a zero divisor or a quotient
// that does not fit (SDM Vol. 2 DIV). Flags are undefined: unchanged.
func (c *CPU) div(in *inst) {
	s := in.args[0].size
	d := c.get(in, 0)
	if d == 0 {
		c.raise(x86.VecDE)
	}
	if s == 8 {
		hi, lo := c.gpr[RDX], c.gpr[RAX]
		if hi >= d {
			c.raise(x86.VecDE)
		}
		q, r := bits.Div64(hi, lo, d)
		c.gpr[RAX], c.gpr[RDX] = q, r
		return
	}
	w := 8 * uint(s)
	var n uint64
	if s == 1 {
		n = c.gpr[RAX] & 0xffff
	} else {
		n = (c.gpr[RDX]&sizeMask(s))<<w | c.gpr[RAX]&sizeMask(s)
	}
	q, r := n/d, n%d
	if q > sizeMask(s) {
		c.raise(x86.VecDE)
	}
	if s == 1 {
		c.setReg(RAX, 2, r<<8|q)
		return
	}
	c.setReg(RAX, s, q)
	c.setReg(RDX, s, r)
}

// idiv: signed division, quotient truncated toward zero.
func (c *CPU) idiv(in *inst) {
	s := in.args[0].size
	d := int64(signExtend(c.get(in, 0), s))
	if d == 0 {
		c.raise(x86.VecDE)
	}
	if s == 8 {
		hi, lo := c.gpr[RDX], c.gpr[RAX]
		neg := int64(hi) < 0
		if neg { // |n|, 128-bit two's complement
			lo = ^lo + 1
			hi = ^hi
			if lo == 0 {
				hi++
			}
		}
		ad := uint64(d)
		if d < 0 {
			ad = uint64(-d)
		}
		if hi >= ad {
			c.raise(x86.VecDE)
		}
		q, r := bits.Div64(hi, lo, ad)
		qneg := neg != (d < 0)
		if qneg {
			if q > 1<<63 {
				c.raise(x86.VecDE)
			}
			q = -q
		} else if q > 1<<63-1 {
			c.raise(x86.VecDE)
		}
		if neg {
			r = -r
		}
		c.gpr[RAX], c.gpr[RDX] = q, r
		return
	}
	w := 8 * uint(s)
	var n int64
	if s == 1 {
		n = int64(int16(c.gpr[RAX]))
	} else {
		n = int64(signExtend((c.gpr[RDX]&sizeMask(s))<<w|c.gpr[RAX]&sizeMask(s), s*2))
	}
	q, r := n/d, n%d
	if q != int64(signExtend(uint64(q), s)) {
		c.raise(x86.VecDE)
	}
	if s == 1 {
		c.setReg(RAX, 2, uint64(r&0xff)<<8|uint64(q&0xff))
		return
	}
	c.setReg(RAX, s, uint64(q))
	c.setReg(RDX, s, uint64(r))
}
