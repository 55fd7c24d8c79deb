package cpu

// mov covers MOV between GPRs, memory and immediates, and the forms with
// a segment, control or debug register.
func (c *CPU) mov(in *inst) {
	d, s := &in.args[0], &in.args[1]
	if d.kind == argReg && s.kind == argReg {
		c.setReg(d.reg, d.size, c.gpr[s.reg])
		return
	}
	switch {
	case d.kind == argSeg:
		c.movToSeg(d.reg, uint16(c.get(in, 1)))
	case d.kind == argCR:
		c.movToCR(d.reg, c.getReg(s.reg, s.size))
	case s.kind == argCR:
		c.setReg(d.reg, d.size, c.readCR(s.reg))
	case d.kind == argDR:
		c.movToDR(d.reg, c.getReg(s.reg, s.size))
	case s.kind == argDR:
		c.setReg(d.reg, d.size, c.readDR(s.reg))
	case s.kind == argSeg:
		// A store of a segment register to memory is 16 bits; to a
		// register it zero-extends to the operand size.
		v := uint64(c.seg[s.reg].Sel)
		if d.kind == argMem {
			c.write(c.memAddr(in), 2, v)
		} else {
			c.setReg(d.reg, d.size, v)
		}
	default:
		c.set(in, 0, c.get(in, 1))
	}
}

// cmov: the source is read (and may fault) whatever the condition; a
// 32-bit destination is zero-extended even when nothing moves (SDM Vol. 1
// 3.4.1.1, 64-bit mode).
func (c *CPU) cmov(in *inst) {
	v := c.get(in, 1)
	if c.cond(condOf[in.op]) {
		c.set(in, 0, v)
	} else if in.args[0].size == 4 {
		c.setReg(in.args[0].reg, 4, c.gpr[in.args[0].reg])
	}
}

func (c *CPU) xchg(in *inst) {
	a := c.get(in, 0)
	b := c.get(in, 1)
	if in.args[0].kind == argMem {
		c.set(in, 0, b)
		c.set(in, 1, a)
		return
	}
	c.set(in, 1, a)
	c.set(in, 0, b)
}
