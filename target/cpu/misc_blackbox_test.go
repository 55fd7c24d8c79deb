package cpu_test

import (
	"fmt"
	"math/bits"
	"testing"

	"vmapstack/target/cpu"
)

// conditions lists the 16 condition codes with their tests (SDM Vol. 1
// Appendix B, Table B-1; Vol. 2 Jcc/SETcc/CMOVcc).
var conditions = []struct {
	cc   string
	test func(f uint64) bool
}{
	{"o", func(f uint64) bool { return f&fOF != 0 }},
	{"no", func(f uint64) bool { return f&fOF == 0 }},
	{"b", func(f uint64) bool { return f&fCF != 0 }},
	{"ae", func(f uint64) bool { return f&fCF == 0 }},
	{"e", func(f uint64) bool { return f&fZF != 0 }},
	{"ne", func(f uint64) bool { return f&fZF == 0 }},
	{"be", func(f uint64) bool { return f&(fCF|fZF) != 0 }},
	{"a", func(f uint64) bool { return f&(fCF|fZF) == 0 }},
	{"s", func(f uint64) bool { return f&fSF != 0 }},
	{"ns", func(f uint64) bool { return f&fSF == 0 }},
	{"p", func(f uint64) bool { return f&fPF != 0 }},
	{"np", func(f uint64) bool { return f&fPF == 0 }},
	{"l", func(f uint64) bool { return (f&fSF != 0) != (f&fOF != 0) }},
	{"ge", func(f uint64) bool { return (f&fSF != 0) == (f&fOF != 0) }},
	{"le", func(f uint64) bool { return f&fZF != 0 || (f&fSF != 0) != (f&fOF != 0) }},
	{"g", func(f uint64) bool { return f&fZF == 0 && (f&fSF != 0) == (f&fOF != 0) }},
}

// flagCombos are all 32 combinations of CF PF ZF SF OF.
func flagCombos() []uint64 {
	var out []uint64
	for i := 0; i < 32; i++ {
		var f uint64
		for j, b := range []uint64{fCF, fPF, fZF, fSF, fOF} {
			if i>>j&1 != 0 {
				f |= b
			}
		}
		out = append(out, f)
	}
	return out
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func TestConditions(t *testing.T) { runRegCases(t, conditionCases()) }

func conditionCases() []regCase {
	var cases []regCase
	const src = 0x1111_2222_3333_4444
	const dst = 0x5555_6666_7777_8888
	for _, c := range conditions {
		for i, f := range flagCombos() {
			take := c.test(f)
			// SETcc r/m8 writes only the low byte.
			cases = append(cases, regCase{
				name: fmt.Sprintf("set%s/%s", c.cc, flagString(f)),
				asm:  "set" + c.cc + " %al", in: regs{cpu.RAX: garbage}, inFlags: f,
				out: regs{cpu.RAX: garbage&^0xff | b2u(take)}, flags: f,
			})
			// CMOVcc: "In 64-bit mode, CMOVcc with a 32-bit operand size
			// will clear the upper 32 bits of the destination register even
			// if the condition is false" (SDM Vol. 2 CMOVcc, Operation).
			c64, c32, c16 := uint64(dst), uint64(dst&0xffffffff), uint64(dst)
			if take {
				c64, c32, c16 = src, src&0xffffffff, dst&^0xffff|src&0xffff
			}
			cases = append(cases,
				regCase{name: fmt.Sprintf("cmov%s-q/%s", c.cc, flagString(f)),
					asm: "cmov" + c.cc + "q %rbx, %rax", in: regs{cpu.RAX: dst, cpu.RBX: src}, inFlags: f,
					out: regs{cpu.RAX: c64}, flags: f},
				regCase{name: fmt.Sprintf("cmov%s-l/%s", c.cc, flagString(f)),
					asm: "cmov" + c.cc + "l %ebx, %eax", in: regs{cpu.RAX: dst, cpu.RBX: src}, inFlags: f,
					out: regs{cpu.RAX: c32}, flags: f},
				regCase{name: fmt.Sprintf("cmov%s-w/%s", c.cc, flagString(f)),
					asm: "cmov" + c.cc + "w %bx, %ax", in: regs{cpu.RAX: dst, cpu.RBX: src}, inFlags: f,
					out: regs{cpu.RAX: c16}, flags: f},
			)
			// Jcc rel8 and rel32.
			notTaken := regs{cpu.RCX: 1}
			if take {
				notTaken = nil
			}
			cases = append(cases, regCase{
				name: fmt.Sprintf("j%s-rel8/%s", c.cc, flagString(f)),
				asm:  "j" + c.cc + " 1f\nmovl $1, %ecx\n1:", in: regs{cpu.RCX: 0}, inFlags: f,
				out: notTaken, flags: f,
			})
			if i%4 == 0 || i == 31 {
				cases = append(cases, regCase{
					name: fmt.Sprintf("j%s-rel32/%s", c.cc, flagString(f)),
					asm:  "j" + c.cc + " 1f\nmovl $1, %ecx\n.fill 200, 1, 0x90\n1:", in: regs{cpu.RCX: 0}, inFlags: f,
					out: notTaken, flags: f,
				})
			}
		}
	}
	return cases
}

func TestBitOps(t *testing.T) { runRegCases(t, bitCases()) }

// BT/BTS/BTR/BTC: "The CF flag contains the value of the selected bit
// before it is [changed]. The ZF flag is unaffected. The OF, SF, AF, and PF
// flags are undefined." With a register bit base the offset is taken
// modulo the operand size; with a memory bit base and a register offset
// the offset is a signed number selecting any bit relative to the operand
// (SDM Vol. 2 BT, Table 3-2 and "Bit(BitBase, BitOffset)" in 3.1.1.9).
func bitCases() []regCase {
	var cases []regCase
	const undef = fOF | fSF | fAF | fPF
	for _, w := range widths[1:] {
		for _, off := range []uint64{0, 1, uint64(w.bits) - 1, uint64(w.bits), uint64(w.bits) + 3, w.mask()} {
			for _, val := range []uint64{0, w.mask(), 0xa5c3_5a3c_96e1_f00f & w.mask()} {
				bit := off & uint64(w.bits-1)
				old := val >> bit & 1
				for _, op := range []string{"bt", "bts", "btr", "btc"} {
					r := val
					switch op {
					case "bts":
						r |= 1 << bit
					case "btr":
						r &^= 1 << bit
					case "btc":
						r ^= 1 << bit
					}
					ra := withUpper(w, val)
					out := regs{cpu.RAX: w.merge(ra, r)}
					if op == "bt" {
						out = nil
					}
					for _, zf := range []uint64{0, fZF} {
						cases = append(cases, regCase{
							name: fmt.Sprintf("%s%d-reg/%#x,%d,zf%d", op, w.bits, val, off, zf>>6),
							asm:  fmt.Sprintf("%s%s %s, %s", op, w.suffix, w.c, w.a),
							in:   regs{cpu.RAX: ra, cpu.RCX: withUpper(w, off)}, inFlags: zf | (fCF &^ (old * fCF)),
							out: out, flags: zf | old*fCF, undef: undef,
						})
					}
					if off < 256 {
						cases = append(cases, regCase{
							name: fmt.Sprintf("%s%d-imm/%#x,%d", op, w.bits, val, off),
							asm:  fmt.Sprintf("%s%s $%d, %s", op, w.suffix, off, w.a),
							in:   regs{cpu.RAX: ra}, inFlags: fZF,
							out: out, flags: fZF | old*fCF, undef: undef,
						})
					}
				}
			}
		}
	}
	// Memory bit base with a register offset reaching outside the operand,
	// including negative offsets; immediate offsets are taken modulo the
	// operand size.
	mem := func(base uint64, bs ...byte) map[uint64][]byte { return map[uint64][]byte{base: bs} }
	cases = append(cases,
		regCase{name: "btl-mem-off35", asm: "btl %ecx, 0x200000", in: regs{cpu.RCX: 35},
			mem: mem(dataAddr, 0, 0, 0, 0, 0x08), flags: fCF, undef: undef},
		regCase{name: "btsl-mem-off35", asm: "btsl %ecx, 0x200000", in: regs{cpu.RCX: 35},
			mem: mem(dataAddr, 0, 0, 0, 0, 0xf0), wantMem: mem(dataAddr, 0, 0, 0, 0, 0xf8), undef: undef},
		regCase{name: "btrl-mem-off-1", asm: "btrl %ecx, 0x200000", in: regs{cpu.RCX: 0xffffffff},
			mem: mem(dataAddr-4, 0xff, 0xff, 0xff, 0xff, 0x11), wantMem: mem(dataAddr-4, 0xff, 0xff, 0xff, 0x7f, 0x11), flags: fCF, undef: undef},
		regCase{name: "btcq-mem-off-65", asm: "btcq %rcx, 0x200000", in: regs{cpu.RCX: uint64(1<<64 - 65)},
			mem: mem(dataAddr-16, 0, 0, 0, 0, 0, 0, 0, 0x80), wantMem: mem(dataAddr-16, 0, 0, 0, 0, 0, 0, 0, 0), flags: fCF, undef: undef},
		regCase{name: "btq-mem-off1000", asm: "btq %rcx, 0x200000", in: regs{cpu.RCX: 1000},
			mem: mem(dataAddr+125, 0x01), flags: fCF, undef: undef},
		regCase{name: "btsw-mem-off-32768", asm: "btsw %cx, 0x200000", in: regs{cpu.RCX: 0x8000},
			mem: mem(dataAddr-4096, 0x00, 0x00), wantMem: mem(dataAddr-4096, 0x01, 0x00), undef: undef},
		regCase{name: "btl-mem-imm35-wraps", asm: "btl $35, 0x200000",
			mem: mem(dataAddr, 0x08, 0, 0, 0, 0), flags: fCF, undef: undef},
		regCase{name: "btsl-mem-base-index", asm: "btsl %ecx, 4(%rbx)", in: regs{cpu.RCX: 40, cpu.RBX: dataAddr},
			// EA 0x200004, bit 40: dword at EA+4, bit 8 -> byte 0x200009 bit 0.
			mem: mem(dataAddr, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), wantMem: mem(dataAddr, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0), undef: undef},
		regCase{name: "lock-btsq-mem", asm: "lock btsq $63, 0x200000",
			mem: mem(dataAddr, 0, 0, 0, 0, 0, 0, 0, 0), wantMem: mem(dataAddr, 0, 0, 0, 0, 0, 0, 0, 0x80), undef: undef},
	)
	// BSF/BSR: "If the content of the source operand is 0, the content of
	// the destination operand is undefined." ZF: "The ZF flag is set to 1
	// if the source operand is 0; otherwise, the ZF flag is cleared. The
	// CF, OF, SF, AF, and PF flags are undefined."
	for _, w := range widths[1:] {
		for _, v := range []uint64{0, 1, w.sign(), w.mask(), 0x0ff0 & w.mask(), 0x00a0_0000_0001_0000 & w.mask()} {
			for _, op := range []string{"bsf", "bsr"} {
				ra := withUpper(w, 0x1234)
				c := regCase{
					name: fmt.Sprintf("%s%d/%#x", op, w.bits, v),
					asm:  fmt.Sprintf("%s%s %s, %s", op, w.suffix, w.b, w.a),
					in:   regs{cpu.RAX: ra, cpu.RBX: withUpper(w, v)}, inFlags: fZF * (1 - b2u(v == 0)),
					undef: fCF | fOF | fSF | fAF | fPF,
				}
				if v == 0 {
					c.flags = fZF
					c.undefRegs = []int{cpu.RAX}
				} else {
					idx := uint64(bits.TrailingZeros64(v))
					if op == "bsr" {
						idx = uint64(63 - bits.LeadingZeros64(v))
					}
					c.out = regs{cpu.RAX: w.merge(ra, idx)}
				}
				cases = append(cases, c)
			}
		}
	}
	return cases
}

func TestDataMovement(t *testing.T) { runRegCases(t, dataMoveCases()) }

func dataMoveCases() []regCase {
	const g = garbage
	rc := func(name, asm string, in, out regs) regCase {
		return regCase{name: name, asm: asm, in: in, out: out, inFlags: fCF | fZF, flags: fCF | fZF}
	}
	cases := []regCase{
		// MOVZX/MOVSX/MOVSXD (SDM Vol. 2).
		rc("movzbl", "movzbl %bl, %eax", regs{cpu.RAX: g, cpu.RBX: 0x80}, regs{cpu.RAX: 0x80}),
		rc("movzbw", "movzbw %bl, %ax", regs{cpu.RAX: g, cpu.RBX: 0xff}, regs{cpu.RAX: g&^0xffff | 0xff}),
		rc("movzbq", "movzbq %bl, %rax", regs{cpu.RAX: g, cpu.RBX: 0xfe}, regs{cpu.RAX: 0xfe}),
		rc("movzwl", "movzwl %bx, %eax", regs{cpu.RAX: g, cpu.RBX: 0x8000}, regs{cpu.RAX: 0x8000}),
		rc("movzwq", "movzwq %bx, %rax", regs{cpu.RAX: g, cpu.RBX: 0xffff}, regs{cpu.RAX: 0xffff}),
		rc("movsbl", "movsbl %bl, %eax", regs{cpu.RAX: g, cpu.RBX: 0x80}, regs{cpu.RAX: 0xffffff80}),
		rc("movsbl-pos", "movsbl %bl, %eax", regs{cpu.RAX: g, cpu.RBX: 0x7f}, regs{cpu.RAX: 0x7f}),
		rc("movsbw", "movsbw %bl, %ax", regs{cpu.RAX: g, cpu.RBX: 0xff}, regs{cpu.RAX: g | 0xffff}),
		rc("movsbq", "movsbq %bl, %rax", regs{cpu.RAX: g, cpu.RBX: 0x80}, regs{cpu.RAX: 0xffffffffffffff80}),
		rc("movswl", "movswl %bx, %eax", regs{cpu.RAX: g, cpu.RBX: 0x8000}, regs{cpu.RAX: 0xffff8000}),
		rc("movswq", "movswq %bx, %rax", regs{cpu.RAX: g, cpu.RBX: 0x7fff}, regs{cpu.RAX: 0x7fff}),
		rc("movslq", "movslq %ebx, %rax", regs{cpu.RAX: g, cpu.RBX: 0x80000000}, regs{cpu.RAX: 0xffffffff80000000}),
		rc("movslq-pos", "movslq %ebx, %rax", regs{cpu.RAX: g, cpu.RBX: 0xffffffff_7fffffff}, regs{cpu.RAX: 0x7fffffff}),
		rc("movsbl-high-reg", "movsbl %bh, %eax", regs{cpu.RAX: g, cpu.RBX: 0x8000}, regs{cpu.RAX: 0xffffff80}),
		// CBW/CWDE/CDQE/CWD/CDQ/CQO.
		rc("cbw", "cbtw", regs{cpu.RAX: g&^0xff | 0x80}, regs{cpu.RAX: g&^0xffff | 0xff80}),
		rc("cwde", "cwtl", regs{cpu.RAX: g&^0xffff | 0x8000}, regs{cpu.RAX: 0xffff8000}),
		rc("cdqe", "cltq", regs{cpu.RAX: 0x80000000}, regs{cpu.RAX: 0xffffffff80000000}),
		rc("cdqe-pos", "cltq", regs{cpu.RAX: 0xffffffff_7fffffff}, regs{cpu.RAX: 0x7fffffff}),
		rc("cwd", "cwtd", regs{cpu.RAX: 0x8000, cpu.RDX: g}, regs{cpu.RDX: g | 0xffff}),
		rc("cwd-pos", "cwtd", regs{cpu.RAX: 0x7fff, cpu.RDX: g}, regs{cpu.RDX: g &^ 0xffff}),
		rc("cdq", "cltd", regs{cpu.RAX: 0x80000000, cpu.RDX: g}, regs{cpu.RDX: 0xffffffff}),
		rc("cdq-pos", "cltd", regs{cpu.RAX: 0xffffffff_7fffffff, cpu.RDX: g}, regs{cpu.RDX: 0}),
		rc("cqo", "cqto", regs{cpu.RAX: 1 << 63, cpu.RDX: 0}, regs{cpu.RDX: ^uint64(0)}),
		rc("cqo-pos", "cqto", regs{cpu.RAX: 1<<63 - 1, cpu.RDX: g}, regs{cpu.RDX: 0}),
		// BSWAP; the 32-bit form zero-extends.
		rc("bswap32", "bswap %eax", regs{cpu.RAX: 0xffffffff_11223344}, regs{cpu.RAX: 0x44332211}),
		rc("bswap64", "bswap %rax", regs{cpu.RAX: 0x1122334455667788}, regs{cpu.RAX: 0x8877665544332211}),
		rc("bswap-r12", "bswap %r12", regs{cpu.R12: 0x0102030405060708}, regs{cpu.R12: 0x0807060504030201}),
		// MOV immediates and partial writes (SDM Vol. 1 3.4.1.1: 32-bit
		// results are zero-extended, 8/16-bit results leave the rest).
		rc("mov-imm32-zext", "movl $-1, %eax", regs{cpu.RAX: g}, regs{cpu.RAX: 0xffffffff}),
		rc("mov-imm32-sext64", "movq $-1, %rax", regs{cpu.RAX: 0}, regs{cpu.RAX: ^uint64(0)}),
		rc("movabs", "movabsq $0x123456789abcdef0, %r9", regs{cpu.R9: 0}, regs{cpu.R9: 0x123456789abcdef0}),
		rc("mov-imm16", "movw $0x1234, %ax", regs{cpu.RAX: g}, regs{cpu.RAX: g&^0xffff | 0x1234}),
		rc("mov-imm8", "movb $0x12, %al", regs{cpu.RAX: g}, regs{cpu.RAX: g&^0xff | 0x12}),
		rc("mov32-self-zext", "movl %eax, %eax", regs{cpu.RAX: g}, regs{cpu.RAX: g & 0xffffffff}),
		rc("mov16-keeps", "movw %bx, %ax", regs{cpu.RAX: g, cpu.RBX: 0x1111}, regs{cpu.RAX: g&^0xffff | 0x1111}),
		rc("mov-r8d-zext", "movl %r8d, %r15d", regs{cpu.R8: g, cpu.R15: g}, regs{cpu.R15: g & 0xffffffff}),
		// 8-bit registers: without REX 4-7 are AH CH DH BH; with REX they
		// are SPL BPL SIL DIL (SDM Vol. 1 3.7.2.1, Vol. 2 Table 2-2).
		rc("mov-ah-to-bl", "movb %ah, %bl", regs{cpu.RAX: 0x1234, cpu.RBX: g}, regs{cpu.RBX: g&^0xff | 0x12}),
		rc("mov-bl-to-ah", "movb %bl, %ah", regs{cpu.RAX: g, cpu.RBX: 0x77}, regs{cpu.RAX: g&^0xff00 | 0x7700}),
		rc("mov-dil-to-al", "movb %dil, %al", regs{cpu.RAX: g, cpu.RDI: 0x55aa}, regs{cpu.RAX: g&^0xff | 0xaa}),
		rc("mov-al-to-sil", "movb %al, %sil", regs{cpu.RAX: 0x99, cpu.RSI: g}, regs{cpu.RSI: g&^0xff | 0x99}),
		rc("mov-al-to-spl-bpl", "movb %al, %bpl", regs{cpu.RAX: 0x42, cpu.RBP: g}, regs{cpu.RBP: g&^0xff | 0x42}),
		rc("mov-ch-dh", "movb %ch, %dh", regs{cpu.RCX: 0xab00, cpu.RDX: g}, regs{cpu.RDX: g&^0xff00 | 0xab00}),
		rc("mov-r11b", "movb %r11b, %cl", regs{cpu.R11: 0x1ff, cpu.RCX: g}, regs{cpu.RCX: g | 0xff}),
		rc("xchg-ah-al", "xchgb %ah, %al", regs{cpu.RAX: g&^0xffff | 0x1234}, regs{cpu.RAX: g&^0xffff | 0x3412}),
		{name: "add-ch-dh", asm: "addb %ch, %dh", in: regs{cpu.RCX: 0x8000, cpu.RDX: 0x8000},
			out: regs{cpu.RDX: 0}, flags: fCF | fZF | fPF | fOF},
		// XCHG: the 32-bit form zero-extends both; 90 is NOP (no
		// zero-extension) while 87 C0 is a real XCHG EAX,EAX.
		rc("xchg64", "xchgq %rbx, %rax", regs{cpu.RAX: 1, cpu.RBX: 2}, regs{cpu.RAX: 2, cpu.RBX: 1}),
		rc("xchg32", "xchgl %ebx, %eax", regs{cpu.RAX: g, cpu.RBX: ^uint64(0)}, regs{cpu.RAX: 0xffffffff, cpu.RBX: g & 0xffffffff}),
		rc("xchg8", "xchgb %bl, %al", regs{cpu.RAX: 0x11, cpu.RBX: 0x22}, regs{cpu.RAX: 0x22, cpu.RBX: 0x11}),
		rc("nop-90", ".byte 0x90", regs{cpu.RAX: g}, nil),
		rc("xchg-eax-eax-87c0", ".byte 0x87, 0xc0", regs{cpu.RAX: g}, regs{cpu.RAX: g & 0xffffffff}),
		rc("xchg-r8-rax-90", ".byte 0x49, 0x90", regs{cpu.RAX: 1, cpu.R8: 2}, regs{cpu.RAX: 2, cpu.R8: 1}),
		// LEA: no memory access, address-size and operand-size rules.
		rc("lea-sib", "leaq 8(%rax,%rbx,4), %rcx", regs{cpu.RAX: 0x1000, cpu.RBX: 3}, regs{cpu.RCX: 0x1014}),
		rc("lea-neg-disp", "leaq -1(%rax), %rcx", regs{cpu.RAX: 0}, regs{cpu.RCX: ^uint64(0)}),
		rc("lea32-zext", "leal -1(%rax), %ecx", regs{cpu.RAX: 0, cpu.RCX: g}, regs{cpu.RCX: 0xffffffff}),
		rc("lea16", "leaw 2(%rax), %cx", regs{cpu.RAX: 0xffff, cpu.RCX: g}, regs{cpu.RCX: g&^0xffff | 1}),
		rc("lea-addr32", "leaq -1(%eax), %rcx", regs{cpu.RAX: 0x1_0000_0000}, regs{cpu.RCX: 0xffffffff}),
		rc("lea-rip", "leaq 0x10(%rip), %rax", nil, regs{cpu.RAX: codeAddr + 7 + 0x10}),
		rc("lea-rip-neg", "nop\nleaq -1(%rip), %rax", nil, regs{cpu.RAX: codeAddr + 1 + 7 - 1}),
		rc("lea-r13-no-base-trick", "leaq (%r13,%r12,8), %rax", regs{cpu.R13: 0x100, cpu.R12: 2}, regs{cpu.RAX: 0x110}),
		rc("lea-no-base", "leaq 0x40(,%rbx,2), %rax", regs{cpu.RBX: 0x10}, regs{cpu.RAX: 0x60}),
		// LAHF/SAHF: AH = SF:ZF:0:AF:0:PF:1:CF.
		{name: "lahf", asm: "lahf", in: regs{cpu.RAX: g}, inFlags: fSF | fAF | fCF,
			out: regs{cpu.RAX: g&^0xff00 | 0x93<<8}, flags: fSF | fAF | fCF},
		{name: "sahf", asm: "sahf", in: regs{cpu.RAX: 0xd5 << 8}, inFlags: fOF,
			flags: fOF | fSF | fZF | fAF | fPF | fCF},
		{name: "sahf-clear", asm: "sahf", in: regs{cpu.RAX: 0x2a << 8}, inFlags: fOF | fSF | fZF | fAF | fPF | fCF,
			flags: fOF},
	}
	// CMPXCHG (SDM Vol. 2): "The ZF flag is set if the values in the
	// destination operand and register AL, AX, or EAX are equal; otherwise
	// it is cleared. The CF, PF, AF, SF, and OF flags are set according to
	// the results of the comparison operation." XADD: flags as ADD.
	cases = append(cases,
		regCase{name: "cmpxchg64-equal", asm: "cmpxchgq %rbx, %rcx", in: regs{cpu.RAX: 5, cpu.RBX: 9, cpu.RCX: 5},
			out: regs{cpu.RCX: 9}, flags: second(subModel(widths[3], 5, 5, 0))},
		regCase{name: "cmpxchg64-differ", asm: "cmpxchgq %rbx, %rcx", in: regs{cpu.RAX: 5, cpu.RBX: 9, cpu.RCX: 7},
			out: regs{cpu.RAX: 7}, flags: second(subModel(widths[3], 5, 7, 0))},
		regCase{name: "cmpxchg8-differ", asm: "cmpxchgb %bl, %cl", in: regs{cpu.RAX: g, cpu.RBX: 1, cpu.RCX: 0x80},
			out: regs{cpu.RAX: g&^0xff | 0x80}, flags: second(subModel(widths[0], g&0xff, 0x80, 0))},
		regCase{name: "lock-cmpxchg32-mem-equal", asm: "lock cmpxchgl %ebx, 0x200000", in: regs{cpu.RAX: 0x11223344, cpu.RBX: 0xaabbccdd},
			mem: map[uint64][]byte{dataAddr: le(0x11223344, 4)}, wantMem: map[uint64][]byte{dataAddr: le(0xaabbccdd, 4)},
			flags: fZF | fPF},
		regCase{name: "lock-cmpxchg32-mem-differ-zext", asm: "lock cmpxchgl %ebx, 0x200000", in: regs{cpu.RAX: g, cpu.RBX: 1},
			mem: map[uint64][]byte{dataAddr: le(0x80000000, 4)}, wantMem: map[uint64][]byte{dataAddr: le(0x80000000, 4)},
			out: regs{cpu.RAX: 0x80000000}, flags: second(subModel(widths[2], g, 0x80000000, 0))},
		regCase{name: "xadd64", asm: "xaddq %rbx, %rax", in: regs{cpu.RAX: 1 << 63, cpu.RBX: 1 << 63},
			out: regs{cpu.RAX: 0, cpu.RBX: 1 << 63}, flags: fCF | fZF | fPF | fOF},
		regCase{name: "xadd32", asm: "xaddl %ebx, %eax", in: regs{cpu.RAX: g, cpu.RBX: 1},
			out: regs{cpu.RAX: (g + 1) & 0xffffffff, cpu.RBX: g & 0xffffffff}, flags: second(addModel(widths[2], g, 1, 0))},
		regCase{name: "lock-xadd-mem", asm: "lock xaddq %rbx, 0x200000", in: regs{cpu.RBX: 2},
			mem:     map[uint64][]byte{dataAddr: le(0xffffffffffffffff, 8)},
			wantMem: map[uint64][]byte{dataAddr: le(1, 8)}, out: regs{cpu.RBX: 0xffffffffffffffff}, flags: fCF | fAF},
		regCase{name: "xchg-mem", asm: "xchgq %rbx, 0x200000", in: regs{cpu.RBX: 7},
			mem: map[uint64][]byte{dataAddr: le(9, 8)}, wantMem: map[uint64][]byte{dataAddr: le(7, 8)}, out: regs{cpu.RBX: 9}},
		regCase{name: "lock-add-mem", asm: "lock addl $1, 0x200000",
			mem: map[uint64][]byte{dataAddr: le(0x7fffffff, 4)}, wantMem: map[uint64][]byte{dataAddr: le(0x80000000, 4)},
			flags: fOF | fSF | fAF | fPF},
		regCase{name: "lock-inc-mem", asm: "lock incq 0x200000", inFlags: fCF,
			mem: map[uint64][]byte{dataAddr: le(^uint64(0), 8)}, wantMem: map[uint64][]byte{dataAddr: le(0, 8)},
			flags: fCF | fZF | fPF | fAF},
	)
	return cases
}

func TestControlFlow(t *testing.T) { runRegCases(t, controlCases()) }

func controlCases() []regCase {
	return []regCase{
		// LOOP: RCX-1, jump if not zero; flags unaffected.
		{name: "loop", asm: "xorl %eax, %eax\n1: incl %eax\nloop 1b", in: regs{cpu.RCX: 5, cpu.RAX: 9},
			out: regs{cpu.RAX: 5, cpu.RCX: 0}, flags: 0x4},
		{name: "loop-flags-unaffected", asm: "loop 1f\n1:", in: regs{cpu.RCX: 2}, inFlags: fZF | fCF,
			out: regs{cpu.RCX: 1}, flags: fZF | fCF},
		{name: "loope-stops-on-zf0", asm: "1: cmpq %rbx, %rcx\nloope 1b", in: regs{cpu.RCX: 9, cpu.RBX: 9},
			out: regs{cpu.RCX: 7}, flags: second(subModel(widths[3], 8, 9, 0))},
		{name: "loopne-stops-on-zf1", asm: "1: cmpq %rbx, %rcx\nloopne 1b", in: regs{cpu.RCX: 9, cpu.RBX: 5},
			out: regs{cpu.RCX: 4}, flags: fZF | fPF},
		{name: "loop-uses-64bit-rcx", asm: "loop 1f\nmovl $1, %eax\n1:", in: regs{cpu.RCX: 1 << 32, cpu.RAX: 0},
			out: regs{cpu.RCX: 0xffffffff}},
		{name: "jrcxz-taken", asm: "jrcxz 1f\nmovl $1, %eax\n1:", in: regs{cpu.RCX: 0, cpu.RAX: 0}},
		{name: "jrcxz-not-taken-high-bits", asm: "jrcxz 1f\nmovl $1, %eax\n1:", in: regs{cpu.RCX: 1 << 32, cpu.RAX: 0},
			out: regs{cpu.RAX: 1}},
		{name: "jecxz-taken-high-bits", asm: "jecxz 1f\nmovl $1, %eax\n1:", in: regs{cpu.RCX: 1 << 32, cpu.RAX: 0}},
		{name: "jmp-short", asm: "jmp 1f\nmovl $1, %eax\n1:", in: regs{cpu.RAX: 0}},
		{name: "jmp-near", asm: "jmp 1f\nmovl $1, %eax\n.fill 300, 1, 0xcc\n1:", in: regs{cpu.RAX: 0}},
		{name: "jmp-reg", asm: "leaq 1f(%rip), %rbx\njmp *%rbx\nmovl $1, %eax\n1:", in: regs{cpu.RAX: 0},
			out: regs{cpu.RBX: codeAddr + 7 + 2 + 5}},
		{name: "jmp-mem", asm: "leaq 1f(%rip), %rbx\nmovq %rbx, 0x200000\njmp *0x200000\nmovl $1, %eax\n1:",
			in: regs{cpu.RAX: 0}, out: regs{cpu.RBX: codeAddr + 7 + 8 + 7 + 5},
			mem: map[uint64][]byte{dataAddr: make([]byte, 8)}},
		// CALL pushes the address of the next instruction.
		{name: "call-pop", asm: "call 1f\n1: popq %rax", out: regs{cpu.RAX: codeAddr + 5}},
		{name: "call-ret", asm: "call 1f\nmovl $7, %eax\njmp 2f\n1: movl $3, %ebx\nret\n2:", in: regs{cpu.RAX: 0, cpu.RBX: 0},
			out: regs{cpu.RAX: 7, cpu.RBX: 3}},
		{name: "call-reg", asm: "leaq 1f(%rip), %rcx\ncall *%rcx\njmp 2f\n1: movq (%rsp), %rax\nret\n2:",
			out: regs{cpu.RCX: codeAddr + 7 + 2 + 2, cpu.RAX: codeAddr + 7 + 2}},
		{name: "ret-imm", asm: "pushq $1\npushq $2\ncall 1f\njmp 2f\n1: ret $16\n2:", out: nil},
		{name: "call-mem", asm: "leaq 1f(%rip), %rax\nmovq %rax, 0x200000\ncall *0x200000\njmp 2f\n1: movq %rsp, %rbx\nret\n2:",
			mem: map[uint64][]byte{dataAddr: make([]byte, 8)}, out: regs{cpu.RAX: codeAddr + 7 + 8 + 7 + 2, cpu.RBX: stackTop - 8}},
		// PUSH/POP.
		{name: "push-pop", asm: "pushq %rax\npopq %rbx", in: regs{cpu.RAX: 0x1122334455667788}, out: regs{cpu.RBX: 0x1122334455667788},
			wantMem: map[uint64][]byte{stackTop - 8: le(0x1122334455667788, 8)}},
		{name: "push-imm8-sext", asm: "pushq $-1\npopq %rbx", out: regs{cpu.RBX: ^uint64(0)}},
		{name: "push-imm32-sext", asm: "pushq $-0x80000000\npopq %rbx", out: regs{cpu.RBX: 0xffffffff80000000}},
		{name: "push16", asm: "pushw $0x1234\nmovq %rsp, %rax\npopw %bx", in: regs{cpu.RBX: garbage},
			out: regs{cpu.RAX: stackTop - 2, cpu.RBX: garbage&^0xffff | 0x1234}},
		{name: "push-rsp", asm: "pushq %rsp\npopq %rax", out: regs{cpu.RAX: stackTop}},
		// "POP ESP increments the stack pointer (ESP) before data at the
		// old top of stack is written into the destination."
		{name: "pop-rsp", asm: "pushq $0x12345\npopq %rsp", out: regs{cpu.RSP: 0x12345}},
		{name: "push-pop-mem", asm: "pushq 0x200000\npopq 0x200008", mem: map[uint64][]byte{dataAddr: le(0xabcdef, 8)},
			wantMem: map[uint64][]byte{dataAddr: append(le(0xabcdef, 8), le(0xabcdef, 8)...)}},
		// "If the ESP register is used as a base register for addressing a
		// destination operand in memory, the POP instruction computes the
		// effective address of the operand after it increments the ESP
		// register."
		{name: "pop-mem-rsp-based", asm: "pushq $7\npushq $9\npopq (%rsp)", out: regs{cpu.RSP: stackTop - 8},
			wantMem: map[uint64][]byte{stackTop - 8: le(9, 8)}},
		{name: "push-r15", asm: "pushq %r15\npopq %rcx", in: regs{cpu.R15: 77}, out: regs{cpu.RCX: 77}},
		// LEAVE and ENTER (SDM Vol. 2 ENTER, Operation, 64-bit mode).
		{name: "enter-0", asm: "enter $32, $0", in: regs{cpu.RBP: 0x2222},
			out:     regs{cpu.RBP: stackTop - 8, cpu.RSP: stackTop - 8 - 32},
			wantMem: map[uint64][]byte{stackTop - 8: le(0x2222, 8)}},
		{name: "enter-1", asm: "enter $16, $1", in: regs{cpu.RBP: 0x3333},
			out:     regs{cpu.RBP: stackTop - 8, cpu.RSP: stackTop - 16 - 16},
			wantMem: map[uint64][]byte{stackTop - 16: append(le(stackTop-8, 8), le(0x3333, 8)...)}},
		{name: "enter-leave", asm: "enter $48, $0\nleave", in: regs{cpu.RBP: 0x4444}},
		// PUSHF/POPF.
		{name: "pushf", asm: "pushfq\npopq %rax", inFlags: fCF | fZF | fOF | fDF, flags: fCF | fZF | fOF | fDF,
			out: regs{cpu.RAX: fixed1 | fCF | fZF | fOF | fDF}},
		{name: "popf", asm: "pushq $0xcd5\npopfq", flags: 0xcd5},
		// "the RF flag is always cleared" and VM is unaffected by POPF; the
		// reserved bits 3, 5 and 15 read as 0 (SDM Vol. 1 3.4.3).
		{name: "popf-reserved", asm: "pushq $0x38028\npopfq", flags: 0},
		{name: "pushf-popf-roundtrip", asm: "pushfq\nxorl %eax, %eax\npopfq", inFlags: fCF | fSF | fPF, in: regs{cpu.RAX: 5},
			out: regs{cpu.RAX: 0}, flags: fCF | fSF | fPF},
		{name: "cld-std", asm: "std\nmovl $0, %eax\ncld", in: regs{cpu.RAX: 1}, inFlags: 0, out: regs{cpu.RAX: 0}},
		{name: "stc-cmc-clc", asm: "stc\ncmc\ncmc", flags: fCF},
	}
}

// TestLeave checks LEAVE restores RSP from RBP and pops RBP.
func TestLeave(t *testing.T) {
	runRegCases(t, []regCase{{
		name: "leave", asm: "pushq %rbp\nmovq %rsp, %rbp\nsubq $64, %rsp\nleave",
		in: regs{cpu.RBP: 0x1111}, undef: statusMask,
		wantMem: map[uint64][]byte{stackTop - 8: le(0x1111, 8)},
	}})
}

func TestStringOps(t *testing.T) { runRegCases(t, stringCases()) }

// String instructions (SDM Vol. 2 MOVS/STOS/LODS/CMPS/SCAS and REP
// prefixes): RSI/RDI move by the element size, backwards when DF=1; RCX=0
// with a REP prefix executes nothing; REPE/REPNE stop on the ZF condition
// after decrementing RCX.
func stringCases() []regCase {
	src := []byte("abcdefghijklmnop")
	m := func(a uint64, b []byte) map[uint64][]byte { return map[uint64][]byte{a: b} }
	two := func(a uint64, b []byte, c uint64, d []byte) map[uint64][]byte {
		return map[uint64][]byte{a: b, c: d}
	}
	const dst = dataAddr + 0x1000
	return []regCase{
		{name: "rep-movsb", asm: "rep movsb", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst, cpu.RCX: 5},
			mem: two(dataAddr, src, dst, make([]byte, 8)), wantMem: m(dst, []byte("abcde\x00\x00\x00")),
			out: regs{cpu.RSI: dataAddr + 5, cpu.RDI: dst + 5, cpu.RCX: 0}},
		{name: "rep-movsq-df", asm: "rep movsq", in: regs{cpu.RSI: dataAddr + 8, cpu.RDI: dst + 8, cpu.RCX: 2}, inFlags: fDF, flags: fDF,
			mem: two(dataAddr, src, dst, make([]byte, 24)), wantMem: m(dst, append([]byte("abcdefghijklmnop"), make([]byte, 8)...)),
			out: regs{cpu.RSI: dataAddr - 8, cpu.RDI: dst - 8, cpu.RCX: 0}},
		{name: "rep-movsb-rcx0", asm: "rep movsb", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst, cpu.RCX: 0},
			mem: two(dataAddr, src, dst, make([]byte, 4)), wantMem: m(dst, make([]byte, 4))},
		{name: "movsw-single", asm: "movsw", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst, cpu.RCX: 9},
			mem: two(dataAddr, src, dst, make([]byte, 4)), wantMem: m(dst, []byte("ab\x00\x00")),
			out: regs{cpu.RSI: dataAddr + 2, cpu.RDI: dst + 2}},
		{name: "rep-stosl", asm: "rep stosl", in: regs{cpu.RAX: 0x11223344_aabbccdd, cpu.RDI: dst, cpu.RCX: 3},
			mem: m(dst, make([]byte, 16)), wantMem: m(dst, []byte{0xdd, 0xcc, 0xbb, 0xaa, 0xdd, 0xcc, 0xbb, 0xaa, 0xdd, 0xcc, 0xbb, 0xaa, 0, 0, 0, 0}),
			out: regs{cpu.RDI: dst + 12, cpu.RCX: 0}},
		{name: "rep-stosw-df", asm: "rep stosw", in: regs{cpu.RAX: 0x5566, cpu.RDI: dst + 4, cpu.RCX: 2}, inFlags: fDF, flags: fDF,
			mem: m(dst, make([]byte, 8)), wantMem: m(dst, []byte{0, 0, 0x66, 0x55, 0x66, 0x55, 0, 0}),
			out: regs{cpu.RDI: dst, cpu.RCX: 0}},
		{name: "rep-stosq-4k", asm: "rep stosq", in: regs{cpu.RAX: 0x0101010101010101, cpu.RDI: dst, cpu.RCX: 512},
			mem: m(dst, make([]byte, 4104)), wantMem: m(dst+4088, []byte{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}),
			out: regs{cpu.RDI: dst + 4096, cpu.RCX: 0}},
		{name: "lodsb-keeps-upper", asm: "lodsb", in: regs{cpu.RAX: garbage, cpu.RSI: dataAddr},
			mem: m(dataAddr, src), out: regs{cpu.RAX: garbage&^0xff | 'a', cpu.RSI: dataAddr + 1}},
		{name: "lodsl-zext", asm: "lodsl", in: regs{cpu.RAX: garbage, cpu.RSI: dataAddr},
			mem: m(dataAddr, src), out: regs{cpu.RAX: 0x64636261, cpu.RSI: dataAddr + 4}},
		{name: "lodsq-df", asm: "lodsq", in: regs{cpu.RSI: dataAddr + 8}, inFlags: fDF, flags: fDF,
			mem: m(dataAddr, src), out: regs{cpu.RAX: 0x706f6e6d6c6b6a69, cpu.RSI: dataAddr}},
		{name: "repe-cmpsb-mismatch", asm: "repe cmpsb", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst, cpu.RCX: 10},
			mem: two(dataAddr, []byte("abcdXfgh"), dst, []byte("abcdYfgh")),
			out: regs{cpu.RSI: dataAddr + 5, cpu.RDI: dst + 5, cpu.RCX: 5}, flags: second(subModel(widths[0], 'X', 'Y', 0))},
		{name: "repe-cmpsb-all-equal", asm: "repe cmpsb", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst, cpu.RCX: 4},
			mem: two(dataAddr, []byte("abcd"), dst, []byte("abcd")),
			out: regs{cpu.RSI: dataAddr + 4, cpu.RDI: dst + 4, cpu.RCX: 0}, flags: fZF | fPF},
		{name: "repne-cmpsq", asm: "repne cmpsq", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst, cpu.RCX: 4},
			mem: two(dataAddr, append(le(1, 8), le(5, 8)...), dst, append(le(2, 8), le(5, 8)...)),
			out: regs{cpu.RSI: dataAddr + 16, cpu.RDI: dst + 16, cpu.RCX: 2}, flags: fZF | fPF},
		{name: "cmpsb-flags-src-minus-dst", asm: "cmpsb", in: regs{cpu.RSI: dataAddr, cpu.RDI: dst},
			mem: two(dataAddr, []byte{0x01}, dst, []byte{0x80}),
			out: regs{cpu.RSI: dataAddr + 1, cpu.RDI: dst + 1}, flags: second(subModel(widths[0], 0x01, 0x80, 0))},
		{name: "repne-scasb-strlen", asm: "repne scasb", in: regs{cpu.RAX: 0, cpu.RDI: dataAddr, cpu.RCX: ^uint64(0)},
			mem: m(dataAddr, []byte("hello\x00xyz")), out: regs{cpu.RDI: dataAddr + 6, cpu.RCX: ^uint64(0) - 6}, flags: fZF | fPF},
		{name: "repe-scasb-rcx0", asm: "repe scasb", in: regs{cpu.RAX: 'h', cpu.RDI: dataAddr, cpu.RCX: 0}, inFlags: fCF | fOF,
			mem: m(dataAddr, []byte("hello")), flags: fCF | fOF},
		{name: "scasl-df", asm: "scasl", in: regs{cpu.RAX: 5, cpu.RDI: dataAddr + 4}, inFlags: fDF,
			mem: m(dataAddr, []byte{0, 0, 0, 0, 6, 0, 0, 0}), out: regs{cpu.RDI: dataAddr}, flags: fDF | second(subModel(widths[2], 5, 6, 0))},
		{name: "rep-movsb-overlap-forward", asm: "rep movsb", in: regs{cpu.RSI: dataAddr, cpu.RDI: dataAddr + 1, cpu.RCX: 4},
			mem: m(dataAddr, []byte("x....")), wantMem: m(dataAddr, []byte("xxxxx")),
			out: regs{cpu.RSI: dataAddr + 4, cpu.RDI: dataAddr + 5, cpu.RCX: 0}},
	}
}

// TestProtectedMode32 runs a few instructions in 32-bit protected mode
// (CS.D=1, paging off): 0x40-0x4f are INC/DEC there, PUSH/POP/CALL move
// ESP by 4.
func TestProtectedMode32(t *testing.T) {
	runRegCases(t, []regCase{
		{bits: 32, name: "inc-0x40", asm: ".byte 0x40", in: regs{cpu.RAX: 0x7fffffff},
			out: regs{cpu.RAX: 0x80000000}, flags: fOF | fSF | fAF | fPF},
		{bits: 32, name: "dec-0x49", asm: ".byte 0x49", in: regs{cpu.RCX: 1}, out: regs{cpu.RCX: 0}, flags: fZF | fPF},
		{bits: 32, name: "push-pop", asm: "pushl %eax\npopl %ebx\nmovl %esp, %ecx", in: regs{cpu.RAX: 0xcafe},
			out: regs{cpu.RBX: 0xcafe, cpu.RCX: stackTop}},
		{bits: 32, name: "call-pop", asm: "call 1f\n1: popl %eax", out: regs{cpu.RAX: codeAddr + 5}},
		{bits: 32, name: "push-esp-dec4", asm: "pushl $1\nmovl %esp, %eax\naddl $4, %esp", out: regs{cpu.RAX: stackTop - 4},
			flags: second(addModel(widths[2], stackTop-4, 4, 0))},
		{bits: 32, name: "add32", asm: "addl %ebx, %eax", in: regs{cpu.RAX: 0xffffffff, cpu.RBX: 1},
			out: regs{cpu.RAX: 0}, flags: fCF | fZF | fPF | fAF},
		{bits: 32, name: "mov-abs", asm: "movl 0x200000, %eax", mem: map[uint64][]byte{dataAddr: le(0x12345678, 4)},
			out: regs{cpu.RAX: 0x12345678}},
		{bits: 32, name: "lea-no-rip", asm: "leal 0x10, %eax", out: regs{cpu.RAX: 0x10}},
		{bits: 32, name: "rep-stosb", asm: "rep stosb", in: regs{cpu.RAX: 0x5a, cpu.RDI: dataAddr, cpu.RCX: 3},
			mem: map[uint64][]byte{dataAddr: make([]byte, 4)}, wantMem: map[uint64][]byte{dataAddr: {0x5a, 0x5a, 0x5a, 0}},
			out: regs{cpu.RDI: dataAddr + 3, cpu.RCX: 0}},
	})
}

// TestFlagChaining runs sequences where an instruction consumes or
// preserves flags produced by an earlier, different one (INC/DEC keep CF;
// shifts and rotates by 0 change nothing; BT keeps ZF; PUSHF sees the
// current flags).
func TestFlagChaining(t *testing.T) {
	runRegCases(t, []regCase{
		{name: "add-inc-adc", asm: "addq %rbx, %rax\nincq %rcx\nadcq $0, %rdx",
			in:  regs{cpu.RAX: ^uint64(0), cpu.RBX: 1, cpu.RCX: 0x7f, cpu.RDX: 10},
			out: regs{cpu.RAX: 0, cpu.RCX: 0x80, cpu.RDX: 11}, flags: second(addModel(widths[3], 10, 0, 1))},
		{name: "sub-dec-setb", asm: "subl %ebx, %eax\ndecl %ecx\nsetb %dl",
			in:  regs{cpu.RAX: 1, cpu.RBX: 2, cpu.RCX: 1, cpu.RDX: 0},
			out: regs{cpu.RAX: 0xffffffff, cpu.RCX: 0, cpu.RDX: 1}, flags: fCF | fZF | fPF},
		{name: "add-shl0-setc", asm: "addb %bl, %al\nshlq %cl, %rdx\nsetc %bh",
			in:  regs{cpu.RAX: 0xff, cpu.RBX: 1, cpu.RCX: 0x40, cpu.RDX: 5},
			out: regs{cpu.RAX: 0, cpu.RBX: 0x101}, flags: fCF | fZF | fPF | fAF},
		{name: "cmp-rol0-flags", asm: "cmpl $1, %eax\nroll $0, %ebx\npushfq\npopq %rcx",
			in:  regs{cpu.RAX: 0, cpu.RBX: 3},
			out: regs{cpu.RCX: fixed1 | second(subModel(widths[2], 0, 1, 0))}, flags: second(subModel(widths[2], 0, 1, 0))},
		{name: "sub-bt-keeps-zf", asm: "subq %rax, %rax\nbtq $0, %rbx\nsetz %cl\nsetc %dl",
			in:  regs{cpu.RAX: 5, cpu.RBX: 1, cpu.RCX: 0, cpu.RDX: 0},
			out: regs{cpu.RAX: 0, cpu.RCX: 1, cpu.RDX: 1}, flags: fZF | fCF, undef: fOF | fSF | fAF | fPF},
		{name: "test-cmovs-lahf", asm: "testq %rbx, %rbx\ncmovsq %rbx, %rcx\nlahf",
			in:  regs{cpu.RBX: 1 << 63, cpu.RCX: 0, cpu.RAX: 0},
			out: regs{cpu.RCX: 1 << 63, cpu.RAX: (0x80 | 0x04 | 0x02) << 8}, flags: fSF | fPF, undef: fAF},
		{name: "neg-sbb-mask", asm: "negq %rax\nsbbq %rax, %rax",
			in: regs{cpu.RAX: 7}, out: regs{cpu.RAX: ^uint64(0)}, flags: fCF | fSF | fPF | fAF},
		{name: "setcc-high-and-rex", asm: "stc\nsetc %ah\nsetc %sil\nsetnc %r9b",
			in:  regs{cpu.RAX: 0, cpu.RSI: garbage, cpu.R9: garbage},
			out: regs{cpu.RAX: 0x100, cpu.RSI: garbage&^0xff | 1, cpu.R9: garbage &^ 0xff}, flags: fCF},
	})
}

// TestRIPRelative checks that RIP-relative displacements are relative to
// the end of the whole instruction, immediate bytes included (SDM Vol. 2
// 2.2.1.6), and 32-bit address-size wrap-around.
func TestRIPRelative(t *testing.T) {
	m := func(a uint64, b []byte) map[uint64][]byte { return map[uint64][]byte{a: b} }
	runRegCases(t, []regCase{
		// c7 05 disp32 imm32: 10 bytes.
		{name: "mov-imm32", asm: "movl $0x12345678, 0x200000(%rip)",
			mem: m(codeAddr+10+0x200000, make([]byte, 4)), wantMem: m(codeAddr+10+0x200000, le(0x12345678, 4))},
		// 80 3d disp32 imm8: 7 bytes.
		{name: "cmpb-imm8", asm: "cmpb $1, 0x200000(%rip)",
			mem: m(codeAddr+7+0x200000, []byte{1}), flags: fZF | fPF},
		// 48 83 05 disp32 imm8: 8 bytes.
		{name: "addq-imm8", asm: "addq $-1, 0x200000(%rip)",
			mem: m(codeAddr+8+0x200000, le(1, 8)), wantMem: m(codeAddr+8+0x200000, le(0, 8)), flags: fCF | fZF | fPF | fAF},
		// 6b 05 disp32 imm8: 7 bytes.
		{name: "imul3-imm8", asm: "imull $3, 0x200000(%rip), %eax",
			mem: m(codeAddr+7+0x200000, le(7, 4)), in: regs{cpu.RAX: garbage}, out: regs{cpu.RAX: 21}, undef: fSF | fZF | fAF | fPF},
		// 66 c7 05 disp32 imm16: 9 bytes.
		{name: "movw-imm16", asm: "movw $0xbeef, 0x200000(%rip)",
			mem: m(codeAddr+9+0x200000, make([]byte, 4)), wantMem: m(codeAddr+9+0x200000, []byte{0xef, 0xbe, 0, 0})},
		// f6 05 disp32 imm8 (TEST r/m8, imm8): 7 bytes.
		{name: "testb-imm8", asm: "testb $0x80, 0x200000(%rip)",
			mem: m(codeAddr+7+0x200000, []byte{0x80}), flags: fSF, undef: fAF},
		// Address-size override: the effective address wraps at 4 GiB.
		{name: "addr32-wrap", asm: "movl (%eax,%ebx), %ecx", in: regs{cpu.RAX: 0xffffffff, cpu.RBX: dataAddr + 1},
			mem: m(dataAddr, le(0xfeedf00d, 4)), out: regs{cpu.RCX: 0xfeedf00d}},
		{name: "r13-base-needs-disp", asm: "movq (%r13), %rax", in: regs{cpu.R13: dataAddr},
			mem: m(dataAddr, le(0x1234, 8)), out: regs{cpu.RAX: 0x1234}},
		{name: "r12-base-sib", asm: "movq 8(%r12), %rax", in: regs{cpu.R12: dataAddr},
			mem: m(dataAddr+8, le(0x5678, 8)), out: regs{cpu.RAX: 0x5678}},
		{name: "rsp-base", asm: "movq %rbx, -8(%rsp)\nmovq -8(%rsp), %rax", in: regs{cpu.RBX: 0x99},
			mem: m(stackTop-8, make([]byte, 8)), out: regs{cpu.RAX: 0x99}},
	})
}

// TestCompilerIdioms covers encodings gcc emits for freestanding code:
// multi-byte NOP padding (0F 1F /0, 66 prefixes, CS override), REPZ RET,
// PAUSE, ENDBR64 (a NOP without CET), and REP BSF / REP BSR, which
// execute as TZCNT/LZCNT when CPUID reports BMI1/LZCNT and as BSF/BSR
// otherwise (SDM Vol. 2 TZCNT, LZCNT).
func TestCompilerIdioms(t *testing.T) {
	runRegCases(t, []regCase{
		{name: "nop-padding", asm: "nopl 0x0(%rax)\nnopw 0x0(%rax,%rax,1)\n.byte 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0\n" +
			".byte 0x66, 0x90\n.byte 0x0f, 0x1f, 0x44, 0, 0\n.byte 0x0f, 0x1f, 0x80, 0, 0, 0, 0\nxchg %ax, %ax\nmovl $1, %ebx",
			in: regs{cpu.RAX: garbage, cpu.RBX: 0}, out: regs{cpu.RBX: 1}, inFlags: fCF, flags: fCF},
		{name: "repz-ret", asm: "call 1f\njmp 2f\n1: repz ret\n2: movl $1, %eax", out: regs{cpu.RAX: 1}},
		{name: "pause-endbr64", asm: "pause\nendbr64\nmovl $2, %eax", out: regs{cpu.RAX: 2}},
	})
	// REP BSF/BSR: expectations depend on what CPUID advertises.
	probe := newAsm(t, 64, "movl $7, %eax\nxorl %ecx, %ecx\ncpuid\nmovl %ebx, %r8d\nmovl $0x80000001, %eax\ncpuid\nmovl %ecx, %r9d", nil)
	st := probe.complete()
	bmi1 := st.GPR[cpu.R8]&(1<<3) != 0
	lzcnt := st.GPR[cpu.R9]&(1<<5) != 0
	var cases []regCase
	for _, v := range []uint64{0, 1, 0x80000000, 0x00f0} {
		c := regCase{name: fmt.Sprintf("rep-bsf/%#x", v), asm: "rep bsfl %ebx, %eax", in: regs{cpu.RAX: 0x1234, cpu.RBX: v}}
		d := regCase{name: fmt.Sprintf("rep-bsr/%#x", v), asm: "rep bsrl %ebx, %eax", in: regs{cpu.RAX: 0x1234, cpu.RBX: v}}
		tz := uint64(bits.TrailingZeros32(uint32(v)))
		lz := uint64(bits.LeadingZeros32(uint32(v)))
		if bmi1 {
			// TZCNT: CF set if the source is 0, ZF if the result is 0; OF,
			// SF, PF, AF undefined.
			c.out = regs{cpu.RAX: tz}
			c.flags = fCF*b2u(v == 0) | fZF*b2u(tz == 0)
			c.undef = fOF | fSF | fPF | fAF
		} else {
			c.flags, c.undef = fZF*b2u(v == 0), fCF|fOF|fSF|fAF|fPF
			if v == 0 {
				c.undefRegs = []int{cpu.RAX}
			} else {
				c.out = regs{cpu.RAX: tz}
			}
		}
		if lzcnt {
			d.out = regs{cpu.RAX: lz}
			d.flags = fCF*b2u(v == 0) | fZF*b2u(lz == 0)
			d.undef = fOF | fSF | fPF | fAF
		} else {
			d.flags, d.undef = fZF*b2u(v == 0), fCF|fOF|fSF|fAF|fPF
			if v == 0 {
				d.undefRegs = []int{cpu.RAX}
			} else {
				d.out = regs{cpu.RAX: 31 - lz}
			}
		}
		cases = append(cases, c, d)
	}
	runRegCases(t, cases)
}
