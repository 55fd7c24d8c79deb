package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// branchSize is the operand size of a near branch target: 8 in 64-bit
// mode (66h would make it 2; gcc never emits that), else the operand size.
func (c *CPU) branchSize(in *inst) uint8 {
	if in.mode == 64 {
		return 8
	}
	return in.osize
}

func (c *CPU) jmp(in *inst) {
	if in.args[0].kind == argImm {
		c.branch(c.next+uint64(in.imm), c.branchSize(in))
		return
	}
	t := c.get(in, 0)
	c.branch(t, in.stackSize())
}

func (c *CPU) call(in *inst) {
	var t uint64
	if in.args[0].kind == argImm {
		t = c.next + uint64(in.imm)
	} else {
		t = c.get(in, 0)
	}
	s := in.stackSize()
	ret := c.next
	c.branch(t, s) // #GP for a non-canonical target before anything is pushed
	c.push(ret, s)
}

func (c *CPU) ret(in *inst) {
	s := in.stackSize()
	t := c.peek(0, s)
	c.branch(t, s)
	c.gpr[RSP] = c.spAdd(uint64(s))
	if in.nargs > 0 {
		c.gpr[RSP] = c.spAdd(uint64(uint16(in.imm)))
	}
}

// spAdd returns RSP+n in the stack's address size.
func (c *CPU) spAdd(n uint64) uint64 {
	if c.mode == 64 {
		return c.gpr[RSP] + n
	}
	return uint64(uint32(c.gpr[RSP] + n))
}

func (c *CPU) popOp(in *inst) {
	s := in.stackSize()
	v := c.peek(0, s)
	o := &in.args[0]
	switch o.kind {
	case argSeg:
		c.movToSeg(o.reg, uint16(v))
		c.gpr[RSP] = c.spAdd(uint64(s))
	case argMem:
		// POP to memory computes the address with the incremented RSP
		// (SDM Vol. 2 POP).
		old := c.gpr[RSP]
		c.gpr[RSP] = c.spAdd(uint64(s))
		func() {
			defer func() {
				if r := recover(); r != nil {
					c.gpr[RSP] = old
					panic(r)
				}
			}()
			c.write(c.memAddr(in), s, v)
		}()
	default:
		c.gpr[RSP] = c.spAdd(uint64(s))
		c.setReg(o.reg, s, v)
	}
}

func (c *CPU) leave(in *inst) {
	s := in.stackSize()
	if c.mode == 64 {
		v := c.read(c.gpr[RBP], s)
		c.gpr[RSP] = c.gpr[RBP] + uint64(s)
		c.setReg(RBP, s, v)
		return
	}
	bp := uint64(uint32(c.gpr[RBP]))
	v := c.read(c.lin(SS, bp), s)
	c.gpr[RSP] = uint64(uint32(bp + uint64(s)))
	c.setReg(RBP, s, v)
}

// enter with nesting level 0 or 1 (gcc emits neither; kept simple).
func (c *CPU) enter(in *inst) {
	s := in.stackSize()
	size := uint64(uint16(in.imm))
	level := uint8(in.imm2()) & 31
	if level > 1 {
		c.raise(x86.VecUD)
	}
	c.push(c.gpr[RBP], s)
	frame := c.gpr[RSP]
	if level == 1 {
		c.push(frame, s)
	}
	c.setReg(RBP, s, frame)
	c.gpr[RSP] = c.spAdd(-size)
}

func (c *CPU) pushf(in *inst) {
	s := in.stackSize()
	// VM and RF are never pushed (SDM Vol. 2 PUSHF).
	c.push(c.rflags()&^(x86.FlagVM|x86.FlagRF), s)
}

func (c *CPU) popf(in *inst) {
	s := in.stackSize()
	v := c.peek(0, s)
	c.gpr[RSP] = c.spAdd(uint64(s))
	old := c.rflags()
	mask := uint64(writableFlags &^ x86.FlagRF)
	if c.cpl > 0 {
		mask &^= x86.FlagIOPL
		if uint64(c.cpl) > (old&x86.FlagIOPL)>>12 {
			mask &^= x86.FlagIF
		}
	}
	if s == 2 {
		mask &= 0xffff
	}
	c.setRflags(old&^mask | v&mask)
}

// loop executes LOOP LOOPE LOOPNE and JrCXZ; the count register's size
// is the address size.
func (c *CPU) loop(in *inst) {
	m := sizeMask(in.asize)
	cx := c.gpr[RCX] & m
	var take bool
	switch x86asm.Op(in.op) {
	case x86asm.JRCXZ, x86asm.JECXZ, x86asm.JCXZ:
		take = cx == 0
	default:
		cx = (cx - 1) & m
		take = cx != 0
		if in.op == uint16(x86asm.LOOPE) {
			take = take && c.zf()
		} else if in.op == uint16(x86asm.LOOPNE) {
			take = take && !c.zf()
		}
		c.setReg(RCX, in.asize, cx)
	}
	if take {
		c.branch(c.next+uint64(in.imm), c.branchSize(in))
	}
}
