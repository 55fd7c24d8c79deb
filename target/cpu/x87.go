package cpu

import (
	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// The x87 FPU (SDM Vol. 1 ch. 8, Vol. 2 instruction pages). The state is
// c.fpu: the eight physical registers R0-R7 in ST (80-bit little endian),
// the control word, the status word (TOP in bits 11-13), the full 16-bit
// tag word, and the last instruction and data pointers and opcode. The
// arithmetic is in float80.go, the transcendental functions in
// x87trans.go.
//
// Exceptions: each operation collects its flags in an fpCtx; x87Commit
// ORs them into the FSW, sets C1 from the rounding (or the stack fault)
// and recomputes ES and B. When IE, DE or ZE is raised unmasked the
// destination and the stack are left unchanged (SDM Vol. 1 8.5.1-8.5.3);
// unmasked OE/UE deliver the bias-adjusted result to a register and
// store nothing to memory (8.5.4, 8.5.5). The #MF for an unmasked
// exception is raised by the next waiting x87 instruction (SDM Vol. 1
// 8.6, 8.7) when CR0.NE is set. With CR0.NE clear a PC reports the error
// through FERR#/IGNNE# and IRQ 13 (8.7.1); this machine has no such wire,
// so the exception stays pending in the FSW and no #MF is raised (Linux
// sets NE).

// x87Ops are the instructions dispatched to execX87.
var x87Ops = []x86asm.Op{
	x86asm.F2XM1, x86asm.FABS, x86asm.FADD, x86asm.FADDP, x86asm.FBLD, x86asm.FBSTP, x86asm.FCHS,
	x86asm.FCMOVB, x86asm.FCMOVBE, x86asm.FCMOVE, x86asm.FCMOVNB, x86asm.FCMOVNBE, x86asm.FCMOVNE,
	x86asm.FCMOVNU, x86asm.FCMOVU, x86asm.FCOM, x86asm.FCOMI, x86asm.FCOMIP, x86asm.FCOMP, x86asm.FCOMPP,
	x86asm.FCOS, x86asm.FDECSTP, x86asm.FDIV, x86asm.FDIVP, x86asm.FDIVR, x86asm.FDIVRP, x86asm.FFREE,
	x86asm.FFREEP, x86asm.FIADD, x86asm.FICOM, x86asm.FICOMP, x86asm.FIDIV, x86asm.FIDIVR, x86asm.FILD,
	x86asm.FIMUL, x86asm.FINCSTP, x86asm.FIST, x86asm.FISTP, x86asm.FISTTP, x86asm.FISUB, x86asm.FISUBR,
	x86asm.FLD, x86asm.FLD1, x86asm.FLDCW, x86asm.FLDENV, x86asm.FLDL2E, x86asm.FLDL2T, x86asm.FLDLG2,
	x86asm.FLDLN2, x86asm.FLDPI, x86asm.FLDZ, x86asm.FMUL, x86asm.FMULP, x86asm.FNCLEX, x86asm.FNINIT,
	x86asm.FNOP, x86asm.FNSAVE, x86asm.FNSTCW, x86asm.FNSTENV, x86asm.FNSTSW, x86asm.FPATAN, x86asm.FPREM,
	x86asm.FPREM1, x86asm.FPTAN, x86asm.FRNDINT, x86asm.FRSTOR, x86asm.FSCALE, x86asm.FSIN, x86asm.FSINCOS,
	x86asm.FSQRT, x86asm.FST, x86asm.FSTP, x86asm.FSUB, x86asm.FSUBP, x86asm.FSUBR, x86asm.FSUBRP,
	x86asm.FTST, x86asm.FUCOM, x86asm.FUCOMI, x86asm.FUCOMIP, x86asm.FUCOMP, x86asm.FUCOMPP, x86asm.FWAIT,
	x86asm.FXAM, x86asm.FXCH, x86asm.FXTRACT, x86asm.FYL2X, x86asm.FYL2XP1,
}

func (c *CPU) execX87(in *inst) {
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.FWAIT:
		c.checkWait()
		c.x87Pending()
		return
	case x86asm.FNINIT, x86asm.FNCLEX, x86asm.FNSTSW, x86asm.FNSTCW, x86asm.FNSTENV, x86asm.FNSAVE:
		// The no-wait forms: they do not look at a pending exception.
		c.checkX87()
		c.x87Control(in, op)
		return
	case x86asm.FLDCW, x86asm.FLDENV, x86asm.FRSTOR:
		c.checkX87()
		c.x87Pending()
		c.x87Control(in, op)
		return
	}
	c.checkX87()
	c.x87Pending()
	c.x87Exec(in, op)
	c.x87Pointers(in)
}

// x87Pending raises #MF for a pending unmasked exception before a waiting
// instruction runs (SDM Vol. 1 8.6; Vol. 3A 2.5 CR0.NE).
func (c *CPU) x87Pending() {
	if c.fpu.FSTAT&x86.FSWES != 0 && c.cr0&x86.CR0NE != 0 {
		c.raise(x86.VecMF)
	}
}

// x87Pointers records FIP/FCS, FDP/FDS and FOP for a non-control
// instruction (SDM Vol. 1 8.1.8, 8.1.9): the offset of the instruction
// and of its memory operand, their selectors, and the 11 opcode bits
// (low three bits of the first opcode byte, then the ModR/M byte). An
// instruction without a memory operand leaves the data pointer alone.
func (c *CPU) x87Pointers(in *inst) {
	c.fpu.FIOFF = uint32(c.rip)
	c.fpu.FISEG = uint32(c.seg[CS].Sel)
	// The instruction was just fetched: its bytes translate (TLB hits).
	for i := uint64(0); i+1 < uint64(in.len); i++ {
		if b := c.codeByte(c.rip + i); b >= 0xd8 && b <= 0xdf {
			c.fpu.FOP = uint32(b&7)<<8 | uint32(c.codeByte(c.rip+i+1))
			break
		}
	}
	if in.nargs > 0 && in.args[0].kind == argMem {
		c.fpu.FOOFF = uint32(c.ea(in))
		c.fpu.FOSEG = uint32(c.seg[in.mseg].Sel)
	}
}

// codeByte is the byte at offset off in CS, read as a fetch.
func (c *CPU) codeByte(off uint64) byte {
	p := c.xlate(c.lin(CS, off), accFetch)
	if p < uint64(len(c.ram)) {
		return c.ram[p]
	}
	return 0xff
}

// Stack and tag helpers. ST(i) is physical register (TOP+i) mod 8.

func (c *CPU) ftop() int       { return int(c.fpu.FSTAT>>x86.FSWTopShift) & 7 }
func (c *CPU) fphys(i int) int { return (c.ftop() + i) & 7 }
func (c *CPU) setTop(t int) {
	c.fpu.FSTAT = c.fpu.FSTAT&^x86.FSWTop | uint32(t&7)<<x86.FSWTopShift
}
func (c *CPU) fempty(i int) bool {
	return (c.fpu.FTAG>>(2*uint(c.fphys(i))))&3 == x86.FTagEmpty
}
func (c *CPU) fget(i int) ext { return extFromBytes(c.fpu.ST[c.fphys(i)]) }

// fset writes ST(i) and its tag.
func (c *CPU) fset(i int, v ext) {
	p := c.fphys(i)
	c.fpu.ST[p] = v.bytes()
	c.fpu.FTAG = c.fpu.FTAG&^(3<<(2*uint(p))) | tagOf(v)<<(2*uint(p))
}

func (c *CPU) ffree(i int) {
	c.fpu.FTAG |= 3 << (2 * uint(c.fphys(i)))
}

func (c *CPU) fpop() {
	c.ffree(0)
	c.setTop(c.ftop() + 1)
}

func (c *CPU) fpush(v ext) {
	c.setTop(c.ftop() - 1)
	c.fset(0, v)
}

// tagOf is the tag the FPU gives a register holding v (SDM Vol. 1 8.1.7).
func tagOf(v ext) uint32 {
	switch {
	case v.isZero():
		return x86.FTagZero
	case v.exp() == extExpMax || v.exp() == 0 || v.m&jBit == 0:
		return x86.FTagSpecial
	}
	return x86.FTagValid
}

// X87FullTag expands the abridged tag byte of FXSAVE (1 = not empty, per
// physical register) into the full tag word, each non-empty register
// tagged by its contents (SDM Vol. 1 10.5.1.1). The SSE side's FXRSTOR
// uses it; x87AbridgedTag is the other direction.
func x87FullTag(abridged uint8, regs *[8][10]byte) uint32 {
	var tw uint32
	for p := 0; p < 8; p++ {
		t := uint32(x86.FTagEmpty)
		if abridged&(1<<uint(p)) != 0 {
			t = tagOf(extFromBytes(regs[p]))
		}
		tw |= t << (2 * uint(p))
	}
	return tw
}

// x87AbridgedTag is FXSAVE's abridged tag byte for a full tag word.
func x87AbridgedTag(full uint32) uint8 {
	var b uint8
	for p := 0; p < 8; p++ {
		if (full>>(2*uint(p)))&3 != x86.FTagEmpty {
			b |= 1 << uint(p)
		}
	}
	return b
}

func (c *CPU) fctx() fpCtx { return newFPCtx(uint16(c.fpu.FCTRL)) }

// x87UpdateES sets ES and B when an unmasked exception flag is set and
// clears them otherwise (SDM Vol. 1 8.1.3.1).
func (c *CPU) x87UpdateES() {
	if c.fpu.FSTAT&^c.fpu.FCTRL&x86.FSWExceptions != 0 {
		c.fpu.FSTAT |= x86.FSWES | x86.FSWB
	} else {
		c.fpu.FSTAT &^= x86.FSWES | x86.FSWB
	}
}

// x87Commit folds the flags of f into the FSW: the sticky exception
// flags, C1 (rounded up, or the stack-fault direction) and ES/B.
func (c *CPU) x87Commit(f *fpCtx) {
	c.fpu.FSTAT = c.fpu.FSTAT&^x86.FSWC1 | uint32(f.flags)
	if f.up {
		c.fpu.FSTAT |= x86.FSWC1
	}
	c.x87UpdateES()
}

// ok reports whether the operation may write its result: no unmasked
// IE, DE or ZE (SDM Vol. 1 8.5).
func (f *fpCtx) ok() bool { return !f.unmasked(x86.FSWIE | x86.FSWDE | x86.FSWZE) }

// stackFault records a stack overflow (push onto a full register) or
// underflow (an empty operand): IE with SF, C1 = overflow (SDM Vol. 1
// 8.5.1.1).
func (c *CPU) stackFault(f *fpCtx, overflow bool) {
	f.flags |= x86.FSWIE
	c.fpu.FSTAT |= x86.FSWSF
	f.up = overflow
}

// fread returns ST(i), or the indefinite after a stack underflow.
func (c *CPU) fread(f *fpCtx, i int) (ext, bool) {
	if c.fempty(i) {
		c.stackFault(f, false)
		return indefinite(), false
	}
	return c.fget(i), true
}

// canPush checks that ST(7) is empty; otherwise it is a stack overflow.
func (c *CPU) canPush(f *fpCtx) bool {
	if !c.fempty(7) {
		c.stackFault(f, true)
		return false
	}
	return true
}

// pushResult pushes v, or after an overflow the masked response (the
// indefinite) when IE is masked.
func (c *CPU) pushResult(f *fpCtx, v ext) {
	if !c.canPush(f) {
		if !f.ok() {
			return
		}
		v = indefinite()
	}
	if f.ok() {
		c.fpush(v)
	}
}

// memReal reads the x87 instruction's real memory operand as an extended
// value: m32/m64 (x86asm's MemBytes), else m80 (FLD m80, whose MemBytes
// is 0). SNaNs are not quieted here: the operation's
// NaN rules see them (SDM Vol. 1 Table 4-7); quiet makes them QNaNs with
// IE, as FLD does.
func (c *CPU) memReal(f *fpCtx, in *inst, quiet bool) ext {
	lin := c.memAddr(in)
	switch in.msize {
	case 4:
		return f.fromBinary(c.read(lin, 4), 23, 8, quiet)
	case 8:
		return f.fromBinary(c.read(lin, 8), 52, 11, quiet)
	}
	return c.read80(lin)
}

// memInt reads an m16/m32/m64 integer operand (FIADD..., FILD, FICOM).
func (c *CPU) memInt(in *inst) ext {
	v := c.read(c.memAddr(in), in.msize)
	return extFromInt(int64(signExtend(v, in.msize)))
}

func (c *CPU) read80(lin uint64) ext {
	m := c.read(lin, 8)
	se := c.read(lin+8, 2)
	return ext{se: uint16(se), m: m}
}

func (c *CPU) write80(lin uint64, v ext) {
	c.checkWrite(lin, 10)
	c.write(lin, 8, v.m)
	c.write(lin+8, 2, uint64(v.se))
}

// x87Arith is FADD FSUB FSUBR FMUL FDIV FDIVR and their P and I forms:
// ST(0) op m32/m64/m16int/m32int, ST(0) op ST(i), ST(i) op ST(0) (SDM Vol.
// 2 FADD...). An empty operand is a stack underflow whose masked response
// is the indefinite in the destination.
func (c *CPU) x87Arith(in *inst, op x86asm.Op) {
	f := c.fctx()
	dst, src := 0, 0
	var a, b ext
	okA := true
	pop := false
	switch op {
	case x86asm.FADDP, x86asm.FSUBP, x86asm.FSUBRP, x86asm.FMULP, x86asm.FDIVP, x86asm.FDIVRP:
		pop = true
	}
	if in.nargs > 0 && in.args[0].kind == argMem {
		switch op {
		case x86asm.FIADD, x86asm.FISUB, x86asm.FISUBR, x86asm.FIMUL, x86asm.FIDIV, x86asm.FIDIVR:
			b = c.memInt(in)
		default:
			b = c.memReal(&f, in, false)
		}
		a, okA = c.fread(&f, 0)
	} else {
		if in.nargs >= 2 {
			dst, src = int(in.args[0].reg), int(in.args[1].reg)
		} else if in.nargs == 1 {
			dst, src = 0, int(in.args[0].reg)
		} else {
			dst, src = 1, 0
		}
		var okB bool
		a, okA = c.fread(&f, dst)
		b, okB = c.fread(&f, src)
		okA = okA && okB
	}
	var r ext
	if !okA {
		r = indefinite()
	} else {
		// A zero divide outranks the denormal memory operand (as the
		// host has it: denormal / 0 and 0 \ denormal raise ZE alone).
		finite := func(x ext) bool { return !x.isZero() && !x.isInf() && !x.isNaN() && !x.unsupported() }
		zdiv := false
		switch op {
		case x86asm.FDIV, x86asm.FDIVP, x86asm.FIDIV:
			zdiv = b.isZero() && finite(a)
		case x86asm.FDIVR, x86asm.FDIVRP, x86asm.FIDIVR:
			zdiv = a.isZero() && finite(b)
		}
		f.memDenormal(a.isNaN() || b.isNaN() || a.unsupported() || zdiv)
		if f.unmasked(x86.FSWDE) {
			op = 0 // unmasked #D: the operation does not proceed
		}
		switch op {
		case x86asm.FADD, x86asm.FADDP, x86asm.FIADD:
			r = f.add(a, b, false)
		case x86asm.FSUB, x86asm.FSUBP, x86asm.FISUB:
			r = f.add(a, b, true)
		case x86asm.FSUBR, x86asm.FSUBRP, x86asm.FISUBR:
			r = f.add(b, a, true)
		case x86asm.FMUL, x86asm.FMULP, x86asm.FIMUL:
			r = f.mul(a, b)
		case x86asm.FDIV, x86asm.FDIVP, x86asm.FIDIV:
			r = f.div(a, b)
		case x86asm.FDIVR, x86asm.FDIVRP, x86asm.FIDIVR:
			r = f.div(b, a)
		}
	}
	if f.ok() {
		c.fset(dst, r)
		if pop {
			c.fpop()
		}
	}
	c.x87Commit(&f)
}

// setCC sets C3 C2 C0 from a comparison and clears C1 unless a stack
// fault set it (SDM Vol. 2 FCOM, Table 3-21).
func (c *CPU) setCC(r cmpResult) {
	var cc uint32
	switch r {
	case cmpLess:
		cc = x86.FSWC0
	case cmpEqual:
		cc = x86.FSWC3
	case cmpUnordered:
		cc = x86.FSWC0 | x86.FSWC2 | x86.FSWC3
	}
	c.fpu.FSTAT = c.fpu.FSTAT&^(x86.FSWC0|x86.FSWC2|x86.FSWC3) | cc
}

func (c *CPU) x87Compare(in *inst, op x86asm.Op) {
	f := c.fctx()
	var b ext
	okB := true
	quiet := false
	pops := 0
	eflags := false
	switch op {
	case x86asm.FUCOM, x86asm.FUCOMP, x86asm.FUCOMPP, x86asm.FUCOMI, x86asm.FUCOMIP:
		quiet = true
	}
	switch op {
	case x86asm.FCOMP, x86asm.FUCOMP, x86asm.FICOMP, x86asm.FCOMIP, x86asm.FUCOMIP:
		pops = 1
	case x86asm.FCOMPP, x86asm.FUCOMPP:
		pops = 2
	}
	switch op {
	case x86asm.FCOMI, x86asm.FCOMIP, x86asm.FUCOMI, x86asm.FUCOMIP:
		eflags = true
	}
	switch {
	case op == x86asm.FTST:
		b = ext{}
	case op == x86asm.FICOM || op == x86asm.FICOMP:
		b = c.memInt(in)
	case in.nargs > 0 && in.args[0].kind == argMem:
		b = c.memReal(&f, in, false)
	case in.nargs == 0:
		b, okB = c.fread(&f, 1)
	default:
		b, okB = c.fread(&f, int(in.args[in.nargs-1].reg))
	}
	a, okA := c.fread(&f, 0)
	r := cmpUnordered
	if okA && okB {
		r = f.compare(a, b, quiet)
		f.memDenormal(a.isNaN() || b.isNaN())
	}
	// The condition codes (or ZF PF CF) are written even when an unmasked
	// exception keeps the operands: only the pops are skipped (as the
	// host does; SDM Vol. 1 8.5.1.2 leaves TOP and the operands alone).
	if eflags {
		var fl uint64
		switch r {
		case cmpLess:
			fl = x86.FlagCF
		case cmpEqual:
			fl = x86.FlagZF
		case cmpUnordered:
			fl = x86.FlagZF | x86.FlagPF | x86.FlagCF
		}
		c.setFlagsEager(arithFlags, fl)
	} else {
		c.setCC(r)
	}
	if f.ok() {
		for i := 0; i < pops; i++ {
			c.fpop()
		}
	}
	c.x87Commit(&f)
}

// fxam classifies ST(0) into C3 C2 C0, its sign into C1 (SDM Vol. 2
// FXAM, Table 3-47); an empty register classifies as empty.
func (c *CPU) fxam() {
	c.fpu.FSTAT = c.fpu.FSTAT&^x86.FSWCond | fxamCC(c.fget(0), c.fempty(0))
}

func fxamCC(v ext, empty bool) uint32 {
	var cc uint32
	switch {
	case empty:
		cc = x86.FSWC3 | x86.FSWC0
	case v.unsupported():
		cc = 0
	case v.isNaN():
		cc = x86.FSWC0
	case v.isInf():
		cc = x86.FSWC2 | x86.FSWC0
	case v.isZero():
		cc = x86.FSWC3
	case v.exp() == 0:
		cc = x86.FSWC3 | x86.FSWC2
	default:
		cc = x86.FSWC2
	}
	if v.neg() {
		cc |= x86.FSWC1
	}
	return cc
}

func (c *CPU) x87Exec(in *inst, op x86asm.Op) {
	switch op {
	case x86asm.FADD, x86asm.FADDP, x86asm.FIADD, x86asm.FSUB, x86asm.FSUBP, x86asm.FISUB,
		x86asm.FSUBR, x86asm.FSUBRP, x86asm.FISUBR, x86asm.FMUL, x86asm.FMULP, x86asm.FIMUL,
		x86asm.FDIV, x86asm.FDIVP, x86asm.FIDIV, x86asm.FDIVR, x86asm.FDIVRP, x86asm.FIDIVR:
		c.x87Arith(in, op)
	case x86asm.FCOM, x86asm.FCOMP, x86asm.FCOMPP, x86asm.FUCOM, x86asm.FUCOMP, x86asm.FUCOMPP,
		x86asm.FICOM, x86asm.FICOMP, x86asm.FTST, x86asm.FCOMI, x86asm.FCOMIP, x86asm.FUCOMI, x86asm.FUCOMIP:
		c.x87Compare(in, op)
	case x86asm.FXAM:
		c.fxam()
	case x86asm.FLD:
		c.fld(in)
	case x86asm.FILD:
		f := c.fctx()
		v := c.memInt(in)
		c.pushResult(&f, v)
		c.x87Commit(&f)
	case x86asm.FBLD:
		f := c.fctx()
		v := c.bcdLoad(c.memAddr(in))
		c.pushResult(&f, v)
		c.x87Commit(&f)
	case x86asm.FLD1, x86asm.FLDZ, x86asm.FLDPI, x86asm.FLDL2E, x86asm.FLDL2T, x86asm.FLDLG2, x86asm.FLDLN2:
		f := c.fctx()
		v := x87Const(op, f.rc)
		c.pushResult(&f, v)
		c.x87Commit(&f)
	case x86asm.FST, x86asm.FSTP:
		c.fst(in, op == x86asm.FSTP)
	case x86asm.FIST, x86asm.FISTP, x86asm.FISTTP:
		c.fist(in, op)
	case x86asm.FBSTP:
		c.fbstp(in)
	case x86asm.FXCH:
		c.fxch(int(in.args[0].reg))
	case x86asm.FCHS, x86asm.FABS:
		f := c.fctx()
		v, ok := c.fread(&f, 0)
		if ok {
			if op == x86asm.FCHS {
				v.se ^= 0x8000
			} else {
				v.se &^= 0x8000
			}
		}
		if f.ok() {
			c.fset(0, v)
		}
		c.x87Commit(&f)
	case x86asm.FSQRT, x86asm.FRNDINT:
		f := c.fctx()
		v, ok := c.fread(&f, 0)
		if ok {
			if op == x86asm.FSQRT {
				v = f.sqrt(v)
			} else {
				v = f.rndint(v)
			}
		}
		if f.ok() {
			c.fset(0, v)
		}
		c.x87Commit(&f)
	case x86asm.FSCALE:
		c.fscale()
	case x86asm.FXTRACT:
		c.fxtract()
	case x86asm.FPREM, x86asm.FPREM1:
		c.fprem(op == x86asm.FPREM1)
	case x86asm.FINCSTP, x86asm.FDECSTP:
		if op == x86asm.FINCSTP {
			c.setTop(c.ftop() + 1)
		} else {
			c.setTop(c.ftop() - 1)
		}
		c.fpu.FSTAT &^= x86.FSWC1
	case x86asm.FFREE:
		c.ffree(int(in.args[0].reg))
	case x86asm.FFREEP:
		// FFREE ST(i), then pop (AMD64 APM FFREEP; Intel executes it too)
		c.ffree(int(in.args[0].reg))
		c.fpop()
	case x86asm.FNOP:
	case x86asm.FCMOVB, x86asm.FCMOVBE, x86asm.FCMOVE, x86asm.FCMOVNB, x86asm.FCMOVNBE, x86asm.FCMOVNE,
		x86asm.FCMOVNU, x86asm.FCMOVU:
		c.fcmov(in, op)
	case x86asm.F2XM1, x86asm.FYL2X, x86asm.FYL2XP1, x86asm.FPTAN, x86asm.FPATAN, x86asm.FSIN,
		x86asm.FCOS, x86asm.FSINCOS:
		c.x87Trans(op)
	default:
		c.undefined(in)
	}
}

func (c *CPU) fld(in *inst) {
	f := c.fctx()
	var v ext
	if in.args[0].kind == argMem {
		v = c.memReal(&f, in, true)
	} else {
		v, _ = c.fread(&f, int(in.args[0].reg))
	}
	if c.fempty(7) {
		f.memDenormal(false) // a stack overflow takes precedence
	}
	c.pushResult(&f, v)
	c.x87Commit(&f)
}

// fst is FST/FSTP to m32, m64, m80 or ST(i) (SDM Vol. 2 FST/FSTP).
func (c *CPU) fst(in *inst, pop bool) {
	f := c.fctx()
	v, ok := c.fread(&f, 0)
	if in.args[0].kind == argMem {
		lin := c.memAddr(in)
		switch in.msize {
		case 4, 8:
			var bits uint64
			if in.msize == 4 {
				if ok {
					bits = f.toBinary(v, 23, 8)
				} else {
					bits = 0xffc00000
				}
			} else {
				if ok {
					bits = f.toBinary(v, 52, 11)
				} else {
					bits = 0xfff8000000000000
				}
			}
			if !f.ok() || f.unmasked(x86.FSWOE|x86.FSWUE) {
				c.x87Commit(&f)
				return
			}
			c.write(lin, in.msize, bits)
		default:
			if !f.ok() {
				c.x87Commit(&f)
				return
			}
			c.write80(lin, v)
		}
	} else if f.ok() {
		c.fset(int(in.args[0].reg), v)
	}
	if f.ok() && pop {
		c.fpop()
	}
	c.x87Commit(&f)
}

func (c *CPU) fist(in *inst, op x86asm.Op) {
	f := c.fctx()
	v, ok := c.fread(&f, 0)
	rc := f.rc
	if op == x86asm.FISTTP {
		rc = fpRZ
	}
	res := uint64(1) << (8*uint(in.msize) - 1)
	if ok {
		res = f.toInt(v, in.msize, rc)
	}
	if !f.ok() {
		c.x87Commit(&f)
		return
	}
	c.write(c.memAddr(in), in.msize, res)
	if op != x86asm.FIST {
		c.fpop()
	}
	c.x87Commit(&f)
}

func (c *CPU) fxch(i int) {
	f := c.fctx()
	// An empty register reads as the indefinite (masked underflow).
	a, _ := c.fread(&f, 0)
	b, _ := c.fread(&f, i)
	if f.ok() {
		c.fset(0, b)
		c.fset(i, a)
	}
	c.x87Commit(&f)
}

func (c *CPU) fcmov(in *inst, op x86asm.Op) {
	var cond bool
	switch op {
	case x86asm.FCMOVB:
		cond = c.cf()
	case x86asm.FCMOVE:
		cond = c.zf()
	case x86asm.FCMOVBE:
		cond = c.cf() || c.zf()
	case x86asm.FCMOVU:
		cond = c.pf()
	case x86asm.FCMOVNB:
		cond = !c.cf()
	case x86asm.FCMOVNE:
		cond = !c.zf()
	case x86asm.FCMOVNBE:
		cond = !c.cf() && !c.zf()
	case x86asm.FCMOVNU:
		cond = !c.pf()
	}
	f := c.fctx()
	src := int(in.args[in.nargs-1].reg)
	_, ok0 := c.fread(&f, 0)
	v, ok := c.fread(&f, src)
	if !ok0 || !ok {
		// Stack underflow: the masked response puts the indefinite in
		// ST(0) (SDM Vol. 2 FCMOVcc, #IS).
		if f.ok() {
			c.fset(0, indefinite())
		}
	} else if cond {
		c.fset(0, v)
	}
	c.x87Commit(&f)
}

// fscale is FSCALE: ST(0) * 2^trunc(ST(1)) (SDM Vol. 2 FSCALE, Table 3-43).
func (c *CPU) fscale() {
	f := c.fctx()
	a, okA := c.fread(&f, 0)
	b, okB := c.fread(&f, 1)
	var r ext
	switch {
	case !okA || !okB:
		r = indefinite()
	default:
		r = f.scale(a, b)
	}
	if f.ok() {
		c.fset(0, r)
	}
	c.x87Commit(&f)
}

func (f *fpCtx) scale(a, b ext) ext {
	if r, ok := f.special2(a, b); ok {
		return r
	}
	if b.isInf() {
		switch {
		case a.isZero() && !b.neg(), a.isInf() && b.neg():
			return f.invalid()
		case a.isZero() || a.isInf():
			return a
		case b.neg():
			return zeroExt(a.neg())
		}
		return infExt(a.neg())
	}
	if a.isZero() || a.isInf() {
		return a
	}
	n := int64(0)
	if !b.isZero() {
		mag, over, _, _ := f.roundInt(b, fpRZ)
		if over || mag > 1<<20 {
			mag = 1 << 20
		}
		n = int64(mag)
		if b.neg() {
			n = -n
		}
	}
	e, m := a.norm()
	return f.packP(a.neg(), int32(int64(e)+n), m, 0, 64)
}

// fxtract is FXTRACT: ST(0) becomes the unbiased exponent and the
// significand (exponent 0) is pushed (SDM Vol. 2 FXTRACT).
func (c *CPU) fxtract() {
	f := c.fctx()
	a, ok := c.fread(&f, 0)
	if !ok {
		if f.ok() {
			c.fset(0, indefinite())
			c.pushResult(&f, indefinite())
		}
		c.x87Commit(&f)
		return
	}
	if !c.canPush(&f) {
		if f.ok() {
			c.fset(0, indefinite())
			c.fpush(indefinite())
		}
		c.x87Commit(&f)
		return
	}
	ex, sig := f.xtract(a)
	if f.ok() {
		c.fset(0, ex)
		c.fpush(sig)
	}
	c.x87Commit(&f)
}

// xtract returns FXTRACT's exponent and significand of a.
func (f *fpCtx) xtract(a ext) (ex, sig ext) {
	switch {
	case a.unsupported():
		ex, sig = f.invalid(), indefinite()
	case a.isNaN():
		ex = f.propagate(a, a)
		sig = ex
	case a.isInf():
		ex, sig = infExt(false), a
	case a.isZero():
		f.flags |= x86.FSWZE
		ex, sig = infExt(true), a
	default:
		if a.isDenorm() {
			f.flags |= x86.FSWDE
		}
		e, m := a.norm()
		ex = extFromInt(int64(e) - extBias)
		sig = ext{se: extBias, m: m}.signed(a.neg())
	}
	return ex, sig
}

// x87Control runs the control instructions, which leave the instruction
// and data pointers alone.
func (c *CPU) x87Control(in *inst, op x86asm.Op) {
	switch op {
	case x86asm.FNINIT:
		c.fpu.FCTRL = x86.FCWDefault
		c.fpu.FSTAT = 0
		c.fpu.FTAG = 0xffff
		c.fpu.FISEG, c.fpu.FIOFF, c.fpu.FOSEG, c.fpu.FOOFF, c.fpu.FOP = 0, 0, 0, 0, 0
	case x86asm.FNCLEX:
		c.fpu.FSTAT &^= x86.FSWExceptions | x86.FSWSF | x86.FSWES | x86.FSWB
	case x86asm.FNSTSW:
		if in.args[0].kind == argMem {
			c.write(c.memAddr(in), 2, uint64(c.fpu.FSTAT&0xffff))
		} else {
			c.setReg(RAX, 2, uint64(c.fpu.FSTAT&0xffff))
		}
	case x86asm.FNSTCW:
		c.write(c.memAddr(in), 2, uint64(c.fpu.FCTRL&0xffff))
	case x86asm.FLDCW:
		c.fpu.FCTRL = fcwLoad(c.read(c.memAddr(in), 2))
		c.x87UpdateES()
	case x86asm.FNSTENV:
		lin := c.memAddr(in)
		c.storeEnv(in, lin)
		c.fpu.FCTRL |= x86.FSWExceptions
		c.x87UpdateES()
	case x86asm.FLDENV:
		c.loadEnv(in, c.memAddr(in))
	case x86asm.FNSAVE:
		lin := c.memAddr(in)
		n := c.envSize(in)
		c.checkWrite(lin, n+80)
		c.storeEnv(in, lin)
		for i := 0; i < 8; i++ {
			c.write80(lin+uint64(n)+10*uint64(i), c.fget(i))
		}
		c.x87Control(in, x86asm.FNINIT)
	case x86asm.FRSTOR:
		lin := c.memAddr(in)
		n := c.envSize(in)
		var regs [8]ext
		for i := range regs {
			regs[i] = c.read80(lin + uint64(n) + 10*uint64(i))
		}
		c.loadEnv(in, lin)
		for i := range regs {
			c.fpu.ST[c.fphys(i)] = regs[i].bytes()
		}
		c.retag()
	}
}

// fcwLoad is the control word as loaded: the reserved bits 7 and 13-15
// read as 0 and bit 6 as 1 (as the host keeps them: FLDCW 0xffff reads
// back 0x1f7f).
func fcwLoad(v uint64) uint32 {
	return uint32(v)&0x1f3f | 0x40
}

// envSize is the size of the FSTENV image: 28 bytes with a 32-bit (or
// 64-bit) operand size, 14 with 16 (SDM Vol. 1 8.1.10, Figures 8-9, 8-10).
func (c *CPU) envSize(in *inst) uint8 {
	if in.osize == 2 {
		return 14
	}
	return 28
}

// fullTag is the tag word as FSTENV/FSAVE store it: each non-empty
// register tagged from its contents.
func (c *CPU) fullTag() uint32 {
	return x87FullTag(x87AbridgedTag(c.fpu.FTAG), &c.fpu.ST)
}

// retag recomputes the non-empty tags from the register contents (what
// FLDENV/FRSTOR do with a loaded tag word: only "empty" is taken as is).
func (c *CPU) retag() {
	c.fpu.FTAG = c.fullTag()
}

// storeEnv writes the protected-mode environment image (SDM Vol. 1
// Figures 8-9 and 8-10); the reserved upper halves of the 32-bit format
// are written as ones, as Intel and AMD processors do.
func (c *CPU) storeEnv(in *inst, lin uint64) {
	fp := &c.fpu
	if c.envSize(in) == 14 {
		c.checkWrite(lin, 14)
		vals := [7]uint32{fp.FCTRL, fp.FSTAT, c.fullTag(), fp.FIOFF, fp.FISEG, fp.FOOFF, fp.FOSEG}
		for i, v := range vals {
			c.write(lin+2*uint64(i), 2, uint64(v&0xffff))
		}
		return
	}
	c.checkWrite(lin, 28)
	vals := [7]uint32{
		0xffff0000 | fp.FCTRL&0xffff, 0xffff0000 | fp.FSTAT&0xffff, 0xffff0000 | c.fullTag()&0xffff,
		fp.FIOFF, fp.FISEG&0xffff | (fp.FOP&0x7ff)<<16, fp.FOOFF, 0xffff0000 | fp.FOSEG&0xffff,
	}
	for i, v := range vals {
		c.write(lin+4*uint64(i), 4, uint64(v))
	}
}

func (c *CPU) loadEnv(in *inst, lin uint64) {
	var v [7]uint32
	if c.envSize(in) == 14 {
		for i := range v {
			v[i] = uint32(c.read(lin+2*uint64(i), 2))
		}
	} else {
		for i := range v {
			v[i] = uint32(c.read(lin+4*uint64(i), 4))
		}
	}
	fp := &c.fpu
	fp.FCTRL = fcwLoad(uint64(v[0]))
	fp.FSTAT = v[1] & 0xffff
	fp.FTAG = v[2] & 0xffff
	fp.FIOFF = v[3]
	fp.FISEG = v[4] & 0xffff
	if c.envSize(in) == 28 {
		fp.FOP = v[4] >> 16 & 0x7ff
	}
	fp.FOOFF = v[5]
	fp.FOSEG = v[6] & 0xffff
	c.retag()
	c.x87UpdateES()
}

// bcdLoad reads an 18-digit packed BCD integer (SDM Vol. 1 4.7, FBLD);
// digits above 9 give an undefined result (here: their binary weight).
func (c *CPU) bcdLoad(lin uint64) ext {
	lo := c.read(lin, 8)
	hi := c.read(lin+8, 2)
	var v int64
	for i := 8; i >= 0; i-- {
		var b uint64
		if i == 8 {
			b = hi & 0xff
		} else {
			b = lo >> (8 * uint(i)) & 0xff
		}
		v = v*100 + int64(b>>4)*10 + int64(b&15)
	}
	if hi&0x8000 != 0 {
		if v == 0 {
			return zeroExt(true)
		}
		v = -v
	}
	return extFromInt(v)
}

// fbstp stores ST(0) as packed BCD, rounded by RC, and pops; beyond 18
// digits (or a NaN, infinity) it is invalid and the masked response is
// the BCD indefinite (SDM Vol. 2 FBSTP, Vol. 1 Table 4-4).
func (c *CPU) fbstp(in *inst) {
	f := c.fctx()
	lin := c.memAddr(in)
	v, ok := c.fread(&f, 0)
	indef := [2]uint64{0xc000000000000000, 0xffff}
	out := indef
	if ok {
		switch {
		case v.unsupported() || v.isNaN() || v.isInf():
			f.flags |= x86.FSWIE
		case v.isZero():
			out = [2]uint64{0, 0}
			if v.neg() {
				out[1] = 0x8000
			}
		default:
			// a denormal source raises no DE (FBSTP's exceptions are
			// #IS, #IA and #P, SDM Vol. 2 FBSTP; as the host does)
			mag, over, inexact, up := f.roundInt(v, f.rc)
			if over || mag >= 1000000000000000000 {
				f.flags |= x86.FSWIE
				break
			}
			if inexact {
				f.flags |= x86.FSWPE
			}
			f.up = up
			var lo, hi uint64
			for i := 0; i < 18; i++ {
				d := mag % 10
				mag /= 10
				if i < 16 {
					lo |= d << (4 * uint(i))
				} else {
					hi |= d << (4 * uint(i-16))
				}
			}
			if v.neg() {
				hi |= 0x8000
			}
			out = [2]uint64{lo, hi}
		}
	}
	if !f.ok() {
		c.x87Commit(&f)
		return
	}
	c.checkWrite(lin, 10)
	c.write(lin, 8, out[0])
	c.write(lin+8, 2, out[1])
	c.fpop()
	c.x87Commit(&f)
}
