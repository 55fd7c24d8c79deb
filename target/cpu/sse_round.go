package cpu

import (
	"math"
	"math/big"
	"math/bits"

	"vmapstack/target/x86"
)

// IEEE 754 single and double precision arithmetic under MXCSR (SDM Vol. 1
// 4.8, 4.9, 10.2.3, 11.5): the four rounding modes, flush-to-zero,
// denormals-are-zero and the six exception flags.
//
// Every operation has two paths. The fast one runs when MXCSR selects
// round-to-nearest without FTZ or DAZ and the operands are normal numbers
// or zeros: the host's float64 arithmetic gives the correctly rounded
// result (float32 results are rounded twice, through float64, which is
// exact for +, -, *, / and sqrt since 53 >= 2*24+2: Figueroa, "When is
// double rounding innocuous?", 1995), and an error-free transformation
// (TwoSum, or math.FMA for the residual of *, / and sqrt) says whether it
// is inexact. Results that may be tiny or overflow leave the fast path.
// The slow path computes the exact value with math/big integers (or a
// truncated quotient/root with a sticky bit) and rounds it itself.

// fpFmt describes a binary interchange format.
type fpFmt struct {
	frac  uint // fraction bits: 23 or 52
	ebits uint // exponent bits: 8 or 11
	bias  int
}

var (
	fmtS = &fpFmt{frac: 23, ebits: 8, bias: 127}
	fmtD = &fpFmt{frac: 52, ebits: 11, bias: 1023}
)

func (f *fpFmt) width() uint         { return 1 + f.ebits + f.frac }
func (f *fpFmt) sign() uint64        { return 1 << (f.ebits + f.frac) }
func (f *fpFmt) expMax() uint64      { return 1<<f.ebits - 1 }
func (f *fpFmt) fracMask() uint64    { return 1<<f.frac - 1 }
func (f *fpFmt) quietBit() uint64    { return 1 << (f.frac - 1) }
func (f *fpFmt) exp(x uint64) uint64 { return x >> f.frac & f.expMax() }
func (f *fpFmt) neg(x uint64) bool   { return x&f.sign() != 0 }
func (f *fpFmt) isNaN(x uint64) bool {
	return f.exp(x) == f.expMax() && x&f.fracMask() != 0
}
func (f *fpFmt) isSNaN(x uint64) bool { return f.isNaN(x) && x&f.quietBit() == 0 }
func (f *fpFmt) isInf(x uint64) bool  { return x&^f.sign() == f.expMax()<<f.frac }
func (f *fpFmt) isZero(x uint64) bool { return x&^f.sign() == 0 }
func (f *fpFmt) isDenormal(x uint64) bool {
	return f.exp(x) == 0 && x&f.fracMask() != 0
}
func (f *fpFmt) quiet(x uint64) uint64 { return x | f.quietBit() }

// indefinite is the QNaN floating-point indefinite (SDM Vol. 1 Table
// 4-3): sign set, quiet bit only.
func (f *fpFmt) indefinite() uint64 { return f.sign() | f.expMax()<<f.frac | f.quietBit() }
func (f *fpFmt) inf(neg bool) uint64 {
	r := f.expMax() << f.frac
	if neg {
		r |= f.sign()
	}
	return r
}
func (f *fpFmt) zero(neg bool) uint64 {
	if neg {
		return f.sign()
	}
	return 0
}

// daz replaces a denormal by a zero of its sign (MXCSR.DAZ).
func (f *fpFmt) daz(x uint64) uint64 {
	if f.isDenormal(x) {
		return x & f.sign()
	}
	return x
}

// ordinary reports a normal number or a zero: what the fast path takes.
func (f *fpFmt) ordinary(x uint64) bool {
	e := f.exp(x)
	return (e != 0 && e != f.expMax()) || f.isZero(x)
}

// toF64 widens a value of format f to float64 exactly (finite or
// infinite; not for NaNs).
func (f *fpFmt) toF64(x uint64) float64 {
	if f == fmtD {
		return math.Float64frombits(x)
	}
	return float64(math.Float32frombits(uint32(x)))
}

// unpack returns a finite nonzero x as (-1)^neg * m * 2^e.
func (f *fpFmt) unpack(x uint64) (neg bool, m uint64, e int) {
	neg = f.neg(x)
	m = x & f.fracMask()
	be := int(f.exp(x))
	if be == 0 {
		return neg, m, 1 - f.bias - int(f.frac)
	}
	return neg, m | 1<<f.frac, be - f.bias - int(f.frac)
}

// Rounding control values of MXCSR.RC (SDM Vol. 1 Table 4-8).
const (
	rcNearest = 0
	rcDown    = 1
	rcUp      = 2
	rcZero    = 3
)

func mxRC(mx uint32) uint32 { return mx >> 13 & 3 }

// roundShift divides m by 2^shift and rounds the quotient in mode rc;
// sticky says the true value is slightly above m*2^-shift in magnitude.
// neg is the sign of the value.
func roundShift(m *big.Int, shift int, sticky bool, rc uint32, neg bool) (q uint64, inexact bool) {
	cmp := -1 // the discarded part against half a unit: -1 below, 0 equal, 1 above
	if shift <= 0 {
		q = m.Uint64() << uint(-shift)
		inexact = sticky
	} else {
		t := new(big.Int).Rsh(m, uint(shift))
		q = t.Uint64()
		rem := new(big.Int).Sub(m, t.Lsh(t, uint(shift)))
		inexact = sticky || rem.Sign() != 0
		cmp = rem.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(shift-1)))
		if cmp == 0 && sticky {
			cmp = 1
		}
	}
	if !inexact {
		return q, false
	}
	inc := false
	switch rc {
	case rcNearest:
		inc = cmp > 0 || (cmp == 0 && q&1 == 1)
	case rcDown:
		inc = neg
	case rcUp:
		inc = !neg
	}
	if inc {
		q++
	}
	return q, true
}

// roundPack rounds (-1)^neg * m * 2^e (m > 0; sticky: the true value is a
// little above that in magnitude) to format f under MXCSR mx, and returns
// the encoding and the post-computation flags (OE, UE, PE). Tininess is
// detected after rounding, with unbounded exponent (SDM Vol. 1
// 11.5.2.5); a masked underflow is reported only when also inexact, and
// FTZ (with UM masked) returns a zero of the result's sign with UE and
// PE (10.2.3.3).
func roundPack(f *fpFmt, neg bool, m *big.Int, e int, sticky bool, mx uint32) (uint64, uint32) {
	p := int(f.frac) + 1
	emin := 1 - f.bias
	rc := mxRC(mx)
	nb := m.BitLen()
	E := nb - 1 + e // exponent of the leading bit
	tiny := false
	if E < emin {
		tiny = true
		if E == emin-1 {
			if q, _ := roundShift(m, nb-p, sticky, rc, neg); q == 1<<p {
				tiny = false
			}
		}
	}
	var sgn uint64
	if neg {
		sgn = f.sign()
	}
	if tiny && mx&x86.MXCSRUM != 0 && mx&x86.MXCSRFZ != 0 {
		return sgn, x86.MXCSRUE | x86.MXCSRPE
	}
	if tiny && mx&x86.MXCSRUM == 0 {
		// An unmasked underflow delivers no result; PE reports whether
		// the result rounded with unbounded exponent is inexact (as
		// the host processor does).
		_, inexact := roundShift(m, nb-p, sticky, rc, neg)
		if inexact {
			return 0, x86.MXCSRUE | x86.MXCSRPE
		}
		return 0, x86.MXCSRUE
	}
	var q uint64
	var inexact bool
	var r uint64
	if E >= emin {
		q, inexact = roundShift(m, nb-p, sticky, rc, neg)
		// q in [2^(p-1), 2^p]: a carry out moves to the next binade
		r = uint64(E+f.bias)<<f.frac + q - 1<<f.frac
	} else {
		// a subnormal: the unit is 2^(emin-frac); a carry out of the
		// fraction gives the smallest normal's encoding
		q, inexact = roundShift(m, (emin-int(f.frac))-e, sticky, rc, neg)
		r = q
	}
	if E >= emin && r >= f.expMax()<<f.frac {
		// overflow (SDM Vol. 1 4.9.1.4, Table 4-10)
		var v uint64
		switch {
		case rc == rcNearest, rc == rcDown && neg, rc == rcUp && !neg:
			v = f.expMax() << f.frac
		default:
			v = (f.expMax()-1)<<f.frac | f.fracMask()
		}
		if mx&x86.MXCSROM == 0 {
			// unmasked: no result; PE as for an unbounded exponent
			if inexact {
				return 0, x86.MXCSROE | x86.MXCSRPE
			}
			return 0, x86.MXCSROE
		}
		return sgn | v, x86.MXCSROE | x86.MXCSRPE
	}
	var fl uint32
	if inexact {
		fl |= x86.MXCSRPE
	}
	if tiny && inexact {
		fl |= x86.MXCSRUE
	}
	return sgn | r, fl
}

// fpOp names the element operations.
type fpOp uint8

const (
	opAdd fpOp = iota
	opSub
	opMul
	opDiv
	opMin
	opMax
	opSqrt
)

// fpArith computes one element: a op b (a is the first source, the
// destination's element; sqrt takes a alone) under MXCSR mx. It returns
// the result and the exception flags the element raises.
func fpArith(f *fpFmt, op fpOp, a, b uint64, mx uint32) (uint64, uint32) {
	if mx&(x86.MXCSRRC|x86.MXCSRFZ|x86.MXCSRDAZ) == 0 {
		if r, fl, ok := fastArith(f, op, a, b); ok {
			return r, fl
		}
	}
	return slowArith(f, op, a, b, mx)
}

// twoSumErr is the rounding error of s = x+y (Knuth's TwoSum): zero when
// the sum is exact. Valid when s is finite.
func twoSumErr(x, y, s float64) float64 {
	bb := s - x
	return (x - (s - bb)) + (y - bb)
}

const fastMin = 0x1p-960 // below this the FMA residuals may underflow

func fastArith(f *fpFmt, op fpOp, a, b uint64) (uint64, uint32, bool) {
	if !f.ordinary(a) || (op != opSqrt && !f.ordinary(b)) {
		return 0, 0, false
	}
	x, y := f.toF64(a), f.toF64(b)
	var r float64
	inexact := false
	switch op {
	case opMin, opMax:
		// both ordinary: equal values (including +0 and -0) give the
		// second operand
		if (op == opMax && x > y) || (op == opMin && x < y) {
			return a, 0, true
		}
		return b, 0, true
	case opAdd, opSub:
		if op == opSub {
			y = -y
		}
		r = x + y
		if r != 0 {
			inexact = twoSumErr(x, y, r) != 0
		}
	case opMul:
		r = x * y
		if r != 0 {
			if math.Abs(r) < fastMin {
				return 0, 0, false
			}
			inexact = math.FMA(x, y, -r) != 0
		} else if x != 0 && y != 0 {
			return 0, 0, false
		}
	case opDiv:
		if y == 0 {
			return 0, 0, false
		}
		r = x / y
		if x != 0 {
			if math.Abs(r) < fastMin || math.Abs(x) < fastMin {
				return 0, 0, false
			}
			inexact = math.FMA(r, y, -x) != 0
		}
	case opSqrt:
		if x < 0 {
			return 0, 0, false
		}
		r = math.Sqrt(x)
		if x != 0 {
			if x < fastMin {
				return 0, 0, false
			}
			inexact = math.FMA(r, r, -x) != 0
		}
	}
	if math.IsInf(r, 0) {
		return 0, 0, false
	}
	var res uint64
	if f == fmtD {
		if r != 0 && math.Abs(r) < 0x1p-1022 {
			return 0, 0, false
		}
		res = math.Float64bits(r)
	} else {
		// Tininess is judged on the unbounded-exponent result: r, not
		// r32, which may have rounded up to the smallest normal.
		r32 := float32(r)
		if math.IsInf(float64(r32), 0) || (r != 0 && math.Abs(r) < 0x1p-126) {
			return 0, 0, false
		}
		if float64(r32) != r {
			inexact = true
		}
		res = uint64(math.Float32bits(r32))
	}
	if inexact {
		return res, x86.MXCSRPE, true
	}
	return res, 0, true
}

// slowArith is the general path: DAZ, NaNs, invalid operations, zero
// divide, denormal operands, infinities, then exact arithmetic and
// rounding.
func slowArith(f *fpFmt, op fpOp, a, b uint64, mx uint32) (uint64, uint32) {
	unary := op == opSqrt
	if unary {
		b = 0
	}
	if mx&x86.MXCSRDAZ != 0 {
		a, b = f.daz(a), f.daz(b)
	}
	var fl uint32
	if op == opMin || op == opMax {
		// any NaN: invalid, and the second operand is the result
		// (SDM Vol. 2 MAXPS/MINPS)
		if f.isNaN(a) || f.isNaN(b) {
			return b, x86.MXCSRIE
		}
		if f.isDenormal(a) || f.isDenormal(b) {
			fl |= x86.MXCSRDE
		}
		x, y := f.toF64(a), f.toF64(b)
		if (op == opMax && x > y) || (op == opMin && x < y) {
			return a, fl
		}
		return b, fl
	}
	// NaN operands (SDM Vol. 1 Table 4-7): SNaN raises IE; the result is
	// the first source NaN, quieted, else the second.
	if f.isNaN(a) || f.isNaN(b) {
		if f.isSNaN(a) || f.isSNaN(b) {
			fl |= x86.MXCSRIE
		}
		if f.isNaN(a) {
			return f.quiet(a), fl
		}
		return f.quiet(b), fl
	}
	na, nb := f.neg(a), f.neg(b)
	if op == opSub {
		nb = !nb
	}
	ia, ib := f.isInf(a), f.isInf(b)
	za, zb := f.isZero(a), f.isZero(b)
	// invalid operations (SDM Vol. 1 4.9.1.2)
	switch op {
	case opAdd, opSub:
		if ia && ib && na != nb {
			return f.indefinite(), x86.MXCSRIE
		}
	case opMul:
		if (ia && zb) || (za && ib) {
			return f.indefinite(), x86.MXCSRIE
		}
	case opDiv:
		if (ia && ib) || (za && zb) {
			return f.indefinite(), x86.MXCSRIE
		}
	case opSqrt:
		if na && !za {
			return f.indefinite(), x86.MXCSRIE
		}
	}
	if op == opDiv && zb && !ia {
		// a denormal dividend raises no DE here (ZE has priority)
		return f.inf(na != nb), fl | x86.MXCSRZE
	}
	if f.isDenormal(a) || f.isDenormal(b) {
		fl |= x86.MXCSRDE
	}
	// infinities and zeros: exact results
	switch op {
	case opAdd, opSub:
		if ia {
			return f.inf(na), fl
		}
		if ib {
			return f.inf(nb), fl
		}
		if za && zb {
			if na == nb {
				return f.zero(na), fl
			}
			return f.zero(mxRC(mx) == rcDown), fl
		}
	case opMul:
		if ia || ib {
			return f.inf(na != nb), fl
		}
		if za || zb {
			return f.zero(na != nb), fl
		}
	case opDiv:
		if ia {
			return f.inf(na != nb), fl
		}
		if ib || za {
			return f.zero(na != nb), fl
		}
	case opSqrt:
		if ia || za {
			return a, fl
		}
	}
	// finite, and nonzero except one addend
	var neg bool
	var m *big.Int
	var e int
	sticky := false
	switch op {
	case opAdd, opSub:
		if za {
			_, mb, eb := f.unpack(b)
			return roundFlags(f, nb, new(big.Int).SetUint64(mb), eb, false, mx, fl)
		}
		if zb {
			_, ma, ea := f.unpack(a)
			return roundFlags(f, na, new(big.Int).SetUint64(ma), ea, false, mx, fl)
		}
		_, ma, ea := f.unpack(a)
		_, mb, eb := f.unpack(b)
		e = min(ea, eb)
		x := new(big.Int).Lsh(new(big.Int).SetUint64(ma), uint(ea-e))
		y := new(big.Int).Lsh(new(big.Int).SetUint64(mb), uint(eb-e))
		if na {
			x.Neg(x)
		}
		if nb {
			y.Neg(y)
		}
		m = x.Add(x, y)
		if m.Sign() == 0 {
			return f.zero(mxRC(mx) == rcDown), fl
		}
		neg = m.Sign() < 0
		m.Abs(m)
	case opMul:
		_, ma, ea := f.unpack(a)
		_, mb, eb := f.unpack(b)
		hi, lo := bits.Mul64(ma, mb)
		m = new(big.Int).SetUint64(hi)
		m.Lsh(m, 64).Or(m, new(big.Int).SetUint64(lo))
		e, neg = ea+eb, na != nb
	case opDiv:
		_, ma, ea := f.unpack(a)
		_, mb, eb := f.unpack(b)
		k := int(f.frac) + 4 + bits.Len64(mb) - bits.Len64(ma)
		if k < 0 {
			k = 0
		}
		x := new(big.Int).Lsh(new(big.Int).SetUint64(ma), uint(k))
		r := new(big.Int)
		m, r = x.QuoRem(x, new(big.Int).SetUint64(mb), r)
		sticky = r.Sign() != 0
		e, neg = ea-eb-k, na != nb
	case opSqrt:
		_, ma, ea := f.unpack(a)
		k := 2*(int(f.frac)+4) - bits.Len64(ma)
		if k < 0 {
			k = 0
		}
		if (ea-k)&1 != 0 {
			k++
		}
		x := new(big.Int).Lsh(new(big.Int).SetUint64(ma), uint(k))
		m = new(big.Int).Sqrt(x)
		sticky = new(big.Int).Mul(m, m).Cmp(x) != 0
		e = (ea - k) / 2
	}
	return roundFlags(f, neg, m, e, sticky, mx, fl)
}

func roundFlags(f *fpFmt, neg bool, m *big.Int, e int, sticky bool, mx uint32, fl uint32) (uint64, uint32) {
	r, post := roundPack(f, neg, m, e, sticky, mx)
	return r, fl | post
}
