package cpu

import (
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// Specialised forms: the operation/operand-size pairs that make up most
// of what real code executes get a dispatch class of their own at decode
// time, and runLinked runs them inside its loop with no call. A Linux
// boot's mix (1.69 G instructions, half of them the kernel's MPI code,
// mpihelp_*): MOV r64,r64 10.7%, ADD r64,r64 9.1%, MOV r64,m64 5.0%, IMUL
// r64,r64 4.8%, JNE 4.4%, MOV r32,r32 4.1%, CMP r64,r64 3.9%, SHR r64,imm
// 3.9%; scenario=bench adds XOR r64,r64 at 11.8%.
//
// Why in the loop: a Go call clobbers every register, so after one the
// loop reloads what it keeps live; for an instruction as small as these
// that, and the call, cost more than the instruction (measured: the
// bench scenario 1.46x faster with the cases in the loop than with the
// same handlers behind exec).
//
// Each handler must do exactly what the generic class in genericClass
// does: TestSpecialisedClassesMatchGeneric runs each form both ways from
// random states, and TestRunLinkedMatchesStep random programs of them,
// faults included.
// Outside runLinked, exec runs a specialised instruction as its generic
// class.
const (
	clsFirstSpecialised = clsShiftR + 1 + iota
	clsMovRR64          // MOV r64, r64
	clsMovRR32          // MOV r32, r32
	clsMovRM64          // MOV r64, m64
	clsMovMR64          // MOV m64, r64
	clsLea64            // LEA r64, m
	clsAddRR64          // ADD r64, r64
	clsAddRI64          // ADD r64, imm
	clsAddRI32          // ADD r32, imm
	clsAddRM64          // ADD r64, m64
	clsSubRR64          // SUB r64, r64
	clsCmpRR64          // CMP r64, r64
	clsCmpRI64          // CMP r64, imm
	clsCmpRI32          // CMP r32, imm
	clsXorRR64          // XOR r64, r64
	clsXorRR32          // XOR r32, r32
	clsAndRI32          // AND r32, imm
	clsTestRR64         // TEST r64, r64
	clsTestRR32         // TEST r32, r32
	clsTestRI32         // TEST r32, imm
	clsShlRI64          // SHL r64, imm
	clsShrRI64          // SHR r64, imm
	clsImulRR64         // IMUL r64, r64
	clsImulRRI64        // IMUL r64, r64, imm
	clsMovzxR           // MOVZX r32/r64, r8/r16 (not AH..BH)
	clsMovzxM           // MOVZX r32/r64, m8/m16
	clsMovsxdRR         // MOVSXD r64, r32
	clsJe               // JE rel
	clsJne              // JNE rel
	clsJmpRel           // JMP rel
	clsCallRel64        // CALL rel in 64-bit mode
	clsRet64            // RET in 64-bit mode
	clsPushR64          // PUSH r64
	clsPopR64           // POP r64
	clsMovRM32          // MOV r32, m32
	clsMovMR32          // MOV m32, r32
	clsAddRR32          // ADD r32, r32
	clsSubRI64          // SUB r64, imm
	clsSetccR           // SETcc r8 (not AH..BH)
	clsCmovRR64         // CMOVcc r64, r64
	clsEndSpecialised
)

// genericClass is the class each specialised one stands for, indexed by
// cls-clsFirstSpecialised (its first entry is clsFirstSpecialised's own,
// which no instruction has).
var genericClass = [clsEndSpecialised - clsFirstSpecialised]uint8{
	clsMovRR64 - clsFirstSpecialised:   clsMovRR,
	clsMovRR32 - clsFirstSpecialised:   clsMovRR,
	clsMovRM64 - clsFirstSpecialised:   clsMovRM,
	clsMovMR64 - clsFirstSpecialised:   clsMovMR,
	clsLea64 - clsFirstSpecialised:     clsLea,
	clsAddRR64 - clsFirstSpecialised:   clsArithR,
	clsAddRI64 - clsFirstSpecialised:   clsArithR,
	clsAddRI32 - clsFirstSpecialised:   clsArithR,
	clsAddRM64 - clsFirstSpecialised:   clsArith,
	clsSubRR64 - clsFirstSpecialised:   clsArithR,
	clsCmpRR64 - clsFirstSpecialised:   clsArithR,
	clsCmpRI64 - clsFirstSpecialised:   clsArithR,
	clsCmpRI32 - clsFirstSpecialised:   clsArithR,
	clsXorRR64 - clsFirstSpecialised:   clsLogicR,
	clsXorRR32 - clsFirstSpecialised:   clsLogicR,
	clsAndRI32 - clsFirstSpecialised:   clsLogicR,
	clsTestRR64 - clsFirstSpecialised:  clsLogicR,
	clsTestRR32 - clsFirstSpecialised:  clsLogicR,
	clsTestRI32 - clsFirstSpecialised:  clsLogicR,
	clsShlRI64 - clsFirstSpecialised:   clsShiftR,
	clsShrRI64 - clsFirstSpecialised:   clsShiftR,
	clsImulRR64 - clsFirstSpecialised:  clsImul,
	clsImulRRI64 - clsFirstSpecialised: clsImul,
	clsMovzxR - clsFirstSpecialised:    clsMovzx,
	clsMovzxM - clsFirstSpecialised:    clsMovzx,
	clsMovsxdRR - clsFirstSpecialised:  clsMovsx,
	clsJe - clsFirstSpecialised:        clsJcc,
	clsJne - clsFirstSpecialised:       clsJcc,
	clsJmpRel - clsFirstSpecialised:    clsJmp,
	clsCallRel64 - clsFirstSpecialised: clsCall,
	clsRet64 - clsFirstSpecialised:     clsRet,
	clsPushR64 - clsFirstSpecialised:   clsPush,
	clsPopR64 - clsFirstSpecialised:    clsPop,
	clsMovRM32 - clsFirstSpecialised:   clsMovRM,
	clsMovMR32 - clsFirstSpecialised:   clsMovMR,
	clsAddRR32 - clsFirstSpecialised:   clsArithR,
	clsSubRI64 - clsFirstSpecialised:   clsArithR,
	clsSetccR - clsFirstSpecialised:    clsSetcc,
	clsCmovRR64 - clsFirstSpecialised:  clsCmov,
}

// specialise picks a register-only dispatch class for the most frequent
// forms, which then skip the generic operand accessors, and for the most
// frequent of those a specialised class of their operation and size.
func specialise(in *inst) {
	// The stack and branch forms: 64-bit mode with a 64-bit stack operand
	// (no 0x66 prefix), where RSP and RIP are plain 64-bit values.
	stack64 := in.mode == 64 && in.osize != 2
	switch in.cls {
	case clsJcc:
		switch x86asm.Op(in.op) {
		case x86asm.JE:
			in.cls = clsJe
		case x86asm.JNE:
			in.cls = clsJne
		}
		return
	case clsJmp:
		if in.args[0].kind == argImm {
			in.cls = clsJmpRel
		}
		return
	case clsCall:
		if in.args[0].kind == argImm && stack64 {
			in.cls = clsCallRel64
		}
		return
	case clsRet:
		if in.nargs == 0 && stack64 {
			in.cls = clsRet64
		}
		return
	case clsPush:
		if in.args[0].kind == argReg && stack64 {
			in.cls = clsPushR64
		}
		return
	case clsPop:
		if in.args[0].kind == argReg && stack64 {
			in.cls = clsPopR64
		}
		return
	case clsSetcc:
		if in.args[0].kind == argReg {
			in.cls = clsSetccR
		}
		return
	}
	if in.cls == clsImul && in.nargs == 3 {
		if in.args[0].kind == argReg && in.args[0].size == 8 && in.args[1].kind == argReg && in.args[2].kind == argImm {
			in.cls = clsImulRRI64
		}
		return
	}
	if in.nargs != 2 {
		return
	}
	src := in.args[1].kind
	if in.args[0].kind == argMem {
		if in.cls == clsMov && (src == argReg || src == argImm) {
			in.cls = clsMovMR
			switch {
			case src == argReg && in.args[0].size == 8:
				in.cls = clsMovMR64
			case src == argReg && in.args[0].size == 4:
				in.cls = clsMovMR32
			}
		}
		return
	}
	if in.args[0].kind != argReg {
		return
	}
	size := in.args[0].size
	op := x86asm.Op(in.op)
	switch in.cls {
	case clsMov:
		switch src {
		case argReg:
			in.cls = clsMovRR
			switch size {
			case 8:
				in.cls = clsMovRR64
			case 4:
				in.cls = clsMovRR32
			}
		case argImm:
			in.cls = clsMovRI
		case argMem:
			in.cls = clsMovRM
			switch size {
			case 8:
				in.cls = clsMovRM64
			case 4:
				in.cls = clsMovRM32
			}
		}
	case clsLea:
		if size == 8 {
			in.cls = clsLea64
		}
	case clsArith:
		if op == x86asm.ADD && size == 8 && src == argMem {
			in.cls = clsAddRM64
		}
		if src != argReg && src != argImm {
			return
		}
		in.cls = clsArithR
		switch {
		case op == x86asm.ADD && size == 8 && src == argReg:
			in.cls = clsAddRR64
		case op == x86asm.ADD && size == 8:
			in.cls = clsAddRI64
		case op == x86asm.ADD && size == 4 && src == argImm:
			in.cls = clsAddRI32
		case op == x86asm.ADD && size == 4:
			in.cls = clsAddRR32
		case op == x86asm.SUB && size == 8 && src == argImm:
			in.cls = clsSubRI64
		case op == x86asm.SUB && size == 8 && src == argReg:
			in.cls = clsSubRR64
		case op == x86asm.CMP && size == 8 && src == argReg:
			in.cls = clsCmpRR64
		case op == x86asm.CMP && size == 8:
			in.cls = clsCmpRI64
		case op == x86asm.CMP && size == 4 && src == argImm:
			in.cls = clsCmpRI32
		}
	case clsLogic:
		if src != argReg && src != argImm {
			return
		}
		in.cls = clsLogicR
		switch {
		case op == x86asm.XOR && size == 8 && src == argReg:
			in.cls = clsXorRR64
		case op == x86asm.XOR && size == 4 && src == argReg:
			in.cls = clsXorRR32
		case op == x86asm.AND && size == 4 && src == argImm:
			in.cls = clsAndRI32
		case op == x86asm.TEST && size == 8 && src == argReg:
			in.cls = clsTestRR64
		case op == x86asm.TEST && size == 4 && src == argReg:
			in.cls = clsTestRR32
		case op == x86asm.TEST && size == 4 && src == argImm:
			in.cls = clsTestRI32
		}
	case clsShift:
		if src != argReg && src != argImm {
			return
		}
		in.cls = clsShiftR
		switch {
		case op == x86asm.SHL && size == 8 && src == argImm:
			in.cls = clsShlRI64
		case op == x86asm.SHR && size == 8 && src == argImm:
			in.cls = clsShrRI64
		}
	case clsImul:
		if src == argReg && size == 8 {
			in.cls = clsImulRR64
		}
	case clsCmov:
		if src == argReg && size == 8 {
			in.cls = clsCmovRR64
		}
	case clsMovzx:
		if size == 4 || size == 8 {
			switch src {
			case argReg:
				in.cls = clsMovzxR
			case argMem:
				in.cls = clsMovzxM
			}
		}
	case clsMovsx:
		if op == x86asm.MOVSXD && size == 8 && src == argReg && in.args[1].size == 4 {
			in.cls = clsMovsxdRR
		}
	}
}

// The handlers, small enough for Go to inline into runLinked. dst and
// src are the register numbers of operands 0 and 1 (masked to 4 bits,
// which also drops the bounds check).

func (in *inst) dst() uint8 { return in.args[0].reg & 15 }
func (in *inst) src() uint8 { return in.args[1].reg & 15 }

func (c *CPU) add64(d uint8, b uint64) {
	a := c.gpr[d]
	r := a + b
	c.gpr[d] = r
	c.setLazy(lzAdd, 8, r, a, b)
}

// add32 takes b already 32 bits; the result zero-extends.
func (c *CPU) add32(d uint8, b uint64) {
	a := uint64(uint32(c.gpr[d]))
	r := uint64(uint32(a + b))
	c.gpr[d] = r
	c.setLazy(lzAdd, 4, r, a, b)
}

func (c *CPU) sub64(d uint8, b uint64) {
	a := c.gpr[d]
	r := a - b
	c.gpr[d] = r
	c.setLazy(lzSub, 8, r, a, b)
}

func (c *CPU) cmp64(a, b uint64) { c.setLazy(lzSub, 8, a-b, a, b) }

func (c *CPU) cmp32(a, b uint32) { c.setLazy(lzSub, 4, uint64(a-b), uint64(a), uint64(b)) }

// logic64 and logic32 record the flags of AND OR XOR TEST (CF=OF=AF=0).
func (c *CPU) logic64(r uint64) { c.lz.op, c.lz.size, c.lz.res = lzLogic, 8, r }

func (c *CPU) logic32(r uint32) { c.lz.op, c.lz.size, c.lz.res = lzLogic, 4, uint64(r) }

// shlImm64 and shrImm64 (shl and shr for a 64-bit operand, written out
// to be inlined): a count that masks to 0 changes neither the register
// nor the flags. The lazy shift state holds CF in cin and OF in a.
func (c *CPU) shlImm64(d uint8, n uint) {
	if n &= 63; n != 0 {
		a := c.gpr[d]
		r := a << n
		c.gpr[d] = r
		cf := a >> (64 - n) & 1
		c.lz.op, c.lz.size, c.lz.res, c.lz.cin, c.lz.a = lzShift, 8, r, cf != 0, r>>63^cf
	}
}

func (c *CPU) shrImm64(d uint8, n uint) {
	if n &= 63; n != 0 {
		a := c.gpr[d]
		r := a >> n
		c.gpr[d] = r
		c.lz.op, c.lz.size, c.lz.res, c.lz.cin, c.lz.a = lzShift, 8, r, a>>(n-1)&1 != 0, a>>63
	}
}

// imul64: register d gets the low half of the signed x*y; CF=OF when the
// high half is not the sign extension of the low (mul64s, branch-free).
func (c *CPU) imul64(d uint8, x, y uint64) {
	hi, lo := bits.Mul64(x, y)
	hi -= uint64(int64(x)>>63)&y + uint64(int64(y)>>63)&x
	c.gpr[d] = lo
	o := uint64(0)
	if hi != uint64(int64(lo)>>63) {
		o = 1
	}
	c.lz.op, c.lz.size, c.lz.res, c.lz.cin, c.lz.a = lzShift, 8, lo, o != 0, o
}

// operandAddr is memAddr for runLinked's specialised forms, which set
// c.curSeg (for the #SS-or-#GP choice of a non-canonical address) only
// when they have a memory operand.
func (c *CPU) operandAddr(in *inst) uint64 {
	c.curSeg = in.mseg
	return c.memAddr(in)
}

// call64 and ret64 are CALL rel and RET with 64-bit RIP and RSP: call
// and ret without the size cases.
func (c *CPU) call64(in *inst) {
	ret := c.next
	c.branch(ret+uint64(in.imm), 8) // #GP for a non-canonical target before anything is pushed
	c.push(ret, 8)
}

func (c *CPU) ret64() {
	t := c.peek(0, 8)
	c.branch(t, 8)
	c.gpr[RSP] += 8
}

// pop64 reads before RSP moves, and writes the register after: POP RSP
// loads the popped value (SDM Vol. 2 POP).
func (c *CPU) pop64(d uint8) {
	v := c.peek(0, 8)
	c.gpr[RSP] += 8
	c.gpr[d] = v
}

// setcc8 writes 1 or 0 to the low byte of register d.
func (c *CPU) setcc8(d uint8, cc uint8) {
	v := uint64(0)
	if c.cond(cc) {
		v = 1
	}
	c.gpr[d] = c.gpr[d]&^0xff | v
}

// jumpRel takes a relative branch (Jcc, JMP rel).
func (c *CPU) jumpRel(in *inst) {
	c.branch(c.next+uint64(in.imm), c.branchSize(in))
}
