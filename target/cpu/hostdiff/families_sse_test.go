package hostdiff

// SSE, SSE2, SSE3 and MMX families: every instruction of the 0F opcode
// map these extensions define (SDM Vol. 2, Appendix A opcode map, Vol. 1
// ch. 9-12), in register and memory forms, from the random FP state of
// fpgen_test.go. They are all defined exactly by the SDM except what the
// generator marks: the approximate reciprocals (rcp). Every SIMD
// floating-point exception is masked (MXCSR[12:7] set), so none faults.

import (
	"encoding/binary"
	"fmt"
	"math"

	"vmapstack/target/x86"
)

// Operand kinds of an SSE form.
const (
	kX = iota + 1 // XMM register
	kM            // MMX register
	kG            // general-purpose register (32-bit, 64-bit with w)
)

// sseForm is one instruction form: 0F op with a mandatory prefix, ModRM
// reg and rm operands, the size of its memory form and whether that one
// must be 16-byte aligned (legacy SSE m128 operands other than the
// explicitly unaligned MOVUPS/MOVUPD/MOVDQU/LDDQU: SDM Vol. 1 11.4.1,
// "#GP(0) ... If a memory operand is not aligned on a 16-byte boundary").
type sseForm struct {
	name    string
	pfx     byte
	op      byte
	reg, rm int // operand kinds; reg 0: ext is a /digit
	ext     int
	mem     int // memory-form size in bytes, 0: register form only
	memOnly bool
	align   bool
	lanes   string // input value kind: ps pd ss sd i
	imm     int    // 0 none, 1 imm8, 2 compare predicate 0-7, 3 shift count
	w       bool   // REX.W
}

func x(name string, pfx, op byte, mem int, lanes string) sseForm {
	return sseForm{name: name, pfx: pfx, op: op, reg: kX, rm: kX, mem: mem, align: mem == 16, lanes: lanes}
}

func mm(name string, op byte, mem int) sseForm {
	return sseForm{name: name, op: op, reg: kM, rm: kM, mem: mem, lanes: "i"}
}

// Packed arithmetic on XMM: op xmm, xmm/m128 (aligned) in the four
// prefixes where they exist.
var sseArith = func() []sseForm {
	var f []sseForm
	for _, o := range []struct {
		name string
		op   byte
	}{{"add", 0x58}, {"mul", 0x59}, {"sub", 0x5c}, {"min", 0x5d}, {"div", 0x5e}, {"max", 0x5f}, {"sqrt", 0x51}} {
		f = append(f, x(o.name+"ps", 0, o.op, 16, "ps"), x(o.name+"pd", 0x66, o.op, 16, "pd"),
			x(o.name+"ss", 0xf3, o.op, 4, "ss"), x(o.name+"sd", 0xf2, o.op, 8, "sd"))
	}
	f = append(f,
		x("rsqrtps", 0, 0x52, 16, "ps"), x("rsqrtss", 0xf3, 0x52, 4, "ss"),
		x("rcpps", 0, 0x53, 16, "ps"), x("rcpss", 0xf3, 0x53, 4, "ss"),
		x("andps", 0, 0x54, 16, "ps"), x("andpd", 0x66, 0x54, 16, "pd"),
		x("andnps", 0, 0x55, 16, "ps"), x("andnpd", 0x66, 0x55, 16, "pd"),
		x("orps", 0, 0x56, 16, "ps"), x("orpd", 0x66, 0x56, 16, "pd"),
		x("xorps", 0, 0x57, 16, "ps"), x("xorpd", 0x66, 0x57, 16, "pd"),
		x("unpcklps", 0, 0x14, 16, "ps"), x("unpcklpd", 0x66, 0x14, 16, "pd"),
		x("unpckhps", 0, 0x15, 16, "ps"), x("unpckhpd", 0x66, 0x15, 16, "pd"),
		x("haddpd", 0x66, 0x7c, 16, "pd"), x("haddps", 0xf2, 0x7c, 16, "ps"),
		x("hsubpd", 0x66, 0x7d, 16, "pd"), x("hsubps", 0xf2, 0x7d, 16, "ps"),
		x("addsubpd", 0x66, 0xd0, 16, "pd"), x("addsubps", 0xf2, 0xd0, 16, "ps"),
	)
	for _, c := range []sseForm{x("cmpps", 0, 0xc2, 16, "ps"), x("cmppd", 0x66, 0xc2, 16, "pd"),
		x("cmpss", 0xf3, 0xc2, 4, "ss"), x("cmpsd", 0xf2, 0xc2, 8, "sd"),
		x("shufps", 0, 0xc6, 16, "ps"), x("shufpd", 0x66, 0xc6, 16, "pd")} {
		c.imm = 1
		if c.op == 0xc2 {
			c.imm = 2
		}
		f = append(f, c)
	}
	return f
}()

// Compares into RFLAGS: "The ZF, PF, and CF flags in the EFLAGS register
// are set according to the result (unordered, greater than, less than,
// or equal). The OF, SF, and AF flags in the EFLAGS register are set to
// 0." (COMISS/COMISD/UCOMISS/UCOMISD).
var sseCompare = []sseForm{
	x("ucomiss", 0, 0x2e, 4, "ss"), x("ucomisd", 0x66, 0x2e, 8, "sd"),
	x("comiss", 0, 0x2f, 4, "ss"), x("comisd", 0x66, 0x2f, 8, "sd"),
}

// Moves between XMM registers and memory.
var sseMove = func() []sseForm {
	st := func(f sseForm) sseForm { f.memOnly = true; return f }
	f := []sseForm{
		x("movups", 0, 0x10, 16, "ps"), x("movupd", 0x66, 0x10, 16, "pd"), x("movss", 0xf3, 0x10, 4, "ss"), x("movsd", 0xf2, 0x10, 8, "sd"),
		x("movups st", 0, 0x11, 16, "ps"), x("movupd st", 0x66, 0x11, 16, "pd"), x("movss st", 0xf3, 0x11, 4, "ss"), x("movsd st", 0xf2, 0x11, 8, "sd"),
		x("movaps", 0, 0x28, 16, "ps"), x("movapd", 0x66, 0x28, 16, "pd"), x("movaps st", 0, 0x29, 16, "ps"), x("movapd st", 0x66, 0x29, 16, "pd"),
		x("movdqa", 0x66, 0x6f, 16, "i"), x("movdqu", 0xf3, 0x6f, 16, "i"), x("movdqa st", 0x66, 0x7f, 16, "i"), x("movdqu st", 0xf3, 0x7f, 16, "i"),
		// 0F 12/16 register forms are MOVHLPS/MOVLHPS, memory forms MOVLPS/MOVHPS.
		x("movlps/movhlps", 0, 0x12, 8, "ps"), x("movhps/movlhps", 0, 0x16, 8, "ps"),
		st(x("movlpd", 0x66, 0x12, 8, "pd")), st(x("movhpd", 0x66, 0x16, 8, "pd")),
		st(x("movlps st", 0, 0x13, 8, "ps")), st(x("movhps st", 0, 0x17, 8, "ps")),
		st(x("movlpd st", 0x66, 0x13, 8, "pd")), st(x("movhpd st", 0x66, 0x17, 8, "pd")),
		st(x("movntps", 0, 0x2b, 16, "ps")), st(x("movntpd", 0x66, 0x2b, 16, "pd")), st(x("movntdq", 0x66, 0xe7, 16, "i")),
		x("movddup", 0xf2, 0x12, 8, "pd"), x("movsldup", 0xf3, 0x12, 16, "ps"), x("movshdup", 0xf3, 0x16, 16, "ps"),
		st(x("lddqu", 0xf2, 0xf0, 16, "i")),
		x("movq xmm,xmm/m64", 0xf3, 0x7e, 8, "i"), x("movq xmm/m64,xmm", 0x66, 0xd6, 8, "i"),
	}
	for i := range f {
		switch f[i].name {
		case "movups", "movupd", "movups st", "movupd st", "movdqu", "movdqu st", "lddqu":
			f[i].align = false
		}
	}
	return f
}()

// Conversions (SDM Vol. 1 11.5.2.x and the CVT pages).
var sseConvert = func() []sseForm {
	cv := func(name string, pfx, op byte, reg, rm, mem int, lanes string, w bool) sseForm {
		return sseForm{name: name, pfx: pfx, op: op, reg: reg, rm: rm, mem: mem, align: mem == 16, lanes: lanes, w: w}
	}
	return []sseForm{
		cv("cvtps2pd", 0, 0x5a, kX, kX, 8, "ps", false), cv("cvtpd2ps", 0x66, 0x5a, kX, kX, 16, "pd", false),
		cv("cvtss2sd", 0xf3, 0x5a, kX, kX, 4, "ss", false), cv("cvtsd2ss", 0xf2, 0x5a, kX, kX, 8, "sd", false),
		cv("cvtdq2ps", 0, 0x5b, kX, kX, 16, "i", false), cv("cvtps2dq", 0x66, 0x5b, kX, kX, 16, "ps", false),
		cv("cvttps2dq", 0xf3, 0x5b, kX, kX, 16, "ps", false),
		cv("cvttpd2dq", 0x66, 0xe6, kX, kX, 16, "pd", false), cv("cvtdq2pd", 0xf3, 0xe6, kX, kX, 8, "i", false),
		cv("cvtpd2dq", 0xf2, 0xe6, kX, kX, 16, "pd", false),
		cv("cvtsi2ss r32", 0xf3, 0x2a, kX, kG, 4, "i", false), cv("cvtsi2ss r64", 0xf3, 0x2a, kX, kG, 8, "i", true),
		cv("cvtsi2sd r32", 0xf2, 0x2a, kX, kG, 4, "i", false), cv("cvtsi2sd r64", 0xf2, 0x2a, kX, kG, 8, "i", true),
		cv("cvttss2si r32", 0xf3, 0x2c, kG, kX, 4, "ss", false), cv("cvttss2si r64", 0xf3, 0x2c, kG, kX, 4, "ss", true),
		cv("cvttsd2si r32", 0xf2, 0x2c, kG, kX, 8, "sd", false), cv("cvttsd2si r64", 0xf2, 0x2c, kG, kX, 8, "sd", true),
		cv("cvtss2si r32", 0xf3, 0x2d, kG, kX, 4, "ss", false), cv("cvtss2si r64", 0xf3, 0x2d, kG, kX, 4, "ss", true),
		cv("cvtsd2si r32", 0xf2, 0x2d, kG, kX, 8, "sd", false), cv("cvtsd2si r64", 0xf2, 0x2d, kG, kX, 8, "sd", true),
		// With an MMX operand: the x87 state switches to MMX (TOP 0,
		// all tags valid) for the register forms; see mmxTransition.
		cv("cvtpi2ps", 0, 0x2a, kX, kM, 8, "i", false), cv("cvtpi2pd", 0x66, 0x2a, kX, kM, 8, "i", false),
		cv("cvttps2pi", 0, 0x2c, kM, kX, 8, "ps", false), cv("cvttpd2pi", 0x66, 0x2c, kM, kX, 16, "pd", false),
		cv("cvtps2pi", 0, 0x2d, kM, kX, 8, "ps", false), cv("cvtpd2pi", 0x66, 0x2d, kM, kX, 16, "pd", false),
	}
}()

// Moves between XMM, MMX and general registers, and the mask extractions.
var sseGPR = func() []sseForm {
	f := func(name string, pfx, op byte, reg, rm, mem int, w bool, imm int) sseForm {
		return sseForm{name: name, pfx: pfx, op: op, reg: reg, rm: rm, mem: mem, lanes: "i", w: w, imm: imm}
	}
	return []sseForm{
		f("movd xmm,r/m32", 0x66, 0x6e, kX, kG, 4, false, 0), f("movq xmm,r/m64", 0x66, 0x6e, kX, kG, 8, true, 0),
		f("movd r/m32,xmm", 0x66, 0x7e, kX, kG, 4, false, 0), f("movq r/m64,xmm", 0x66, 0x7e, kX, kG, 8, true, 0),
		f("movd mm,r/m32", 0, 0x6e, kM, kG, 4, false, 0), f("movq mm,r/m64", 0, 0x6e, kM, kG, 8, true, 0),
		f("movd r/m32,mm", 0, 0x7e, kM, kG, 4, false, 0), f("movq r/m64,mm", 0, 0x7e, kM, kG, 8, true, 0),
		f("movmskps", 0, 0x50, kG, kX, 0, false, 0), f("movmskpd", 0x66, 0x50, kG, kX, 0, false, 0),
		f("pmovmskb xmm", 0x66, 0xd7, kG, kX, 0, false, 0), f("pmovmskb mm", 0, 0xd7, kG, kM, 0, false, 0),
		f("pextrw xmm", 0x66, 0xc5, kG, kX, 0, false, 1), f("pextrw mm", 0, 0xc5, kG, kM, 0, false, 1),
		f("pinsrw xmm", 0x66, 0xc4, kX, kG, 2, false, 1), f("pinsrw mm", 0, 0xc4, kM, kG, 2, false, 1),
		f("movq2dq", 0xf3, 0xd6, kX, kM, 0, false, 0), f("movdq2q", 0xf2, 0xd6, kM, kX, 0, false, 0),
		f("movnti m32", 0, 0xc3, kG, kG, 4, false, 0), f("movnti m64", 0, 0xc3, kG, kG, 8, true, 0),
		f("movq mm,mm/m64", 0, 0x6f, kM, kM, 8, false, 0), f("movq mm/m64,mm", 0, 0x7f, kM, kM, 8, false, 0),
		{name: "movntq", op: 0xe7, reg: kM, rm: kM, mem: 8, memOnly: true, lanes: "i"},
	}
}()

// Packed integer instructions: each exists as an MMX form (0F op, mm,
// mm/m64) and an SSE2 form (66 0F op, xmm, xmm/m128); the ones marked
// sse2Only have no MMX form, mmxOnly no XMM form.
var pintOps = []struct {
	name string
	op   byte
	only int // 0 both, 1 MMX only, 2 XMM only
}{
	{"punpcklbw", 0x60, 0}, {"punpcklwd", 0x61, 0}, {"punpckldq", 0x62, 0}, {"packsswb", 0x63, 0},
	{"pcmpgtb", 0x64, 0}, {"pcmpgtw", 0x65, 0}, {"pcmpgtd", 0x66, 0}, {"packuswb", 0x67, 0},
	{"punpckhbw", 0x68, 0}, {"punpckhwd", 0x69, 0}, {"punpckhdq", 0x6a, 0}, {"packssdw", 0x6b, 0},
	{"punpcklqdq", 0x6c, 2}, {"punpckhqdq", 0x6d, 2},
	{"pcmpeqb", 0x74, 0}, {"pcmpeqw", 0x75, 0}, {"pcmpeqd", 0x76, 0},
	{"psrlw", 0xd1, 0}, {"psrld", 0xd2, 0}, {"psrlq", 0xd3, 0}, {"paddq", 0xd4, 0}, {"pmullw", 0xd5, 0},
	{"psubusb", 0xd8, 0}, {"psubusw", 0xd9, 0}, {"pminub", 0xda, 0}, {"pand", 0xdb, 0},
	{"paddusb", 0xdc, 0}, {"paddusw", 0xdd, 0}, {"pmaxub", 0xde, 0}, {"pandn", 0xdf, 0},
	{"pavgb", 0xe0, 0}, {"psraw", 0xe1, 0}, {"psrad", 0xe2, 0}, {"pavgw", 0xe3, 0},
	{"pmulhuw", 0xe4, 0}, {"pmulhw", 0xe5, 0},
	{"psubsb", 0xe8, 0}, {"psubsw", 0xe9, 0}, {"pminsw", 0xea, 0}, {"por", 0xeb, 0},
	{"paddsb", 0xec, 0}, {"paddsw", 0xed, 0}, {"pmaxsw", 0xee, 0}, {"pxor", 0xef, 0},
	{"psllw", 0xf1, 0}, {"pslld", 0xf2, 0}, {"psllq", 0xf3, 0}, {"pmuludq", 0xf4, 0},
	{"pmaddwd", 0xf5, 0}, {"psadbw", 0xf6, 0},
	{"psubb", 0xf8, 0}, {"psubw", 0xf9, 0}, {"psubd", 0xfa, 0}, {"psubq", 0xfb, 0},
	{"paddb", 0xfc, 0}, {"paddw", 0xfd, 0}, {"paddd", 0xfe, 0},
}

var sseInt = func() []sseForm {
	var f []sseForm
	for _, o := range pintOps {
		if o.only != 2 {
			f = append(f, mm(o.name+" mm", o.op, 8))
		}
		if o.only != 1 {
			f = append(f, x(o.name+" xmm", 0x66, o.op, 16, "i"))
		}
	}
	// Shuffles with imm8.
	s := []sseForm{mm("pshufw", 0x70, 8), x("pshufd", 0x66, 0x70, 16, "i"), x("pshufhw", 0xf3, 0x70, 16, "i"), x("pshuflw", 0xf2, 0x70, 16, "i")}
	for i := range s {
		s[i].imm = 1
	}
	f = append(f, s...)
	// Shifts by an immediate: 0F 71/72/73 /digit, register forms only.
	for _, sh := range []struct {
		name string
		op   byte
		ext  int
		only int
	}{{"psrlw", 0x71, 2, 0}, {"psraw", 0x71, 4, 0}, {"psllw", 0x71, 6, 0},
		{"psrld", 0x72, 2, 0}, {"psrad", 0x72, 4, 0}, {"pslld", 0x72, 6, 0},
		{"psrlq", 0x73, 2, 0}, {"psrldq", 0x73, 3, 2}, {"psllq", 0x73, 6, 0}, {"pslldq", 0x73, 7, 2}} {
		if sh.only != 2 {
			f = append(f, sseForm{name: sh.name + " mm,imm8", op: sh.op, rm: kM, ext: sh.ext, lanes: "i", imm: 3})
		}
		f = append(f, sseForm{name: sh.name + " xmm,imm8", pfx: 0x66, op: sh.op, rm: kX, ext: sh.ext, lanes: "i", imm: 3})
	}
	return f
}()

// sseFamily generates one form of a list.
func (g *gen) sseFamily(forms []sseForm) (*insn, string, bool) {
	f := forms[g.r.Intn(len(forms))]
	fp := g.fpc()
	fp.lanes = f.lanes
	if f.lanes == "i" {
		fp.lanes = ""
	}
	in := newInsn()
	if f.pfx != 0 {
		in.pfx = []byte{f.pfx}
	}
	in.w = f.w
	rexW := ""
	if !f.w && f.reg != kG && f.rm != kG && g.chance(16) {
		// REX.W where it selects nothing: these forms have no 64-bit
		// operand-size variant in their opcode tables (SDM Vol. 2A
		// 2.2.1.2), so the processor ignores it.
		in.w, rexW = true, " rex.w"
	}
	in.op = []byte{0x0f, f.op}
	in.modrm = true
	mmxState := f.reg == kM || f.rm == kM
	pick := func(k int) int {
		switch k {
		case kX:
			r := g.r.Intn(16)
			fp.in.xmm[r] = g.xmmValue(f.lanes)
			fp.xmmShow |= 1 << r
			return r
		case kM:
			r := g.r.Intn(8)
			var v [8]byte
			g.intLanes(v[:])
			copy(fp.in.st[r][:8], v[:])
			return r
		}
		return g.r.Intn(16)
	}
	if f.reg == 0 {
		in.reg, in.regExt = f.ext, true
	} else {
		in.reg = pick(f.reg)
	}
	form := "r"
	useMem := f.mem > 0 && (f.memOnly || g.chance(2))
	if f.rm == kG && f.reg == kG { // MOVNTI: memory only
		useMem = true
	}
	if useMem {
		in.rm = g.fpMem(f.mem, f.align, f.lanes, 0)
		form = "m"
	} else {
		in.rm = operand{reg: pick(f.rm)}
	}
	switch f.imm {
	case 1:
		in.imm = []byte{byte(g.r.Intn(256))}
	case 2:
		in.imm = []byte{byte(g.r.Intn(8))}
	case 3:
		in.imm = []byte{byte([]int{0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 127, 255, g.r.Intn(256)}[g.r.Intn(13)])}
	}
	if mmxState {
		fp.mmx = true
	}
	if f.name == "cvtpi2ps" && useMem {
		// CVTPI2PS "causes a transition from x87 FPU to MMX technology
		// operation (that is, the x87 FPU top-of-stack pointer is set
		// to 0 and the x87 FPU tag word is set to all 0s [valid])"
		// (Vol. 2A CVTPI2PS), for both operand forms; AMD processors
		// make no transition for the m64 form (as CVTPI2PD m64: "does
		// not cause a transition to MMX technology"). The case starts
		// in MMX state (TOP 0, all tags valid), where both give the
		// same state: docs/qemu-differences.md §8.
		fp.in.fsw &^= x86.FSWTop
		fp.in.tags = 0xff
	}
	switch f.name {
	case "rcpps", "rcpss", "rsqrtps", "rsqrtss":
		if !g.rcpApprox(f, in) {
			return nil, "", false
		}
	}
	return in, fmt.Sprintf("%s %s%s", f.name, form, rexW), true
}

// fpc returns the case's FP part, creating it with a random FP state.
func (g *gen) fpc() *fpCase {
	if g.c.fp == nil {
		g.c.fp = &fpCase{in: g.fpState()}
	}
	return g.c.fp
}

// fpMem returns a memory operand of size bytes holding values of a
// kind, aligned to 16 if align (otherwise sometimes across a page), and
// records it for reports. avoid lists GPRs the address must not use.
func (g *gen) fpMem(size int, align bool, lanes string, avoid uint16) operand {
	var ea uint64
	switch {
	case align:
		ea = g.lay.base + uint64(memLo+16*g.r.Intn((memHi-memLo-512)/16))
	case g.chance(6):
		ea = g.lay.base + dataOff + uint64(1+g.r.Intn(2))*pageSize - uint64(1+g.r.Intn(size))
	default:
		ea = g.lay.base + uint64(memLo+g.r.Intn(memHi-memLo-512))
		if size&(size-1) == 0 && g.chance(2) {
			ea &^= uint64(size - 1) // naturally aligned
		}
	}
	o := g.memAt(avoid, ea)
	off := g.dataAt(ea)
	b := g.c.data[off : off+size]
	switch {
	case size >= 4 && lanes != "":
		var v [16]byte
		v = g.xmmValue(lanes)
		copy(b, v[:])
	default:
		g.intLanes(b)
	}
	fp := g.fpc()
	fp.memOff, fp.memLen = off, size
	return o
}

// rcpApprox marks the lanes of RCPPS/RCPSS/RSQRTPS/RSQRTSS the SDM only
// bounds: "The relative error for this approximation is: |Relative
// Error| <= 1.5 * 2^-12" (RCPPS, RCPSS, RSQRTPS, RSQRTSS). What the
// pages define exactly is compared exactly: a zero or denormal source
// ("A denormal source value will be treated as a 0.0 (of the same
// sign)") gives an infinity, an infinity gives zero, a NaN is quieted,
// and for RSQRT a negative non-zero gives the QNaN indefinite. "Tiny
// results ... are always flushed to 0.0 ... input values greater than or
// equal to |1.11111111110100000000000B*2^125| are guaranteed to not
// produce tiny results; input values less than or equal to
// |1.00000000000110000000001B*2^126| are guaranteed to produce tiny
// results ... and input values in between this range may or may not
// produce tiny results, depending on the implementation": sources in
// that range are not generated (the case is dropped).
func (g *gen) rcpApprox(f sseForm, in *insn) bool {
	fp := g.c.fp
	var src [16]byte
	if in.rm.isMem {
		copy(src[:], g.c.data[fp.memOff:fp.memOff+fp.memLen])
	} else {
		src = fp.in.xmm[in.rm.reg]
	}
	lanes := 4
	if f.name[len(f.name)-1] == 's' && f.name[len(f.name)-2] == 's' {
		lanes = 1
	}
	rsqrt := f.name[1] == 's'
	const lo, hi = 0x7e7fe800, 0x7e800c01 // the implementation-dependent band (magnitudes)
	for l := 0; l < lanes; l++ {
		bits := binary.LittleEndian.Uint32(src[4*l:])
		mag := bits &^ (1 << 31)
		v := float64(math.Float32frombits(bits))
		switch {
		case mag > 0x7f800000: // NaN
			continue
		case mag < 0x00800000 || mag == 0x7f800000: // zero, denormal, infinity
			continue
		case rsqrt && bits>>31 != 0:
			continue
		case !rsqrt && mag >= lo && mag <= hi:
			return false
		case !rsqrt && mag > hi:
			continue // flushed to zero: exact
		}
		ref := 1 / v
		if rsqrt {
			ref = 1 / math.Sqrt(v)
		}
		fp.approx = append(fp.approx, approxLane{reg: in.reg, lane: l, ref: ref, rel: 1.5 / 4096})
	}
	return true
}

func (g *gen) sseArith() (*insn, string, bool)   { return g.sseFamily(sseArith) }
func (g *gen) sseCompare() (*insn, string, bool) { return g.sseFamily(sseCompare) }
func (g *gen) sseMove() (*insn, string, bool)    { return g.sseFamily(sseMove) }
func (g *gen) sseConvert() (*insn, string, bool) { return g.sseFamily(sseConvert) }
func (g *gen) sseGPR() (*insn, string, bool)     { return g.sseFamily(sseGPR) }
func (g *gen) sseInt() (*insn, string, bool)     { return g.sseFamily(sseInt) }

// sseState: the MXCSR and FXSAVE-area instructions, EMMS, the masked
// stores and the hints and fences of SSE/SSE2 (0F AE, 0F 77, 0F F7,
// 0F 18, F3 90).
func (g *gen) sseState() (*insn, string, bool) { return g.sseStateOp(g.r.Intn(12)) }

// sseStateOp generates form n of sseState: 0-1 LDMXCSR, 2 STMXCSR, 3-4
// FXSAVE, 5-6 FXRSTOR, 7 EMMS, 8 MASKMOVDQU/MASKMOVQ, 9 fences, 10
// CLFLUSH/PREFETCHh, 11 PAUSE.
func (g *gen) sseStateOp(n int) (*insn, string, bool) {
	fp := g.fpc()
	in := newInsn()
	in.op = []byte{0x0f, 0xae}
	in.modrm, in.regExt = true, true
	switch n {
	case 0, 1:
		// LDMXCSR: "#GP ... If an attempt is made to set any reserved
		// bits in the MXCSR"; every exception masked (one unmasked with
		// its flag set would make the next SSE instruction fault).
		in.reg = 2
		in.rm = g.fpMem(4, false, "", 0)
		v := x86.MXCSRMasks | uint32(g.r.Intn(64)) | uint32(g.r.Intn(4))<<13 | uint32(g.r.Intn(2))*x86.MXCSRDAZ | uint32(g.r.Intn(2))*x86.MXCSRFZ
		binary.LittleEndian.PutUint32(g.c.data[fp.memOff:], v)
		return in, "ldmxcsr", true
	case 2:
		in.reg = 3
		in.rm = g.fpMem(4, false, "", 0)
		return in, "stmxcsr", true
	case 3, 4:
		// FXSAVE m512 (aligned: "#GP(0) If a memory operand is not
		// aligned on a 16-byte boundary"), sometimes FXSAVE64 (REX.W).
		// Not compared in the image (SDM Vol. 1 Table 10-2 and
		// 10.5.1): the reserved byte 5, FOP/FIP/FCS/FDP/FDS (bytes
		// 6-23: AMD stores them only while an exception is pending,
		// AMD APM Vol. 5 FXSAVE), MXCSR_MASK (bytes 28-31: its value
		// is the processor's, SDM Vol. 1 11.6.6), the reserved bytes
		// 10-15 of every ST slot and 416-463. Bytes 464-511 are "available
		// to software use" and the processor does not write them: compared.
		in.reg = 0
		in.w = g.chance(2)
		in.rm = g.fpMem(512, true, "", 0)
		off := fp.memOff
		g.c.undefMem = append(g.c.undefMem, [2]int{off + 5, 19}, [2]int{off + 28, 4}, [2]int{off + 416, 48})
		for i := 0; i < 8; i++ {
			g.c.undefMem = append(g.c.undefMem, [2]int{off + 32 + 16*i + 10, 6})
		}
		return in, "fxsave" + map[bool]string{true: "64", false: ""}[in.w], true
	case 5, 6:
		// FXRSTOR m512 of another random state (reserved MXCSR bits
		// clear, every exception masked).
		in.reg = 1
		in.w = g.chance(2)
		in.rm = g.fpMem(512, true, "", 0)
		s := g.fpState()
		im := s.image()
		binary.LittleEndian.PutUint16(im[fxFOP:], uint16(g.r.Intn(0x800)))
		binary.LittleEndian.PutUint64(im[fxFIP:], uint64(g.r.Uint32()))
		binary.LittleEndian.PutUint64(im[fxFDP:], uint64(g.r.Uint32()))
		copy(g.c.data[fp.memOff:], im)
		return in, "fxrstor" + map[bool]string{true: "64", false: ""}[in.w], true
	case 7:
		// EMMS "Sets the values of all the tags in the x87 FPU tag word
		// to empty (all 1s)" and says nothing of TOP; AMD processors
		// also clear TOP, as the other MMX instructions do. From TOP 0
		// both agree (docs/qemu-differences.md §8).
		in = newInsn()
		in.op = []byte{0x0f, 0x77}
		fp.mmx = true
		fp.in.fsw &^= x86.FSWTop
		return in, "emms", true
	case 8:
		// MASKMOVDQU xmm1, xmm2 / MASKMOVQ mm1, mm2: the bytes of the
		// first operand whose mask byte (second operand) has its top bit
		// set go to DS:[RDI].
		in = newInsn()
		in.op = []byte{0x0f, 0xf7}
		in.modrm = true
		size, name := 16, "maskmovdqu"
		if g.chance(2) {
			size, name = 8, "maskmovq"
			fp.mmx = true
			in.reg, in.rm = g.r.Intn(8), operand{reg: g.r.Intn(8)}
			var v [8]byte
			g.r.Read(v[:])
			copy(fp.in.st[in.rm.reg][:8], v[:])
		} else {
			in.pfx = []byte{0x66}
			in.reg, in.rm = g.r.Intn(16), operand{reg: g.r.Intn(16)}
			g.r.Read(fp.in.xmm[in.rm.reg][:])
			fp.xmmShow |= 1<<in.reg | 1<<in.rm.reg
		}
		ea := g.lay.base + uint64(memLo+g.r.Intn(memHi-memLo-64))
		if g.chance(6) {
			ea = g.lay.base + dataOff + pageSize - uint64(1+g.r.Intn(size))
		}
		g.c.regs[rDI] = ea
		fp.memOff, fp.memLen = g.dataAt(ea), size
		return in, name, true
	case 9:
		in = newInsn()
		in.op = []byte{0x0f, 0xae, []byte{0xe8, 0xf0, 0xf8}[g.r.Intn(3)]}
		return in, []string{"lfence", "mfence", "sfence"}[int(in.op[2]-0xe8)/8], true
	case 10:
		// CLFLUSH m8 and PREFETCHh m8: no architectural effect.
		if g.chance(2) {
			in.reg = 7
			in.rm = g.fpMem(1, false, "", 0)
			return in, "clflush", true
		}
		in.op = []byte{0x0f, 0x18}
		in.reg = g.r.Intn(4)
		in.rm = g.fpMem(1, false, "", 0)
		return in, []string{"prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2"}[in.reg], true
	}
	in = newInsn()
	in.op = []byte{0xf3, 0x90}
	return in, "pause", true
}
