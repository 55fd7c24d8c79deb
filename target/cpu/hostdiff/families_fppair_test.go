package hostdiff

// fp-pair: an instruction that changes the FP state the next one
// depends on, followed by that next one: the rounding and flush modes
// after LDMXCSR or FLDCW, the state FXRSTOR loads, TOP after FINCSTP,
// FDECSTP, FXCH or FFREE, the x87 state after an MMX instruction, and
// the classic consumers of FP compare results (FNSTSW AX; SAHF after
// FCOM, SETcc after COMISS). An emulator that caches a mode or
// evaluates the status lazily takes paths here that one instruction
// from a freshly set state does not. The second instruction is a
// register form, so it changes no input of the first one's address;
// the condition codes either leaves undefined stay masked (the union of
// both).

import (
	"strings"

	"vmapstack/target/x86"
)

var (
	// Register forms of the SSE arithmetic, without the approximations
	// (their tolerance is computed from the inputs before the first
	// instruction).
	pairSSEArith = filterSSE(sseArith, func(f sseForm) bool {
		return !strings.HasPrefix(f.name, "rcp") && !strings.HasPrefix(f.name, "rsqrt")
	})
	pairMMX      = filterSSE(sseInt, func(f sseForm) bool { return f.reg == kM && f.rm == kM })
	pairX87Arith = filterX87(x87Arith, func(f x87Form) bool { return f.kind == "i" })
	pairX87Stack = filterX87(x87Misc, func(f x87Form) bool {
		return f.name == "fincstp" || f.name == "fdecstp" || f.name == "fxch" || f.name == "ffree"
	})
	pairX87Mode = filterX87(x87State, func(f x87Form) bool {
		return f.name == "fldcw" || f.name == "frstor" || f.name == "fldenv"
	})
)

// filterSSE keeps the forms keep accepts, as register forms.
func filterSSE(forms []sseForm, keep func(sseForm) bool) []sseForm {
	var out []sseForm
	for _, f := range forms {
		if keep(f) && !f.memOnly && f.reg != kG && f.rm != kG {
			f.mem = 0
			out = append(out, f)
		}
	}
	return out
}

func filterX87(forms []x87Form, keep func(x87Form) bool) []x87Form {
	var out []x87Form
	for _, f := range forms {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

func (g *gen) fpPair() (*insn, string, bool) {
	type step func() (*insn, string, bool)
	sse := func(forms []sseForm) step { return func() (*insn, string, bool) { return g.sseFamily(forms) } }
	x87 := func(forms []x87Form) step { return func() (*insn, string, bool) { return g.x87Family(forms) } }
	var first, second step
	switch g.r.Intn(8) {
	case 0:
		first, second = func() (*insn, string, bool) { return g.sseStateOp(0) }, sse(pairSSEArith) // LDMXCSR
	case 1:
		first, second = func() (*insn, string, bool) { return g.sseStateOp(5) }, sse(pairSSEArith) // FXRSTOR
	case 2:
		first, second = x87(pairX87Mode), x87(pairX87Arith)
	case 3:
		first, second = x87(pairX87Stack), x87(pairX87Arith)
	case 4:
		// An MMX instruction, then x87 code: EMMS and a load, or a push
		// onto the now full stack (a masked stack overflow). Nothing
		// computes with the MMX values, which need not be canonical
		// 80-bit encodings.
		first = sse(pairMMX)
		second = func() (*insn, string, bool) {
			in := newInsn()
			if g.chance(2) {
				in.op = []byte{0xd9, 0xee} // FLDZ
				g.c.fp.undefFSW |= undefC023
				return in, "fldz", true
			}
			in.op = []byte{0x0f, 0x77, 0xd9, 0xe8} // EMMS; FLD1
			g.c.fp.undefFSW |= undefC023
			return in, "emms ; fld1", true
		}
	case 5:
		return g.fcomStatus()
	default:
		return g.comisSetcc()
	}
	in1, n1, ok := first()
	if !ok {
		return nil, "", false
	}
	// FLDENV can make an empty register valid with the bits it held,
	// and the arithmetic after it computes with them: only canonical
	// encodings then (see f80).
	s := &g.c.fp.in
	for i := range s.st {
		if strings.HasPrefix(n1, "fldenv") && !canonical(s.st[i]) {
			s.st[i] = g.f80()
		}
	}
	u := g.c.fp.undefFSW
	in2, n2, ok := second()
	if !ok {
		return nil, "", false
	}
	g.c.fp.undefFSW |= u
	code2, err := in2.encode()
	if err != nil {
		return nil, "", false
	}
	in1.tail = append(code2, in1.tail...)
	return in1, n1 + " ; " + n2, true
}

// fcomStatus: an x87 compare, FNSTSW AX, SAHF: how compiled code branched
// on x87 compares before FCOMI. SAHF loads C0, C2, C3 into CF, PF, ZF
// (and TOP's low bit into AF); a condition code the compare leaves
// undefined makes RAX and its flag undefined.
func (g *gen) fcomStatus() (*insn, string, bool) {
	in, name, ok := g.x87Family(x87Compares)
	if !ok {
		return nil, "", false
	}
	in.tail = append([]byte{0xdf, 0xe0, 0x9e}, in.tail...) // FNSTSW AX; SAHF
	if u := g.c.fp.undefFSW & x86.FSWCond; u != 0 {
		g.c.undefRegs |= 1 << rAX
		for _, m := range []struct {
			c    uint16
			flag uint64
		}{{x86.FSWC0, x86.FlagCF}, {x86.FSWC2, x86.FlagPF}, {x86.FSWC3, x86.FlagZF}} {
			if u&m.c != 0 {
				g.c.undefFlags |= m.flag
			}
		}
	}
	return in, name + " ; fnstsw ax ; sahf", true
}

// comisSetcc: COMISS/COMISD/UCOMISS/UCOMISD and a SETcc of their result
// (every flag they write is defined).
func (g *gen) comisSetcc() (*insn, string, bool) {
	in, name, ok := g.sseFamily(sseCompare)
	if !ok {
		return nil, "", false
	}
	cc := g.r.Intn(16)
	set := newInsn()
	set.op = []byte{0x0f, byte(0x90 + cc)}
	set.modrm, set.reg, set.regExt = true, 0, true
	set.rm, set.rmByte = operand{reg: g.r.Intn(16)}, true
	code, err := set.encode()
	if err != nil {
		return nil, "", false
	}
	in.tail = append(code, in.tail...)
	return in, name + " ; set" + "0123456789abcdef"[cc:cc+1], true
}
