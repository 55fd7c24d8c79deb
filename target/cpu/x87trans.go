package cpu

import (
	"math/big"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// The x87 constants, partial remainders and transcendental instructions.
// The transcendental functions are evaluated with math/big at transPrec
// bits and rounded once to 64 bits by the rounding control: correctly
// rounded for the reduced argument. FSIN, FCOS, FSINCOS and FPTAN reduce
// by the hardware's 66-bit pi (SDM Vol. 1 8.3.10), so for large operands
// they agree with the processor rather than with the exact function.
// Against the AMD host the results are equal or one ulp apart (the host's
// own error, e.g. its tan(1.0)), a few ulps for some |x| > 2^15 in FSIN
// and FCOS where the host's polynomial is less precise. Where the SDM
// leaves a choice (FPREM's partial-reduction step, F2XM1 and FYL2XP1
// outside their domains, flags on denormal results) the host's behaviour
// is followed and said so at the spot.

const transPrec = 192

// x87Consts holds pi, ln 2, log2 e, log2 10 and log10 2 at transPrec
// bits; filled once at package initialisation and only read afterwards.
var x87Consts = func() (k struct{ pi, ln2, l2e, l2t, lg2 *big.Float }) {
	k.pi = bigPi(2 * transPrec)
	k.ln2 = bigLn2(transPrec + 64)
	one := newBig(1)
	k.l2e = new(big.Float).SetPrec(transPrec).Quo(one, k.ln2)
	ln10 := bigLog(newBig(10), k.ln2)
	k.l2t = new(big.Float).SetPrec(transPrec).Quo(ln10, k.ln2)
	k.lg2 = new(big.Float).SetPrec(transPrec).Quo(k.ln2, ln10)
	return k
}()

func newBig(v int64) *big.Float {
	return new(big.Float).SetPrec(transPrec).SetInt64(v)
}

// bigAtanInv returns atan(1/n) by its Taylor series.
func bigAtanInv(n int64, prec uint) *big.Float {
	x := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), new(big.Float).SetPrec(prec).SetInt64(n))
	return bigAtanSeries(x, prec)
}

// bigAtanSeries sums x - x^3/3 + x^5/5 - ... for |x| well below 1.
func bigAtanSeries(x *big.Float, prec uint) *big.Float {
	sum := new(big.Float).SetPrec(prec).Set(x)
	x2 := new(big.Float).SetPrec(prec).Mul(x, x)
	term := new(big.Float).SetPrec(prec).Set(x)
	t := new(big.Float).SetPrec(prec)
	for k := int64(3); k < 4000; k += 2 {
		term.Mul(term, x2)
		term.Neg(term)
		t.Quo(term, new(big.Float).SetPrec(prec).SetInt64(k))
		if t.Sign() == 0 || t.MantExp(nil)-sum.MantExp(nil) < -int(prec)-8 {
			nudge(sum, t)
			break
		}
		sum.Add(sum, t)
	}
	return sum
}

// bigAtanhSeries sums x + x^3/3 + x^5/5 + ... for |x| <= 1/3.
func bigAtanhSeries(x *big.Float, prec uint) *big.Float {
	sum := new(big.Float).SetPrec(prec).Set(x)
	if x.Sign() == 0 {
		return sum
	}
	x2 := new(big.Float).SetPrec(prec).Mul(x, x)
	term := new(big.Float).SetPrec(prec).Set(x)
	t := new(big.Float).SetPrec(prec)
	for k := int64(3); k < 4000; k += 2 {
		term.Mul(term, x2)
		t.Quo(term, new(big.Float).SetPrec(prec).SetInt64(k))
		if t.Sign() == 0 || t.MantExp(nil)-sum.MantExp(nil) < -int(prec)-8 {
			nudge(sum, t)
			break
		}
		sum.Add(sum, t)
	}
	return sum
}

// bigPi is Machin's formula: pi = 16 atan(1/5) - 4 atan(1/239).
func bigPi(prec uint) *big.Float {
	a := bigAtanInv(5, prec+16)
	b := bigAtanInv(239, prec+16)
	a.Mul(a, new(big.Float).SetInt64(16))
	b.Mul(b, new(big.Float).SetInt64(4))
	return new(big.Float).SetPrec(prec).Sub(a, b)
}

// bigLn2 is 2 atanh(1/3).
func bigLn2(prec uint) *big.Float {
	x := new(big.Float).SetPrec(prec+16).Quo(new(big.Float).SetPrec(prec+16).SetInt64(1), new(big.Float).SetInt64(3))
	s := bigAtanhSeries(x, prec+16)
	return new(big.Float).SetPrec(prec).Mul(s, new(big.Float).SetInt64(2))
}

// bigLog is the natural logarithm of x > 0: x = m 2^e with m in
// [0.5, 1), ln x = e ln 2 + 2 atanh((m-1)/(m+1)).
func bigLog(x *big.Float, ln2 *big.Float) *big.Float {
	prec := uint(transPrec + 32)
	m := new(big.Float).SetPrec(prec)
	e := x.MantExp(m)
	if m.Cmp(big.NewFloat(0.7071067811865476)) < 0 {
		m.SetMantExp(m, 1)
		e--
	}
	// ln m = 2^k ln m^(1/2^k): square roots bring m near 1, where the
	// series converges fast (m - 1 loses no relative accuracy: m is exact).
	const k = 4
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	for i := 0; i < k; i++ {
		m.Sqrt(m)
	}
	num := new(big.Float).SetPrec(prec).Sub(m, one)
	den := new(big.Float).SetPrec(prec).Add(m, one)
	z := new(big.Float).SetPrec(prec).Quo(num, den)
	r := bigAtanhSeries(z, prec)
	r.SetMantExp(r, 1+k)
	el := new(big.Float).SetPrec(prec).Mul(ln2, new(big.Float).SetInt64(int64(e)))
	return r.Add(r, el)
}

// bigLog1p is ln(1+x) = 2 atanh(x/(2+x)), accurate for tiny x.
func bigLog1p(x *big.Float, ln2 *big.Float) *big.Float {
	prec := uint(transPrec + 32)
	if x.Cmp(big.NewFloat(-0.25)) < 0 || x.Cmp(big.NewFloat(0.5)) > 0 {
		one := new(big.Float).SetPrec(prec).SetInt64(1)
		return bigLog(one.Add(one, x), ln2)
	}
	den := new(big.Float).SetPrec(prec).Add(x, new(big.Float).SetInt64(2))
	z := new(big.Float).SetPrec(prec).Quo(x, den)
	r := bigAtanhSeries(z, prec)
	return r.Mul(r, new(big.Float).SetInt64(2))
}

// bigExpm1 is e^t - 1 by its Taylor series, for |t| <= 1.
func bigExpm1(t *big.Float) *big.Float {
	prec := uint(transPrec + 32)
	sum := new(big.Float).SetPrec(prec).Set(t)
	term := new(big.Float).SetPrec(prec).Set(t)
	for k := int64(2); k < 400; k++ {
		term.Mul(term, t)
		term.Quo(term, new(big.Float).SetInt64(k))
		if term.Sign() == 0 || term.MantExp(nil)-sum.MantExp(nil) < -int(prec)-8 {
			nudge(sum, term)
			break
		}
		sum.Add(sum, term)
	}
	return sum
}

// nudge adds to sum a few units of its last place in the direction of
// the first term left out, so the final rounding sees that the exact
// value lies beyond the sum (sticky bits with a sign: sin x for tiny x
// is a little below x).
func nudge(sum, term *big.Float) {
	if term.Sign() == 0 || sum.Sign() == 0 {
		return
	}
	u := new(big.Float).SetPrec(sum.Prec()).SetMantExp(big.NewFloat(1), sum.MantExp(nil)-int(sum.Prec())+4)
	if term.Sign() < 0 {
		u.Neg(u)
	}
	sum.Add(sum, u)
}

// bigSinCos returns sin and cos of r, |r| <= pi/4 or so.
func bigSinCos(r *big.Float) (*big.Float, *big.Float) {
	prec := uint(transPrec + 32)
	r2 := new(big.Float).SetPrec(prec).Mul(r, r)
	sin := new(big.Float).SetPrec(prec).Set(r)
	cos := new(big.Float).SetPrec(prec).SetInt64(1)
	ts := new(big.Float).SetPrec(prec).Set(r)
	tc := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := int64(1); k < 400; k++ {
		ts.Mul(ts, r2)
		ts.Quo(ts, new(big.Float).SetInt64((2*k)*(2*k+1)))
		ts.Neg(ts)
		tc.Mul(tc, r2)
		tc.Quo(tc, new(big.Float).SetInt64((2*k-1)*(2*k)))
		tc.Neg(tc)
		small := func(t, s *big.Float) bool {
			return t.Sign() == 0 || s.Sign() == 0 || t.MantExp(nil)-s.MantExp(nil) < -int(prec)-8
		}
		if small(ts, sin) && small(tc, cos) {
			nudge(sin, ts)
			nudge(cos, tc)
			break
		}
		sin.Add(sin, ts)
		cos.Add(cos, tc)
	}
	return sin, cos
}

// bigAtan is atan(x) for any finite x.
func bigAtan(x *big.Float) *big.Float {
	prec := uint(transPrec + 32)
	ax := new(big.Float).SetPrec(prec).Abs(x)
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	inv := false
	if ax.Cmp(one) > 0 {
		ax.Quo(one, ax)
		inv = true
	}
	// Two halvings: atan(t) = 2 atan(t / (1 + sqrt(1 + t^2))).
	for i := 0; i < 3; i++ {
		t2 := new(big.Float).SetPrec(prec).Mul(ax, ax)
		t2.Add(t2, one)
		t2.Sqrt(t2)
		t2.Add(t2, one)
		ax.Quo(ax, t2)
	}
	r := bigAtanSeries(ax, prec)
	r.Mul(r, new(big.Float).SetInt64(8))
	if inv {
		half := new(big.Float).SetPrec(prec).Quo(x87Consts.pi, new(big.Float).SetInt64(2))
		r.Sub(half, r)
	}
	if x.Sign() < 0 {
		r.Neg(r)
	}
	return r
}

// toBig converts a finite x exactly.
func (x ext) toBig() *big.Float {
	r := new(big.Float).SetPrec(transPrec + 64)
	if x.isZero() {
		return r
	}
	e, m := x.norm()
	r.SetUint64(m)
	r.SetMantExp(r, int(e)-extBias-63)
	if x.neg() {
		r.Neg(r)
	}
	return r
}

// fromBig rounds v to 64 bits by the context's rounding control.
func (f *fpCtx) fromBig(v *big.Float) ext {
	if v.Sign() == 0 {
		return zeroExt(v.Signbit())
	}
	a := new(big.Float).SetPrec(v.Prec()).Abs(v)
	e := a.MantExp(nil)
	s := new(big.Float).SetPrec(a.Prec()).SetMantExp(a, int(a.Prec())+8-e)
	I, acc := s.Int(nil)
	return f.packBig(v.Sign() < 0, I, e-int(a.Prec())-8, acc != big.Exact, 64)
}

// x87Const returns a constant of FLD1..FLDLN2 rounded by rc (SDM Vol. 1
// 8.3.8: the internal constants are rounded by RC; the result is not
// inexact and C1 is cleared).
func x87Const(op x86asm.Op, rc uint8) ext {
	f := fpCtx{rc: rc, prec: 64, mask: x86.FSWExceptions}
	switch op {
	case x86asm.FLD1:
		return ext{se: extBias, m: jBit}
	case x86asm.FLDZ:
		return ext{}
	case x86asm.FLDPI:
		return f.fromBig(x87Consts.pi)
	case x86asm.FLDL2E:
		return f.fromBig(x87Consts.l2e)
	case x86asm.FLDL2T:
		return f.fromBig(x87Consts.l2t)
	case x86asm.FLDLG2:
		return f.fromBig(x87Consts.lg2)
	}
	return f.fromBig(x87Consts.ln2)
}

// fprem is FPREM (truncating quotient) and FPREM1 (IEEE remainder,
// quotient rounded to nearest), SDM Vol. 2 FPREM/FPREM1: C2 set when the
// reduction is partial, else C0 C3 C1 are quotient bits 2 1 0.
func (c *CPU) fprem(ieee bool) {
	f := c.fctx()
	a, okA := c.fread(&f, 0)
	b, okB := c.fread(&f, 1)
	r, cc := indefinite(), uint32(0)
	if okA && okB {
		r, cc = f.prem(a, b, ieee)
	}
	if f.ok() {
		c.fset(0, r)
		c.fpu.FSTAT = c.fpu.FSTAT&^(x86.FSWC0|x86.FSWC2|x86.FSWC3) | cc&^x86.FSWC1
		f.up = cc&x86.FSWC1 != 0
	}
	c.x87Commit(&f)
}

// prem returns the partial remainder of a by b and the condition codes.
func (f *fpCtx) prem(a, b ext, ieee bool) (ext, uint32) {
	if !a.isNaN() && !b.isNaN() && !a.unsupported() && !b.unsupported() && (a.isInf() || b.isZero()) {
		return f.invalid(), 0 // before (and without) #D, even unmasked
	}
	if v, ok := f.special2(a, b); ok {
		return v, 0
	}
	if a.isZero() {
		return a, 0
	}
	ea, ma := a.norm()
	if b.isInf() {
		return f.packP(a.neg(), ea, ma, 0, 64), 0 // a pseudo-denormal comes out normalised
	}
	eb, mb := b.norm()
	d := int(ea) - int(eb)
	A := new(big.Int).SetUint64(ma)
	B := new(big.Int).SetUint64(mb)
	switch {
	case d >= 64:
		// Partial: reduce by a quotient that is a multiple of 2^(d-N),
		// N "an implementation-dependent number between 32 and 63"
		// (SDM Vol. 2 FPREM); the host's is 32 + d mod 32.
		n := 32 + d%32
		sh := d - n
		A.Lsh(A, uint(n))
		Q := new(big.Int).Quo(A, B)
		A.Sub(A, Q.Mul(Q, B))
		if A.Sign() == 0 {
			return zeroExt(a.neg()), x86.FSWC2
		}
		return f.packBig(a.neg(), A, int(eb)-extBias-63+sh, false, 64), x86.FSWC2
	case d < 0 && !(ieee && d == -1):
		return f.packBig(a.neg(), A, int(ea)-extBias-63, false, 64), 0
	}
	scale := 0
	if d >= 0 {
		A.Lsh(A, uint(d))
	} else {
		B.Lsh(B, 1)
		scale = -1
	}
	Q, R := new(big.Int).QuoRem(A, B, new(big.Int))
	neg := a.neg()
	if ieee {
		R2 := new(big.Int).Lsh(R, 1)
		if k := R2.Cmp(B); k > 0 || (k == 0 && Q.Bit(0) == 1) {
			Q.Add(Q, big.NewInt(1))
			R.Sub(B, R)
			neg = !neg
		}
	}
	var cc uint32
	q := Q.Uint64()
	if q&4 != 0 {
		cc |= x86.FSWC0
	}
	if q&2 != 0 {
		cc |= x86.FSWC3
	}
	if q&1 != 0 {
		cc |= x86.FSWC1
	}
	if R.Sign() == 0 {
		return zeroExt(a.neg()), cc
	}
	return f.packBig(neg, R, int(eb)-extBias-63+scale, false, 64), cc
}

func two63() ext { return ext{se: extBias + 63, m: jBit} }

// x87Trans runs F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS.
func (c *CPU) x87Trans(op x86asm.Op) {
	f := c.fctx()
	f.prec = 64
	a, ok := c.fread(&f, 0)
	switch op {
	case x86asm.F2XM1:
		r := indefinite()
		if ok {
			r = f.f2xm1(a)
		}
		if f.ok() {
			c.fset(0, r)
		}
	case x86asm.FYL2X, x86asm.FYL2XP1, x86asm.FPATAN:
		b, okB := c.fread(&f, 1)
		r := indefinite()
		if ok && okB {
			switch op {
			case x86asm.FYL2X:
				r = f.yl2x(a, b, false)
			case x86asm.FYL2XP1:
				r = f.yl2x(a, b, true)
			default:
				r = f.atan2(b, a)
			}
		}
		if f.ok() {
			c.fset(1, r)
			c.fpop()
		}
	case x86asm.FSIN, x86asm.FCOS, x86asm.FPTAN, x86asm.FSINCOS:
		push := op == x86asm.FPTAN || op == x86asm.FSINCOS
		// C2 is cleared unless the operand is out of range, also after a
		// stack fault (SDM Vol. 2 FSIN: "set to 0" otherwise).
		c.fpu.FSTAT &^= x86.FSWC2
		if !ok {
			if f.ok() {
				c.fset(0, indefinite())
				if push {
					c.pushResult(&f, indefinite())
				}
			}
			break
		}
		if push && !c.canPush(&f) {
			if f.ok() {
				c.fset(0, indefinite())
				c.fpush(indefinite())
			}
			break
		}
		if trigOutOfRange(a) {
			// Out of range: C2 set, the operand unchanged (SDM Vol. 2 FSIN).
			c.fpu.FSTAT |= x86.FSWC2
			break
		}
		r1, r2 := f.trig(op, a)
		if f.ok() {
			c.fset(0, r1)
			if push {
				c.fpush(r2)
			}
		}
	}
	c.x87Commit(&f)
}

// reductionPi is the value of pi the trigonometric instructions reduce
// their operand by: pi truncated to 66 bits, as the hardware's (SDM Vol.
// 1 8.3.10; against the host, 66 bits match where the exact pi is off by
// many ulps for large operands).
func reductionPi() *big.Float {
	return new(big.Float).SetPrec(66).SetMode(big.ToZero).Set(x87Consts.pi)
}

// trigOutOfRange reports |a| >= 2^63, which FSIN, FCOS, FSINCOS and
// FPTAN leave alone with C2 set.
func trigOutOfRange(a ext) bool {
	return !a.unsupported() && !a.isNaN() && !a.isInf() && cmpMag(a, two63()) != cmpLess
}

// trig returns FSIN/FCOS's result, or FPTAN's (tan, 1.0), FSINCOS's
// (sin, cos) with the second to be pushed.
func (f *fpCtx) trig(op x86asm.Op, a ext) (ext, ext) {
	one := ext{se: extBias, m: jBit}
	if r, ok := f.special1(a); ok {
		if op == x86asm.FPTAN || op == x86asm.FSINCOS {
			return r, r
		}
		return r, ext{}
	}
	if a.isInf() {
		r := f.invalid()
		return r, r
	}
	if a.isZero() {
		switch op {
		case x86asm.FCOS:
			return one, ext{}
		case x86asm.FSINCOS:
			return a, one
		case x86asm.FPTAN:
			return a, one
		}
		return a, ext{}
	}
	if e, _ := a.norm(); e < extBias-80 {
		// Tiny: sin x and tan x are x less or more by about x^3, far
		// below the last place; round x nudged that way.
		switch op {
		case x86asm.FSIN:
			return f.fromBig(nudged(a, -1)), ext{}
		case x86asm.FPTAN:
			// tan x is above x, yet the host returns a denormal x
			// itself, inexact and underflowing, in every rounding mode.
			if a.isDenorm() {
				f.flags |= x86.FSWUE | x86.FSWPE
				f.up = false
				return a, one
			}
			return f.fromBig(nudged(a, 1)), one
		case x86asm.FSINCOS:
			g := *f
			sv := f.fromBig(nudged(a, -1))
			upS := f.up
			cv := g.fromBig(nudged(one, -1))
			f.flags |= g.flags
			f.up = upS || g.up
			return sv, cv
		}
		return f.fromBig(nudged(one, -1)), ext{}
	}
	x := a.toBig()
	// reduce by pi/2: x = k pi/2 + r, |r| <= pi/4
	prec := uint(2*transPrec + 64)
	halfPi := new(big.Float).SetPrec(prec).Quo(reductionPi(), new(big.Float).SetInt64(2))
	q := new(big.Float).SetPrec(prec).Quo(x, halfPi)
	q.Add(q, new(big.Float).SetFloat64(0.5))
	if q.Sign() < 0 {
		q.Sub(q, new(big.Float).SetInt64(1))
		qi, _ := q.Int(nil)
		if new(big.Float).SetInt(qi).Cmp(q) == 0 {
			q.SetInt(qi)
		} else {
			q.SetInt(qi.Add(qi, big.NewInt(1)))
		}
	} else {
		qi, _ := q.Int(nil)
		q.SetInt(qi)
	}
	ki, _ := q.Int(nil)
	r := new(big.Float).SetPrec(prec).Mul(q, halfPi)
	r.Sub(x, r)
	s, co := bigSinCos(r)
	switch new(big.Int).And(ki, big.NewInt(3)).Int64() {
	case 1:
		s, co = co, s.Neg(s)
	case 2:
		s, co = s.Neg(s), co.Neg(co)
	case 3:
		s, co = co.Neg(co), s
	}
	switch op {
	case x86asm.FSIN:
		return f.fromBigUp(s, a), ext{}
	case x86asm.FCOS:
		return f.fromBig(co), ext{}
	case x86asm.FPTAN:
		t := new(big.Float).SetPrec(transPrec).Quo(s, co)
		return f.fromBigUp(t, a), one
	}
	g := *f
	sv := f.fromBigUp(s, a)
	upS := f.up
	cv := g.fromBig(co)
	f.flags |= g.flags
	f.up = upS || g.up
	return sv, cv
}

// nudged is a moved by a relative 2^-200 away from zero (dir 1) or
// toward it (dir -1): the exact value of a function that is a plus a
// term far below its last place.
func nudged(a ext, dir int) *big.Float {
	v := a.toBig()
	v.SetPrec(400)
	d := new(big.Float).SetPrec(400).SetMantExp(v, -200)
	if dir < 0 {
		return v.Sub(v, d)
	}
	return v.Add(v, d)
}

// fromBigUp rounds v like fromBig; a zero v takes the sign of the operand
// a (sin, tan, atan of a signed tiny value).
func (f *fpCtx) fromBigUp(v *big.Float, a ext) ext {
	if v.Sign() == 0 {
		return zeroExt(a.neg())
	}
	return f.fromBig(v)
}

// f2xm1 is 2^x - 1 (defined for -1 <= x <= 1; beyond, the result is the
// same function, which real processors do not promise).
func (f *fpCtx) f2xm1(a ext) ext {
	if r, ok := f.special1(a); ok {
		return r
	}
	switch {
	case a.isZero():
		return a
	case a.isInf():
		if a.neg() {
			return ext{se: 0x8000 | extBias, m: jBit}
		}
		return a
	}
	e, m := a.norm()
	if e > extBias || (e == extBias && m != jBit) {
		// |x| > 1 is outside the domain: the processor leaves the
		// operand alone and reports an inexact result (as the host does).
		f.flags |= x86.FSWPE
		return a
	}
	if e < extBias-80 {
		// 2^x - 1 is x ln 2 to far below the last place.
		v := new(big.Float).SetPrec(transPrec).Mul(a.toBig(), x87Consts.ln2)
		return f.fromBig(v)
	}
	x := a.toBig()
	var r *big.Float
	if e < extBias {
		t := new(big.Float).SetPrec(transPrec+32).Mul(x, x87Consts.ln2)
		r = bigExpm1(t)
	} else {
		k, _ := x.Int(nil)
		fr := new(big.Float).SetPrec(transPrec+32).Sub(x, new(big.Float).SetInt(k))
		t := new(big.Float).SetPrec(transPrec+32).Mul(fr, x87Consts.ln2)
		r = bigExpm1(t)
		r.Add(r, newBig(1))
		r.SetMantExp(r, int(k.Int64()))
		r.Sub(r, newBig(1))
	}
	return f.fromBigUp(r, a)
}

// yl2x is FYL2X: y log2 x, and FYL2XP1: y log2(x + 1) (SDM Vol. 2
// FYL2X Table 3-52, FYL2XP1 Table 3-53).
func (f *fpCtx) yl2x(x, y ext, p1 bool) (r ext) {
	if !x.isNaN() && !y.isNaN() && !x.unsupported() && !y.unsupported() && x.neg() &&
		((!p1 && !x.isZero()) || (p1 && x.isInf())) {
		return f.invalid() // the logarithm of a negative number: before #D
	}
	if !p1 && x.isZero() && !y.isZero() && !y.isInf() && !y.isNaN() && !y.unsupported() {
		f.flags |= x86.FSWZE // log 0 times a finite y: zero divide, before #D
		return infExt(!y.neg())
	}
	if r, ok := f.special2(x, y); ok {
		return r
	}
	defer func() {
		if f.flags&(x86.FSWIE|x86.FSWZE) != 0 {
			f.flags &^= x86.FSWDE // invalid and zero divide are reported alone
		}
	}()
	one := ext{se: extBias, m: jBit}
	// the logarithm's sign and whether it is zero or infinite
	var lz, linf, lneg bool
	if p1 {
		switch {
		case x.isInf() && x.neg():
			return f.invalid()
		case x.neg() && cmpMag(x, one) != cmpLess && !y.isZero() && !y.isInf():
			// x + 1 <= 0 is outside the domain: the host returns x,
			// inexact.
			f.flags |= x86.FSWPE
			return x
		case x.isZero():
			lz = true
			lneg = x.neg()
		case x.isInf():
			linf = true
		}
		lneg = lneg || x.neg()
	} else {
		switch {
		case x.neg() && !x.isZero():
			return f.invalid()
		case x.isZero():
			linf, lneg = true, true
		case x.isInf():
			linf = true
		default:
			k := cmpMag(x, one)
			lz = k == cmpEqual
			lneg = k == cmpLess
		}
	}
	rneg := lneg != y.neg()
	switch {
	case linf:
		if y.isZero() {
			return f.invalid()
		}
		if x.isZero() && !y.isInf() {
			f.flags |= x86.FSWZE
		}
		return infExt(rneg)
	case lz:
		if y.isInf() {
			return f.invalid()
		}
		return zeroExt(rneg)
	case y.isInf():
		return infExt(rneg)
	case y.isZero():
		return zeroExt(rneg)
	}
	var l *big.Float
	xa := x.toBig()
	if p1 {
		xa.SetPrec(transPrec + 16400)
		xa.Add(xa, newBig(1))
	}
	mant := new(big.Float)
	if e := xa.MantExp(mant); mant.Cmp(big.NewFloat(0.5)) == 0 {
		// x (x + 1) a power of two: the logarithm is an exact integer,
		// and the processor still reports the result inexact.
		l = new(big.Float).SetPrec(transPrec).SetInt64(int64(e) - 1)
		l.Mul(l, y.toBig())
		r := f.fromBig(l)
		f.flags |= x86.FSWPE
		if r.exp() == 0 {
			f.flags |= x86.FSWUE
		}
		return r
	}
	if p1 {
		l = bigLog1p(x.toBig(), x87Consts.ln2)
	} else {
		l = bigLog(x.toBig(), x87Consts.ln2)
	}
	l.Quo(l, x87Consts.ln2)
	l.Mul(l, y.toBig())
	return f.fromBig(l)
}

// atan2 is FPATAN: atan(y/x) in the quadrant of (x, y) (SDM Vol. 2
// FPATAN Table 3-30).
func (f *fpCtx) atan2(y, x ext) ext {
	if r, ok := f.special2(y, x); ok {
		return r
	}
	pi := x87Consts.pi
	frac := func(n, d int64) *big.Float {
		v := new(big.Float).SetPrec(transPrec).Mul(pi, newBig(n))
		v.Quo(v, newBig(d))
		if y.neg() {
			v.Neg(v)
		}
		return v
	}
	switch {
	case y.isZero():
		if x.neg() {
			return f.fromBig(frac(1, 1))
		}
		return y
	case x.isZero():
		return f.fromBig(frac(1, 2))
	case y.isInf() && x.isInf():
		if x.neg() {
			return f.fromBig(frac(3, 4))
		}
		return f.fromBig(frac(1, 4))
	case y.isInf():
		return f.fromBig(frac(1, 2))
	case x.isInf():
		if x.neg() {
			return f.fromBig(frac(1, 1))
		}
		return zeroExt(y.neg())
	}
	q := new(big.Float).SetPrec(transPrec+64).Quo(y.toBig(), x.toBig())
	r := bigAtan(q)
	if x.neg() {
		if y.neg() {
			r.Sub(r, pi)
		} else {
			r.Add(r, pi)
		}
	}
	return f.fromBigUp(r, y)
}
