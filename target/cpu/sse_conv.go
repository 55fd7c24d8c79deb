package cpu

import (
	"math"
	"math/big"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// Conversions between single, double, 32/64-bit integers in general
// registers, memory, XMM and MMX registers (SDM Vol. 1 10.4.6, 11.4.6;
// Vol. 2 CVT* pages).

// execSSEConv executes a conversion; false if op is not one.
func (c *CPU) execSSEConv(in *inst) bool {
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.CVTSI2SS, x86asm.CVTSI2SD:
		c.checkSSE()
		f := fmtS
		if op == x86asm.CVTSI2SD {
			f = fmtD
		}
		d := c.dstXMM(in)
		size := in.args[1].size
		if in.args[1].kind == argMem {
			size = in.msize
		}
		v, _ := c.srcV(in, 1)
		r, fl := cvtIntToFP(f, int64(signExtend(v, size)), c.fpu.MXCSR)
		c.fpCommit(fl)
		l := c.xmmLanes(d)
		l.set(f, 0, r)
		c.setXMM(d, l.lo, l.hi)
	case x86asm.CVTSS2SI, x86asm.CVTSD2SI, x86asm.CVTTSS2SI, x86asm.CVTTSD2SI:
		c.checkSSE()
		f := fmtS
		if op == x86asm.CVTSD2SI || op == x86asm.CVTTSD2SI {
			f = fmtD
		}
		if in.args[0].kind != argReg {
			c.raise(x86.VecUD)
		}
		size := in.args[0].size
		v, _ := c.srcV(in, 1)
		trunc := op == x86asm.CVTTSS2SI || op == x86asm.CVTTSD2SI
		r, fl := cvtFPToInt(f, v&(1<<f.width()-1), size, trunc, c.fpu.MXCSR)
		c.fpCommit(fl)
		c.setReg(in.args[0].reg, size, r)
	case x86asm.CVTPI2PS, x86asm.CVTPI2PD:
		// With an MMX source these are MMX instructions too: #MF for a
		// pending x87 exception, then the transition to MMX state. With
		// an m64 source the host (AMD EPYC) does neither, for both, and
		// so do we; the SDM's CVTPI2PS page describes the transition
		// without that distinction.
		mmxReg := in.args[1].kind == argMMX
		if mmxReg {
			c.checkSSEMMX()
		} else {
			c.checkSSE()
		}
		d := c.dstXMM(in)
		v, _ := c.srcV(in, 1)
		l := c.xmmLanes(d)
		var fl uint32
		if op == x86asm.CVTPI2PS {
			for i := 0; i < 2; i++ {
				r, efl := cvtIntToFP(fmtS, int64(int32(v>>(32*i))), c.fpu.MXCSR)
				fl |= efl
				l.set(fmtS, i, r)
			}
		} else {
			for i := 0; i < 2; i++ {
				r, _ := cvtIntToFP(fmtD, int64(int32(v>>(32*i))), c.fpu.MXCSR)
				l.set(fmtD, i, r)
			}
		}
		c.fpCommit(fl)
		c.setXMM(d, l.lo, l.hi)
		if mmxReg {
			c.mmxEnter()
		}
	case x86asm.CVTPS2PI, x86asm.CVTTPS2PI, x86asm.CVTPD2PI, x86asm.CVTTPD2PI:
		c.checkSSEMMX()
		if in.args[0].kind != argMMX {
			c.raise(x86.VecUD)
		}
		f := fmtS
		if op == x86asm.CVTPD2PI || op == x86asm.CVTTPD2PI {
			f = fmtD
		}
		trunc := op == x86asm.CVTTPS2PI || op == x86asm.CVTTPD2PI
		lo, hi := c.srcV(in, 1)
		s := lanes{lo, hi}
		var r uint64
		var fl uint32
		for i := 0; i < 2; i++ {
			v, efl := cvtFPToInt(f, s.get(f, i), 4, trunc, c.fpu.MXCSR)
			fl |= efl
			r |= v << (32 * i)
		}
		c.fpCommit(fl)
		c.setMMX(in.args[0].reg, r)
		c.mmxEnter()
	case x86asm.CVTDQ2PS, x86asm.CVTPS2DQ, x86asm.CVTTPS2DQ, x86asm.CVTDQ2PD,
		x86asm.CVTPD2DQ, x86asm.CVTTPD2DQ, x86asm.CVTPS2PD, x86asm.CVTPD2PS,
		x86asm.CVTSS2SD, x86asm.CVTSD2SS:
		c.checkSSE()
		c.cvtPacked(in, op)
	default:
		return false
	}
	return true
}

func (c *CPU) xmmLanes(r uint8) lanes {
	lo, hi := c.xmm(r)
	return lanes{lo, hi}
}

func (c *CPU) cvtPacked(in *inst, op x86asm.Op) {
	d := c.dstXMM(in)
	lo, hi := c.srcV(in, 1)
	s := lanes{lo, hi}
	mx := c.fpu.MXCSR
	var r lanes
	var fl uint32
	add := func(v uint64, efl uint32) uint64 {
		fl |= efl
		return v
	}
	switch op {
	case x86asm.CVTDQ2PS:
		for i := 0; i < 4; i++ {
			r.set(fmtS, i, add(cvtIntToFP(fmtS, int64(int32(s.get(fmtS, i))), mx)))
		}
	case x86asm.CVTPS2DQ, x86asm.CVTTPS2DQ:
		for i := 0; i < 4; i++ {
			r.set(fmtS, i, add(cvtFPToInt(fmtS, s.get(fmtS, i), 4, op == x86asm.CVTTPS2DQ, mx)))
		}
	case x86asm.CVTDQ2PD:
		for i := 0; i < 2; i++ {
			r.set(fmtD, i, add(cvtIntToFP(fmtD, int64(int32(s.get(fmtS, i))), mx)))
		}
	case x86asm.CVTPD2DQ, x86asm.CVTTPD2DQ:
		for i := 0; i < 2; i++ {
			r.set(fmtS, i, add(cvtFPToInt(fmtD, s.get(fmtD, i), 4, op == x86asm.CVTTPD2DQ, mx)))
		}
	case x86asm.CVTPS2PD:
		for i := 0; i < 2; i++ {
			r.set(fmtD, i, add(cvtFPToFP(fmtS, fmtD, s.get(fmtS, i), mx)))
		}
	case x86asm.CVTPD2PS:
		for i := 0; i < 2; i++ {
			r.set(fmtS, i, add(cvtFPToFP(fmtD, fmtS, s.get(fmtD, i), mx)))
		}
	case x86asm.CVTSS2SD:
		r = c.xmmLanes(d)
		r.set(fmtD, 0, add(cvtFPToFP(fmtS, fmtD, s.get(fmtS, 0), mx)))
	case x86asm.CVTSD2SS:
		r = c.xmmLanes(d)
		r.set(fmtS, 0, add(cvtFPToFP(fmtD, fmtS, s.get(fmtD, 0), mx)))
	}
	c.fpCommit(fl)
	c.setXMM(d, r.lo, r.hi)
}

// cvtIntToFP converts a signed integer to format f, rounding by MXCSR.RC
// (PE when inexact; no other exception is possible).
func cvtIntToFP(f *fpFmt, v int64, mx uint32) (uint64, uint32) {
	if v == 0 {
		return 0, 0
	}
	neg := v < 0
	m := uint64(v)
	if neg {
		m = -m
	}
	if m < 1<<(f.frac+1) { // exact
		if f == fmtD {
			return math.Float64bits(float64(v)), 0
		}
		return uint64(math.Float32bits(float32(v))), 0
	}
	return roundPack(f, neg, new(big.Int).SetUint64(m), 0, false, mx&^(x86.MXCSRFZ))
}

// cvtFPToInt converts x of format f to a signed integer of size bytes,
// rounding by MXCSR.RC or truncating. A NaN, an infinity or a value out
// of range is invalid and gives the integer indefinite, the most
// negative integer (SDM Vol. 1 4.2.2, Table 4-2); an inexact conversion
// sets PE. Denormal operands raise no DE (the CVT*2SI pages list only
// Invalid and Precision); DAZ makes them zeros.
func cvtFPToInt(f *fpFmt, x uint64, size uint8, trunc bool, mx uint32) (uint64, uint32) {
	indef := uint64(1) << (8*size - 1)
	if mx&x86.MXCSRDAZ != 0 {
		x = f.daz(x)
	}
	if f.isNaN(x) || f.isInf(x) {
		return indef, x86.MXCSRIE
	}
	v := f.toF64(x)
	rc := mxRC(mx)
	if trunc {
		rc = rcZero
	}
	var r float64
	switch rc {
	case rcNearest:
		r = math.RoundToEven(v)
	case rcDown:
		r = math.Floor(v)
	case rcUp:
		r = math.Ceil(v)
	default:
		r = math.Trunc(v)
	}
	lim := math.Ldexp(1, int(8*size-1))
	if r < -lim || r >= lim {
		return indef, x86.MXCSRIE
	}
	var fl uint32
	if r != v {
		fl = x86.MXCSRPE
	}
	return uint64(int64(r)) & sizeMask(size), fl
}

// cvtFPToFP converts between single and double precision: a NaN keeps
// its sign and the high bits of its payload, quieted (IE for an SNaN); a
// denormal operand raises DE; narrowing rounds by MXCSR with the
// overflow, underflow and precision exceptions.
func cvtFPToFP(from, to *fpFmt, x uint64, mx uint32) (uint64, uint32) {
	if mx&x86.MXCSRDAZ != 0 {
		x = from.daz(x)
	}
	neg := from.neg(x)
	if from.isNaN(x) {
		var fl uint32
		if from.isSNaN(x) {
			fl = x86.MXCSRIE
		}
		fr := x & from.fracMask()
		if to.frac > from.frac {
			fr <<= to.frac - from.frac
		} else {
			fr >>= from.frac - to.frac
		}
		r := to.expMax()<<to.frac | fr | to.quietBit()
		if neg {
			r |= to.sign()
		}
		return r, fl
	}
	if from.isInf(x) {
		return to.inf(neg), 0
	}
	if from.isZero(x) {
		return to.zero(neg), 0
	}
	var fl uint32
	if from.isDenormal(x) {
		fl = x86.MXCSRDE
	}
	if to == fmtD {
		return math.Float64bits(from.toF64(x)), fl
	}
	if mx&(x86.MXCSRRC|x86.MXCSRFZ) == 0 && from.ordinary(x) {
		v := from.toF64(x)
		r := float32(v)
		if math.Abs(v) >= 0x1p-126 && !math.IsInf(float64(r), 0) {
			if float64(r) != v {
				fl |= x86.MXCSRPE
			}
			return uint64(math.Float32bits(r)), fl
		}
	}
	_, m, e := from.unpack(x)
	r, post := roundPack(to, neg, new(big.Int).SetUint64(m), e, false, mx)
	return r, fl | post
}
