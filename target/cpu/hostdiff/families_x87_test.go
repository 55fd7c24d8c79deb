package hostdiff

// x87 FPU families (SDM Vol. 1 ch. 8, Vol. 2 the F* pages), from the
// random FP state of fpgen_test.go with every exception masked. Each form
// names the condition codes its page calls undefined ("FPU Flags
// Affected"); those are not compared. Stack underflow and overflow are
// generated now and then: with IE masked their results are defined (SDM
// Vol. 1 8.5.1.1: the QNaN floating-point indefinite, C1 set on overflow
// and cleared on underflow).

import (
	"encoding/binary"
	"math"
	"strings"

	"vmapstack/target/x86"
)

// Condition-code masks of the "FPU Flags Affected" sections.
const (
	// "C1 Set to 0 if stack underflow occurred. Set if result was
	// rounded up; cleared otherwise. C0, C2, C3 Undefined." (FADD, FSUB,
	// FMUL, FDIV and their R/P/I forms, FSQRT, FRNDINT, FSCALE, FST,
	// FIST, FBSTP, FCHS, FABS, FXCH, FCMOVcc, FLD, FILD, FBLD, FLDn,
	// FXTRACT, FINCSTP, FDECSTP, FISTTP: C1's meaning varies, C0, C2 and
	// C3 are undefined in all of them.)
	undefC023 = x86.FSWC0 | x86.FSWC2 | x86.FSWC3
	// "C0, C1, C2, C3 Undefined." (FFREE, FNOP, FWAIT, FNSTSW, FNSTCW,
	// FLDCW, FNSTENV, FNCLEX.)
	undefCAll = x86.FSWCond
)

// x87Form is one instruction form.
type x87Form struct {
	name string
	op   byte // D8..DF, or 9B (FWAIT)
	ext  int  // ModRM.reg (memory forms and ST(i) forms)
	// kind: "m" memory operand of mem type, "i" the ST(i) register form
	// (ModRM C0+ext*8+i), "f" a fixed second byte (fixed).
	kind  string
	fixed byte
	mem   string // m16i m32i m64i m32f m64f m80f bcd cw sw env save
	undef uint16 // condition codes not compared
	need  int    // stack registers read: ST(0)..ST(need-1) (ST(i) forms: also ST(i))
	push  int    // values pushed
	shape func(g *gen, f *x87Form, in *insn)
	after func(g *gen) // once the stack is final
	pfx66 bool         // operand-size prefix (the 16-bit environment formats)
	near  bool         // two operands: now and then make them equal or one ulp apart
}

func xm(name string, op byte, ext int, mem string, undef uint16, need, push int) x87Form {
	return x87Form{name: name, op: op, ext: ext, kind: "m", mem: mem, undef: undef, need: need, push: push}
}

func xi(name string, op byte, ext int, undef uint16, need int) x87Form {
	return x87Form{name: name, op: op, ext: ext, kind: "i", undef: undef, need: need}
}

func xf(name string, op, fixed byte, undef uint16, need, push int) x87Form {
	return x87Form{name: name, op: op, kind: "f", fixed: fixed, undef: undef, need: need, push: push}
}

var x87Loads = []x87Form{
	xm("fld m32", 0xd9, 0, "m32f", undefC023, 0, 1), xm("fld m64", 0xdd, 0, "m64f", undefC023, 0, 1),
	xm("fld m80", 0xdb, 5, "m80f", undefC023, 0, 1), xi("fld st(i)", 0xd9, 0, undefC023, 0),
	xm("fild m16", 0xdf, 0, "m16i", undefC023, 0, 1), xm("fild m32", 0xdb, 0, "m32i", undefC023, 0, 1),
	xm("fild m64", 0xdf, 5, "m64i", undefC023, 0, 1), xm("fbld", 0xdf, 4, "bcd", undefC023, 0, 1),
	// "C1 Set to 1 if stack overflow occurred; otherwise, set to 0. C0,
	// C2, C3 Undefined." (FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ.)
	xf("fld1", 0xd9, 0xe8, undefC023, 0, 1), xf("fldl2t", 0xd9, 0xe9, undefC023, 0, 1),
	xf("fldl2e", 0xd9, 0xea, undefC023, 0, 1), xf("fldpi", 0xd9, 0xeb, undefC023, 0, 1),
	xf("fldlg2", 0xd9, 0xec, undefC023, 0, 1), xf("fldln2", 0xd9, 0xed, undefC023, 0, 1),
	xf("fldz", 0xd9, 0xee, undefC023, 0, 1),
}

var x87Stores = []x87Form{
	xm("fst m32", 0xd9, 2, "m32f", undefC023, 1, 0), xm("fstp m32", 0xd9, 3, "m32f", undefC023, 1, 0),
	xm("fst m64", 0xdd, 2, "m64f", undefC023, 1, 0), xm("fstp m64", 0xdd, 3, "m64f", undefC023, 1, 0),
	xm("fstp m80", 0xdb, 7, "m80f", undefC023, 1, 0),
	xi("fst st(i)", 0xdd, 2, undefC023, 1), xi("fstp st(i)", 0xdd, 3, undefC023, 1),
	xm("fist m16", 0xdf, 2, "m16i", undefC023, 1, 0), xm("fistp m16", 0xdf, 3, "m16i", undefC023, 1, 0),
	xm("fist m32", 0xdb, 2, "m32i", undefC023, 1, 0), xm("fistp m32", 0xdb, 3, "m32i", undefC023, 1, 0),
	xm("fistp m64", 0xdf, 7, "m64i", undefC023, 1, 0),
	// FISTTP: "C1 Cleared to 0. C0, C2, C3 Undefined."
	xm("fisttp m16", 0xdf, 1, "m16i", undefC023, 1, 0), xm("fisttp m32", 0xdb, 1, "m32i", undefC023, 1, 0),
	xm("fisttp m64", 0xdd, 1, "m64i", undefC023, 1, 0),
	xm("fbstp", 0xdf, 6, "bcd", undefC023, 1, 0),
}

var x87ArithNames = [8]string{"fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr"}

var x87Arith = func() []x87Form {
	var f []x87Form
	for ext, n := range x87ArithNames {
		if ext == 2 || ext == 3 {
			continue // compares: x87Compares
		}
		f = append(f, xm(n+" m32", 0xd8, ext, "m32f", undefC023, 1, 0), xm(n+" m64", 0xdc, ext, "m64f", undefC023, 1, 0),
			xm("fi"+n[1:]+" m32", 0xda, ext, "m32i", undefC023, 1, 0), xm("fi"+n[1:]+" m16", 0xde, ext, "m16i", undefC023, 1, 0),
			xi(n+" st,st(i)", 0xd8, ext, undefC023, 1))
	}
	// DC and DE register forms: ST(i) is the destination; in this
	// encoding /4 is FSUBR ST(i),ST(0) and /5 FSUB (the mnemonics swap,
	// SDM Vol. 2A FSUB/FSUBR opcode tables: DC E8+i FSUB ST(i), ST(0);
	// DC E0+i FSUBR ST(i), ST(0)), likewise DIV.
	for _, o := range []struct {
		name string
		ext  int
	}{{"fadd", 0}, {"fmul", 1}, {"fsubr", 4}, {"fsub", 5}, {"fdivr", 6}, {"fdiv", 7}} {
		f = append(f, xi(o.name+" st(i),st", 0xdc, o.ext, undefC023, 1), xi(o.name+"p st(i),st", 0xde, o.ext, undefC023, 1))
	}
	return f
}()

// Compares: "C1 Set to 0." with C0, C2, C3 the result (FCOM, FCOMP,
// FCOMPP, FUCOM*, FICOM*, FTST); FCOMI*: "C1 Set to 0. C0, C2, C3 Not
// affected." and "set the OF, SF and AF flags to zero in the EFLAGS
// register"; FXAM: C1 the sign, C0, C2, C3 the class.
var x87Compares = []x87Form{
	xm("fcom m32", 0xd8, 2, "m32f", 0, 1, 0), xm("fcomp m32", 0xd8, 3, "m32f", 0, 1, 0),
	xm("fcom m64", 0xdc, 2, "m64f", 0, 1, 0), xm("fcomp m64", 0xdc, 3, "m64f", 0, 1, 0),
	xi("fcom st(i)", 0xd8, 2, 0, 1), xi("fcomp st(i)", 0xd8, 3, 0, 1), xf("fcompp", 0xde, 0xd9, 0, 2, 0),
	xi("fucom st(i)", 0xdd, 4, 0, 1), xi("fucomp st(i)", 0xdd, 5, 0, 1), xf("fucompp", 0xda, 0xe9, 0, 2, 0),
	xm("ficom m16", 0xde, 2, "m16i", 0, 1, 0), xm("ficomp m16", 0xde, 3, "m16i", 0, 1, 0),
	xm("ficom m32", 0xda, 2, "m32i", 0, 1, 0), xm("ficomp m32", 0xda, 3, "m32i", 0, 1, 0),
	{name: "fcomi", op: 0xdb, ext: 6, kind: "i", need: 1, shape: shapeC1Zero},
	{name: "fcomip", op: 0xdf, ext: 6, kind: "i", need: 1, shape: shapeC1Zero},
	{name: "fucomi", op: 0xdb, ext: 5, kind: "i", need: 1, shape: shapeC1Zero},
	{name: "fucomip", op: 0xdf, ext: 5, kind: "i", need: 1, shape: shapeC1Zero},
	xf("ftst", 0xd9, 0xe4, 0, 1, 0), {name: "fxam", op: 0xd9, kind: "f", fixed: 0xe5, need: 1, shape: shapeFxam},
}

var x87Misc = []x87Form{
	xf("fchs", 0xd9, 0xe0, undefC023, 1, 0), xf("fabs", 0xd9, 0xe1, undefC023, 1, 0),
	xf("fsqrt", 0xd9, 0xfa, undefC023, 1, 0), xf("frndint", 0xd9, 0xfc, undefC023, 1, 0),
	{name: "fscale", op: 0xd9, kind: "f", fixed: 0xfd, undef: undefC023, need: 2, shape: shapeFscale},
	// FXTRACT: "C1 Set to 0 if stack underflow occurred; set to 1 if
	// stack overflow occurred. C0, C2, C3 Undefined."
	{name: "fxtract", op: 0xd9, kind: "f", fixed: 0xf4, undef: undefC023, need: 1, push: 1},
	// FPREM/FPREM1: every condition code defined (C0, C3, C1 the low
	// quotient bits Q2, Q1, Q0; C2 incomplete reduction).
	{name: "fprem", op: 0xd9, kind: "f", fixed: 0xf8, need: 2, shape: shapeFprem, after: fpremQuotient},
	{name: "fprem1", op: 0xd9, kind: "f", fixed: 0xf5, need: 2, shape: shapeFprem, after: fpremQuotient},
	xi("fxch", 0xd9, 1, undefC023, 1),
	// FINCSTP/FDECSTP: "C1 Set to 0. C0, C2, C3 Undefined." FFREE,
	// FNOP, FWAIT, FNCLEX: "C0, C1, C2, C3 Undefined."
	xf("fincstp", 0xd9, 0xf7, undefC023, 0, 0), xf("fdecstp", 0xd9, 0xf6, undefC023, 0, 0),
	xi("ffree", 0xdd, 0, undefCAll, 0), xf("fnop", 0xd9, 0xd0, undefCAll, 0, 0),
	{name: "fwait", op: 0x9b, kind: "1", undef: undefCAll},
	xf("fnclex", 0xdb, 0xe2, undefCAll, 0, 0), xf("fninit", 0xdb, 0xe3, 0, 0, 0),
	// FCMOVcc: "C1 Set to 0 if stack underflow occurred. C0, C2, C3
	// Undefined." (shapeC1Zero: and without underflow?)
	{name: "fcmovb", op: 0xda, ext: 0, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmove", op: 0xda, ext: 1, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmovbe", op: 0xda, ext: 2, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmovu", op: 0xda, ext: 3, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmovnb", op: 0xdb, ext: 0, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmovne", op: 0xdb, ext: 1, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmovnbe", op: 0xdb, ext: 2, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
	{name: "fcmovnu", op: 0xdb, ext: 3, kind: "i", undef: undefC023, need: 1, shape: shapeC1Zero},
}

// shapeC1Zero starts FCOMI/FCOMIP/FUCOMI/FUCOMIP and FCMOVcc with C1
// clear. FCOMI*: "C1 Set to 0." but AMD processors leave C1 unchanged
// when there is no stack underflow; FCMOVcc: "C1 Set to 0 if stack
// underflow occurred" says nothing of the other case, where AMD leaves
// it unchanged too. From C1 = 0 every reading gives 0
// (docs/qemu-differences.md §9).
func shapeC1Zero(g *gen, f *x87Form, in *insn) {
	g.c.fp.in.fsw &^= x86.FSWC1
}

var x87State = []x87Form{
	// FNSTSW, FNSTCW, FLDCW, FNSTENV: "C0, C1, C2, C3 Undefined." (the
	// stored status word is the one before the instruction: defined).
	xf("fnstsw ax", 0xdf, 0xe0, undefCAll, 0, 0), xm("fnstsw m16", 0xdd, 7, "sw", undefCAll, 0, 0),
	xm("fnstcw", 0xd9, 7, "cw", undefCAll, 0, 0), xm("fldcw", 0xd9, 5, "cw", undefCAll, 0, 0),
	xm("fnstenv", 0xd9, 6, "env", undefCAll, 0, 0), xm("fldenv", 0xd9, 4, "env", 0, 0, 0),
	xm("fnsave", 0xdd, 6, "save", 0, 0, 0), xm("frstor", 0xdd, 4, "save", 0, 0, 0),
	// With 66h the 16-bit protected-mode formats of the environment
	// (14 bytes) and of the whole state (94 bytes): the operand size
	// selects the layout (SDM Vol. 1 8.1.10, Vol. 2A FSTENV, FSAVE).
	xm("fnstenv o16", 0xd9, 6, "env16", undefCAll, 0, 0), xm("fldenv o16", 0xd9, 4, "env16", 0, 0, 0),
	xm("fnsave o16", 0xdd, 6, "save16", 0, 0, 0), xm("frstor o16", 0xdd, 4, "save16", 0, 0, 0),
}

// The transcendentals: results within one ulp (ulpST), C1 ("Set if
// result was rounded up") not compared, since it follows the rounding
// of a result that may differ by that ulp. C2 of FPTAN/FSIN/FCOS/FSINCOS
// ("Set to 1 if outside range (-2^63 < source operand < +2^63);
// otherwise, set to 0") is compared; C0 and C3 are undefined on every
// one of these pages.
var x87Trans = []x87Form{
	{name: "f2xm1", op: 0xd9, kind: "f", fixed: 0xf0, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC2 | x86.FSWC3, need: 1, shape: shapeTrans},
	{name: "fyl2x", op: 0xd9, kind: "f", fixed: 0xf1, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC2 | x86.FSWC3, need: 2, shape: shapeTrans},
	{name: "fyl2xp1", op: 0xd9, kind: "f", fixed: 0xf9, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC2 | x86.FSWC3, need: 2, shape: shapeTrans},
	{name: "fpatan", op: 0xd9, kind: "f", fixed: 0xf3, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC2 | x86.FSWC3, need: 2, shape: shapeTrans},
	{name: "fptan", op: 0xd9, kind: "f", fixed: 0xf2, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC3, need: 1, push: 1, shape: shapeTrans},
	{name: "fsin", op: 0xd9, kind: "f", fixed: 0xfe, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC3, need: 1, shape: shapeTrans},
	{name: "fcos", op: 0xd9, kind: "f", fixed: 0xff, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC3, need: 1, shape: shapeTrans},
	{name: "fsincos", op: 0xd9, kind: "f", fixed: 0xfb, undef: x86.FSWC0 | x86.FSWC1 | x86.FSWC3, need: 1, push: 1, shape: shapeTrans},
}

func (g *gen) x87Loads() (*insn, string, bool)    { return g.x87Family(x87Loads) }
func (g *gen) x87Stores() (*insn, string, bool)   { return g.x87Family(x87Stores) }
func (g *gen) x87Arith() (*insn, string, bool)    { return g.x87Family(x87Arith) }
func (g *gen) x87Compares() (*insn, string, bool) { return g.x87Family(x87Compares) }
func (g *gen) x87Misc() (*insn, string, bool)     { return g.x87Family(x87Misc) }
func (g *gen) x87State() (*insn, string, bool)    { return g.x87Family(x87State) }
func (g *gen) x87Trans() (*insn, string, bool)    { return g.x87Family(x87Trans) }

// x87Family generates one form of a list.
func (g *gen) x87Family(forms []x87Form) (*insn, string, bool) {
	f := forms[g.r.Intn(len(forms))]
	fp := g.fpc()
	fp.undefFSW = f.undef
	in := newInsn()
	in.op = []byte{f.op}
	if f.pfx66 {
		in.pfx = []byte{0x66}
	}
	need := f.need
	switch f.kind {
	case "m":
		in.modrm, in.reg, in.regExt = true, f.ext, true
		in.rm = g.x87Mem(f.mem)
	case "i":
		in.modrm, in.reg, in.regExt = true, f.ext, true
		i := g.r.Intn(8)
		in.rm = operand{reg: i}
		if i+1 > need && need > 0 {
			need = i + 1
		}
		if f.name == "fld st(i)" {
			need = i + 1
			f.push = 1
		}
	case "f":
		in.op = append(in.op, f.fixed)
	}
	g.x87Stack(need, f.push)
	if f.shape != nil {
		f.shape(g, &f, in)
	}
	if f.after != nil {
		f.after(g)
	}
	if f.near && g.chance(4) {
		g.x87Near(&f, in)
	}
	return in, f.name, true
}

// x87Stack makes ST(0)..ST(need-1) valid and, for a push, the register
// that becomes ST(0) empty, nine times in ten; the tenth keeps the random
// stack, so stack underflow and overflow (defined with IE masked) occur.
func (g *gen) x87Stack(need, push int) {
	fp := g.c.fp
	if g.chance(10) {
		return
	}
	s := &fp.in
	for i := 0; i < need; i++ {
		p := s.phys(i)
		if s.tags&(1<<p) == 0 && !canonical(s.st[p]) {
			s.st[p] = g.f80() // it held any bits while empty
		}
		s.tags |= 1 << p
	}
	for i := 0; i < push; i++ {
		s.tags &^= 1 << s.phys(7-i)
	}
}

// x87Near makes the two operands of an arithmetic or compare form equal
// or one ulp apart in the extended format, as random values seldom are:
// equal compares, exact cancellation to zero (whose sign follows the
// rounding mode), results one ulp from zero. The second operand becomes
// a copy of ST(0) nudged by -1, 0 or +1 in its significand; for a memory
// operand ST(0) becomes the memory value instead (converted exactly).
func (g *gen) x87Near(f *x87Form, in *insn) {
	s := &g.c.fp.in
	p0 := s.phys(0)
	nudge := func(r [10]byte) [10]byte {
		m := binary.LittleEndian.Uint64(r[:])
		if m>>63 == 1 && m != 1<<63 && m != ^uint64(0) {
			binary.LittleEndian.PutUint64(r[:], m+uint64(g.r.Intn(3))-1)
		}
		return r
	}
	if f.kind == "i" {
		pi := s.phys(in.rm.reg)
		if in.rm.reg != 0 && s.tags&(1<<p0) != 0 {
			s.st[pi] = nudge(s.st[p0])
		}
		return
	}
	b := g.c.data[g.c.fp.memOff:]
	var v float64
	switch f.mem {
	case "m32f":
		v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case "m64f":
		v = math.Float64frombits(binary.LittleEndian.Uint64(b))
	case "m16i":
		v = float64(int16(binary.LittleEndian.Uint16(b)))
	case "m32i":
		v = float64(int32(binary.LittleEndian.Uint32(b)))
	default:
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	s.st[p0] = nudge(f80FromFloat(v))
}

// canonical says whether an 80-bit value has one of the encodings f80
// generates: the integer bit set exactly when the exponent is not 0.
func canonical(r [10]byte) bool {
	e := binary.LittleEndian.Uint16(r[8:]) & 0x7fff
	return binary.LittleEndian.Uint64(r[:])>>63 == b2u64(e != 0)
}

func b2u64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// x87Mem returns a memory operand of an x87 type with a value of that
// type.
func (g *gen) x87Mem(kind string) operand {
	size := map[string]int{"m16i": 2, "m32i": 4, "m64i": 8, "m32f": 4, "m64f": 8, "m80f": 10, "bcd": 10,
		"cw": 2, "sw": 2, "env": 28, "save": 108, "env16": 14, "save16": 94}[kind]
	o := g.fpMem(size, false, "", 0)
	fp := g.c.fp
	b := g.c.data[fp.memOff : fp.memOff+size]
	switch kind {
	case "m32f":
		binary.LittleEndian.PutUint32(b, g.f32())
	case "m64f":
		binary.LittleEndian.PutUint64(b, g.f64())
	case "m80f":
		v := g.f80()
		copy(b, v[:])
	case "m16i", "m32i", "m64i":
		g.intLanes(b) // edges of some lane size, or random
		if g.chance(3) {
			// A small integer, sign-extended.
			v := uint64(g.r.Intn(2001) - 1000)
			for j := range b {
				b[j] = byte(v >> (8 * j))
			}
		}
	case "bcd":
		// Valid packed BCD only: FBLD "If the source operand contains
		// invalid BCD digits, the result is undefined" (Vol. 2A FBLD);
		// bits 72-78 are not part of the value (Vol. 1 4.7, packed BCD
		// integers), so they are 0 here.
		nd := []int{0, 1, 2, 5, 10, 18, 18, 18}[g.r.Intn(8)]
		for j := range b {
			b[j] = 0
		}
		for d := 0; d < nd; d++ {
			v := byte(g.r.Intn(10))
			if g.chance(3) {
				v = 9
			}
			b[d/2] |= v << (4 * (d % 2))
		}
		b[9] = byte(g.r.Intn(2)) << 7
	case "cw":
		// FLDCW: every exception masked (an unmasked one with its flag
		// set makes the next waiting instruction fault), PC not 01B.
		pc := []uint16{0, 2, 3}[g.r.Intn(3)]
		binary.LittleEndian.PutUint16(b, 0x7f|pc<<8|uint16(g.r.Intn(4))<<10)
	case "sw":
	case "env", "save":
		g.x87Image(kind == "save", b)
	case "env16", "save16":
		g.x87Image16(kind == "save16", b)
	}
	return o
}

// x87Image writes an FLDENV (28 bytes) or FRSTOR (108 bytes) image of a
// random state in the 32-bit protected-mode format (SDM Vol. 1 8.1.10,
// Figure 8-9): FCW with every exception masked, FSW without ES/B, a full
// tag word consistent with the register contents (FXRSTOR's
// classification: "valid", "zero" or "special"), random FPU pointers
// (never compared). An FNSTENV/FNSAVE case overwrites it; its
// undefined parts are masked by x87Masks.
func (g *gen) x87Image(save bool, b []byte) {
	s := g.fpState()
	for i := range b {
		b[i] = 0
	}
	binary.LittleEndian.PutUint16(b[0:], s.fcw)
	binary.LittleEndian.PutUint16(b[4:], s.fsw)
	binary.LittleEndian.PutUint16(b[8:], s.fullTag())
	binary.LittleEndian.PutUint32(b[12:], g.r.Uint32())
	binary.LittleEndian.PutUint16(b[16:], uint16(g.r.Intn(0x10000)))
	binary.LittleEndian.PutUint16(b[18:], uint16(g.r.Intn(0x800)))
	binary.LittleEndian.PutUint32(b[20:], g.r.Uint32())
	binary.LittleEndian.PutUint16(b[24:], uint16(g.r.Intn(0x10000)))
	if save {
		for i := 0; i < 8; i++ {
			copy(b[28+10*i:], s.st[s.phys(i)][:])
		}
	}
}

// shapeFxam: "C1 Sign of value in ST(0)" has no value to take the sign
// of when ST(0) is empty (class "Empty", C3 C2 C0 = 101B, is defined);
// C1 is not compared then.
func shapeFxam(g *gen, f *x87Form, in *insn) {
	s := &g.c.fp.in
	if s.tags&(1<<s.phys(0)) == 0 {
		g.c.fp.undefFSW |= x86.FSWC1
	}
}

// shapeFscale: ST(1) mostly a small integer or fraction ("truncates the
// value in the source operand (toward 0) to an integral value"), now and
// then anything (overflow and underflow give the defined masked
// results).
func shapeFscale(g *gen, f *x87Form, in *insn) {
	s := &g.c.fp.in
	if g.chance(4) {
		return
	}
	v := float64(g.r.Intn(201)-100) + []float64{0, 0, 0.5, 0.75, -0.25}[g.r.Intn(5)]
	if g.chance(6) {
		v = float64(g.r.Intn(40001) - 20000)
	}
	s.st[s.phys(1)] = f80FromFloat(v)
}

// shapeFprem: the quotient bits in C0, C3, C1 ("C0 Set to bit 2 (Q2) of
// the quotient. C1 Set to 0 if stack underflow occurred; otherwise, set
// to least significant bit of quotient (Q0). C3 Set to bit 1 (Q1) of
// the quotient.") exist only when there is a quotient: with a NaN
// operand, an infinite dividend or a zero divisor (the invalid-operation
// and NaN results of the FPREM table) there is none, and they are not
// compared (AMD processors leave them unchanged); on stack underflow C1
// is 0 and C0, C3 are not compared.
//
// And the dividend ST(0) and divisor ST(1) have exponents less
// than 64 apart when both are finite and non-zero: beyond that FPREM and
// FPREM1 return a partial remainder whose exponent is reduced by an
// amount the SDM leaves to the implementation ("the exponent of the
// partial remainder will be less than the exponent of the original
// dividend by at least 32", Vol. 2A FPREM, whose Operation has "N := An
// implementation-dependent number between 32 and 63"). Zeros, infinities and NaNs keep their
// defined results.
func shapeFprem(g *gen, f *x87Form, in *insn) {
	s := &g.c.fp.in
	p0, p1 := s.phys(0), s.phys(1)
	e1 := binary.LittleEndian.Uint16(s.st[p1][8:]) & 0x7fff
	if g.chance(8) || e1 == 0x7fff || e1 == 0 && binary.LittleEndian.Uint64(s.st[p1][:]) == 0 {
		// Special divisor (the dividend must then only not make the
		// reduction partial).
		e0 := binary.LittleEndian.Uint16(s.st[p0][8:]) & 0x7fff
		if e0 != 0x7fff && e0 != 0 && int(e0)-int(e1) >= 64 && e1 != 0x7fff && e1 != 0 {
			binary.LittleEndian.PutUint16(s.st[p0][8:], binary.LittleEndian.Uint16(s.st[p0][8:])&0x8000|e1+uint16(g.r.Intn(64)))
		}
		return
	}
	if e1 < 100 {
		e1 = 100
		binary.LittleEndian.PutUint16(s.st[p1][8:], binary.LittleEndian.Uint16(s.st[p1][8:])&0x8000|e1)
		binary.LittleEndian.PutUint64(s.st[p1][:], binary.LittleEndian.Uint64(s.st[p1][:])|1<<63)
	}
	e0 := int(e1) + g.r.Intn(70) - 6
	if e0 >= int(e1)+64 {
		e0 = int(e1) + 63
	}
	sign := uint16(g.r.Intn(2)) << 15
	var r [10]byte
	binary.LittleEndian.PutUint64(r[:], 1<<63|uint64(g.r.Int63()))
	binary.LittleEndian.PutUint16(r[8:], sign|uint16(e0))
	s.st[p0] = r
}

// fpremQuotient masks the quotient bits where FPREM/FPREM1 have none
// (see shapeFprem); it runs after the operands are final.
func fpremQuotient(g *gen) {
	fp := g.c.fp
	s := &fp.in
	p0, p1 := s.phys(0), s.phys(1)
	if s.tags&(1<<p0) == 0 || s.tags&(1<<p1) == 0 {
		fp.undefFSW |= x86.FSWC0 | x86.FSWC3
		return
	}
	e0 := binary.LittleEndian.Uint16(s.st[p0][8:]) & 0x7fff
	e1 := binary.LittleEndian.Uint16(s.st[p1][8:]) & 0x7fff
	zero1 := e1 == 0 && binary.LittleEndian.Uint64(s.st[p1][:]) == 0
	nan1 := e1 == 0x7fff && binary.LittleEndian.Uint64(s.st[p1][:])<<1 != 0
	if e0 == 0x7fff || nan1 || zero1 {
		fp.undefFSW |= x86.FSWC0 | x86.FSWC1 | x86.FSWC3
	}
}

// shapeTrans puts the arguments where the SDM defines the result and
// both vendors document the accuracy: F2XM1 "-1.0 to +1.0 ... If the
// source value is outside this range, the result is undefined"; FYL2XP1
// "-(1 - sqrt(2)/2) to (1 - sqrt(2)/2) ... outside this range, the result
// is undefined"; FSIN/FCOS/FSINCOS/FPTAN |x| <= pi/4, where no argument
// reduction happens (the processors reduce larger arguments with a
// 66-bit pi, Vol. 1 8.3.10, whose error differs between vendors), plus
// |x| >= 2^63 (C2 set, ST(0) unchanged) and the special operands of the
// pages' tables. Tiny and denormal arguments are not generated: their
// underflow signalling is where processors may differ within one ulp.
// One ulp (ulpST) is the tolerance for the results, and PE is not
// compared: within that ulp, whether a result is exact is not known,
// and AMD processors set PE for exactly representable results
// (F2XM1(-1) = -0.5, FYL2X(2, y) = y) where the SDM's #P is "Value
// cannot be represented exactly in destination format"
// (docs/qemu-differences.md §10).
func shapeTrans(g *gen, f *x87Form, in *insn) {
	fp := g.c.fp
	s := &fp.in
	p0, p1 := s.phys(0), s.phys(1)
	special := func() [10]byte {
		switch g.r.Intn(4) {
		case 0:
			return f80FromFloat([]float64{0, math.Copysign(0, -1)}[g.r.Intn(2)])
		case 1:
			var r [10]byte
			binary.LittleEndian.PutUint64(r[:], 1<<63)
			binary.LittleEndian.PutUint16(r[8:], 0x7fff|uint16(g.r.Intn(2))<<15)
			return r
		case 2:
			var r [10]byte
			binary.LittleEndian.PutUint64(r[:], 0xc000000000000000|uint64(g.r.Int63n(1<<40)))
			binary.LittleEndian.PutUint16(r[8:], 0x7fff)
			return r
		}
		return f80FromFloat(1)
	}
	// rnd is a random value of magnitude in [2^lo, 2^hi), 64 significant
	// bits.
	rnd := func(lo, hi int, neg bool) [10]byte {
		var r [10]byte
		binary.LittleEndian.PutUint64(r[:], 1<<63|uint64(g.r.Int63()))
		e := 16383 + lo + g.r.Intn(hi-lo)
		sign := uint16(0)
		if neg {
			sign = 1 << 15
		}
		binary.LittleEndian.PutUint16(r[8:], sign|uint16(e))
		return r
	}
	neg := func() bool { return g.chance(2) }
	valid := s.tags&(1<<p0) != 0
	fp.undefFSW |= x86.FSWPE
	useSpecial := g.chance(8)
	switch f.name {
	case "f2xm1":
		s.st[p0] = rnd(-30, 0, neg())
		if g.chance(6) {
			s.st[p0] = f80FromFloat([]float64{1, -1, 0.5, -0.5, 0}[g.r.Intn(5)])
		}
	case "fyl2xp1":
		s.st[p0] = rnd(-30, -2, neg()) // |x| < 0.25 < 1 - sqrt(2)/2
		s.st[p1] = rnd(-20, 20, neg())
		if useSpecial {
			s.st[p0] = f80FromFloat(0)
		}
	case "fyl2x":
		s.st[p0] = rnd(-60, 60, false)
		s.st[p1] = rnd(-20, 20, neg())
		if useSpecial {
			s.st[p0] = special()
		} else if g.chance(8) {
			s.st[p0] = f80FromFloat([]float64{1, 2, 8, 0.5, 1024}[g.r.Intn(5)])
		}
	case "fpatan":
		s.st[p0] = rnd(-20, 20, neg())
		s.st[p1] = rnd(-20, 20, neg())
		if useSpecial {
			if g.chance(2) {
				s.st[p0] = special()
			} else {
				s.st[p1] = special()
			}
		}
	default: // fsin fcos fsincos fptan
		s.st[p0] = rnd(-30, 0, neg())
		if binary.LittleEndian.Uint16(s.st[p0][8:])&0x7fff == 16382 {
			// [0.5, 1): keep it below pi/4 = 0.785...
			binary.LittleEndian.PutUint64(s.st[p0][:], 0x8000000000000000|uint64(g.r.Int63n(0x4900000000000000)))
		}
		if useSpecial {
			s.st[p0] = special()
		} else if g.chance(10) {
			s.st[p0] = rnd(63, 200, neg()) // out of range: C2 = 1, unchanged
		}
	}
	if !valid {
		return // stack underflow: the indefinite, exact
	}
	switch f.name {
	case "fsincos":
		fp.ulpST = 3
	case "fptan":
		fp.ulpST = 2 // ST(0) is the pushed 1.0
	default:
		fp.ulpST = 1
	}
}

// x87Image16 is x87Image in the 16-bit protected-mode format (SDM Vol. 1
// 8.1.10): FCW, FSW, FTW, then FIP, FCS, FDP, FDS as words (offsets
// 6-13), then the registers for FRSTOR.
func (g *gen) x87Image16(save bool, b []byte) {
	s := g.fpState()
	for i := range b {
		b[i] = 0
	}
	binary.LittleEndian.PutUint16(b[0:], s.fcw)
	binary.LittleEndian.PutUint16(b[2:], s.fsw)
	binary.LittleEndian.PutUint16(b[4:], s.fullTag())
	for i := 6; i < 14; i += 2 {
		binary.LittleEndian.PutUint16(b[i:], uint16(g.r.Intn(0x10000)))
	}
	if save {
		for i := 0; i < 8; i++ {
			copy(b[14+10*i:], s.st[s.phys(i)][:])
		}
	}
}

// x87Masks are the bytes of FNSTENV/FNSAVE images in memory the SDM
// does not define for our purposes (32-bit protected-mode format, SDM
// Vol. 1 Figure 8-9): the reserved upper halves of the FCW, FSW and FTW
// doublewords (offsets 2, 6, 10) and the FPU instruction and data
// pointers with the opcode (offsets 12-27: FIP, FCS, FOP, FDP, FDS),
// which an AMD EPYC host stores as zeros when no exception is pending (as
// AMD documents for FXSAVE, AMD APM Vol. 5) and Intel processors may
// store with FCS/FDS zero (deprecated when CPUID.(EAX=07H,ECX=0):EBX[13]
// = 1). docs/qemu-differences.md §11.
func x87Masks(c *testCase, off int) {
	c.undefMem = append(c.undefMem, [2]int{off + 2, 2}, [2]int{off + 6, 2}, [2]int{off + 10, 2}, [2]int{off + 12, 16})
}

func init() {
	for _, l := range [][]x87Form{x87Arith, x87Compares} {
		for i := range l {
			l[i].near = l[i].kind == "i" || l[i].kind == "m"
		}
	}
	// Memory masks depend on the form; attach them through the shape
	// hook of the state forms.
	for i := range x87State {
		switch x87State[i].name {
		case "fnstenv", "fnsave":
			x87State[i].shape = func(g *gen, f *x87Form, in *insn) { x87Masks(g.c, g.c.fp.memOff) }
		case "fnstenv o16", "fnsave o16":
			// The pointers: FIP, FCS, FDP, FDS (offsets 6-13), as
			// in the 32-bit format.
			x87State[i].shape = func(g *gen, f *x87Form, in *insn) {
				g.c.undefMem = append(g.c.undefMem, [2]int{g.c.fp.memOff + 6, 8})
			}
		}
		if strings.HasSuffix(x87State[i].name, " o16") {
			x87State[i].pfx66 = true
		}
	}
}
