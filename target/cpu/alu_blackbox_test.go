package cpu_test

import (
	"fmt"
	"math/big"
	"math/bits"
	"strings"
	"testing"

	"vmapstack/target/cpu"
)

// The reference models below follow the Operation and Flags Affected
// sections of the SDM Vol. 2 instruction pages; they are written from the
// SDM, not from the emulator.

// addModel: ADD/ADC. "The OF, SF, ZF, AF, CF, and PF flags are set
// according to the result."
func addModel(w width, a, b, cin uint64) (uint64, uint64) {
	m := w.mask()
	a, b = a&m, b&m
	var r uint64
	var carry bool
	if w.bits == 64 {
		s, c := bits.Add64(a, b, cin)
		r, carry = s, c != 0
	} else {
		full := a + b + cin
		r, carry = full&m, full > m
	}
	f := szp(w, r)
	if carry {
		f |= fCF
	}
	if (a^r)&(b^r)&w.sign() != 0 {
		f |= fOF
	}
	if (a^b^r)&0x10 != 0 {
		f |= fAF
	}
	return r, f
}

// subModel: SUB/SBB/CMP. CF is the borrow out of the unsigned subtraction.
func subModel(w width, a, b, bin uint64) (uint64, uint64) {
	m := w.mask()
	a, b = a&m, b&m
	var r uint64
	var borrow bool
	if w.bits == 64 {
		d, c := bits.Sub64(a, b, bin)
		r, borrow = d, c != 0
	} else {
		r = (a - b - bin) & m
		borrow = a < b+bin
	}
	f := szp(w, r)
	if borrow {
		f |= fCF
	}
	if (a^b)&(a^r)&w.sign() != 0 {
		f |= fOF
	}
	if (a^b^r)&0x10 != 0 {
		f |= fAF
	}
	return r, f
}

// withUpper puts garbage above a w-sized value so partial writes are seen.
func withUpper(w width, v uint64) uint64 {
	if w.bits == 64 {
		return v
	}
	return garbage&^w.mask() | v&w.mask()
}

func TestArithmetic(t *testing.T) { runRegCases(t, arithCases()) }

func arithCases() []regCase {
	var cases []regCase
	for _, w := range widths {
		ev := w.edges()
		for _, op := range []string{"add", "adc", "sub", "sbb", "cmp"} {
			src := fmt.Sprintf("%s%s %s, %s", op, w.suffix, w.b, w.a)
			cins := []uint64{0}
			if op == "adc" || op == "sbb" {
				cins = []uint64{0, 1}
			}
			for i, a := range ev {
				for j, b := range ev {
					for _, cin := range cins {
						var r, f uint64
						switch op {
						case "add", "adc":
							r, f = addModel(w, a, b, cin)
						default:
							r, f = subModel(w, a, b, cin)
						}
						// Preload the other status flags with the opposite of
						// the expected ones half of the time so a flag left
						// unchanged is caught.
						in := cin
						if (i+j)%2 == 0 {
							in |= (statusMask &^ fCF) &^ f
						}
						ra, rb := withUpper(w, a), withUpper(w, b)
						out := regs{cpu.RAX: w.merge(ra, r)}
						if op == "cmp" {
							out = nil
						}
						cases = append(cases, regCase{
							name: fmt.Sprintf("%s%d/%#x,%#x,cf%d", op, w.bits, a, b, cin),
							asm:  src, in: regs{cpu.RAX: ra, cpu.RBX: rb}, inFlags: in,
							out: out, flags: f,
						})
					}
				}
			}
		}
		// INC/DEC: "The CF flag is not affected. The OF, SF, ZF, AF, and PF
		// flags are set according to the result." NEG: "The CF flag set to
		// 0 if the source operand is 0; otherwise it is set to 1. The OF,
		// SF, ZF, AF, and PF flags are set according to the result."
		for _, a := range ev {
			for _, cin := range []uint64{0, fCF} {
				ra := withUpper(w, a)
				r, f := addModel(w, a, 1, 0)
				cases = append(cases, regCase{
					name: fmt.Sprintf("inc%d/%#x,cf%d", w.bits, a, cin),
					asm:  fmt.Sprintf("inc%s %s", w.suffix, w.a), in: regs{cpu.RAX: ra}, inFlags: cin,
					out: regs{cpu.RAX: w.merge(ra, r)}, flags: f&^fCF | cin,
				})
				r, f = subModel(w, a, 1, 0)
				cases = append(cases, regCase{
					name: fmt.Sprintf("dec%d/%#x,cf%d", w.bits, a, cin),
					asm:  fmt.Sprintf("dec%s %s", w.suffix, w.a), in: regs{cpu.RAX: ra}, inFlags: cin,
					out: regs{cpu.RAX: w.merge(ra, r)}, flags: f&^fCF | cin,
				})
				r, f = subModel(w, 0, a, 0)
				cases = append(cases, regCase{
					name: fmt.Sprintf("neg%d/%#x,cf%d", w.bits, a, cin),
					asm:  fmt.Sprintf("neg%s %s", w.suffix, w.a), in: regs{cpu.RAX: ra}, inFlags: cin ^ fCF,
					out: regs{cpu.RAX: w.merge(ra, r)}, flags: f,
				})
			}
		}
	}
	// Immediate and memory forms.
	cases = append(cases,
		regCase{name: "add-imm8-sext", asm: "addq $-1, %rax", in: regs{cpu.RAX: 1},
			out: regs{cpu.RAX: 0}, flags: fCF | fZF | fPF | fAF},
		regCase{name: "add-imm32-sext", asm: "addq $-0x80000000, %rax", in: regs{cpu.RAX: 0x80000000},
			out: regs{cpu.RAX: 0}, flags: fCF | fZF | fPF},
		regCase{name: "sub-imm-eax-zeroext", asm: "subl $1, %eax", in: regs{cpu.RAX: 0xffffffff_00000000},
			out: regs{cpu.RAX: 0xffffffff}, flags: fCF | fSF | fPF | fAF},
		regCase{name: "add-mem-to-reg", asm: "addq 0x200000, %rax", in: regs{cpu.RAX: 5},
			mem: map[uint64][]byte{dataAddr: le(0x7fffffffffffffff, 8)}, wantMem: map[uint64][]byte{dataAddr: le(0x7fffffffffffffff, 8)},
			out: regs{cpu.RAX: 0x8000000000000004}, flags: fSF | fOF | fAF},
		regCase{name: "add-reg-to-mem8", asm: "addb %al, 0x200001", in: regs{cpu.RAX: 0x81},
			mem: map[uint64][]byte{dataAddr: {0x11, 0x80, 0x22}}, wantMem: map[uint64][]byte{dataAddr: {0x11, 0x01, 0x22}},
			flags: fCF | fOF},
		// 66 19 05 disp32 is 7 bytes: the operand is at codeAddr+7+0x200000.
		regCase{name: "sbb-mem16-rip-rel", asm: "sbbw %ax, 0x200000(%rip)", in: regs{cpu.RAX: 1}, inFlags: fCF,
			flags: second(subModel(widths[1], 0, 1, 1)),
			mem:   map[uint64][]byte{codeAddr + 7 + 0x200000: {0, 0}}, wantMem: map[uint64][]byte{codeAddr + 7 + 0x200000: {0xfe, 0xff}}},
		regCase{name: "cmp-mem-imm", asm: "cmpl $0x80000000, 0x200000", mem: map[uint64][]byte{dataAddr: le(0x7fffffff, 4)},
			flags: fCF | fSF | fOF | fPF},
	)
	return cases
}

// le encodes v little-endian in n bytes.
func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func TestLogic(t *testing.T) { runRegCases(t, logicCases()) }

func logicCases() []regCase {
	// AND/OR/XOR/TEST: "The OF and CF flags are cleared; the SF, ZF, and PF
	// flags are set according to the result. The state of the AF flag is
	// undefined." NOT: "None" (flags unaffected).
	var cases []regCase
	for _, w := range widths {
		ev := w.edges()
		for _, op := range []string{"and", "or", "xor", "test"} {
			for i, a := range ev {
				for _, b := range ev {
					var r uint64
					switch op {
					case "and", "test":
						r = a & b
					case "or":
						r = a | b
					case "xor":
						r = a ^ b
					}
					ra, rb := withUpper(w, a), withUpper(w, b)
					out := regs{cpu.RAX: w.merge(ra, r)}
					if op == "test" {
						out = nil
					}
					cases = append(cases, regCase{
						name: fmt.Sprintf("%s%d/%#x,%#x", op, w.bits, a, b),
						asm:  fmt.Sprintf("%s%s %s, %s", op, w.suffix, w.b, w.a),
						in:   regs{cpu.RAX: ra, cpu.RBX: rb}, inFlags: uint64(i%2) * (fCF | fOF),
						out: out, flags: szp(w, r), undef: fAF,
					})
				}
			}
		}
		for _, a := range ev {
			ra := withUpper(w, a)
			cases = append(cases, regCase{
				name: fmt.Sprintf("not%d/%#x", w.bits, a),
				asm:  fmt.Sprintf("not%s %s", w.suffix, w.a), in: regs{cpu.RAX: ra}, inFlags: fCF | fZF | fOF,
				out: regs{cpu.RAX: w.merge(ra, ^a)}, flags: fCF | fZF | fOF,
			})
		}
	}
	cases = append(cases,
		// XOR of a 32-bit register with itself zeroes all 64 bits (the
		// idiom gcc uses); SDM Vol. 1 3.4.1.1.
		regCase{name: "xor-eax-eax", asm: "xorl %eax, %eax", in: regs{cpu.RAX: ^uint64(0)}, out: regs{cpu.RAX: 0},
			flags: fZF | fPF, undef: fAF},
		regCase{name: "and-imm8-sext", asm: "andq $-16, %rsp", in: regs{cpu.RSP: 0x7fff8}, out: regs{cpu.RSP: 0x7fff0},
			flags: fPF, undef: fAF},
		regCase{name: "or-mem", asm: "orw $0x8001, 0x200002", mem: map[uint64][]byte{dataAddr: {1, 2, 3, 4, 5}},
			wantMem: map[uint64][]byte{dataAddr: {1, 2, 0x03, 0x84, 5}}, flags: szp(widths[1], 0x8403), undef: fAF},
		regCase{name: "test-imm-al", asm: "testb $0x80, %al", in: regs{cpu.RAX: 0x7f}, flags: fZF | fPF, undef: fAF, inFlags: fCF | fOF},
	)
	return cases
}

// shiftModel follows the Operation sections of SAL/SAR/SHL/SHR and
// RCL/RCR/ROL/ROR. It returns the result, the expected flags and the flags
// the SDM leaves undefined for this count.
func shiftModel(op string, w width, a, count, fin uint64) (r, f, undef uint64) {
	m := w.mask()
	a &= m
	cmask := uint64(0x1f)
	if w.bits == 64 {
		cmask = 0x3f
	}
	masked := count & cmask
	if masked == 0 {
		// "If the count is 0, the flags are not affected."
		return a, fin, 0
	}
	msb := func(v uint64) uint64 { return v >> (w.bits - 1) & 1 }
	cf := fin & fCF
	f = fin
	setCF := func(b uint64) {
		f &^= fCF
		if b != 0 {
			f |= fCF
		}
	}
	setOF := func(b uint64) {
		f &^= fOF
		if b != 0 {
			f |= fOF
		}
	}
	switch op {
	case "shl", "shr", "sar":
		// SZP from the result; AF undefined for a non-zero count; OF
		// defined only for 1-bit shifts; CF undefined for SHL/SHR when the
		// count is >= the operand size.
		undef = fAF
		if masked != 1 {
			undef |= fOF
		}
		switch op {
		case "shl":
			if masked >= uint64(w.bits) {
				r, undef = 0, undef|fCF
			} else {
				r = a << masked & m
				setCF(a >> (uint64(w.bits) - masked) & 1)
			}
			setOF(msb(r) ^ f&fCF)
		case "shr":
			if masked >= uint64(w.bits) {
				r, undef = 0, undef|fCF
			} else {
				r = a >> masked
				setCF(a >> (masked - 1) & 1)
			}
			setOF(msb(a))
		case "sar":
			sa := int64(a << (64 - w.bits))
			sa >>= 64 - w.bits // sign-extended
			n := masked
			if n > uint64(w.bits) {
				n = uint64(w.bits)
			}
			r = uint64(sa>>n) & m
			setCF(uint64(sa>>(n-1)) & 1)
			setOF(0)
		}
		f = f&^(fSF|fZF|fPF) | szp(w, r)
		return r, f, undef
	case "rol", "ror":
		// "If the masked count is 0, the flags are not affected. If the
		// masked count is 1, then the OF flag is affected, otherwise
		// (masked count is greater than 1) the OF flag is undefined. The CF
		// flag is affected when the masked count is non-zero. The SF, ZF,
		// AF, and PF flags are always unaffected."
		n := masked % uint64(w.bits)
		if op == "rol" {
			r = (a<<n | a>>(uint64(w.bits)-n)) & m
			setCF(r & 1)
			setOF(msb(r) ^ f&fCF)
		} else {
			r = (a>>n | a<<(uint64(w.bits)-n)) & m
			setCF(msb(r))
			setOF(msb(r) ^ r>>(w.bits-2)&1)
		}
		if masked != 1 {
			undef = fOF
		}
		return r, f, undef
	case "rcl", "rcr":
		n := masked
		switch w.bits {
		case 8:
			n %= 9
		case 16:
			n %= 17
		}
		r = a
		if op == "rcr" {
			setOF(msb(r) ^ cf) // computed before the rotation
		}
		for ; n > 0; n-- {
			if op == "rcl" {
				tmp := msb(r)
				r = (r<<1 | cf) & m
				cf = tmp
			} else {
				tmp := r & 1
				r = r>>1 | cf<<(w.bits-1)
				cf = tmp
			}
		}
		setCF(cf)
		if op == "rcl" {
			setOF(msb(r) ^ cf)
		}
		if masked != 1 {
			undef = fOF
		}
		return r, f, undef
	}
	panic(op)
}

func TestShiftRotate(t *testing.T) { runRegCases(t, shiftCases()) }

func shiftCases() []regCase {
	var cases []regCase
	for _, w := range widths {
		ev := w.edges()
		counts := []uint64{0, 1, 2, uint64(w.bits) - 1, uint64(w.bits), uint64(w.bits) + 1, 31, 32, 33}
		if w.bits == 64 {
			counts = append(counts, 63, 64, 65, 0x7f)
		}
		counts = uniq(counts)
		for _, op := range []string{"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"} {
			for _, n := range counts {
				for vi, a := range ev {
					for _, cin := range []uint64{0, fCF} {
						if cin != 0 && op != "rcl" && op != "rcr" && vi%2 == 0 {
							continue
						}
						fin := cin
						if vi%2 == 1 {
							fin |= fOF | fSF | fZF | fPF
						}
						r, f, undef := shiftModel(op, w, a, n, fin)
						ra := withUpper(w, a)
						// %cl form for every value; immediate form for a
						// few (the count 1 form assembles to D0/D1).
						cases = append(cases, regCase{
							name: fmt.Sprintf("%s%d/%#x,cl=%d,cf%d", op, w.bits, a, n, cin),
							asm:  fmt.Sprintf("%s%s %%cl, %s", op, w.suffix, w.a),
							in:   regs{cpu.RAX: ra, cpu.RCX: 0xff00 | n}, inFlags: fin,
							out: regs{cpu.RAX: w.merge(ra, r)}, flags: f, undef: undef,
						})
						if vi == 3 || vi == 5 {
							cases = append(cases, regCase{
								name: fmt.Sprintf("%s%d/%#x,imm=%d,cf%d", op, w.bits, a, n, cin),
								asm:  fmt.Sprintf("%s%s $%d, %s", op, w.suffix, n, w.a),
								in:   regs{cpu.RAX: ra}, inFlags: fin,
								out: regs{cpu.RAX: w.merge(ra, r)}, flags: f, undef: undef,
							})
						}
					}
				}
			}
		}
		if w.bits == 8 {
			continue
		}
		// SHLD/SHRD: "If the count is 1 or greater, the CF flag is filled
		// with the last bit shifted out of the destination operand and the
		// SF, ZF, and PF flags are set according to the value of the
		// result. For a 1-bit shift, the OF flag is set if a sign change
		// occurred; otherwise, it is cleared. For shifts greater than 1 bit,
		// the OF flag is undefined. If a shift occurs, the AF flag is
		// undefined. If the count operand is 0, the flags are not affected.
		// If the count is greater than the operand size, the flags are
		// undefined." Counts above the size are only possible for 16 bits
		// and are not tested.
		dcounts := []uint64{0, 1, 4, uint64(w.bits) - 1}
		if w.bits > 16 {
			dcounts = append(dcounts, uint64(w.bits)+1) // masked to 1
		}
		for _, op := range []string{"shld", "shrd"} {
			for _, n := range dcounts {
				for vi, a := range ev {
					b := ev[(vi+3)%len(ev)]
					r, f, undef := doubleShiftModel(op, w, a, b, n, uint64(vi%2)*(fCF|fOF|fZF))
					ra, rb := withUpper(w, a), withUpper(w, b)
					cases = append(cases, regCase{
						name: fmt.Sprintf("%s%d/%#x,%#x,cl=%d", op, w.bits, a, b, n),
						asm:  fmt.Sprintf("%s%s %%cl, %s, %s", op, w.suffix, w.b, w.a),
						in:   regs{cpu.RAX: ra, cpu.RBX: rb, cpu.RCX: n}, inFlags: uint64(vi%2) * (fCF | fOF | fZF),
						out: regs{cpu.RAX: w.merge(ra, r)}, flags: f, undef: undef,
					}, regCase{
						name: fmt.Sprintf("%s%d/%#x,%#x,imm=%d", op, w.bits, a, b, n),
						asm:  fmt.Sprintf("%s%s $%d, %s, %s", op, w.suffix, n, w.b, w.a),
						in:   regs{cpu.RAX: ra, cpu.RBX: rb}, inFlags: uint64(vi%2) * (fCF | fOF | fZF),
						out: regs{cpu.RAX: w.merge(ra, r)}, flags: f, undef: undef,
					})
				}
			}
		}
	}
	return cases
}

func uniq(xs []uint64) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func doubleShiftModel(op string, w width, dst, src, count, fin uint64) (r, f, undef uint64) {
	m := w.mask()
	dst, src = dst&m, src&m
	cmask := uint64(0x1f)
	if w.bits == 64 {
		cmask = 0x3f
	}
	n := count & cmask
	if n == 0 {
		return dst, fin, 0
	}
	bw := uint64(w.bits)
	var cf uint64
	if op == "shld" {
		r = (dst<<n | src>>(bw-n)) & m
		cf = dst >> (bw - n) & 1
	} else {
		r = (dst>>n | src<<(bw-n)) & m
		cf = dst >> (n - 1) & 1
	}
	f = szp(w, r) | cf*fCF
	if (r^dst)&w.sign() != 0 {
		f |= fOF
	}
	undef = fAF
	if n != 1 {
		undef |= fOF
	}
	return r, f, undef
}

func TestMulDiv(t *testing.T) { runRegCases(t, mulDivCases()) }

func mulDivCases() []regCase {
	var cases []regCase
	for _, w := range widths {
		ev := w.edges()
		m := w.mask()
		for _, a := range ev {
			for _, b := range ev {
				ra, rb := withUpper(w, a), withUpper(w, b)
				rdx := uint64(garbage)
				// MUL: "The OF and CF flags are set to 0 if the upper half of
				// the result is 0; otherwise, they are set to 1. The SF, ZF,
				// AF, and PF flags are undefined."
				hi, lo := bits.Mul64(a, b)
				if w.bits < 64 {
					p := a * b
					hi, lo = p>>w.bits&m, p&m
				}
				var f uint64
				if hi != 0 {
					f = fCF | fOF
				}
				out := mulOut(w, ra, rdx, hi, lo)
				cases = append(cases, regCase{
					name: fmt.Sprintf("mul%d/%#x,%#x", w.bits, a, b),
					asm:  fmt.Sprintf("mul%s %s", w.suffix, w.b),
					in:   regs{cpu.RAX: ra, cpu.RBX: rb, cpu.RDX: rdx},
					out:  out, flags: f, undef: fSF | fZF | fAF | fPF,
				})
				// IMUL one operand: "the CF and OF flags are set when
				// significant bits are carried into the upper half of the
				// result and cleared when the result fits exactly in the
				// lower half". Two/three operands: "set when the result must
				// be truncated to fit in the destination operand size". SF,
				// ZF, AF, PF undefined.
				shi, slo, ovf := smul(w, sext(w, a), sext(w, b))
				f = 0
				if ovf {
					f = fCF | fOF
				}
				cases = append(cases, regCase{
					name: fmt.Sprintf("imul1-%d/%#x,%#x", w.bits, a, b),
					asm:  fmt.Sprintf("imul%s %s", w.suffix, w.b),
					in:   regs{cpu.RAX: ra, cpu.RBX: rb, cpu.RDX: rdx},
					out:  mulOut(w, ra, rdx, shi, slo), flags: f, undef: fSF | fZF | fAF | fPF,
				})
				if w.bits >= 16 {
					cases = append(cases, regCase{
						name: fmt.Sprintf("imul2-%d/%#x,%#x", w.bits, a, b),
						asm:  fmt.Sprintf("imul%s %s, %s", w.suffix, w.b, w.a),
						in:   regs{cpu.RAX: ra, cpu.RBX: rb},
						out:  regs{cpu.RAX: w.merge(ra, slo)}, flags: f, undef: fSF | fZF | fAF | fPF,
					})
				}
			}
		}
		if w.bits >= 16 {
			// Three-operand form with a sign-extended imm8 and a full imm.
			for _, a := range ev {
				for _, imm := range []int64{-1, 3, -128, 0x1234} {
					_, p, ovf := smul(w, sext(w, a), imm)
					f := uint64(0)
					if ovf {
						f = fCF | fOF
					}
					rc := withUpper(w, 0x5555)
					cases = append(cases, regCase{
						name: fmt.Sprintf("imul3-%d/%#x,%d", w.bits, a, imm),
						asm:  fmt.Sprintf("imul%s $%d, %s, %s", w.suffix, imm, w.b, w.c),
						in:   regs{cpu.RBX: withUpper(w, a), cpu.RCX: rc},
						out:  regs{cpu.RCX: w.merge(rc, p)}, flags: f, undef: fSF | fZF | fAF | fPF,
					})
				}
			}
		}
	}
	// DIV/IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined."
	type dv struct {
		hi, lo, d uint64
	}
	for _, w := range widths {
		m := w.mask()
		for _, x := range []dv{{0, 100, 7}, {0, m, 1}, {0, m, m}, {m - 1, m, m}, {0, 0, 3}, {1, 0, 2}, {0x12 & m, 0x3456 & m, 0x9a & m}} {
			var q, r uint64
			if w.bits == 64 {
				q, r = bits.Div64(x.hi, x.lo, x.d)
			} else {
				n := x.hi<<w.bits | x.lo
				q, r = n/x.d, n%x.d
			}
			cases = append(cases, divCase("div", w, x.hi, x.lo, x.d, q, r))
		}
		s := w.sign()
		// Signed cases: (dividend as hi:lo, divisor) with truncation toward
		// zero and the remainder taking the dividend's sign.
		for _, x := range []struct {
			n    int64
			d    int64
			q, r int64
		}{{-7, 2, -3, -1}, {7, -2, -3, 1}, {-7, -2, 3, -1}, {100, 7, 14, 2}, {int64(sext(w, s)), 1, int64(sext(w, s)), 0},
			{int64(sext(w, s)), 2, int64(sext(w, s)) / 2, 0}, {int64(s - 1), -1, -int64(s - 1), 0}} {
			hi := uint64(0)
			if x.n < 0 {
				hi = m
			}
			cases = append(cases, divCase("idiv", w, hi, uint64(x.n)&m, uint64(x.d)&m, uint64(x.q)&m, uint64(x.r)&m))
		}
	}
	return cases
}

// smul is the exact signed product of two w-bit values: its low and high
// halves (w bits each) and whether it does not fit in w signed bits.
func smul(w width, a, b int64) (hi, lo uint64, overflow bool) {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	lim := new(big.Int).Lsh(big.NewInt(1), w.bits-1)
	overflow = p.Cmp(new(big.Int).Neg(lim)) < 0 || p.Cmp(lim) >= 0
	mod := new(big.Int).Lsh(big.NewInt(1), 2*w.bits)
	u := new(big.Int).Mod(p, mod) // two's complement in 2w bits
	m := new(big.Int).SetUint64(w.mask())
	lo = new(big.Int).And(u, m).Uint64()
	hi = new(big.Int).And(new(big.Int).Rsh(u, w.bits), m).Uint64()
	return hi, lo, overflow
}

func sext(w width, v uint64) int64 {
	return int64(v<<(64-w.bits)) >> (64 - w.bits)
}

// mulOut places a double-width product: AX for 8 bits, DX:AX, EDX:EAX
// (both zero-extended in 64-bit mode), RDX:RAX.
func mulOut(w width, ra, rdx, hi, lo uint64) regs {
	if w.bits == 8 {
		return regs{cpu.RAX: ra&^0xffff | hi<<8 | lo}
	}
	return regs{cpu.RAX: w.merge(ra, lo), cpu.RDX: w.merge(rdx, hi)}
}

func divCase(op string, w width, hi, lo, d, q, r uint64) regCase {
	rb := withUpper(w, d)
	c := regCase{
		name:  fmt.Sprintf("%s%d/%#x:%#x,%#x", op, w.bits, hi, lo, d),
		asm:   fmt.Sprintf("%s%s %s", op, w.suffix, w.b),
		undef: statusMask,
	}
	if w.bits == 8 {
		ra := garbage&^0xffff | hi<<8 | lo
		c.in = regs{cpu.RAX: ra, cpu.RBX: rb}
		c.out = regs{cpu.RAX: ra&^0xffff | r<<8 | q}
	} else {
		ra, rdx := withUpper(w, lo), withUpper(w, hi)
		c.in = regs{cpu.RAX: ra, cpu.RBX: rb, cpu.RDX: rdx}
		c.out = regs{cpu.RAX: w.merge(ra, q), cpu.RDX: w.merge(rdx, r)}
	}
	return c
}

// TestDivideError checks #DE (vector 0, a fault: the saved RIP is the
// DIV/IDIV itself, SDM Vol. 3A 6.15 "Interrupt 0") for a zero divisor and
// for a quotient too large for the destination, including INT_MIN / -1.
func TestDivideError(t *testing.T) {
	type tc struct {
		name, asm string
		in        regs
	}
	cases := []tc{
		{"div8-zero", "divb %bl", regs{cpu.RAX: 5}},
		{"div16-zero", "divw %bx", regs{cpu.RAX: 5}},
		{"div32-zero", "divl %ebx", regs{cpu.RAX: 5}},
		{"div64-zero", "divq %rbx", regs{cpu.RAX: 5}},
		{"idiv64-zero", "idivq %rbx", regs{cpu.RAX: 5}},
		{"div8-overflow", "divb %bl", regs{cpu.RAX: 0x200, cpu.RBX: 2}},
		{"div32-overflow", "divl %ebx", regs{cpu.RDX: 1, cpu.RBX: 1}},
		{"div64-overflow", "divq %rbx", regs{cpu.RDX: 5, cpu.RBX: 5}},
		{"idiv8-intmin", "idivb %bl", regs{cpu.RAX: 0xff80, cpu.RBX: 0xff}},
		{"idiv16-intmin", "idivw %bx", regs{cpu.RAX: 0x8000, cpu.RDX: 0xffff, cpu.RBX: 0xffff}},
		{"idiv32-intmin", "idivl %ebx", regs{cpu.RAX: 0x80000000, cpu.RDX: 0xffffffff, cpu.RBX: 0xffffffff}},
		{"idiv64-intmin", "idivq %rbx", regs{cpu.RAX: 1 << 63, cpu.RDX: ^uint64(0), cpu.RBX: ^uint64(0)}},
		{"idiv32-positive-overflow", "idivl %ebx", regs{cpu.RAX: 0x80000000, cpu.RDX: 0, cpu.RBX: 1}},
		{"div-mem-zero", "divl 0x200000", regs{cpu.RAX: 5}},
	}
	var srcs []string
	for _, c := range cases {
		srcs = append(srcs, "nop\n"+c.asm)
	}
	assemble(t, 64, srcs...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newAsm(t, 64, "nop\n"+c.asm, func(ram []byte, s *cpu.State) {
				for r, v := range c.in {
					s.GPR[r] = v
				}
			})
			v := m.runToHandler()
			if v != 0 {
				t.Fatalf("delivered vector %d, want 0 (#DE)", v)
			}
			st := m.c.State()
			// Frame (SDM Vol. 3A 6.14.2, Figure 6-9): no error code for #DE.
			checkFrame64(t, m, st.GPR[cpu.RSP], frame{err: -1, rip: codeAddr + 1, cs: selCode64, ss: selData, rsp: stackTop})
			for r, v := range c.in {
				if st.GPR[r] != v && r != cpu.RSP {
					t.Errorf("%s changed by the faulting instruction: %#x, want %#x", regName[r], st.GPR[r], v)
				}
			}
			ev := lastEvent(t, m)
			if ev.Vector != 0 || ev.Kind != cpu.EventException || ev.HasError || !ev.Delivered || ev.RIP != codeAddr+1 {
				t.Errorf("event = %s; want #DE exception at %#x, no error code, delivered", eventString(ev), codeAddr+1)
			}
		})
	}
}

func lastEvent(t *testing.T, m *machine) cpu.Event {
	t.Helper()
	ev := m.c.Events()
	if len(ev) == 0 {
		t.Fatalf("no events recorded")
	}
	return ev[len(ev)-1]
}

func second(_, b uint64) uint64 { return b }

// in32 turns register-only cases of 8-, 16- and 32-bit operands into
// cases for 32-bit protected mode (CS.D=1: the same encodings, no REX).
// Inputs and expectations are limited to the low 32 bits, the only part
// of the registers that mode defines (SDM Vol. 1 3.4.1.1).
func in32(cases []regCase) []regCase {
	var out []regCase
	for _, c := range cases {
		if strings.Contains(c.asm, "%r") || strings.Contains(c.asm, "%sil") || strings.Contains(c.asm, "%dil") ||
			c.mem != nil || c.wantMem != nil || strings.Contains(c.asm, "(%rip)") {
			continue
		}
		n := c
		n.bits = 32
		n.name = "pm32/" + c.name
		n.in, n.out = regs{}, regs{}
		for r, v := range c.in {
			n.in[r] = v & 0xffffffff
		}
		for r, v := range c.out {
			n.out[r] = v & 0xffffffff
		}
		// Registers not listed in out must keep their (now truncated)
		// inputs, which the harness checks against the input state.
		out = append(out, n)
	}
	return out
}

func TestALUProtectedMode32(t *testing.T) {
	var cases []regCase
	for _, f := range []func() []regCase{arithCases, logicCases, shiftCases, mulDivCases, conditionCases, bitCases} {
		cases = append(cases, in32(f())...)
	}
	runRegCases(t, cases)
}
