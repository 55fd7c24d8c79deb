package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// Instructions 64-bit mode removed (SDM Vol. 2, each page's "64-Bit Mode
// Exceptions: #UD") that 32-bit code, in protected mode or in a 64-bit
// kernel's compatibility mode, still uses: PUSHA/POPA, the decimal and
// ASCII adjustments, BOUND, ARPL, LDS/LES.

func (c *CPU) execLegacy(in *inst) {
	if c.mode == 64 {
		c.undefined(in) // #UD: these do not exist in 64-bit mode
	}
	switch x86asm.Op(in.op) {
	case x86asm.PUSHA, x86asm.PUSHAD:
		c.pusha(in)
	case x86asm.POPA, x86asm.POPAD:
		c.popa(in)
	case x86asm.DAA, x86asm.DAS:
		c.decimalAdjust(x86asm.Op(in.op) == x86asm.DAS)
	case x86asm.AAA, x86asm.AAS:
		c.asciiAdjust(x86asm.Op(in.op) == x86asm.AAS)
	case x86asm.AAM:
		base := uint64(in.imm) & 0xff
		if base == 0 {
			c.raise(x86.VecDE)
		}
		al := c.gpr[RAX] & 0xff
		c.setReg(RAX, 2, (al/base)<<8|al%base)
		c.setSZP(al % base)
	case x86asm.AAD:
		base := uint64(in.imm) & 0xff
		al := (c.gpr[RAX] + (c.gpr[RAX]>>8&0xff)*base) & 0xff
		c.setReg(RAX, 2, al)
		c.setSZP(al)
	case x86asm.BOUND:
		c.bound(in)
	case x86asm.ARPL:
		dst, src := c.get(in, 0), c.get(in, 1)
		if dst&3 < src&3 {
			c.set(in, 0, dst&^3|src&3)
			c.setFlagsEager(x86.FlagZF, x86.FlagZF)
		} else {
			c.setFlagsEager(x86.FlagZF, 0)
		}
	case x86asm.LDS, x86asm.LES:
		c.loadFarPointer(in)
	default:
		c.undefined(in)
	}
}

// setSZP sets SF, ZF and PF from the byte v (the result of an adjustment
// in AL); the other arithmetic flags are left as they are, which is one
// of the values the SDM allows for those it calls undefined.
func (c *CPU) setSZP(v uint64) {
	var f uint64
	if v&0x80 != 0 {
		f |= x86.FlagSF
	}
	if v&0xff == 0 {
		f |= x86.FlagZF
	}
	if parity(v) {
		f |= x86.FlagPF
	}
	c.setFlagsEager(x86.FlagSF|x86.FlagZF|x86.FlagPF, f)
}

// pusha pushes AX CX DX BX, the SP before the instruction, BP SI DI (16-
// or 32-bit each). The whole area is checked first, so a fault leaves ESP
// and memory as they were.
func (c *CPU) pusha(in *inst) {
	size := in.osize
	sp := uint32(c.gpr[RSP])
	c.checkWrite(c.lin(SS, uint64(sp-8*uint32(size))), 8*size)
	orig := c.gpr[RSP]
	for _, r := range []int{RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI} {
		v := c.gpr[r]
		if r == RSP {
			v = orig
		}
		c.push(v&sizeMask(size), size)
	}
}

// popa pops DI SI BP, skips the saved SP, then BX DX CX AX; registers are
// written only once every read succeeded.
func (c *CPU) popa(in *inst) {
	size := uint64(in.osize)
	var v [8]uint64
	for i := range v {
		v[i] = c.peek(size*uint64(i), in.osize)
	}
	for i, r := range []int{RDI, RSI, RBP, -1, RBX, RDX, RCX, RAX} {
		if r >= 0 {
			c.setReg(uint8(r), in.osize, v[i])
		}
	}
	c.setReg(RSP, 4, uint64(uint32(c.gpr[RSP])+uint32(8*size)))
}

// decimalAdjust is DAA (das false) and DAS after an addition or
// subtraction of packed BCD bytes (SDM Vol. 2A DAA, DAS, Operation).
func (c *CPU) decimalAdjust(das bool) {
	fl := c.rflags()
	al := c.gpr[RAX] & 0xff
	oldAL, oldCF := al, fl&x86.FlagCF != 0
	cf, af := false, false
	if al&0xf > 9 || fl&x86.FlagAF != 0 {
		if das {
			cf = oldCF || al < 6
			al = (al - 6) & 0xff
		} else {
			cf = oldCF || al+6 > 0xff
			al = (al + 6) & 0xff
		}
		af = true
	}
	if oldAL > 0x99 || oldCF {
		if das {
			al = (al - 0x60) & 0xff
		} else {
			al = (al + 0x60) & 0xff
		}
		cf = true
	} else if !das {
		cf = false // DAA's Operation clears CF here; DAS keeps the first step's
	}
	c.setReg(RAX, 1, al)
	c.setSZP(al)
	var f uint64
	if cf {
		f |= x86.FlagCF
	}
	if af {
		f |= x86.FlagAF
	}
	c.setFlagsEager(x86.FlagCF|x86.FlagAF, f)
}

// asciiAdjust is AAA (aas false) and AAS (SDM Vol. 2A AAA, AAS).
func (c *CPU) asciiAdjust(aas bool) {
	ax := c.gpr[RAX] & 0xffff
	var f uint64
	if ax&0xf > 9 || c.rflags()&x86.FlagAF != 0 {
		if aas {
			ax = (ax - 6) & 0xffff
			ax = (ax - 0x100) & 0xffff
		} else {
			ax = (ax + 0x106) & 0xffff
		}
		f = x86.FlagAF | x86.FlagCF
	}
	c.setReg(RAX, 2, ax&^0xf0)
	c.setFlagsEager(x86.FlagCF|x86.FlagAF, f)
}

// bound raises #BR unless the signed index in the register lies within
// the two bounds at the memory operand (SDM Vol. 2A BOUND).
func (c *CPU) bound(in *inst) {
	if in.args[1].kind != argMem {
		c.raise(x86.VecUD)
	}
	size := in.args[0].size
	a := c.memAddr(in)
	lo := signExtend(c.read(a, size), size)
	hi := signExtend(c.read(a+uint64(size), size), size)
	idx := signExtend(c.get(in, 0), size)
	if int64(idx) < int64(lo) || int64(idx) > int64(hi) {
		c.raise(x86.VecBR)
	}
}
