package cpu

import (
	"math"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// The packed and scalar floating-point instructions of SSE, SSE2 and
// SSE3: arithmetic, MIN/MAX, square root, reciprocal approximations,
// compares (SDM Vol. 1 10.4.2, 11.4.1, 12.3; Vol. 2 instruction pages).

// fpForm describes an arithmetic instruction.
type fpForm struct {
	f      *fpFmt
	op     fpOp
	scalar bool
}

var fpForms = func() (t [x86asm.XTEST + 1]fpForm) {
	set := func(op fpOp, ps, pd, ss, sd x86asm.Op) {
		t[ps] = fpForm{fmtS, op, false}
		t[pd] = fpForm{fmtD, op, false}
		t[ss] = fpForm{fmtS, op, true}
		t[sd] = fpForm{fmtD, op, true}
	}
	set(opAdd, x86asm.ADDPS, x86asm.ADDPD, x86asm.ADDSS, x86asm.ADDSD)
	set(opSub, x86asm.SUBPS, x86asm.SUBPD, x86asm.SUBSS, x86asm.SUBSD)
	set(opMul, x86asm.MULPS, x86asm.MULPD, x86asm.MULSS, x86asm.MULSD)
	set(opDiv, x86asm.DIVPS, x86asm.DIVPD, x86asm.DIVSS, x86asm.DIVSD)
	set(opMin, x86asm.MINPS, x86asm.MINPD, x86asm.MINSS, x86asm.MINSD)
	set(opMax, x86asm.MAXPS, x86asm.MAXPD, x86asm.MAXSS, x86asm.MAXSD)
	set(opSqrt, x86asm.SQRTPS, x86asm.SQRTPD, x86asm.SQRTSS, x86asm.SQRTSD)
	return t
}()

// lanes is an XMM register image as elements of 32 or 64 bits.
type lanes struct {
	lo, hi uint64
}

func (l *lanes) get(f *fpFmt, i int) uint64 {
	if f == fmtD {
		if i == 0 {
			return l.lo
		}
		return l.hi
	}
	return dword(l.lo, l.hi, uint8(i))
}

func (l *lanes) set(f *fpFmt, i int, v uint64) {
	if f == fmtD {
		if i == 0 {
			l.lo = v
		} else {
			l.hi = v
		}
		return
	}
	p := &l.lo
	if i >= 2 {
		p = &l.hi
	}
	sh := 32 * uint(i&1)
	*p = *p&^(0xffffffff<<sh) | (v&0xffffffff)<<sh
}

func laneCount(f *fpFmt) int {
	if f == fmtD {
		return 2
	}
	return 4
}

// fpCommit applies the exception flags fl an instruction's elements
// raised (SDM Vol. 1 11.5.3): an unmasked pre-computation exception
// (IE, DE, ZE) sets those flags and faults before any result is
// written; otherwise an unmasked post-computation exception (OE, UE, PE)
// sets all the flags and faults; otherwise the flags are ORed into MXCSR
// and the caller writes the result. The fault is #XM when
// CR4.OSXMMEXCPT is set, else #UD.
func (c *CPU) fpCommit(fl uint32) {
	if fl == 0 {
		return
	}
	mx := c.fpu.MXCSR
	unmasked := fl &^ (mx >> 7) & x86.MXCSRFlags
	const pre = x86.MXCSRIE | x86.MXCSRDE | x86.MXCSRZE
	switch {
	case unmasked&pre != 0:
		c.fpu.MXCSR |= fl & pre
	case unmasked != 0:
		c.fpu.MXCSR |= fl
	default:
		c.fpu.MXCSR |= fl
		return
	}
	if c.cr4&x86.CR4OSXMMEXCPT != 0 {
		c.raise(x86.VecXM)
	}
	c.raise(x86.VecUD)
}

// execSSEFloat executes a floating-point instruction of this file; false
// if op is not one.
func (c *CPU) execSSEFloat(in *inst) bool {
	op := x86asm.Op(in.op)
	if int(op) < len(fpForms) && fpForms[op].f != nil {
		c.checkSSE()
		c.fpArithInst(in, fpForms[op])
		return true
	}
	switch op {
	case x86asm.ADDSUBPS, x86asm.ADDSUBPD, x86asm.HADDPS, x86asm.HADDPD, x86asm.HSUBPS, x86asm.HSUBPD:
		c.checkSSE()
		c.fpHorizontal(in, op)
	case x86asm.RCPPS, x86asm.RCPSS, x86asm.RSQRTPS, x86asm.RSQRTSS:
		c.checkSSE()
		d := c.dstXMM(in)
		slo, shi := c.srcV(in, 1)
		s := lanes{slo, shi}
		var r lanes
		n := 4
		if op == x86asm.RCPSS || op == x86asm.RSQRTSS {
			r.lo, r.hi = c.xmm(d)
			n = 1
		}
		for i := 0; i < n; i++ {
			x := uint32(s.get(fmtS, i))
			if op == x86asm.RCPPS || op == x86asm.RCPSS {
				r.set(fmtS, i, uint64(rcp(x)))
			} else {
				r.set(fmtS, i, uint64(rsqrt(x)))
			}
		}
		c.setXMM(d, r.lo, r.hi)
	case x86asm.CMPPS, x86asm.CMPPD, x86asm.CMPSS, x86asm.CMPSD_XMM:
		c.checkSSE()
		f := fmtS
		if op == x86asm.CMPPD || op == x86asm.CMPSD_XMM {
			f = fmtD
		}
		d := c.dstXMM(in)
		slo, shi := c.srcV(in, 1)
		dlo, dhi := c.xmm(d)
		a, b := lanes{dlo, dhi}, lanes{slo, shi}
		n := laneCount(f)
		if op == x86asm.CMPSS || op == x86asm.CMPSD_XMM {
			n = 1
		}
		var fl uint32
		pred := imm8(in) & 7
		mx := c.fpu.MXCSR
		for i := 0; i < n; i++ {
			t, efl := fpCompare(f, a.get(f, i), b.get(f, i), pred, mx)
			fl |= efl
			var v uint64
			if t {
				v = ^uint64(0)
			}
			a.set(f, i, v)
		}
		c.fpCommit(fl)
		c.setXMM(d, a.lo, a.hi)
	case x86asm.COMISS, x86asm.COMISD, x86asm.UCOMISS, x86asm.UCOMISD:
		c.checkSSE()
		f := fmtS
		if op == x86asm.COMISD || op == x86asm.UCOMISD {
			f = fmtD
		}
		d := c.dstXMM(in)
		b, _ := c.srcV(in, 1)
		a, _ := c.xmm(d)
		a &= 1<<f.width() - 1
		b &= 1<<f.width() - 1
		signaling := op == x86asm.COMISS || op == x86asm.COMISD
		pred := uint8(cmpUnordQ) // quiet: IE only for SNaN
		if signaling {
			pred = cmpLTS // signaling: IE for any NaN
		}
		_, fl := fpCompare(f, a, b, pred, c.fpu.MXCSR)
		c.fpCommit(fl)
		// ZF PF CF: 111 unordered, 000 greater, 001 less, 100 equal;
		// OF SF AF cleared (SDM Vol. 2 COMISS).
		var rf uint64
		mx := c.fpu.MXCSR // DAZ applies to the values compared
		lt, _ := fpCompare(f, a, b, cmpLTS, mx)
		eq, _ := fpCompare(f, a, b, cmpEQ, mx)
		un, _ := fpCompare(f, a, b, cmpUnordQ, mx)
		switch {
		case un:
			rf = x86.FlagZF | x86.FlagPF | x86.FlagCF
		case lt:
			rf = x86.FlagCF
		case eq:
			rf = x86.FlagZF
		}
		c.setFlagsEager(x86.FlagCF|x86.FlagPF|x86.FlagAF|x86.FlagZF|x86.FlagSF|x86.FlagOF, rf)
	default:
		return false
	}
	return true
}

// fpArithInst runs a packed or scalar arithmetic instruction: the
// destination is the first source; scalar forms keep the destination's
// other elements.
func (c *CPU) fpArithInst(in *inst, form fpForm) {
	f := form.f
	d := c.dstXMM(in)
	slo, shi := c.srcV(in, 1)
	dlo, dhi := c.xmm(d)
	a, b := lanes{dlo, dhi}, lanes{slo, shi}
	n := laneCount(f)
	if form.scalar {
		n = 1
	}
	mx := c.fpu.MXCSR
	var fl uint32
	for i := 0; i < n; i++ {
		x, y := a.get(f, i), b.get(f, i)
		if form.op == opSqrt {
			x = y
		}
		r, efl := fpArith(f, form.op, x, y, mx)
		fl |= efl
		a.set(f, i, r)
	}
	c.fpCommit(fl)
	c.setXMM(d, a.lo, a.hi)
}

// fpHorizontal is ADDSUBPS/PD (subtract in even elements, add in odd)
// and the horizontal HADD/HSUB (SSE3): result element i of the low half
// combines destination elements 2i and 2i+1, of the high half source
// elements.
func (c *CPU) fpHorizontal(in *inst, op x86asm.Op) {
	f := fmtS
	switch op {
	case x86asm.ADDSUBPD, x86asm.HADDPD, x86asm.HSUBPD:
		f = fmtD
	}
	d := c.dstXMM(in)
	slo, shi := c.srcV(in, 1)
	dlo, dhi := c.xmm(d)
	a, b := lanes{dlo, dhi}, lanes{slo, shi}
	n := laneCount(f)
	mx := c.fpu.MXCSR
	var r lanes
	var fl uint32
	for i := 0; i < n; i++ {
		var x, y uint64
		var o fpOp
		switch op {
		case x86asm.ADDSUBPS, x86asm.ADDSUBPD:
			x, y = a.get(f, i), b.get(f, i)
			o = opAdd
			if i&1 == 0 {
				o = opSub
			}
		default:
			src, k := &a, 2*i
			if i >= n/2 {
				src, k = &b, 2*(i-n/2)
			}
			x, y = src.get(f, k), src.get(f, k+1)
			o = opAdd
			if op == x86asm.HSUBPS || op == x86asm.HSUBPD {
				o = opSub
			}
		}
		v, efl := fpArith(f, o, x, y, mx)
		fl |= efl
		r.set(f, i, v)
	}
	c.fpCommit(fl)
	c.setXMM(d, r.lo, r.hi)
}

// CMPPS predicates (imm8[2:0], SDM Vol. 2 Table 3-7).
const (
	cmpEQ     = 0
	cmpLTS    = 1
	cmpLES    = 2
	cmpUnordQ = 3
	cmpNEQ    = 4
	cmpNLTS   = 5
	cmpNLES   = 6
	cmpOrdQ   = 7
)

// fpCompare evaluates predicate pred on a and b. The LT, LE, NLT and NLE
// predicates signal IE for any NaN, the others only for an SNaN; a
// denormal operand of an ordered compare raises DE.
func fpCompare(f *fpFmt, a, b uint64, pred uint8, mx uint32) (bool, uint32) {
	if mx&x86.MXCSRDAZ != 0 {
		a, b = f.daz(a), f.daz(b)
	}
	var fl uint32
	un := f.isNaN(a) || f.isNaN(b)
	if un {
		switch {
		case f.isSNaN(a) || f.isSNaN(b):
			fl = x86.MXCSRIE
		case pred == cmpLTS || pred == cmpLES || pred == cmpNLTS || pred == cmpNLES:
			fl = x86.MXCSRIE
		}
	} else if f.isDenormal(a) || f.isDenormal(b) {
		fl = x86.MXCSRDE
	}
	x, y := f.toF64(a), f.toF64(b)
	var t bool
	switch pred {
	case cmpEQ:
		t = !un && x == y
	case cmpLTS:
		t = !un && x < y
	case cmpLES:
		t = !un && x <= y
	case cmpUnordQ:
		t = un
	case cmpNEQ:
		t = un || x != y
	case cmpNLTS:
		t = un || !(x < y)
	case cmpNLES:
		t = un || !(x <= y)
	case cmpOrdQ:
		t = !un
	}
	return t, fl
}

// rcp approximates 1/x for RCPPS/RCPSS. The SDM guarantees a relative
// error of at most 1.5*2^-12 and leaves the exact value to the
// implementation (Intel and AMD differ); we return the correctly
// rounded reciprocal. Denormal inputs count as zeros (giving an
// infinity) and tiny results are flushed to zero, as the SDM describes;
// no MXCSR flag is ever set.
func rcp(x uint32) uint32 {
	f := fmtS
	v := uint64(x)
	switch {
	case f.isNaN(v):
		return uint32(f.quiet(v))
	case f.exp(v) == 0:
		return uint32(f.inf(f.neg(v)))
	case f.isInf(v):
		return uint32(f.zero(f.neg(v)))
	}
	r := 1 / float64(math.Float32frombits(x))
	if math.Abs(r) < 0x1p-126 {
		return uint32(f.zero(f.neg(v)))
	}
	return math.Float32bits(float32(r))
}

// rsqrt approximates 1/sqrt(x) for RSQRTPS/RSQRTSS, with the same
// conventions as rcp: -0 and negative denormals give -infinity, other
// negative numbers the indefinite QNaN.
func rsqrt(x uint32) uint32 {
	f := fmtS
	v := uint64(x)
	switch {
	case f.isNaN(v):
		return uint32(f.quiet(v))
	case f.exp(v) == 0:
		return uint32(f.inf(f.neg(v)))
	case f.neg(v):
		return uint32(f.indefinite())
	case f.isInf(v):
		return 0
	}
	return math.Float32bits(float32(1 / math.Sqrt(float64(math.Float32frombits(x)))))
}
