package cpu

import "golang.org/x/arch/x86/x86asm"

// logic executes AND OR XOR TEST: CF=OF=0, SF ZF PF from the result, AF
// undefined (cleared, as QEMU does).
func (c *CPU) logic(in *inst) {
	s := in.args[0].size
	a := c.get(in, 0)
	b := c.get(in, 1)
	var r uint64
	switch x86asm.Op(in.op) {
	case x86asm.AND:
		r = a & b
		c.set(in, 0, r)
	case x86asm.OR:
		r = (a | b) & sizeMask(s)
		c.set(in, 0, r)
	case x86asm.XOR:
		r = (a ^ b) & sizeMask(s)
		c.set(in, 0, r)
	case x86asm.TEST:
		r = a & b
	}
	c.lz.op, c.lz.size, c.lz.res = lzLogic, s, r
}

// logicReg is logic for a register destination and a register or
// immediate source.
func (c *CPU) logicReg(in *inst) {
	d := &in.args[0]
	s := d.size
	m := sizeMask(s)
	a := c.gpr[d.reg]
	var b uint64
	if in.args[1].kind == argReg {
		b = c.gpr[in.args[1].reg]
	} else {
		b = uint64(in.imm)
	}
	var r uint64
	switch x86asm.Op(in.op) {
	case x86asm.AND:
		r = a & b & m
	case x86asm.OR:
		r = (a | b) & m
	case x86asm.XOR:
		r = (a ^ b) & m
	case x86asm.TEST:
		c.lz.op, c.lz.size, c.lz.res = lzLogic, s, a&b&m
		return
	}
	c.setReg(d.reg, s, r)
	c.lz.op, c.lz.size, c.lz.res = lzLogic, s, r
}
