package cpu

import "vmapstack/target/x86"

// Operand access for decoded instructions: effective addresses, reads
// and writes of register, memory and immediate operands.

// ea returns the effective address (offset, before the segment base) of
// the memory operand, truncated to the address size.
func (c *CPU) ea(in *inst) uint64 {
	a := uint64(int64(in.disp))
	if in.mbase != noReg {
		if in.mbase < ripReg {
			a += c.gpr[in.mbase&15]
		} else if in.mbase == ripReg {
			a += c.next
		} else {
			a = uint64(in.imm) // absReg
		}
	}
	if in.mindex != noReg {
		a += c.gpr[in.mindex] << in.mshift
	}
	switch in.asize {
	case 4:
		a = uint64(uint32(a))
	case 2:
		a = uint64(uint16(a))
	}
	return a
}

// lin returns the linear address of offset off in segment s.
func (c *CPU) lin(s uint8, off uint64) uint64 {
	a := off + c.segBase[s]
	if c.mode != 64 {
		a = uint64(uint32(a))
	}
	return a
}

// memAddr is the linear address of the memory operand.
func (c *CPU) memAddr(in *inst) uint64 {
	return c.lin(in.mseg, c.ea(in))
}

func (c *CPU) getReg(n, size uint8) uint64 {
	return c.gpr[n] & sizeMask(size)
}

// setReg writes the low size bytes of a GPR: 8- and 16-bit writes keep
// the upper bits, 32-bit writes zero-extend (SDM Vol. 1 3.4.1.1).
func (c *CPU) setReg(n, size uint8, v uint64) {
	switch size {
	case 1:
		c.gpr[n] = c.gpr[n]&^0xff | v&0xff
	case 2:
		c.gpr[n] = c.gpr[n]&^0xffff | v&0xffff
	case 4:
		c.gpr[n] = uint64(uint32(v))
	default:
		c.gpr[n] = v
	}
}

// get reads operand i.
func (c *CPU) get(in *inst, i int) uint64 {
	o := &in.args[i]
	switch o.kind {
	case argReg:
		return c.gpr[o.reg] & sizeMask(o.size)
	case argImm:
		return uint64(in.imm) & sizeMask(o.size)
	case argMem:
		return c.read(c.memAddr(in), o.size)
	case argReg8H:
		return (c.gpr[o.reg] >> 8) & 0xff
	case argImm2:
		return in.imm2() & sizeMask(o.size)
	case argSeg:
		return uint64(c.seg[o.reg].Sel)
	}
	c.raise(x86.VecUD)
	return 0
}

// set writes operand i.
func (c *CPU) set(in *inst, i int, v uint64) {
	o := &in.args[i]
	switch o.kind {
	case argReg:
		c.setReg(o.reg, o.size, v)
	case argMem:
		c.write(c.memAddr(in), o.size, v)
	case argReg8H:
		c.gpr[o.reg] = c.gpr[o.reg]&^0xff00 | (v&0xff)<<8
	default:
		c.raise(x86.VecUD)
	}
}

// stackSize is the operand size of PUSH/POP/CALL/RET: 64-bit mode
// defaults to 8 and only 66h makes it 2 (SDM Vol. 1 6.2.5).
func (in *inst) stackSize() uint8 {
	if in.mode == 64 {
		if in.osize == 2 {
			return 2
		}
		return 8
	}
	return in.osize
}

// push stores v below RSP. The memory write happens before RSP changes,
// so a faulting push leaves the registers untouched.
func (c *CPU) push(v uint64, size uint8) {
	sp := c.gpr[RSP] - uint64(size)
	if c.mode == 64 {
		if !canonical(sp) {
			c.raiseErr(x86.VecSS, 0) // a stack reference: #SS, not #GP (SDM Vol. 3A 6.15)
		}
		c.write(sp, size, v)
		c.gpr[RSP] = sp
		return
	}
	sp = uint64(uint32(sp))
	c.write(c.lin(SS, sp), size, v)
	c.gpr[RSP] = sp
}

// peek reads the stack at RSP+off without changing RSP.
func (c *CPU) peek(off uint64, size uint8) uint64 {
	sp := c.gpr[RSP] + off
	if c.mode != 64 {
		sp = uint64(uint32(sp))
	} else if !canonical(sp) {
		c.raiseErr(x86.VecSS, 0)
	}
	return c.read(c.lin(SS, sp), size)
}

func signExtend(v uint64, size uint8) uint64 {
	switch size {
	case 1:
		return uint64(int64(int8(v)))
	case 2:
		return uint64(int64(int16(v)))
	case 4:
		return uint64(int64(int32(v)))
	}
	return v
}

// branch sets the next RIP to target truncated to the operand size; a
// non-canonical target in 64-bit mode is #GP(0) at the branch itself
// (SDM Vol. 2 JMP, "64-bit mode exceptions").
func (c *CPU) branch(target uint64, size uint8) {
	switch size {
	case 2:
		target &= 0xffff
	case 4:
		target = uint64(uint32(target))
	}
	if c.mode == 64 && !canonical(target) {
		c.raiseErr(x86.VecGP, 0)
	}
	c.next = target
}
