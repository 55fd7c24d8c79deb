package cpu

import (
	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// Data movement between XMM, MMX, general registers and memory; the
// bitwise logic of the PS/PD forms; shuffles, unpacks and MOVMSK (SDM
// Vol. 2 instruction pages; Vol. 1 10.4.1, 10.4.4, 10.4.5, 11.4.1,
// 11.4.4, 12.3.1).

// execSSEMove executes the instruction if it is one of this file's and
// reports whether it was.
func (c *CPU) execSSEMove(in *inst) bool {
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.MOVAPS, x86asm.MOVUPS, x86asm.MOVAPD, x86asm.MOVUPD, x86asm.MOVDQA, x86asm.MOVDQU,
		x86asm.MOVNTPS, x86asm.MOVNTPD, x86asm.MOVNTDQ, x86asm.LDDQU:
		c.checkSSE()
		c.mov128(in, op)
	case x86asm.MOVSS:
		c.checkSSE()
		c.movScalar(in, 4)
	case x86asm.MOVSD_XMM:
		c.checkSSE()
		c.movScalar(in, 8)
	case x86asm.MOVLPS, x86asm.MOVLPD:
		c.checkSSE()
		c.movHalf(in, false)
	case x86asm.MOVHPS, x86asm.MOVHPD:
		c.checkSSE()
		c.movHalf(in, true)
	case x86asm.MOVLHPS:
		c.checkSSE()
		d := c.dstXMM(in)
		lo, _ := c.srcV(in, 1)
		c.setXMMHi(d, lo)
	case x86asm.MOVHLPS:
		c.checkSSE()
		d := c.dstXMM(in)
		_, hi := c.srcV(in, 1)
		c.setXMMLo(d, hi)
	case x86asm.MOVD, x86asm.MOVQ:
		c.movDQ(in, op)
	case x86asm.MOVQ2DQ:
		c.checkSSEMMX()
		d := c.dstXMM(in)
		v, _ := c.srcV(in, 1)
		c.setXMM(d, v, 0)
		c.mmxEnter()
	case x86asm.MOVDQ2Q:
		c.checkSSEMMX()
		if in.args[0].kind != argMMX {
			c.raise(x86.VecUD)
		}
		v, _ := c.srcV(in, 1)
		c.setMMX(in.args[0].reg, v)
		c.mmxEnter()
	case x86asm.MOVNTI:
		// A general-register store: no SSE state, no CR0/CR4 checks
		// (SDM Vol. 2 MOVNTI, Exceptions).
		if in.args[0].kind != argMem || in.args[1].kind != argReg {
			c.raise(x86.VecUD)
		}
		c.write(c.memAddr(in), in.args[1].size, c.get(in, 1))
	case x86asm.MOVNTQ:
		c.checkMMX()
		if in.args[0].kind != argMem || in.args[1].kind != argMMX {
			c.raise(x86.VecUD)
		}
		c.write(c.memAddr(in), 8, c.mmx(in.args[1].reg))
		c.mmxEnter()
	case x86asm.MASKMOVDQU, x86asm.MASKMOVQ:
		c.maskMov(in, op)
	case x86asm.MOVMSKPS, x86asm.MOVMSKPD, x86asm.PMOVMSKB:
		c.movMsk(in, op)
	case x86asm.MOVDDUP:
		c.checkSSE()
		d := c.dstXMM(in)
		lo, _ := c.srcV(in, 1)
		c.setXMM(d, lo, lo)
	case x86asm.MOVSHDUP, x86asm.MOVSLDUP:
		c.checkSSE()
		d := c.dstXMM(in)
		lo, hi := c.srcV(in, 1)
		if op == x86asm.MOVSHDUP {
			lo, hi = lo>>32, hi>>32
		} else {
			lo, hi = uint64(uint32(lo)), uint64(uint32(hi))
		}
		c.setXMM(d, lo|lo<<32, hi|hi<<32)
	case x86asm.ANDPS, x86asm.ANDPD, x86asm.ANDNPS, x86asm.ANDNPD, x86asm.ORPS, x86asm.ORPD, x86asm.XORPS, x86asm.XORPD:
		c.checkSSE()
		d := c.dstXMM(in)
		slo, shi := c.srcV(in, 1)
		dlo, dhi := c.xmm(d)
		switch op {
		case x86asm.ANDPS, x86asm.ANDPD:
			dlo, dhi = dlo&slo, dhi&shi
		case x86asm.ANDNPS, x86asm.ANDNPD:
			dlo, dhi = ^dlo&slo, ^dhi&shi
		case x86asm.ORPS, x86asm.ORPD:
			dlo, dhi = dlo|slo, dhi|shi
		default:
			dlo, dhi = dlo^slo, dhi^shi
		}
		c.setXMM(d, dlo, dhi)
	case x86asm.SHUFPS, x86asm.SHUFPD, x86asm.UNPCKLPS, x86asm.UNPCKLPD, x86asm.UNPCKHPS, x86asm.UNPCKHPD,
		x86asm.PSHUFD, x86asm.PSHUFHW, x86asm.PSHUFLW:
		c.checkSSE()
		c.shuffle(in, op)
	case x86asm.PSHUFW:
		c.checkMMX()
		if in.args[0].kind != argMMX {
			c.raise(x86.VecUD)
		}
		s, _ := c.srcV(in, 1)
		c.setMMX(in.args[0].reg, shuffleWords(s, imm8(in)))
		c.mmxEnter()
	default:
		return false
	}
	return true
}

// mov128 is the full-register moves and the non-temporal stores.
func (c *CPU) mov128(in *inst, op x86asm.Op) {
	switch in.args[0].kind {
	case argXMM:
		if op == x86asm.MOVNTPS || op == x86asm.MOVNTPD || op == x86asm.MOVNTDQ ||
			(op == x86asm.LDDQU && in.args[1].kind != argMem) {
			c.raise(x86.VecUD)
		}
		lo, hi := c.srcV(in, 1)
		c.setXMM(in.args[0].reg, lo, hi)
	case argMem:
		if in.args[1].kind != argXMM || op == x86asm.LDDQU {
			c.raise(x86.VecUD)
		}
		a := c.memAddr(in)
		if alignedM128(op) {
			c.checkAligned16(a)
		}
		lo, hi := c.xmm(in.args[1].reg)
		c.write128(a, lo, hi)
	default:
		c.raise(x86.VecUD)
	}
}

// movScalar is MOVSS (size 4) and MOVSD (size 8): register to register
// merges the low element, a load zeroes the rest of the register, a
// store writes the low element.
func (c *CPU) movScalar(in *inst, size uint8) {
	m := sizeMask(size)
	switch {
	case in.args[0].kind == argXMM && in.args[1].kind == argXMM:
		v, _ := c.xmm(in.args[1].reg)
		lo, _ := c.xmm(in.args[0].reg)
		c.setXMMLo(in.args[0].reg, lo&^m|v&m)
	case in.args[0].kind == argXMM && in.args[1].kind == argMem:
		c.setXMM(in.args[0].reg, c.read(c.memAddr(in), size), 0)
	case in.args[0].kind == argMem && in.args[1].kind == argXMM:
		v, _ := c.xmm(in.args[1].reg)
		c.write(c.memAddr(in), size, v&m)
	default:
		c.raise(x86.VecUD)
	}
}

// movHalf is MOVLPS/MOVLPD (high false) and MOVHPS/MOVHPD: one quadword
// between memory and half an XMM register, the other half unchanged.
func (c *CPU) movHalf(in *inst, high bool) {
	switch {
	case in.args[0].kind == argXMM && in.args[1].kind == argMem:
		v := c.read(c.memAddr(in), 8)
		if high {
			c.setXMMHi(in.args[0].reg, v)
		} else {
			c.setXMMLo(in.args[0].reg, v)
		}
	case in.args[0].kind == argMem && in.args[1].kind == argXMM:
		lo, hi := c.xmm(in.args[1].reg)
		if high {
			lo = hi
		}
		c.write(c.memAddr(in), 8, lo)
	default:
		c.raise(x86.VecUD)
	}
}

// movDQ is MOVD and MOVQ in all their forms: between XMM or MMX
// registers and general registers or memory, and MOVQ between XMM
// registers (zeroing bits 64-127) or MMX registers.
func (c *CPU) movDQ(in *inst, op x86asm.Op) {
	size := uint8(4)
	if op == x86asm.MOVQ {
		size = 8
	}
	d, s := &in.args[0], &in.args[1]
	mmx := d.kind == argMMX || s.kind == argMMX
	if mmx {
		c.checkMMX()
	} else {
		c.checkSSE()
	}
	var v uint64
	switch s.kind {
	case argXMM:
		v, _ = c.xmm(s.reg)
	case argMMX:
		v = c.mmx(s.reg)
	case argReg:
		v = c.gpr[s.reg]
	case argMem:
		v = c.read(c.memAddr(in), size)
	default:
		c.raise(x86.VecUD)
	}
	v &= sizeMask(size)
	switch d.kind {
	case argXMM:
		c.setXMM(d.reg, v, 0)
	case argMMX:
		c.setMMX(d.reg, v)
	case argReg:
		c.setReg(d.reg, size, v)
	case argMem:
		c.write(c.memAddr(in), size, v)
	default:
		c.raise(x86.VecUD)
	}
	if mmx {
		c.mmxEnter()
	}
}

// maskMov is MASKMOVDQU and MASKMOVQ: the bytes of the first operand
// whose mask byte (second operand) has bit 7 set are stored at DS:rDI
// (segment override allowed). The bytes are checked for writability
// before any is stored; an all-zero mask accesses no memory (SDM Vol. 2
// MASKMOVDQU: faults with a zero mask are implementation dependent).
func (c *CPU) maskMov(in *inst, op x86asm.Op) {
	var n int
	var dlo, dhi, mlo, mhi uint64
	if op == x86asm.MASKMOVQ {
		c.checkMMX()
		if in.args[0].kind != argMMX || in.args[1].kind != argMMX {
			c.raise(x86.VecUD)
		}
		n = 8
		dlo, mlo = c.mmx(in.args[0].reg), c.mmx(in.args[1].reg)
	} else {
		c.checkSSE()
		if in.args[0].kind != argXMM || in.args[1].kind != argXMM {
			c.raise(x86.VecUD)
		}
		n = 16
		dlo, dhi = c.xmm(in.args[0].reg)
		mlo, mhi = c.xmm(in.args[1].reg)
	}
	byteAt := func(lo, hi uint64, i int) byte {
		if i < 8 {
			return byte(lo >> (8 * i))
		}
		return byte(hi >> (8 * (i - 8)))
	}
	first, last := -1, -1
	for i := 0; i < n; i++ {
		if byteAt(mlo, mhi, i)&0x80 != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		seg := uint8(DS)
		if in.segovr != noReg {
			seg = in.segovr
		}
		base := c.lin(seg, c.gpr[RDI]&sizeMask(in.asize))
		c.checkWrite(base+uint64(first), uint8(last-first+1))
		for i := first; i <= last; i++ {
			if byteAt(mlo, mhi, i)&0x80 != 0 {
				c.write(base+uint64(i), 1, uint64(byteAt(dlo, dhi, i)))
			}
		}
	}
	if op == x86asm.MASKMOVQ {
		c.mmxEnter()
	}
}

// movMsk gathers sign bits into a general register, zero-extended.
func (c *CPU) movMsk(in *inst, op x86asm.Op) {
	if in.args[0].kind != argReg {
		c.raise(x86.VecUD)
	}
	var r uint64
	switch {
	case op == x86asm.PMOVMSKB && in.args[1].kind == argMMX:
		c.checkMMX()
		r = byteSigns(c.mmx(in.args[1].reg))
		c.mmxEnter()
	case in.args[1].kind != argXMM:
		c.raise(x86.VecUD)
	case op == x86asm.PMOVMSKB:
		c.checkSSE()
		lo, hi := c.xmm(in.args[1].reg)
		r = byteSigns(lo) | byteSigns(hi)<<8
	case op == x86asm.MOVMSKPS:
		c.checkSSE()
		lo, hi := c.xmm(in.args[1].reg)
		r = lo>>31&1 | lo>>62&2 | hi>>29&4 | hi>>60&8
	default: // MOVMSKPD
		c.checkSSE()
		lo, hi := c.xmm(in.args[1].reg)
		r = lo>>63 | hi>>63<<1
	}
	c.gpr[in.args[0].reg] = r
}

// byteSigns collects bit 7 of each byte of v into bits 0-7: the masked
// bits shifted by the magic multiplier land, without carries, in the top
// byte.
func byteSigns(v uint64) uint64 {
	return (v & 0x8080808080808080) * 0x0002040810204081 >> 56
}

// shuffleWords is PSHUFW/PSHUFLW: word i of the result is word
// imm[2i+1:2i] of v.
func shuffleWords(v uint64, imm uint8) uint64 {
	var r uint64
	for i := 0; i < 4; i++ {
		sel := (imm >> (2 * i)) & 3
		r |= (v >> (16 * sel) & 0xffff) << (16 * i)
	}
	return r
}

func dword(lo, hi uint64, i uint8) uint64 {
	if i&2 != 0 {
		lo = hi
	}
	return lo >> (32 * (i & 1)) & 0xffffffff
}

func (c *CPU) shuffle(in *inst, op x86asm.Op) {
	d := c.dstXMM(in)
	slo, shi := c.srcV(in, 1)
	dlo, dhi := c.xmm(d)
	imm := imm8(in)
	switch op {
	case x86asm.SHUFPS:
		dlo, dhi = dword(dlo, dhi, imm&3)|dword(dlo, dhi, imm>>2&3)<<32,
			dword(slo, shi, imm>>4&3)|dword(slo, shi, imm>>6&3)<<32
	case x86asm.SHUFPD:
		if imm&1 != 0 {
			dlo = dhi
		}
		if imm&2 != 0 {
			dhi = shi
		} else {
			dhi = slo
		}
	case x86asm.UNPCKLPS:
		dlo, dhi = dlo&0xffffffff|slo<<32, dlo>>32|slo>>32<<32
	case x86asm.UNPCKHPS:
		dlo, dhi = dhi&0xffffffff|shi<<32, dhi>>32|shi>>32<<32
	case x86asm.UNPCKLPD:
		dhi = slo
	case x86asm.UNPCKHPD:
		dlo, dhi = dhi, shi
	case x86asm.PSHUFD:
		dlo, dhi = dword(slo, shi, imm&3)|dword(slo, shi, imm>>2&3)<<32,
			dword(slo, shi, imm>>4&3)|dword(slo, shi, imm>>6&3)<<32
	case x86asm.PSHUFHW:
		dlo, dhi = slo, shuffleWords(shi, imm)
	case x86asm.PSHUFLW:
		dlo, dhi = shuffleWords(slo, imm), shi
	}
	c.setXMM(d, dlo, dhi)
}
