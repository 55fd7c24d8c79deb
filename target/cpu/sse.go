package cpu

import (
	"encoding/binary"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// SSE, SSE2, SSE3 and MMX (SDM Vol. 1 ch. 9-12). The XMM registers live
// in c.fpu.XMM as little-endian bytes; the MMX registers are the low 64
// bits of the physical x87 registers c.fpu.ST[0..7].
//
// The families are split by file: sse_move.go (data movement, shuffles,
// unpacks, MOVMSK), sse_int.go (packed integers on XMM and MMX),
// sse_float.go and sse_round.go (floating-point arithmetic under MXCSR),
// sse_conv.go (conversions), sse_state.go (EMMS, LDMXCSR, STMXCSR,
// FXSAVE, FXRSTOR).

// sseOps are the instructions dispatched to execSSE: those listed here and
// the packed-integer ones of sse_int.go (sseIntOps).
var sseOps = append(sseIntOps[:len(sseIntOps):len(sseIntOps)], []x86asm.Op{
	// moves
	x86asm.MOVAPS, x86asm.MOVUPS, x86asm.MOVAPD, x86asm.MOVUPD, x86asm.MOVDQA, x86asm.MOVDQU,
	x86asm.MOVSS, x86asm.MOVSD_XMM, x86asm.MOVLPS, x86asm.MOVHPS, x86asm.MOVLPD, x86asm.MOVHPD,
	x86asm.MOVLHPS, x86asm.MOVHLPS, x86asm.MOVD, x86asm.MOVQ, x86asm.MOVQ2DQ, x86asm.MOVDQ2Q,
	x86asm.MOVNTI, x86asm.MOVNTPS, x86asm.MOVNTPD, x86asm.MOVNTDQ, x86asm.MOVNTQ,
	x86asm.MASKMOVDQU, x86asm.MASKMOVQ, x86asm.MOVMSKPS, x86asm.MOVMSKPD, x86asm.PMOVMSKB,
	x86asm.MOVDDUP, x86asm.MOVSHDUP, x86asm.MOVSLDUP, x86asm.LDDQU,
	// floating-point arithmetic
	x86asm.ADDPS, x86asm.ADDPD, x86asm.ADDSS, x86asm.ADDSD,
	x86asm.SUBPS, x86asm.SUBPD, x86asm.SUBSS, x86asm.SUBSD,
	x86asm.MULPS, x86asm.MULPD, x86asm.MULSS, x86asm.MULSD,
	x86asm.DIVPS, x86asm.DIVPD, x86asm.DIVSS, x86asm.DIVSD,
	x86asm.SQRTPS, x86asm.SQRTPD, x86asm.SQRTSS, x86asm.SQRTSD,
	x86asm.MAXPS, x86asm.MAXPD, x86asm.MAXSS, x86asm.MAXSD,
	x86asm.MINPS, x86asm.MINPD, x86asm.MINSS, x86asm.MINSD,
	x86asm.RCPPS, x86asm.RCPSS, x86asm.RSQRTPS, x86asm.RSQRTSS,
	x86asm.ADDSUBPS, x86asm.ADDSUBPD, x86asm.HADDPS, x86asm.HADDPD, x86asm.HSUBPS, x86asm.HSUBPD,
	// compares
	x86asm.CMPPS, x86asm.CMPPD, x86asm.CMPSS, x86asm.CMPSD_XMM,
	x86asm.COMISS, x86asm.COMISD, x86asm.UCOMISS, x86asm.UCOMISD,
	// logic
	x86asm.ANDPS, x86asm.ANDPD, x86asm.ANDNPS, x86asm.ANDNPD,
	x86asm.ORPS, x86asm.ORPD, x86asm.XORPS, x86asm.XORPD,
	// shuffles and unpacks
	x86asm.SHUFPS, x86asm.SHUFPD, x86asm.UNPCKLPS, x86asm.UNPCKLPD, x86asm.UNPCKHPS, x86asm.UNPCKHPD,
	x86asm.PSHUFD, x86asm.PSHUFHW, x86asm.PSHUFLW, x86asm.PSHUFW,
	// conversions
	x86asm.CVTSI2SS, x86asm.CVTSI2SD, x86asm.CVTSS2SI, x86asm.CVTSD2SI, x86asm.CVTTSS2SI, x86asm.CVTTSD2SI,
	x86asm.CVTPI2PS, x86asm.CVTPI2PD, x86asm.CVTPS2PI, x86asm.CVTTPS2PI, x86asm.CVTPD2PI, x86asm.CVTTPD2PI,
	x86asm.CVTDQ2PS, x86asm.CVTPS2DQ, x86asm.CVTTPS2DQ, x86asm.CVTDQ2PD, x86asm.CVTPD2DQ, x86asm.CVTTPD2DQ,
	x86asm.CVTPS2PD, x86asm.CVTPD2PS, x86asm.CVTSS2SD, x86asm.CVTSD2SS,
	// state
	x86asm.EMMS, x86asm.LDMXCSR, x86asm.STMXCSR, x86asm.FXSAVE, x86asm.FXSAVE64, x86asm.FXRSTOR, x86asm.FXRSTOR64,
}...)

func (c *CPU) execSSE(in *inst) {
	switch x86asm.Op(in.op) {
	case x86asm.EMMS, x86asm.LDMXCSR, x86asm.STMXCSR, x86asm.FXSAVE, x86asm.FXSAVE64, x86asm.FXRSTOR, x86asm.FXRSTOR64:
		c.execSSEState(in)
		return
	}
	if c.execSSEMove(in) || c.execSSEInt(in) || c.execSSEFloat(in) || c.execSSEConv(in) {
		return
	}
	c.undefined(in)
}

// ---------------------------------------------------------------------
// Exception checks (SDM Vol. 3A 13.1 and Vol. 2 ch. 3.1.1.13 "Exception
// classes"; Vol. 1 Table 12-x; Vol. 2 Table 22-x for the MMX forms).

// checkMMX is the check before an instruction on MMX registers (MMX, and
// the SSE/SSE2 integer instructions on MMX registers): #UD when CR0.EM
// is set, #NM when CR0.TS is set, then #MF when an unmasked x87
// exception is pending (FSW.ES), as for any x87 instruction that is not
// a control instruction (SDM Vol. 3A Table 22-x "Exception conditions
// for MMX instructions").
func (c *CPU) checkMMX() {
	if c.cr0&x86.CR0EM != 0 {
		c.raise(x86.VecUD)
	}
	c.checkX87()
	c.checkPendingX87()
}

// checkSSEMMX is the check of the instructions that move or convert
// between XMM and MMX registers (CVTPI2PS, CVTPS2PI, MOVQ2DQ...): the
// SSE checks, then #MF for a pending x87 exception.
func (c *CPU) checkSSEMMX() {
	c.checkSSE()
	c.checkPendingX87()
}

// checkPendingX87 raises #MF when FSW.ES reports an unmasked x87
// exception waiting to be taken.
func (c *CPU) checkPendingX87() {
	c.x87Pending() // one rule for both families: #MF only with CR0.NE
}

// mmxEnter is the x87-to-MMX transition every MMX instruction makes
// (SDM Vol. 1 9.5.1, Table 9-2): TOP becomes 0 and every tag valid.
func (c *CPU) mmxEnter() {
	c.fpu.FSTAT &^= x86.FSWTop
	c.fpu.FTAG = 0 // x86.FTagValid in every field
}

// mmx reads MMX register r: the significand of physical register R_r.
func (c *CPU) mmx(r uint8) uint64 {
	return binary.LittleEndian.Uint64(c.fpu.ST[r&7][:8])
}

// setMMX writes MMX register r; bits 64-79 of the physical register (the
// sign and exponent) become all ones (SDM Vol. 1 9.5.1).
func (c *CPU) setMMX(r uint8, v uint64) {
	st := &c.fpu.ST[r&7]
	binary.LittleEndian.PutUint64(st[:8], v)
	st[8], st[9] = 0xff, 0xff
}

// ---------------------------------------------------------------------
// Operand access.

// xmm returns XMM register r as its low and high quadwords.
func (c *CPU) xmm(r uint8) (lo, hi uint64) {
	x := &c.fpu.XMM[r&15]
	return binary.LittleEndian.Uint64(x[0:8]), binary.LittleEndian.Uint64(x[8:16])
}

func (c *CPU) setXMM(r uint8, lo, hi uint64) {
	x := &c.fpu.XMM[r&15]
	binary.LittleEndian.PutUint64(x[0:8], lo)
	binary.LittleEndian.PutUint64(x[8:16], hi)
}

func (c *CPU) setXMMLo(r uint8, lo uint64) {
	binary.LittleEndian.PutUint64(c.fpu.XMM[r&15][0:8], lo)
}

func (c *CPU) setXMMHi(r uint8, hi uint64) {
	binary.LittleEndian.PutUint64(c.fpu.XMM[r&15][8:16], hi)
}

// alignedM128 reports whether the 16-byte memory operand of op must be
// aligned: every legacy-SSE m128 operand except those of the unaligned
// moves (SDM Vol. 1 11.4.5, 12.x: MOVUPS, MOVUPD, MOVDQU, LDDQU).
func alignedM128(op x86asm.Op) bool {
	switch op {
	case x86asm.MOVUPS, x86asm.MOVUPD, x86asm.MOVDQU, x86asm.LDDQU:
		return false
	}
	return true
}

// srcV reads source operand i as up to 128 bits: an XMM or MMX register,
// or memory of the instruction's memory size (m32, m64 or m128; an m128
// of an aligned form must be on a 16-byte boundary).
func (c *CPU) srcV(in *inst, i int) (lo, hi uint64) {
	o := &in.args[i]
	switch o.kind {
	case argXMM:
		return c.xmm(o.reg)
	case argMMX:
		return c.mmx(o.reg), 0
	case argMem:
		a := c.memAddr(in)
		switch in.msize {
		case 16:
			if alignedM128(x86asm.Op(in.op)) {
				c.checkAligned16(a)
			}
			return c.read128(a)
		case 8, 4, 2, 1:
			return c.read(a, in.msize), 0
		}
	case argReg:
		return c.gpr[o.reg] & sizeMask(o.size), 0
	}
	c.raise(x86.VecUD)
	return 0, 0
}

// dstXMM returns the register number of operand 0, which must be an XMM
// register (#UD otherwise: a form x86asm accepted that we do not).
func (c *CPU) dstXMM(in *inst) uint8 {
	if in.args[0].kind != argXMM {
		c.raise(x86.VecUD)
	}
	return in.args[0].reg
}

// isMMX reports whether the instruction works on MMX registers.
func isMMX(in *inst) bool {
	return in.args[0].kind == argMMX || in.args[1].kind == argMMX
}

// imm8 is the instruction's first immediate as a byte.
func imm8(in *inst) uint8 { return uint8(in.imm) }
