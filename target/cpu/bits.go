package cpu

import (
	"math/bits"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// bitTest executes BT BTS BTR BTC. With a register bit offset and a memory
// operand the offset is signed and may address outside the operand (SDM
// Vol. 2 BT, "bit base"); with an immediate it is taken modulo the size.
// Only CF is defined; the other flags are left unchanged.
func (c *CPU) bitTest(in *inst) {
	s := in.args[0].size
	w := uint64(8 * uint64(s))
	off := c.get(in, 1)
	var v, addr uint64
	mem := in.args[0].kind == argMem
	if mem {
		addr = c.memAddr(in)
		if in.args[1].kind != argImm {
			so := int64(signExtend(off, s))
			addr = c.lin(in.mseg, c.ea(in)+uint64((so>>bits.TrailingZeros64(w))*int64(s)))
		}
		v = c.read(addr, s)
	} else {
		v = c.get(in, 0)
	}
	bit := off & (w - 1)
	cf := v>>bit&1 != 0
	var r uint64
	switch x86asm.Op(in.op) {
	case x86asm.BT:
		c.setFlagsEager(x86.FlagCF, b2f(cf, x86.FlagCF))
		return
	case x86asm.BTS:
		r = v | 1<<bit
	case x86asm.BTR:
		r = v &^ (1 << bit)
	case x86asm.BTC:
		r = v ^ 1<<bit
	}
	if mem {
		c.write(addr, s, r)
	} else {
		c.set(in, 0, r)
	}
	c.setFlagsEager(x86.FlagCF, b2f(cf, x86.FlagCF))
}

// bsf also runs TZCNT: our CPUID does not report BMI1, and on such a
// processor F3 0F BC executes as BSF (SDM Vol. 2 TZCNT), as under QEMU's
// default CPU model. A zero source sets ZF and leaves the destination.
func (c *CPU) bsf(in *inst) {
	src := c.get(in, 1)
	if src == 0 {
		c.setFlagsEager(x86.FlagZF, x86.FlagZF)
		return
	}
	c.set(in, 0, uint64(bits.TrailingZeros64(src)))
	c.setFlagsEager(x86.FlagZF, 0)
}

// bsr also runs LZCNT (no ABM/LZCNT in our CPUID).
func (c *CPU) bsr(in *inst) {
	src := c.get(in, 1)
	if src == 0 {
		c.setFlagsEager(x86.FlagZF, x86.FlagZF)
		return
	}
	c.set(in, 0, uint64(63-bits.LeadingZeros64(src)))
	c.setFlagsEager(x86.FlagZF, 0)
}

func (c *CPU) bswap(in *inst) {
	o := &in.args[0]
	if o.size == 8 {
		c.gpr[o.reg] = bits.ReverseBytes64(c.gpr[o.reg])
		return
	}
	c.setReg(o.reg, 4, uint64(bits.ReverseBytes32(uint32(c.gpr[o.reg]))))
}
