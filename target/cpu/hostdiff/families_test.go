package hostdiff

// Instruction families, part 1: ALU, shifts, multiply and divide, bit
// operations, conditional moves and sets, extensions, LEA, exchanges,
// string instructions, flag operations and MOV. Each comment quotes the
// SDM's "Flags Affected" wording the undefined-flag masks implement
// (Intel SDM Vol. 2, instruction pages).

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"

	"vmapstack/target/x86"
)

var aluNames = [8]string{"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"}

// alu: ADD OR ADC SBB AND SUB XOR CMP. ADD/ADC/SUB/SBB/CMP: "The OF, SF,
// ZF, AF, CF, and PF flags are set according to the result." AND/OR/XOR:
// "The OF and CF flags are cleared; the SF, ZF, and PF flags are set
// according to the result. The state of the AF flag is undefined."
func (g *gen) alu() (*insn, string, bool) {
	op := g.r.Intn(8)
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	w := b2i(size != 8)
	var form string
	switch g.r.Intn(5) {
	case 0:
		in.op = []byte{byte(op*8 + w)}
		g.rmReg(in, size, 0)
		form = formName(in.rm) + ",r"
	case 1:
		in.op = []byte{byte(op*8 + 2 + w)}
		g.rmReg(in, size, 0)
		form = "r," + formName(in.rm)
	case 2:
		in.op = []byte{byte(op*8 + 4 + w)}
		in.imm = g.imm(immSize(size))
		form = "acc,imm"
	case 3:
		in.op = []byte{byte(0x80 + w)}
		g.rmExt(in, size, op, 0)
		in.imm = g.imm(immSize(size))
		form = formName(in.rm) + ",imm"
	default:
		if size == 8 {
			in.op = []byte{0x80}
		} else {
			in.op = []byte{0x83} // imm8 sign-extended
		}
		g.rmExt(in, size, op, 0)
		in.imm = g.imm(1)
		form = formName(in.rm) + ",imm8"
	}
	if in.modrm && !in.regExt && g.chance(4) {
		// Equal operands, or off by one: the carry and borrow edges
		// (SBB of equal values with CF set borrows).
		v := g.regVal(in.reg, size) + uint64(g.r.Intn(3)) - 1
		g.setOpVal(in.rm, size, v)
	}
	if op == 1 || op == 4 || op == 6 {
		g.c.undefFlags |= x86.FlagAF
	}
	lk := ""
	if op != 7 && in.modrm && strings.HasPrefix(form, "m,") {
		lk = g.lock(in)
	}
	return in, fmt.Sprintf("%s%s %s/%d", lk, aluNames[op], form, size), true
}

// test: "The OF and CF flags are set to 0. The SF, ZF, and PF flags are
// set according to the result. The state of the AF flag is undefined."
func (g *gen) test() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	w := b2i(size != 8)
	var form string
	switch g.r.Intn(3) {
	case 0:
		in.op = []byte{byte(0x84 + w)}
		g.rmReg(in, size, 0)
		form = formName(in.rm) + ",r"
	case 1:
		in.op = []byte{byte(0xa8 + w)}
		in.imm = g.imm(immSize(size))
		form = "acc,imm"
	default:
		in.op = []byte{byte(0xf6 + w)}
		g.rmExt(in, size, 0, 0)
		in.imm = g.imm(immSize(size))
		form = formName(in.rm) + ",imm"
	}
	g.c.undefFlags |= x86.FlagAF
	return in, fmt.Sprintf("%s/%d", form, size), true
}

// incDec: "The CF flag is not affected. The OF, SF, ZF, AF, and PF flags
// are set according to the result."
func (g *gen) incDec() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{byte(0xfe + b2i(size != 8))}
	ext := g.r.Intn(2)
	g.rmExt(in, size, ext, 0)
	return in, fmt.Sprintf("%s%s %s/%d", g.lock(in), []string{"inc", "dec"}[ext], formName(in.rm), size), true
}

// negNot: NEG "The CF flag set to 0 if the source operand is 0;
// otherwise it is set to 1. The OF, SF, ZF, AF, and PF flags are set
// according to the result." NOT: "None."
func (g *gen) negNot() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{byte(0xf6 + b2i(size != 8))}
	ext := 2 + g.r.Intn(2)
	g.rmExt(in, size, ext, 0)
	return in, fmt.Sprintf("%s%s %s/%d", g.lock(in), []string{"not", "neg"}[ext-2], formName(in.rm), size), true
}

var shiftNames = [8]string{"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"}

// shift: SHL/SHR/SAR "The CF flag contains the value of the last bit
// shifted out of the destination operand; it is undefined for SHL and
// SHR instructions where the count is greater than or equal to the size
// (in bits) of the destination operand. The OF flag is affected only for
// 1-bit shifts; otherwise, it is undefined. The SF, ZF, and PF flags are
// set according to the result. If the count is 0, the flags are not
// affected. For a non-zero count, the AF flag is undefined."
// ROL/ROR/RCL/RCR: "If the masked count is 0, the flags are not affected.
// If the masked count is 1, then the OF flag is affected, otherwise
// (masked count is greater than 1) the OF flag is undefined. The CF flag
// is affected when the masked count is non-zero. The SF, ZF, AF, and PF
// flags are always unaffected." The count is masked to 5 bits (6 with
// REX.W).
func (g *gen) shift() (*insn, string, bool) {
	ext := []int{0, 1, 2, 3, 4, 5, 7}[g.r.Intn(7)]
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	w := b2i(size != 8)
	var count uint64
	var form string
	switch g.r.Intn(3) {
	case 0:
		in.op = []byte{byte(0xd0 + w)}
		g.rmExt(in, size, ext, 0)
		count, form = 1, ",1"
	case 1:
		in.op = []byte{byte(0xd2 + w)}
		g.rmExt(in, size, ext, 1<<rCX)
		// The count is CL; when the operand is CL/CH/RCX itself the
		// operand value and the count coincide, as on hardware.
		g.setRegVal(rCX, 8, g.shiftCount())
		count, form = g.c.regs[rCX]&0xff, ",cl"
	default:
		in.op = []byte{byte(0xc0 + w)}
		g.rmExt(in, size, ext, 0)
		count = g.shiftCount()
		in.imm = []byte{byte(count)}
		form = ",imm"
	}
	mc := count & 0x1f
	if size == 64 {
		mc = count & 0x3f
	}
	u := &g.c.undefFlags
	switch ext {
	case 4, 5, 7:
		if mc != 0 {
			*u |= x86.FlagAF
			if mc != 1 {
				*u |= x86.FlagOF
			}
			if ext != 7 && mc >= uint64(size) {
				*u |= x86.FlagCF
			}
		}
	default:
		if mc > 1 {
			*u |= x86.FlagOF
		}
	}
	return in, fmt.Sprintf("%s %s%s/%d", shiftNames[ext], formName(in.rm), form, size), true
}

// shiftDouble: SHLD/SHRD "If the count is 1 or greater, the CF flag is
// filled with the last bit shifted out of the destination operand and
// the SF, ZF, and PF flags are set according to the value of the result.
// For a 1-bit shift, the OF flag is set if a sign change occurred;
// otherwise, it is cleared. For shifts greater than 1 bit, the OF flag is
// undefined. If a shift occurs, the AF flag is undefined. If the count
// operand is 0, the flags are not affected. If the count is greater than
// the operand size, the flags are undefined." and "If the count is
// greater than the operand size, the result is undefined."
func (g *gen) shiftDouble() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	right := g.chance(2)
	byCL := g.chance(2)
	op := byte(0xa4)
	if right {
		op = 0xac
	}
	var avoid uint16
	if byCL {
		op++
		avoid = 1 << rCX
	}
	in.op = []byte{0x0f, op}
	g.rmReg(in, size, avoid)
	var count uint64
	if byCL {
		g.setRegVal(rCX, 8, g.shiftCount())
		count = g.c.regs[rCX] & 0xff
	} else {
		count = g.shiftCount()
		in.imm = []byte{byte(count)}
	}
	mc := count & 0x1f
	if size == 64 {
		mc = count & 0x3f
	}
	if mc != 0 {
		g.c.undefFlags |= x86.FlagAF
		if mc != 1 {
			g.c.undefFlags |= x86.FlagOF
		}
		if mc > uint64(size) {
			g.c.undefFlags |= fStatus
			g.undefOp(in.rm, size)
		}
	}
	name := "shld"
	if right {
		name = "shrd"
	}
	cnt := "imm"
	if byCL {
		cnt = "cl"
	}
	return in, fmt.Sprintf("%s %s,r,%s/%d", name, formName(in.rm), cnt, size), true
}

// mul1: MUL/IMUL with one operand. MUL: "The OF and CF flags are set to 0
// if the upper half of the result is 0; otherwise, they are set to 1. The
// SF, ZF, AF, and PF flags are undefined." IMUL: "For the one operand
// form of the instruction, the CF and OF flags are set when significant
// bits are carried into the upper half of the result and cleared when the
// result fits exactly in the lower half of the result. ... The SF, ZF,
// AF, and PF flags are undefined."
func (g *gen) mul1() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{byte(0xf6 + b2i(size != 8))}
	ext := 4 + g.r.Intn(2)
	g.rmExt(in, size, ext, 0)
	g.c.undefFlags |= x86.FlagSF | x86.FlagZF | x86.FlagAF | x86.FlagPF
	return in, fmt.Sprintf("%s %s/%d", []string{"mul", "imul"}[ext-4], formName(in.rm), size), true
}

// imul: the two- and three-operand forms. "For the two- and three-operand
// forms of the instruction, the CF and OF flags are set when the result
// must be truncated to fit in the destination operand size and cleared
// when the result fits exactly in the destination operand size. The SF,
// ZF, AF, and PF flags are undefined."
func (g *gen) imul() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	var form string
	switch g.r.Intn(3) {
	case 0:
		in.op = []byte{0x0f, 0xaf}
		form = "r,rm"
	case 1:
		in.op = []byte{0x6b}
		in.imm = g.imm(1)
		form = "r,rm,imm8"
	default:
		in.op = []byte{0x69}
		in.imm = g.imm(immSize(size))
		form = "r,rm,imm"
	}
	g.rmReg(in, size, 0)
	g.c.undefFlags |= x86.FlagSF | x86.FlagZF | x86.FlagAF | x86.FlagPF
	return in, fmt.Sprintf("%s(%s)/%d", form, formName(in.rm), size), true
}

// div: DIV/IDIV. "The CF, OF, SF, ZF, AF, and PF flags are undefined."
// Inputs that raise #DE (divisor 0, or a quotient too large for the
// destination) are not run natively: the generator adjusts the high half
// of the dividend, or gives up on the case.
func (g *gen) div() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{byte(0xf6 + b2i(size != 8))}
	ext := 6 + g.r.Intn(2)
	signed := ext == 7
	// The dividend registers never form the address: adjusting them must
	// not move the memory operand.
	g.rmExt(in, size, ext, 1<<rAX|1<<rDX)
	hiReg, loReg, n := rDX, rAX, size
	if size == 8 {
		hiReg, loReg = hiByte, rAX // AH:AL, i.e. AX
	}
	if g.opVal(in.rm, size) == 0 && !g.chance(4) {
		g.setOpVal(in.rm, size, g.value()|1)
	}
	if divFaults(signed, size, g.regVal(hiReg, n), g.regVal(loReg, n), g.opVal(in.rm, size)) {
		d := g.opVal(in.rm, size)
		if signed {
			lo := g.regVal(loReg, n)
			hi := uint64(0)
			if signExt(lo, n) < 0 {
				hi = mask(n)
			}
			g.setRegVal(hiReg, n, hi)
		} else if d != 0 {
			g.setRegVal(hiReg, n, g.r.Uint64()%d)
		}
	}
	if divFaults(signed, size, g.regVal(hiReg, n), g.regVal(loReg, n), g.opVal(in.rm, size)) {
		return nil, "", false
	}
	g.c.undefFlags |= fStatus
	return in, fmt.Sprintf("%s %s/%d", []string{"div", "idiv"}[ext-6], formName(in.rm), size), true
}

// divFaults says whether DIV/IDIV of hi:lo (2n bits) by d (n bits) raises
// #DE: "If the quotient is too large for the designated register or the
// divisor is 0, a #DE is generated" (SDM DIV, IDIV). IDIV truncates
// toward zero.
func divFaults(signed bool, n int, hi, lo, d uint64) bool {
	if d&mask(n) == 0 {
		return true
	}
	x := new(big.Int).Lsh(new(big.Int).SetUint64(hi&mask(n)), uint(n))
	x.Or(x, new(big.Int).SetUint64(lo&mask(n)))
	y := new(big.Int).SetUint64(d & mask(n))
	if signed {
		if x.Bit(2*n-1) == 1 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(2*n)))
		}
		if y.Bit(n-1) == 1 {
			y.Sub(y, new(big.Int).Lsh(big.NewInt(1), uint(n)))
		}
	}
	q := new(big.Int).Quo(x, y)
	if signed {
		lim := new(big.Int).Lsh(big.NewInt(1), uint(n-1))
		return q.Cmp(lim) >= 0 || q.Cmp(new(big.Int).Neg(lim)) < 0
	}
	return q.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(n))) >= 0
}

// bt: BT/BTS/BTR/BTC. "The CF flag contains the value of the selected
// bit [before it is changed]. The ZF flag is unaffected. The OF, SF, AF,
// and PF flags are undefined." With a register bit offset and a memory
// operand the offset is a signed value that can address any bit; the
// generator keeps it within the data region.
func (g *gen) bt() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	k := g.r.Intn(4)
	name := []string{"bt", "bts", "btr", "btc"}[k]
	var form string
	if g.chance(2) {
		in.op = []byte{0x0f, byte(0xa3 + 8*k)}
		in.modrm = true
		in.reg = g.gpr(size)
		in.rm = g.rm(size, 1<<in.reg)
		if in.rm.isMem {
			off := uint64(g.r.Intn(4096) - 2048) // bits: +-256 bytes
			g.setRegVal(in.reg, size, off)
		}
		form = formName(in.rm) + ",r"
	} else {
		in.op = []byte{0x0f, 0xba}
		g.rmExt(in, size, 4+k, 0)
		in.imm = []byte{byte(g.shiftCount())}
		form = formName(in.rm) + ",imm"
	}
	g.c.undefFlags |= x86.FlagOF | x86.FlagSF | x86.FlagAF | x86.FlagPF
	lk := ""
	if k != 0 {
		lk = g.lock(in)
	}
	return in, fmt.Sprintf("%s%s %s/%d", lk, name, form, size), true
}

// bsf: BSF/BSR. "The ZF flag is set to 1 if the source operand is 0;
// otherwise, the ZF flag is cleared. The CF, OF, SF, AF, and PF flags are
// undefined." and "If the content of the source operand is 0, the
// content of the destination operand is undefined."
func (g *gen) bsf() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	rev := g.chance(2)
	in.op = []byte{0x0f, byte(0xbc + b2i(rev))}
	g.rmReg(in, size, 0)
	switch g.r.Intn(4) {
	case 0:
		g.setOpVal(in.rm, size, 0)
	case 1:
		g.setOpVal(in.rm, size, 1<<uint(g.r.Intn(size)))
	}
	if g.opVal(in.rm, size) == 0 {
		g.c.undefRegs |= 1 << in.reg
	}
	g.c.undefFlags |= x86.FlagCF | x86.FlagOF | x86.FlagSF | x86.FlagAF | x86.FlagPF
	return in, fmt.Sprintf("%s r,%s/%d", []string{"bsf", "bsr"}[b2i(rev)], formName(in.rm), size), true
}

// setcc: "None" (flags unaffected).
func (g *gen) setcc() (*insn, string, bool) {
	g.byteMode(8)
	in := newInsn()
	cc := g.r.Intn(16)
	in.op = []byte{0x0f, byte(0x90 + cc)}
	g.rmExt(in, 8, 0, 0)
	return in, fmt.Sprintf("set%x %s", cc, formName(in.rm)), true
}

// cmovcc: flags unaffected. In 64-bit mode a 32-bit CMOV writes (and so
// zero-extends) its destination even when the condition is false.
func (g *gen) cmovcc() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	cc := g.r.Intn(16)
	in.op = []byte{0x0f, byte(0x40 + cc)}
	g.rmReg(in, size, 0)
	return in, fmt.Sprintf("cmov%x r,%s/%d", cc, formName(in.rm), size), true
}

// movx: MOVZX, MOVSX, MOVSXD. Flags unaffected.
func (g *gen) movx() (*insn, string, bool) {
	in := newInsn()
	var name string
	var dst, src int
	switch g.r.Intn(5) {
	case 0, 1:
		dst, src = g.sizeNB(), 8
		sx := g.chance(2)
		in.op = []byte{0x0f, byte(0xb6 + 8*b2i(sx))}
		name = []string{"movzx", "movsx"}[b2i(sx)]
		g.legacy = dst != 64 && g.chance(3)
	case 2, 3:
		dst, src = []int{32, 64}[g.r.Intn(2)], 16
		sx := g.chance(2)
		in.op = []byte{0x0f, byte(0xb7 + 8*b2i(sx))}
		name = []string{"movzx", "movsx"}[b2i(sx)]
	default:
		dst, src = 64, 32
		in.op = []byte{0x63}
		name = "movsxd"
	}
	g.sized(in, dst)
	in.modrm = true
	in.reg = g.gpr(dst)
	in.rm = g.rm(src, 0)
	in.rmByte = src == 8
	return in, fmt.Sprintf("%s r%d,%s%d", name, dst, formName(in.rm), src), true
}

// lea: flags unaffected. LEA does not access memory, so base, index,
// scale and displacement are arbitrary, and the result is truncated to
// the operand size (the address to the address size, SDM LEA Table 3-53).
func (g *gen) lea() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{0x8d}
	in.modrm = true
	in.reg = g.gpr(size)
	m := memOp{base: -1, index: -1, scale: 1 << g.r.Intn(4), disp32: g.chance(8), a32: g.chance(3)}
	switch g.r.Intn(8) {
	case 0:
		m.rip = true
	case 1:
		m.index = g.r.Intn(16)
	default:
		m.base = g.r.Intn(16)
		if g.chance(2) {
			m.index = g.r.Intn(16)
		}
	}
	if m.index == rSP {
		m.index = -1
	}
	switch g.r.Intn(3) {
	case 0:
	case 1:
		m.disp = int32(g.r.Intn(256) - 128)
	default:
		m.disp = int32(g.value())
	}
	in.rm = operand{isMem: true, mem: m}
	as := 64
	if m.a32 {
		as = 32
	}
	kind := "base"
	switch {
	case m.rip:
		kind = "rip"
	case m.base < 0:
		kind = "nobase"
	case m.index >= 0:
		kind = "base+index"
	}
	return in, fmt.Sprintf("%s/%d a%d", kind, size, as), true
}

// xchg: flags unaffected. 90+r with r=0 is NOP (no zero-extension of
// EAX into RAX in 64-bit mode, SDM XCHG and NOP); REX.B 90 is XCHG
// R8,rAX.
func (g *gen) xchg() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	if size != 8 && g.chance(3) {
		in.op = []byte{0x90}
		in.opReg = g.r.Intn(16)
		return in, fmt.Sprintf("xchg 90+r/%d", size), true
	}
	in.op = []byte{byte(0x86 + b2i(size != 8))}
	g.rmReg(in, size, 0)
	return in, fmt.Sprintf("%sxchg %s,r/%d", g.lock(in), formName(in.rm), size), true
}

// cmpxchg: "The ZF flag is set if the values in the destination operand
// and register AL, AX, or EAX are equal; otherwise it is cleared. The CF,
// PF, AF, SF, and OF flags are set according to the results of the
// comparison operation."
func (g *gen) cmpxchg() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{0x0f, byte(0xb0 + b2i(size != 8))}
	g.rmReg(in, size, 1<<rAX)
	if g.chance(2) {
		g.setRegVal(rAX, size, g.opVal(in.rm, size)) // make them equal
	}
	return in, fmt.Sprintf("%s%s,r/%d", g.lock(in), formName(in.rm), size), true
}

// xadd: "The CF, PF, AF, SF, ZF, and OF flags are set according to the
// result of the addition, which is stored in the destination operand."
func (g *gen) xadd() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{0x0f, byte(0xc0 + b2i(size != 8))}
	g.rmReg(in, size, 0)
	return in, fmt.Sprintf("%s%s,r/%d", g.lock(in), formName(in.rm), size), true
}

// lock adds, now and then, a LOCK prefix to a read-modify-write
// instruction whose destination is memory; with a register destination
// LOCK raises #UD (SDM Vol. 2A LOCK), so it is never added there.
func (g *gen) lock(in *insn) string {
	if in.modrm && in.rm.isMem && g.chance(3) {
		in.pfx = append([]byte{0xf0}, in.pfx...)
		return "lock "
	}
	return ""
}

// bswap: flags unaffected. The 16-bit form is undefined ("When the BSWAP
// instruction references a 16-bit register, the result is undefined"):
// not generated.
func (g *gen) bswap() (*insn, string, bool) {
	size := []int{32, 64}[g.r.Intn(2)]
	in := newInsn()
	g.sized(in, size)
	in.op = []byte{0x0f, 0xc8}
	in.opReg = g.r.Intn(16)
	return in, fmt.Sprintf("/%d", size), true
}

// cbw: CBW/CWDE/CDQE (98) and CWD/CDQ/CQO (99). Flags unaffected.
func (g *gen) cbw() (*insn, string, bool) {
	size := g.sizeNB()
	in := newInsn()
	g.sized(in, size)
	op := 0x98 + g.r.Intn(2)
	in.op = []byte{byte(op)}
	names := map[int][3]string{0x98: {"cbw", "cwde", "cdqe"}, 0x99: {"cwd", "cdq", "cqo"}}
	return in, names[op][map[int]int{16: 0, 32: 1, 64: 2}[size]], true
}

// str: MOVS, STOS, LODS, CMPS, SCAS with no prefix, REP/REPE (F3) or
// REPNE (F2, compares only), byte to quadword, DF 0 or 1, and (when the
// region is reachable) 32-bit addressing through ESI/EDI/ECX. CMPS/SCAS
// set "the CF, OF, SF, ZF, AF, and PF flags ... according to the
// temporary result of the comparison"; the others affect none.
func (g *gen) str() (*insn, string, bool) {
	kinds := []struct {
		name string
		op   byte
		src  bool // reads [RSI]
		dst  bool // uses [RDI]
		cmp  bool
	}{
		{"movs", 0xa4, true, true, false},
		{"cmps", 0xa6, true, true, true},
		{"stos", 0xaa, false, true, false},
		{"lods", 0xac, true, false, false},
		{"scas", 0xae, false, true, true},
	}
	k := kinds[g.r.Intn(len(kinds))]
	size := g.size()
	in := newInsn()
	// The repeat prefix goes first here, 66h after it: both orders are
	// legal (SDM Vol. 2A 2.1.1, prefixes in any order).
	rep := g.r.Intn(3)
	if rep == 2 && !k.cmp {
		rep = 1
	}
	if rep != 0 {
		in.pfx = append(in.pfx, []byte{0, 0xf3, 0xf2}[rep])
	}
	g.sized(in, size)
	in.op = []byte{k.op + byte(b2i(size != 8))}
	a32 := g.lay.low && g.chance(4)
	in.a32 = a32
	count := uint64(g.r.Intn(13))
	// Keep every element the instruction may touch inside the region:
	// at most 13 elements of 8 bytes either way from the start.
	pos := func() uint64 { return g.lay.base + memLo + 128 + uint64(g.r.Intn(memHi-memLo-256)) }
	// With 67h and a repeat prefix, a count of zero runs no iteration,
	// and whether the processor still writes ECX, ESI and EDI (clearing
	// the upper halves of RCX, RSI and RDI, as 32-bit writes do) is left
	// to the implementation: Intel's Xeons clear them, AMD's EPYCs and
	// QEMU leave them (docs/qemu-differences.md §7). Such a case starts
	// with the upper halves already clear, so every processor agrees.
	undefUpper := a32 && rep != 0 && count == 0
	set := func(r int, v uint64) {
		if a32 && !undefUpper {
			v = g.r.Uint64()&^mask(32) | v&mask(32)
		}
		g.c.regs[r] = v
	}
	si, di := pos(), pos()
	if k.src {
		// The source segment can be overridden, the ES:RDI one cannot.
		in.seg = g.segOverride(!a32)
	}
	set(rSI, si-g.segBase(in.seg))
	set(rDI, di)
	if rep != 0 {
		set(rCX, count)
	}
	step := uint64(size / 8)
	window := int(13 * step)
	// Make compares succeed for a while: copy the source window onto the
	// destination one (or fill it with the accumulator for SCAS), then
	// maybe break the run at a random element.
	if k.cmp && g.chance(2) {
		if k.name == "cmps" {
			src := append([]byte(nil), g.c.data[g.dataAt(si)-window:g.dataAt(si)+window]...)
			copy(g.c.data[g.dataAt(di)-window:], src)
		} else {
			var t [8]byte
			binary.LittleEndian.PutUint64(t[:], g.c.regs[rAX])
			for o := -window; o < window; o += int(step) {
				copy(g.c.data[g.dataAt(di)+o:], t[:step])
			}
		}
		if g.chance(2) {
			g.c.data[g.dataAt(di)+g.r.Intn(2*window)-window] ^= 1 << uint(g.r.Intn(8))
		}
	}
	pfx := []string{"", "rep ", "repne "}[rep]
	as := ""
	if a32 {
		as = " a32"
	}
	return in, fmt.Sprintf("%s%s/%d%s", pfx, k.name, size, as), true
}

// flagOps: LAHF, SAHF, CLC, STC, CMC, CLD, STD. SAHF: "The SF, ZF, AF,
// PF, and CF flags are loaded with values from the AH register. Bits 1,
// 3, and 5 of the EFLAGS register are unaffected." LAHF: none.
func (g *gen) flagOps() (*insn, string, bool) {
	ops := []struct {
		name string
		op   byte
	}{{"lahf", 0x9f}, {"sahf", 0x9e}, {"clc", 0xf8}, {"stc", 0xf9}, {"cmc", 0xf5}, {"cld", 0xfc}, {"std", 0xfd}}
	o := ops[g.r.Intn(len(ops))]
	in := newInsn()
	in.op = []byte{o.op}
	return in, o.name, true
}

// mov: MOV r/m,r; r,r/m; r/m,imm (C6/C7); r,imm (B0+r, B8+r with a full
// 64-bit immediate under REX.W). Flags unaffected.
func (g *gen) mov() (*insn, string, bool) {
	size := g.size()
	g.byteMode(size)
	in := newInsn()
	g.sized(in, size)
	w := b2i(size != 8)
	var form string
	switch g.r.Intn(4) {
	case 0:
		in.op = []byte{byte(0x88 + w)}
		g.rmReg(in, size, 0)
		form = formName(in.rm) + ",r"
	case 1:
		in.op = []byte{byte(0x8a + w)}
		g.rmReg(in, size, 0)
		form = "r," + formName(in.rm)
	case 2:
		in.op = []byte{byte(0xc6 + w)}
		g.rmExt(in, size, 0, 0)
		in.imm = g.imm(immSize(size))
		form = formName(in.rm) + ",imm"
	default:
		in.op = []byte{byte(0xb0 + 8*w)}
		in.opReg = g.gpr(size)
		in.opByte = size == 8
		n := immSize(size)
		if size == 64 {
			n = 8
		}
		in.imm = g.imm(n)
		form = "r,imm"
	}
	return in, fmt.Sprintf("%s/%d", form, size), true
}
