package hostdiff

// Instruction families, part 2: CMPXCHG8B/16B, POPCNT/LZCNT/TZCNT, XLAT, the stack
// instructions and near branches. Branch cases are short sequences: the
// branch, then INC R15 (the fall-through path), then the trampoline's
// epilogue; a taken branch skips the INC, so R15 says which way it went.

import (
	"encoding/binary"
	"fmt"
	"strings"

	"vmapstack/target/x86"
)

// incR15 marks the fall-through path of a branch case.
var incR15 = []byte{0x49, 0xff, 0xc7}

// cmpxchg8b: CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W; the operand must be
// 16-byte aligned or #GP). "The ZF flag is set if the destination operand
// and EDX:EAX are equal; otherwise it is cleared. The CF, PF, AF, SF, and
// OF flags are unaffected." On a mismatch EDX:EAX (RDX:RAX) is loaded,
// which zero-extends EAX and EDX in 64-bit mode.
func (g *gen) cmpxchg8b() (*insn, string, bool) {
	in := newInsn()
	in.op = []byte{0x0f, 0xc7}
	in.modrm, in.reg, in.regExt = true, 1, true
	wide := g.chance(2)
	ea := g.lay.base + memLo + uint64(g.r.Intn(memHi-memLo))
	n := 8
	if wide {
		in.w = true
		ea &^= 15
		n = 16
	}
	in.rm = g.memAt(1<<rAX|1<<rDX|1<<rBX|1<<rCX, ea)
	if g.chance(2) {
		off := g.dataAt(ea)
		lo := binary.LittleEndian.Uint64(g.c.data[off:])
		hi := binary.LittleEndian.Uint64(g.c.data[off+8:])
		if wide {
			g.c.regs[rAX], g.c.regs[rDX] = lo, hi
		} else {
			g.setRegVal(rAX, 32, lo)
			g.setRegVal(rDX, 32, lo>>32)
		}
	}
	name := "cmpxchg8b"
	if wide {
		name = "cmpxchg16b"
	}
	return in, fmt.Sprintf("%s%s m%d", g.lock(in), name, 8*n), true
}

// POPCNT, LZCNT and TZCNT are not generated: qemu64 announces none of
// them, so the emulator raises #UD for POPCNT (as QEMU does) and runs the
// F3 0F BD/BC encodings as BSR/BSF (as a processor without ABM and BMI1
// does, SDM LZCNT, TZCNT), while hosts have all three. TestPOPCNTIsUD
// (target/cpu) checks the #UD.

// xlat: AL <- [RBX + zero-extended AL] (EBX with 67h). Flags unaffected.
func (g *gen) xlat() (*insn, string, bool) {
	in := newInsn()
	in.op = []byte{0xd7}
	in.w = g.chance(3)
	tbl := g.lay.base + memLo + uint64(g.r.Intn(memHi-memLo-256))
	name := "xlat"
	if g.lay.low && g.chance(3) {
		in.a32 = true
		tbl = g.r.Uint64()&^mask(32) | tbl
		name += " a32"
	}
	g.c.regs[rBX] = tbl
	return in, name, true
}

// stack: PUSH and POP of registers, r/m and immediates (64-bit, or 16-bit
// with 66h), PUSHF/POPF, LEAVE, ENTER. Flags unaffected except by POPF,
// whose popped image the generator keeps free of TF and AC (a trap or
// alignment checking on the host) and IOPL/NT: at CPL 3 with IOPL 0,
// POPF leaves IF (and IOPL) unchanged (SDM POPF, Operation).
func (g *gen) stack() (*insn, string, bool) {
	in := newInsn()
	o16 := g.chance(5)
	if o16 {
		in.pfx = []byte{0x66}
	}
	sz := 64
	if o16 {
		sz = 16
	}
	sp := g.c.regs[rSP]
	spOff := g.dataAt(sp)
	var name string
	switch g.r.Intn(10) {
	case 0:
		in.op = []byte{0x50}
		in.opReg = g.r.Intn(16)
		name = "push r"
	case 1:
		in.op = []byte{0x58}
		in.opReg = g.r.Intn(16)
		name = "pop r"
	case 2:
		in.op = []byte{0x6a}
		in.imm = g.imm(1)
		name = "push imm8"
	case 3:
		in.op = []byte{0x68}
		in.imm = g.imm(immSize(sz))
		name = "push imm"
	case 4:
		in.op = []byte{0xff}
		g.rmExt(in, sz, 6, 0)
		name = "push " + formName(in.rm)
	case 5:
		// POP r/m with RSP as the base computes the address after the
		// increment (SDM POP); the operand stays inside the region.
		in.op = []byte{0x8f}
		g.rmExt(in, sz, 0, 0)
		name = "pop " + formName(in.rm)
	case 6:
		in.op = []byte{0x9c}
		name = "pushf"
	case 7:
		in.op = []byte{0x9d}
		v := g.r.Uint64()&(fStatus|x86.FlagDF|x86.FlagIF) | 2
		binary.LittleEndian.PutUint64(g.c.data[spOff:], v)
		name = "popf"
	case 8:
		in.pfx = nil
		in.op = []byte{0xc9}
		g.c.regs[rBP] = sp - 512 + uint64(g.r.Intn(1024))
		return in, "leave", true
	default:
		// ENTER size, level: the level is taken modulo 32; level 1
		// pushes the frame pointer once more. Nesting levels 2..31
		// (which copy level-1 frame pointers from below RBP) are not
		// generated: the emulator raises #UD for them by design (no
		// compiler emits them). The host faults when RSP-size leaves
		// the mapping (the processor touches the final stack
		// location), so size stays small.
		in.pfx = nil
		in.op = []byte{0xc8}
		level := []int{0, 1, 32, 33}[g.r.Intn(4)]
		size := []int{0, 8, 0x10, 0x28, 0x100, 0x1000}[g.r.Intn(6)]
		in.imm = []byte{byte(size), byte(size >> 8), byte(level)}
		g.c.regs[rBP] = sp - 256 + uint64(g.r.Intn(512))
		return in, fmt.Sprintf("enter level %d", level%32), true
	}
	return in, fmt.Sprintf("%s/%d", name, sz), true
}

// branch: Jcc (rel8, rel32), JMP rel8/rel32, LOOP/LOOPE/LOOPNE, JRCXZ
// (JECXZ with 67h), CALL rel32, RET (imm16), JMP and CALL through a
// register or memory. Flags unaffected.
func (g *gen) branch() (*insn, string, bool) {
	in := newInsn()
	in.tail = incR15
	rel32 := func(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	var name string
	switch g.r.Intn(9) {
	case 0:
		cc := g.r.Intn(16)
		in.op = []byte{byte(0x70 + cc)}
		in.imm = []byte{3}
		name = fmt.Sprintf("j%x rel8", cc)
	case 1:
		cc := g.r.Intn(16)
		in.op = []byte{0x0f, byte(0x80 + cc)}
		in.imm = rel32(3)
		name = fmt.Sprintf("j%x rel32", cc)
	case 2:
		if g.chance(2) {
			in.op, in.imm, name = []byte{0xeb}, []byte{3}, "jmp rel8"
		} else {
			in.op, in.imm, name = []byte{0xe9}, rel32(3), "jmp rel32"
		}
	case 3:
		k := g.r.Intn(3)
		in.op = []byte{byte(0xe0 + k)}
		in.imm = []byte{3}
		name = []string{"loopne", "loope", "loop"}[k]
		g.c.regs[rCX] = []uint64{0, 1, 2, 1 << 32, 1<<32 + 1, g.value()}[g.r.Intn(6)]
		if g.chance(3) {
			in.a32 = true // ECX is the counter
			name += " a32"
		}
	case 4:
		in.op = []byte{0xe3}
		in.imm = []byte{3}
		name = "jrcxz"
		g.c.regs[rCX] = []uint64{0, 1, 1 << 32, g.value()}[g.r.Intn(4)]
		if g.chance(2) {
			in.a32 = true
			name = "jecxz"
		}
	case 5:
		in.op = []byte{0xe8}
		v := int32(3 * g.r.Intn(2)) // 0: the INC runs after the call
		in.imm = rel32(v)
		name = "call rel32"
	case 6:
		// RET pops the target the generator put on the stack: past the
		// INC or onto it.
		if g.chance(2) {
			in.op = []byte{0xc3}
			name = "ret"
		} else {
			in.op = []byte{0xc2}
			in.imm = []byte{byte(8 * g.r.Intn(3)), 0}
			name = "ret imm16"
		}
		code, _ := in.encode()
		end := g.insn() + uint64(len(code))
		target := end - uint64(3*g.r.Intn(2))
		binary.LittleEndian.PutUint64(g.c.data[g.dataAt(g.c.regs[rSP]):], target)
	default:
		ext := 4 // JMP r/m64
		name = "jmp"
		if g.chance(2) {
			ext, name = 2, "call" // CALL r/m64
		}
		in.op = []byte{0xff}
		in.modrm, in.reg, in.regExt = true, ext, true
		if g.chance(2) {
			in.rm = g.mem(0)
		} else {
			r := g.r.Intn(15)
			if r >= rSP {
				r++ // not RSP: CALL would push below a code address
			}
			in.rm = operand{reg: r}
		}
		code, _ := in.encode()
		end := g.insn() + uint64(len(code))
		target := end - uint64(3*g.r.Intn(2))
		if in.rm.isMem {
			g.setMemVal(64, target)
		} else {
			g.c.regs[in.rm.reg] = target
		}
		name += " " + formName(in.rm)
	}
	return in, name, true
}

// nop: the padding gcc and gas emit between functions and loops: 90,
// 66 90, F3 90 (PAUSE), and the multi-byte 0F 1F /0 with any memory
// operand (not accessed), one or two 66h and a CS override, as in
// "66 2e 0f 1f 84 00 00 00 00 00" (nopw %cs:0x0(%rax,%rax,1)). Flags
// unaffected, nothing written.
func (g *gen) nop() (*insn, string, bool) {
	in := newInsn()
	switch g.r.Intn(4) {
	case 0:
		in.op = []byte{0x90}
		if g.chance(2) {
			in.pfx = []byte{0x66}
		}
		return in, "nop 90", true
	case 1:
		in.pfx = []byte{0xf3}
		in.op = []byte{0x90}
		return in, "pause", true
	}
	in.op = []byte{0x0f, 0x1f}
	in.modrm, in.reg, in.regExt = true, 0, true
	for n := g.r.Intn(3); n > 0; n-- {
		in.pfx = append(in.pfx, 0x66)
	}
	// REX.W 0F 1F (which hardware accepts) is left out: x86asm cannot
	// decode it and the emulator raises #UD; no assembler emits it.
	m := memOp{base: g.r.Intn(16), index: -1, scale: 1 << g.r.Intn(4), disp: int32(g.value()), disp32: g.chance(2)}
	if g.chance(2) {
		m.index = g.r.Intn(16)
		if m.index == rSP {
			m.index = -1
		}
	}
	if g.chance(3) {
		m.seg = 0x2e
	}
	in.rm = operand{isMem: true, mem: m}
	return in, "nop 0f1f", true
}

// ccFlags are the flags condition code cc reads, by cc>>1 (SDM Vol. 1
// Appendix B, EFLAGS condition codes).
var ccFlags = [8]uint64{x86.FlagOF, x86.FlagCF, x86.FlagZF, x86.FlagCF | x86.FlagZF, x86.FlagSF, x86.FlagPF, x86.FlagSF | x86.FlagOF, x86.FlagZF | x86.FlagSF | x86.FlagOF}

// namesRSP says whether an instruction has RSP (or SPL) as a register
// operand.
func namesRSP(in *insn) bool {
	return in.modrm && !in.regExt && in.reg == rSP || in.modrm && !in.rm.isMem && in.rm.reg == rSP || in.opReg == rSP
}

// pair: one or two flag-producing instructions followed by a consumer of
// the flags (SETcc, CMOVcc, Jcc, ADC/SBB, RCL/RCR, LAHF, PUSHF). The
// emulator evaluates flags lazily, so a consumer right after a producer
// takes paths a single instruction from a materialised RFLAGS never
// does (the host always runs straight through). The consumer only reads
// flags that the producers leave defined, and only registers they leave
// defined.
func (g *gen) pair() (*insn, string, bool) {
	producers := []func(*gen) (*insn, string, bool){
		(*gen).alu, (*gen).test, (*gen).incDec, (*gen).negNot, (*gen).shift, (*gen).shiftDouble,
		(*gen).mul1, (*gen).imul, (*gen).bt, (*gen).bsf, (*gen).cmpxchg, (*gen).xadd, (*gen).flagOps,
	}
	in1, n1, ok := producers[g.r.Intn(len(producers))](g)
	if !ok {
		return nil, "", false
	}
	// A second producer, register operands only, that changes no input
	// the first one's address depends on.
	var tail []byte
	name := n1
	// PUSHF as the consumer needs RSP where it was.
	stackOK := !namesRSP(in1)
	// No second producer after one that left a register or memory
	// undefined: it might read it.
	if g.chance(2) && g.c.undefRegs == 0 && g.c.undefMemLen == 0 {
		for try := 0; try < 10; try++ {
			regs, data := g.c.regs, append([]byte(nil), g.c.data...)
			uf, ur, ea, rip, legacy := g.c.undefFlags, g.c.undefRegs, g.ea, g.ripRel, g.legacy
			g.ripRel, g.legacy = false, false
			// Only producers whose undefined flags and results do not
			// depend on operand values: the generator sees the values
			// before the first producer changes them.
			second := []func(*gen) (*insn, string, bool){
				(*gen).alu, (*gen).test, (*gen).incDec, (*gen).negNot, (*gen).mul1, (*gen).imul,
				(*gen).bt, (*gen).xadd, (*gen).flagOps,
			}
			in2, n2, ok := second[g.r.Intn(len(second))](g)
			// A second producer that reads the flags (ADC, SBB, RCL, RCR,
			// LAHF) would carry the first one's undefined flags into a
			// register.
			readsFlags := false
			for _, p := range []string{"adc", "sbb", "rcl", "rcr", "lahf", "lock adc", "lock sbb"} {
				readsFlags = readsFlags || strings.HasPrefix(n2, p+" ") || n2 == p
			}
			if readsFlags && uf != 0 {
				ok = false
			}
			if ok && !(in2.modrm && in2.rm.isMem) && !g.ripRel && g.c.regs == regs && string(g.c.data) == string(data) {
				code2, err := in2.encode()
				if err == nil {
					tail = append(tail, code2...)
					name += " ; " + n2
					stackOK = stackOK && !namesRSP(in2)
					g.ea, g.ripRel, g.legacy = ea, rip, legacy
					break
				}
			}
			g.c.regs, g.c.data = regs, data
			g.c.undefFlags, g.c.undefRegs, g.ea, g.ripRel, g.legacy = uf, ur, ea, rip, legacy
		}
	}
	u := g.c.undefFlags
	// Registers the consumer may read: not left undefined.
	defReg := func() int {
		for {
			r := g.r.Intn(16)
			if r != rSP && g.c.undefRegs&(1<<r) == 0 {
				return r
			}
		}
	}
	var ccs []int
	for cc := 0; cc < 16; cc++ {
		if ccFlags[cc>>1]&u == 0 {
			ccs = append(ccs, cc)
		}
	}
	c := newInsn()
	var cname string
	kind := g.r.Intn(7)
	switch {
	case kind <= 2 && len(ccs) == 0, kind == 3 && u&x86.FlagCF != 0, kind == 4 && u&x86.FlagCF != 0,
		kind == 5 && u&(x86.FlagSF|x86.FlagZF|x86.FlagAF|x86.FlagPF|x86.FlagCF) != 0, kind == 6 && (u != 0 || !stackOK):
		kind = 7 // nothing readable: a flag-neutral instruction
	}
	switch kind {
	case 0:
		cc := ccs[g.r.Intn(len(ccs))]
		c.op = []byte{0x0f, byte(0x90 + cc)}
		c.modrm, c.reg, c.regExt = true, 0, true
		c.rm, c.rmByte = operand{reg: g.r.Intn(16)}, true
		cname = fmt.Sprintf("set%x", cc)
	case 1:
		cc := ccs[g.r.Intn(len(ccs))]
		size := g.sizeNB()
		g.sized(c, size)
		c.op = []byte{0x0f, byte(0x40 + cc)}
		c.modrm, c.reg, c.rm = true, g.r.Intn(16), operand{reg: defReg()}
		cname = fmt.Sprintf("cmov%x/%d", cc, size)
	case 2:
		cc := ccs[g.r.Intn(len(ccs))]
		c.op, c.imm, c.tail = []byte{byte(0x70 + cc)}, []byte{3}, incR15
		cname = fmt.Sprintf("j%x", cc)
	case 3:
		size := g.size()
		g.sized(c, size)
		k := g.r.Intn(2) // adc, sbb
		c.op = []byte{byte(0x10 + 8*k + b2i(size != 8))}
		c.modrm, c.reg, c.rm = true, defReg(), operand{reg: defReg()}
		c.regByte, c.rmByte = size == 8, size == 8
		cname = fmt.Sprintf("%s/%d", []string{"adc", "sbb"}[k], size)
		g.c.undefFlags = 0 // all its flags follow from defined inputs
	case 4:
		size := g.size()
		g.sized(c, size)
		ext := 2 + g.r.Intn(2) // rcl, rcr by 1
		c.op = []byte{byte(0xd0 + b2i(size != 8))}
		c.modrm, c.reg, c.regExt, c.rm, c.rmByte = true, ext, true, operand{reg: defReg()}, size == 8
		cname = fmt.Sprintf("%s 1/%d", shiftNames[ext], size)
		g.c.undefFlags &^= x86.FlagCF | x86.FlagOF
	case 5:
		c.op, cname = []byte{0x9f}, "lahf"
	case 6:
		c.op, cname = []byte{0x9c}, "pushf"
	default:
		c.op, cname = []byte{0x90}, "nop"
	}
	code3, err := c.encode()
	if err != nil {
		return nil, "", false
	}
	in1.tail = append(append(tail, code3...), in1.tail...)
	return in1, name + " ; " + cname, true
}

// smc: self-modifying code. MOV byte [RIP+d], imm8 patches the
// instruction right after it, which then runs in its patched form: an
// immediate byte of MOV EAX, imm32 / ADD RCX, imm32, or the ModRM byte of
// INC r64 (changing its register). x86 processors detect stores into
// code that is about to run (SDM Vol. 3A 11.6); the emulator must drop
// the decoded instruction it may hold for those bytes.
func (g *gen) smc() (*insn, string, bool) {
	in := newInsn()
	in.op = []byte{0xc6}
	in.modrm, in.reg, in.regExt = true, 0, true
	var next []byte
	var off int // offset within next of the patched byte
	var name string
	var val byte
	switch g.r.Intn(3) {
	case 0:
		next = append([]byte{0xb8}, g.imm(4)...)
		off, val, name = 1+g.r.Intn(4), byte(g.r.Intn(256)), "mov eax,imm32"
	case 1:
		next = append([]byte{0x48, 0x81, 0xc1}, g.imm(4)...)
		off, val, name = 3+g.r.Intn(4), byte(g.r.Intn(256)), "add rcx,imm32"
	default:
		next = []byte{0x48, 0xff, 0xc0}
		off, val, name = 2, byte(0xc0+g.r.Intn(8)), "inc r64 (modrm)"
	}
	// The displacement counts from the end of the MOV, which is where
	// next starts.
	in.rm = operand{isMem: true, mem: memOp{rip: true, disp: int32(off)}}
	in.imm = []byte{val}
	in.tail = next
	return in, name, true
}
