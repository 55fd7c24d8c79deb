package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// alu executes ADD ADC SUB SBB CMP. The destination is written before the
// flags change so that a faulting store leaves the flags as they were.
func (c *CPU) alu(in *inst) {
	s := in.args[0].size
	m := sizeMask(s)
	a := c.get(in, 0)
	b := c.get(in, 1) & m
	switch x86asm.Op(in.op) {
	case x86asm.ADD:
		r := (a + b) & m
		c.set(in, 0, r)
		c.setLazy(lzAdd, s, r, a, b)
	case x86asm.SUB:
		r := (a - b) & m
		c.set(in, 0, r)
		c.setLazy(lzSub, s, r, a, b)
	case x86asm.CMP:
		c.setLazy(lzSub, s, (a-b)&m, a, b)
	case x86asm.ADC:
		cin := c.cf()
		r := a + b
		if cin {
			r++
		}
		r &= m
		c.set(in, 0, r)
		c.setLazy(lzAdc, s, r, a, b)
		c.lz.cin = cin
	case x86asm.SBB:
		cin := c.cf()
		r := a - b
		if cin {
			r--
		}
		r &= m
		c.set(in, 0, r)
		c.setLazy(lzSbb, s, r, a, b)
		c.lz.cin = cin
	}
}

// aluReg is alu for a register destination and a register or immediate
// source (the common case, without the generic operand accessors).
func (c *CPU) aluReg(in *inst) {
	d := &in.args[0]
	s := d.size
	m := sizeMask(s)
	a := c.gpr[d.reg] & m
	var b uint64
	if in.args[1].kind == argReg {
		b = c.gpr[in.args[1].reg] & m
	} else {
		b = uint64(in.imm) & m
	}
	var r uint64
	op := lzAdd
	switch x86asm.Op(in.op) {
	case x86asm.ADD:
		r = (a + b) & m
	case x86asm.SUB:
		r, op = (a-b)&m, lzSub
	case x86asm.CMP:
		c.setLazy(lzSub, s, (a-b)&m, a, b)
		return
	case x86asm.ADC:
		cin := c.cf()
		r = a + b
		if cin {
			r++
		}
		r &= m
		c.setReg(d.reg, s, r)
		c.setLazy(lzAdc, s, r, a, b)
		c.lz.cin = cin
		return
	case x86asm.SBB:
		cin := c.cf()
		r = a - b
		if cin {
			r--
		}
		r &= m
		c.setReg(d.reg, s, r)
		c.setLazy(lzSbb, s, r, a, b)
		c.lz.cin = cin
		return
	}
	c.setReg(d.reg, s, r)
	c.setLazy(op, s, r, a, b)
}

// unary executes INC DEC NEG. INC and DEC keep CF (SDM Vol. 2 INC).
func (c *CPU) unary(in *inst) {
	s := in.args[0].size
	m := sizeMask(s)
	a := c.get(in, 0)
	switch x86asm.Op(in.op) {
	case x86asm.INC:
		cin := c.cf()
		r := (a + 1) & m
		c.set(in, 0, r)
		c.setLazy(lzInc, s, r, a, 1)
		c.lz.cin = cin
	case x86asm.DEC:
		cin := c.cf()
		r := (a - 1) & m
		c.set(in, 0, r)
		c.setLazy(lzDec, s, r, a, 1)
		c.lz.cin = cin
	case x86asm.NEG:
		r := (0 - a) & m
		c.set(in, 0, r)
		c.setLazy(lzNeg, s, r, a, 0)
	}
}

// cmpxchg: compare the accumulator with the destination; equal: store the
// source, else load the destination into the accumulator. Flags as CMP.
func (c *CPU) cmpxchg(in *inst) {
	s := in.args[0].size
	m := sizeMask(s)
	d := c.get(in, 0)
	acc := c.gpr[RAX] & m
	if acc == d {
		c.set(in, 0, c.get(in, 1))
	} else {
		// A memory destination receives a write cycle whatever the
		// comparison (SDM Vol. 2 CMPXCHG), so a read-only page faults
		// either way. A register destination is not touched at all, not
		// even zero-extended for 32 bits: that is what processors do and
		// what QEMU does since "target/i386: fix cmpxchg with 32-bit
		// register destination" (2022).
		if in.args[0].kind == argMem {
			c.set(in, 0, d)
		}
		c.setReg(RAX, s, d)
	}
	c.setLazy(lzSub, s, (acc-d)&m, acc, d)
}

// xadd: exchange and add.
func (c *CPU) xadd(in *inst) {
	s := in.args[0].size
	m := sizeMask(s)
	d := c.get(in, 0)
	src := c.get(in, 1)
	r := (d + src) & m
	if in.args[0].kind == argMem {
		c.set(in, 0, r) // the store first: a fault leaves the register
		c.set(in, 1, d)
	} else {
		// SRC <- DEST, then DEST <- sum: with one register for both,
		// the sum wins (SDM Vol. 2 XADD).
		c.set(in, 1, d)
		c.set(in, 0, r)
	}
	c.setLazy(lzAdd, s, r, d, src)
}

// cmpxchgDouble is CMPXCHG8B (EDX:EAX vs m64) and CMPXCHG16B (RDX:RAX vs
// m128, which must be 16-byte aligned). Only ZF changes.
func (c *CPU) cmpxchgDouble(in *inst) {
	addr := c.memAddr(in)
	if in.op == uint16(x86asm.CMPXCHG16B) {
		if addr&15 != 0 {
			c.raiseErr(x86.VecGP, 0)
		}
		lo, hi := c.read(addr, 8), c.read(addr+8, 8)
		if lo == c.gpr[RAX] && hi == c.gpr[RDX] {
			c.checkWrite(addr, 16)
			c.write(addr, 8, c.gpr[RBX])
			c.write(addr+8, 8, c.gpr[RCX])
			c.setFlagsEager(x86.FlagZF, x86.FlagZF)
		} else {
			c.write(addr, 8, lo)
			c.write(addr+8, 8, hi)
			c.gpr[RAX], c.gpr[RDX] = lo, hi
			c.setFlagsEager(x86.FlagZF, 0)
		}
		return
	}
	v := c.read(addr, 8)
	if uint32(v) == uint32(c.gpr[RAX]) && uint32(v>>32) == uint32(c.gpr[RDX]) {
		c.write(addr, 8, uint64(uint32(c.gpr[RBX]))|c.gpr[RCX]<<32)
		c.setFlagsEager(x86.FlagZF, x86.FlagZF)
	} else {
		c.write(addr, 8, v)
		c.setReg(RAX, 4, v)
		c.setReg(RDX, 4, v>>32)
		c.setFlagsEager(x86.FlagZF, 0)
	}
}
