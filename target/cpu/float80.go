package cpu

import (
	"math/big"
	"math/bits"

	"vmapstack/target/x86"
)

// A software implementation of the x87 double extended-precision format
// (SDM Vol. 1 4.2.2, Figure 4-3) and of the arithmetic the x87 FPU does
// with it: IEEE 754 operations rounded per the control word's precision
// and rounding control (SDM Vol. 1 8.1.5.2, 8.1.5.3), with the x87's
// handling of NaNs, denormals, unsupported encodings and exceptions (SDM
// Vol. 1 4.8, 4.9, 8.5).
//
// Values are kept as stored: a sign-and-exponent half word and a 64-bit
// significand whose bit 63 is the explicit integer bit J. Arithmetic
// unpacks a finite operand into (biased exponent, significand with J set),
// where the exponent of a denormal may go below 1, works on 128 bits
// (math/bits) or math/big, and packs through fpCtx.round, the one place
// results are rounded.

// ext is an 80-bit extended-precision value.
type ext struct {
	se uint16 // sign (bit 15) and biased exponent (bits 0-14)
	m  uint64 // significand, integer bit J in bit 63
}

const (
	extBias   = 16383
	extExpMax = 0x7fff
	// biasAdjust is what the x87 subtracts from (overflow) or adds to
	// (underflow) the exponent of a result when that exception is unmasked
	// and the destination is a register (SDM Vol. 1 8.5.4, 8.5.5).
	biasAdjust = 24576
	quietBit   = uint64(1) << 62
	jBit       = uint64(1) << 63
)

// The rounding-control field values (SDM Vol. 1 Table 4-8).
const (
	fpRN = 0
	fpRD = 1
	fpRU = 2
	fpRZ = 3
)

func extFromBytes(b [10]byte) ext {
	var m uint64
	for i := 7; i >= 0; i-- {
		m = m<<8 | uint64(b[i])
	}
	return ext{se: uint16(b[8]) | uint16(b[9])<<8, m: m}
}

func (x ext) bytes() (b [10]byte) {
	for i := 0; i < 8; i++ {
		b[i] = byte(x.m >> (8 * i))
	}
	b[8], b[9] = byte(x.se), byte(x.se>>8)
	return b
}

// indefinite is the QNaN "real indefinite" (SDM Vol. 1 4.8.3.7).
func indefinite() ext { return ext{se: 0xffff, m: 0xc000000000000000} }

func (x ext) neg() bool      { return x.se&0x8000 != 0 }
func (x ext) exp() int32     { return int32(x.se & 0x7fff) }
func (x ext) isZero() bool   { return x.se&0x7fff == 0 && x.m == 0 }
func (x ext) isInf() bool    { return x.se&0x7fff == extExpMax && x.m == jBit }
func (x ext) isNaN() bool    { return x.se&0x7fff == extExpMax && x.m&jBit != 0 && x.m<<1 != 0 }
func (x ext) isSNaN() bool   { return x.isNaN() && x.m&quietBit == 0 }
func (x ext) isDenorm() bool { return x.se&0x7fff == 0 && x.m != 0 }

// unsupported reports the encodings the 387 and later reject as operands:
// pseudo-NaN, pseudo-infinity and unnormal, all with J clear and a nonzero
// exponent (SDM Vol. 1 8.2.2, Table 8-3). Pseudo-denormals (exponent 0,
// J set) are supported, as denormals.
func (x ext) unsupported() bool { return x.se&0x7fff != 0 && x.m&jBit == 0 }

// signed returns x with the sign of neg.
func (x ext) signed(neg bool) ext {
	x.se &^= 0x8000
	if neg {
		x.se |= 0x8000
	}
	return x
}

func zeroExt(neg bool) ext { return ext{}.signed(neg) }
func infExt(neg bool) ext  { return ext{se: extExpMax, m: jBit}.signed(neg) }

// norm returns the biased exponent and the significand with J in bit 63
// of a finite nonzero x; a denormal's exponent goes below 1 as it is
// normalised (a denormal's exponent field 0 stands for 1).
func (x ext) norm() (int32, uint64) {
	e := x.exp()
	if e != 0 {
		return e, x.m
	}
	n := bits.LeadingZeros64(x.m)
	return 1 - int32(n), x.m << n
}

// fpCtx carries what one x87 operation needs: the control word's rounding
// and precision, its exception masks, and what the operation raised.
type fpCtx struct {
	rc    uint8  // rounding control
	prec  uint   // significand bits: 24, 53 or 64
	mask  uint16 // FCW bits 0-5: exceptions that are masked
	flags uint16 // exceptions raised, FSW bits 0-5
	up    bool   // the rounded result is larger in magnitude than the exact one (C1)
	// srcDenormal: a single or double memory operand was denormal (its
	// extended form is normal, so the operation cannot see it).
	srcDenormal bool
}

// memDenormal raises DE for a denormal memory operand when nothing of
// higher priority was raised (SDM Vol. 1 4.9.2: stack fault, invalid
// operand and a QNaN operand come before #D). nan reports a NaN operand.
func (f *fpCtx) memDenormal(nan bool) {
	if f.srcDenormal && !nan && f.flags&x86.FSWIE == 0 && f.flags&x86.FSWZE == 0 {
		f.flags |= x86.FSWDE
	}
}

func newFPCtx(fcw uint16) fpCtx {
	f := fpCtx{rc: uint8(fcw>>x86.FCWRCShift) & 3, mask: fcw & x86.FSWExceptions, prec: 64}
	switch (fcw >> x86.FCWPCShift) & 3 {
	case 0:
		f.prec = 24
	case 2:
		f.prec = 53
	}
	return f
}

// unmasked reports whether flag is raised and not masked.
func (f *fpCtx) unmasked(flag uint16) bool { return f.flags&flag&^f.mask != 0 }

// invalid raises IE and returns the masked response, the real indefinite.
func (f *fpCtx) invalid() ext {
	f.flags |= x86.FSWIE
	return indefinite()
}

// shr128 shifts hi:lo right by n, ORing what falls out into bit 0
// ("jamming"), so a rounding decision still sees that bits were lost.
func shr128(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		sticky := lo<<(64-n) != 0
		lo = hi<<(64-n) | lo>>n
		hi >>= n
		if sticky {
			lo |= 1
		}
		return hi, lo
	case n < 128:
		sticky := lo != 0 || (n > 64 && hi<<(128-n) != 0)
		lo = hi >> (n - 64)
		if sticky {
			lo |= 1
		}
		return 0, lo
	}
	if hi|lo != 0 {
		return 0, 1
	}
	return 0, 0
}

// roundInc reports whether rounding by f.rc increments the kept
// significand, given the discarded bits remHi:remLo and the value of half
// a unit of the last kept place, halfHi:halfLo.
func (f *fpCtx) roundInc(neg bool, kept, remHi, remLo, halfHi, halfLo uint64) bool {
	if remHi|remLo == 0 {
		return false
	}
	switch f.rc {
	case fpRN:
		if remHi != halfHi {
			return remHi > halfHi
		}
		if remLo != halfLo {
			return remLo > halfLo
		}
		return kept&1 != 0
	case fpRD:
		return neg
	case fpRU:
		return !neg
	}
	return false
}

// round rounds the value (sig0 + sig1/2^64) * 2^(exp-bias-63) to p
// significand bits in a format whose biased exponent runs up to emax (the
// exponent of infinity) and whose denormals have exponent field 0. sig0
// has bit 63 set (the caller normalises); exp may be out of range either
// way. It returns the exponent field and the significand with J in bit 63
// (the rounded bits below p are zero). adjust is the exponent bias
// adjustment of an unmasked overflow or underflow, 0 when the destination
// is memory (the caller then stores nothing, SDM Vol. 1 4.9.1.4/4.9.1.5).
//
// Tininess is detected after rounding, and a masked underflow is
// signalled only when the result is tiny and inexact (SDM Vol. 1 4.9.1.5);
// the host agrees on millions of random cases. An unmasked overflow or
// underflow to memory raises OE or UE alone; one beyond the reach of the
// bias adjustment (FSCALE) gives infinity or zero with PE, as the host.
func (f *fpCtx) round(neg bool, exp int32, sig0, sig1 uint64, p uint, emax int32, adjust int32) (int32, uint64) {
	f.up = false
	if sig0 == 0 && sig1 == 0 {
		return 0, 0
	}
	shift := 64 - p
	halfHi, halfLo := uint64(0), uint64(1)<<63
	if shift > 0 {
		halfHi, halfLo = uint64(1)<<(shift-1), 0
	}
	lowMask := uint64(1)<<shift - 1
	if adjust == 0 && f.mask&x86.FSWOE == 0 && exp >= emax {
		// Unmasked overflow to memory: nothing is stored, OE alone is
		// reported (no PE, C1 clear; as the host does).
		f.flags |= x86.FSWOE
		return emax, jBit
	}
	if adjust == 0 && f.mask&x86.FSWUE == 0 && exp <= 0 {
		f.flags |= x86.FSWUE
		return 0, 0
	}
	if exp >= emax && adjust != 0 && f.mask&x86.FSWOE == 0 {
		if exp-adjust >= emax {
			// Beyond what the bias adjustment brings into range (FSCALE):
			// infinity, inexact, whatever the rounding (as the host does).
			f.flags |= x86.FSWOE | x86.FSWPE
			f.up = true
			return emax, jBit
		}
		f.flags |= x86.FSWOE
		exp -= adjust
	}
	if exp <= 0 && adjust != 0 && f.mask&x86.FSWUE == 0 && exp+adjust <= 0 {
		// Likewise below the range: zero, inexact.
		f.flags |= x86.FSWUE | x86.FSWPE
		return 0, 0
	}
	denormal := false
	if exp <= 0 {
		// Tiny before rounding; tiny after rounding unless rounding
		// with an unbounded exponent carries into 2^emin.
		tiny := true
		if exp == 0 && sig0>>shift == ^uint64(0)>>shift &&
			f.roundInc(neg, sig0>>shift, sig0&lowMask, sig1, halfHi, halfLo) {
			tiny = false
		}
		if adjust != 0 && f.mask&x86.FSWUE == 0 {
			if tiny {
				f.flags |= x86.FSWUE
				exp += adjust
			}
		} else {
			sig0, sig1 = shr128(sig0, sig1, uint(1-exp))
			exp = 0
			denormal = true
			inexact := sig0&lowMask != 0 || sig1 != 0
			if tiny && (inexact || f.mask&x86.FSWUE == 0) {
				f.flags |= x86.FSWUE
			}
		}
	}
	kept := sig0 >> shift
	remHi, remLo := sig0&lowMask, sig1
	if remHi|remLo != 0 {
		f.flags |= x86.FSWPE
	}
	if f.roundInc(neg, kept, remHi, remLo, halfHi, halfLo) {
		kept++
		f.up = true
		if denormal {
			if kept>>(p-1) != 0 {
				exp = 1
			}
		} else if p == 64 && kept == 0 {
			kept = jBit
			exp++
		} else if p < 64 && kept>>p != 0 {
			kept >>= 1
			exp++
		}
	}
	if denormal && kept == 0 {
		return 0, 0
	}
	if exp >= emax {
		if adjust != 0 && f.mask&x86.FSWOE == 0 {
			f.flags |= x86.FSWOE
			return exp - adjust, kept << shift
		}
		// Masked overflow (SDM Vol. 1 4.9.1.4, Table 4-10): infinity or
		// the largest finite value by the rounding direction.
		f.flags |= x86.FSWOE | x86.FSWPE
		if f.rc == fpRZ || (neg && f.rc == fpRU) || (!neg && f.rc == fpRD) {
			f.up = false
			return emax - 1, ^lowMask
		}
		f.up = true
		return emax, jBit
	}
	return exp, kept << shift
}

// pack rounds to the context's precision into an extended value, with the
// bias adjustment of unmasked overflow/underflow.
func (f *fpCtx) pack(neg bool, exp int32, sig0, sig1 uint64) ext {
	return f.packP(neg, exp, sig0, sig1, f.prec)
}

func (f *fpCtx) packP(neg bool, exp int32, sig0, sig1 uint64, p uint) ext {
	e, m := f.round(neg, exp, sig0, sig1, p, extExpMax, biasAdjust)
	if e < 0 || e > extExpMax {
		// An unmasked overflow/underflow too large for the bias
		// adjustment: the result is undefined; keep it encodable.
		e &= extExpMax
	}
	return ext{se: uint16(e), m: m}.signed(neg)
}

// propagate returns the NaN result of an operation on a and b, at least
// one a NaN (SDM Vol. 1 4.8.3.5, Table 4-7): an SNaN raises IE; with two
// QNaNs or two SNaNs the one with the larger significand wins (equal
// significands: the positive one), an SNaN and a QNaN give the QNaN,
// otherwise the NaN operand, quieted.
func (f *fpCtx) propagate(a, b ext) ext {
	an, bn := a.isNaN(), b.isNaN()
	a0q, b0q := a.m&quietBit != 0, b.m&quietBit != 0
	if a.isSNaN() || b.isSNaN() {
		f.flags |= x86.FSWIE
	}
	a.m |= quietBit
	b.m |= quietBit
	switch {
	case an && bn:
		// an SNaN and a QNaN: the QNaN
		if sa, sb := !a0q, !b0q; sa != sb {
			if sa {
				return b
			}
			return a
		}
		if b.m > a.m || (b.m == a.m && !b.neg()) {
			return b
		}
		return a
	case an:
		return a
	}
	return b
}

// special2 handles what precedes the arithmetic of a two-operand
// operation (SDM Vol. 1 4.9.2, 8.5.1.2): unsupported operands and NaNs
// give their result here; a denormal operand raises DE.
func (f *fpCtx) special2(a, b ext) (ext, bool) {
	if a.unsupported() || b.unsupported() {
		return f.invalid(), true
	}
	if a.isNaN() || b.isNaN() {
		return f.propagate(a, b), true
	}
	if a.isDenorm() || b.isDenorm() {
		f.flags |= x86.FSWDE
		if f.mask&x86.FSWDE == 0 {
			// Unmasked #D: the operation does not proceed (SDM Vol. 1
			// 8.5.2); no other flag is raised and the result is dropped.
			return ext{}, true
		}
	}
	return ext{}, false
}

func (f *fpCtx) special1(a ext) (ext, bool) {
	if a.unsupported() {
		return f.invalid(), true
	}
	if a.isNaN() {
		return f.propagate(a, a), true
	}
	if a.isDenorm() {
		f.flags |= x86.FSWDE
		if f.mask&x86.FSWDE == 0 {
			return ext{}, true
		}
	}
	return ext{}, false
}

// roundExt rounds a finite x to the context's precision (x + 0 with PC
// below 64 bits rounds).
func (f *fpCtx) roundExt(x ext) ext {
	if x.isZero() {
		return x
	}
	e, m := x.norm()
	return f.pack(x.neg(), e, m, 0)
}

// add returns a + b (b negated when sub): FADD, FSUB, FSUBR.
func (f *fpCtx) add(a, b ext, sub bool) ext {
	if r, ok := f.special2(a, b); ok {
		return r
	}
	if sub {
		b.se ^= 0x8000
	}
	if a.isInf() || b.isInf() {
		if a.isInf() && b.isInf() && a.neg() != b.neg() {
			return f.invalid()
		}
		if a.isInf() {
			return a
		}
		return b
	}
	if a.isZero() && b.isZero() {
		if a.neg() == b.neg() {
			return a
		}
		return zeroExt(f.rc == fpRD)
	}
	if a.isZero() {
		return f.roundExt(b)
	}
	if b.isZero() {
		return f.roundExt(a)
	}
	ea, ma := a.norm()
	eb, mb := b.norm()
	na, nb := a.neg(), b.neg()
	if ea < eb || (ea == eb && ma < mb) {
		ea, ma, na, eb, mb, nb = eb, mb, nb, ea, ma, na
	}
	bh, bl := shr128(mb, 0, uint(ea-eb))
	if na == nb {
		l, c := bits.Add64(0, bl, 0)
		h, c2 := bits.Add64(ma, bh, c)
		if c2 != 0 {
			sticky := l & 1
			l = h<<63 | l>>1 | sticky
			h = jBit | h>>1
			ea++
		}
		return f.pack(na, ea, h, l)
	}
	l, bw := bits.Sub64(0, bl, 0)
	h, _ := bits.Sub64(ma, bh, bw)
	if h|l == 0 {
		return zeroExt(f.rc == fpRD)
	}
	n := bits.LeadingZeros64(h)
	if h == 0 {
		n = 64 + bits.LeadingZeros64(l)
	}
	h, l = shl128(h, l, uint(n))
	return f.pack(na, ea-int32(n), h, l)
}

func shl128(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		return hi<<n | lo>>(64-n), lo << n
	case n < 128:
		return lo << (n - 64), 0
	}
	return 0, 0
}

// mul returns a * b.
func (f *fpCtx) mul(a, b ext) ext {
	if r, ok := f.special2(a, b); ok {
		return r
	}
	neg := a.neg() != b.neg()
	if a.isInf() || b.isInf() {
		if a.isZero() || b.isZero() {
			return f.invalid()
		}
		return infExt(neg)
	}
	if a.isZero() || b.isZero() {
		return zeroExt(neg)
	}
	ea, ma := a.norm()
	eb, mb := b.norm()
	h, l := bits.Mul64(ma, mb)
	e := ea + eb - extBias + 1
	if h&jBit == 0 {
		h, l = h<<1|l>>63, l<<1
		e--
	}
	return f.pack(neg, e, h, l)
}

// div returns a / b.
func (f *fpCtx) div(a, b ext) ext {
	neg := a.neg() != b.neg()
	if b.isZero() && !a.isZero() && !a.isInf() && !a.isNaN() && !a.unsupported() {
		// Zero divide comes before the denormal operand: a denormal
		// divided by zero raises ZE alone, even with DE unmasked (as the
		// host does).
		f.flags |= x86.FSWZE
		return infExt(neg)
	}
	if r, ok := f.special2(a, b); ok {
		return r
	}
	switch {
	case a.isInf() && b.isInf(), a.isZero() && b.isZero():
		return f.invalid()
	case a.isInf():
		return infExt(neg)
	case b.isInf():
		return zeroExt(neg)
	case a.isZero():
		return zeroExt(neg)
	}
	ea, ma := a.norm()
	eb, mb := b.norm()
	e := ea - eb + extBias - 1
	hi, lo := ma, uint64(0)
	if ma >= mb {
		hi, lo = ma>>1, ma<<63
		e++
	}
	q1, r := bits.Div64(hi, lo, mb)
	q2, r2 := bits.Div64(r, 0, mb)
	if r2 != 0 {
		q2 |= 1
	}
	return f.pack(neg, e, q1, q2)
}

// sqrt returns the square root of a.
func (f *fpCtx) sqrt(a ext) ext {
	if a.neg() && !a.isZero() && !a.isNaN() {
		return f.invalid() // before DE: a negative denormal raises IE alone
	}
	if r, ok := f.special1(a); ok {
		return r
	}
	if a.isZero() {
		return a
	}
	if a.isInf() {
		return a
	}
	e, m := a.norm()
	k := int(e) - extBias - 63 // a = m * 2^k
	M := new(big.Int).SetUint64(m)
	if k&1 != 0 {
		M.Lsh(M, 1)
		k--
	}
	M.Lsh(M, 128)
	R := new(big.Int).Sqrt(M)
	rem := new(big.Int).Mul(R, R)
	return f.packBig(false, R, k/2-64, rem.Cmp(M) != 0, f.prec)
}

// packBig rounds R * 2^e2 (plus a little more when sticky) to p bits.
func (f *fpCtx) packBig(neg bool, R *big.Int, e2 int, sticky bool, p uint) ext {
	L := R.BitLen()
	if L == 0 {
		return zeroExt(neg)
	}
	var sig0, sig1 uint64
	t := new(big.Int)
	if L > 128 {
		t.Rsh(R, uint(L-128))
		if t2 := new(big.Int).Lsh(t, uint(L-128)); t2.Cmp(R) != 0 {
			sticky = true
		}
	} else {
		t.Lsh(R, uint(128-L))
	}
	lo := new(big.Int).And(t, new(big.Int).SetUint64(^uint64(0)))
	sig1 = lo.Uint64()
	sig0 = new(big.Int).Rsh(t, 64).Uint64()
	if sticky {
		sig1 |= 1
	}
	exp := int64(e2) + int64(L) - 1 + extBias
	if exp > 1<<20 {
		exp = 1 << 20
	} else if exp < -(1 << 20) {
		exp = -(1 << 20)
	}
	return f.packP(neg, int32(exp), sig0, sig1, p)
}

// cmpResult is the outcome of a comparison.
type cmpResult int

const (
	cmpLess cmpResult = iota
	cmpEqual
	cmpGreater
	cmpUnordered
)

// compare compares a with b. quiet is FUCOM's rule: only an SNaN raises
// IE; FCOM raises it for any NaN (SDM Vol. 2 FCOM/FUCOM).
func (f *fpCtx) compare(a, b ext, quiet bool) cmpResult {
	if a.unsupported() || b.unsupported() {
		f.flags |= x86.FSWIE
		return cmpUnordered
	}
	if a.isNaN() || b.isNaN() {
		if !quiet || a.isSNaN() || b.isSNaN() {
			f.flags |= x86.FSWIE
		}
		return cmpUnordered
	}
	if a.isDenorm() || b.isDenorm() {
		f.flags |= x86.FSWDE
	}
	if a.isZero() && b.isZero() {
		return cmpEqual
	}
	if a.neg() != b.neg() {
		if a.neg() {
			return cmpLess
		}
		return cmpGreater
	}
	// same sign: compare magnitudes
	r := cmpMag(a, b)
	if a.neg() && r != cmpEqual {
		r = 2 - r
	}
	return r
}

func cmpMag(a, b ext) cmpResult {
	if a.isZero() {
		return cmpLess
	}
	if b.isZero() {
		return cmpGreater
	}
	ea, ma := a.norm()
	eb, mb := b.norm()
	switch {
	case ea < eb || (ea == eb && ma < mb):
		return cmpLess
	case ea == eb && ma == mb:
		return cmpEqual
	}
	return cmpGreater
}

// roundInt rounds finite nonzero x to an integer by rc: the magnitude, as
// a 64-bit integer with overflow meaning it needs more than 64 bits, and
// whether it was inexact and rounded up in magnitude.
func (f *fpCtx) roundInt(x ext, rc uint8) (mag uint64, over, inexact, up bool) {
	e, m := x.norm()
	fb := int(extBias+63) - int(e) // fraction bits in m
	if fb <= 0 {
		if fb < 0 {
			return 0, true, false, false
		}
		return m, false, false, false
	}
	var ip, rem, half uint64
	var remLo, halfLo uint64
	switch {
	case fb < 64:
		ip, rem, half = m>>uint(fb), m&(uint64(1)<<uint(fb)-1), uint64(1)<<uint(fb-1)
	case fb == 64:
		ip, rem, half = 0, m, jBit
	default:
		// below one half: only the sticky bit matters
		ip, rem, half, remLo, halfLo = 0, 0, 0, 1, jBit
	}
	g := fpCtx{rc: rc}
	inc := g.roundInc(x.neg(), ip, rem, remLo, half, halfLo)
	inexact = rem|remLo != 0
	if inc {
		ip++
		if ip == 0 {
			return 0, true, inexact, true
		}
	}
	return ip, false, inexact, inc
}

// rndint is FRNDINT: round to an integer by RC, at 64-bit precision.
func (f *fpCtx) rndint(x ext) ext {
	f.up = false
	if r, ok := f.special1(x); ok {
		return r
	}
	if x.isZero() || x.isInf() {
		return x
	}
	mag, over, inexact, up := f.roundInt(x, f.rc)
	if over {
		return x // already an integer (or 2^64 from rounding: exact below)
	}
	if inexact {
		f.flags |= x86.FSWPE
	}
	f.up = up
	if mag == 0 {
		return zeroExt(x.neg())
	}
	n := bits.LeadingZeros64(mag)
	return ext{se: uint16(extBias + 63 - n), m: mag << uint(n)}.signed(x.neg())
}

// toInt converts x to a signed integer of size bytes, rounding by rc (or
// truncating: FISTTP). An out-of-range value, a NaN or an infinity is
// invalid: the masked response is the integer indefinite, the smallest
// negative integer (SDM Vol. 1 4.8.3.7).
func (f *fpCtx) toInt(x ext, size uint8, rc uint8) uint64 {
	f.up = false
	indef := uint64(1) << (8*uint(size) - 1)
	if x.unsupported() || x.isNaN() || x.isInf() {
		f.flags |= x86.FSWIE
		return indef
	}
	// A denormal source does not raise DE (as processors do).
	if x.isZero() {
		return 0
	}
	mag, over, inexact, up := f.roundInt(x, rc)
	if over || mag > indef || (mag == indef && !x.neg()) {
		f.flags |= x86.FSWIE
		return indef
	}
	if inexact {
		f.flags |= x86.FSWPE
	}
	f.up = up
	if x.neg() {
		return -mag & sizeMask(size)
	}
	return mag
}

// fromInt converts a signed 64-bit integer exactly.
func extFromInt(v int64) ext {
	if v == 0 {
		return ext{}
	}
	neg := v < 0
	mag := uint64(v)
	if neg {
		mag = -mag
	}
	n := bits.LeadingZeros64(mag)
	return ext{se: uint16(extBias + 63 - n), m: mag << uint(n)}.signed(neg)
}

// fromBinary converts an IEEE single (fracBits 23, expBits 8) or double
// (52, 11) exactly (FLD m32/m64): an SNaN raises IE and is quieted, a
// denormal sets srcDenormal: the caller raises DE unless an exception of
// higher priority (stack fault, NaN or invalid operand) happened, SDM
// Vol. 1 4.9.2 (SDM Vol. 2 FLD). Without quiet an SNaN stays one,
// for the operation that uses it to see (arithmetic with a memory
// operand).
func (f *fpCtx) fromBinary(v uint64, fracBits, expBits uint, quiet bool) ext {
	neg := v>>(fracBits+expBits) != 0
	e := int32(v>>fracBits) & (1<<expBits - 1)
	frac := v & (uint64(1)<<fracBits - 1)
	bias := int32(1)<<(expBits-1) - 1
	fm := frac << (63 - fracBits)
	switch {
	case e == 1<<expBits-1:
		if frac == 0 {
			return infExt(neg)
		}
		if !quiet {
			return ext{se: extExpMax, m: jBit | fm}.signed(neg)
		}
		if fm&quietBit == 0 {
			f.flags |= x86.FSWIE
		}
		return ext{se: extExpMax, m: jBit | quietBit | fm}.signed(neg)
	case e == 0:
		if frac == 0 {
			return zeroExt(neg)
		}
		f.srcDenormal = true
		n := bits.LeadingZeros64(fm)
		return ext{se: uint16(1 - bias + extBias - int32(n)), m: fm << uint(n)}.signed(neg)
	}
	return ext{se: uint16(e - bias + extBias), m: jBit | fm}.signed(neg)
}

// toBinary rounds x to an IEEE single or double (FST m32/m64). NaNs keep
// their high significand bits and are quieted; overflow and underflow
// give the masked responses (the caller stores nothing when they are
// unmasked, SDM Vol. 1 4.9.1.4).
func (f *fpCtx) toBinary(x ext, fracBits, expBits uint) uint64 {
	f.up = false
	signPos := fracBits + expBits
	var sign uint64
	if x.neg() {
		sign = 1 << signPos
	}
	emax := int32(1)<<expBits - 1
	expField := uint64(emax) << fracBits
	switch {
	case x.unsupported():
		f.flags |= x86.FSWIE
		return 1<<signPos | expField | 1<<(fracBits-1)
	case x.isNaN():
		if x.isSNaN() {
			f.flags |= x86.FSWIE
		}
		return sign | expField | (x.m|quietBit)<<1>>(64-fracBits)
	case x.isInf():
		return sign | expField
	case x.isZero():
		return sign
	}
	// A denormal source does not raise DE here (as processors do; the
	// result underflows anyway).
	e, m := x.norm()
	bias := int32(1)<<(expBits-1) - 1
	re, rm := f.round(x.neg(), e-extBias+bias, m, 0, fracBits+1, emax, 0)
	return sign | uint64(re)<<fracBits | rm<<1>>(64-fracBits)
}
