package cpu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"testing"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"
)

// requireNativeTier skips a test of the native tier where the host has
// none (not linux/amd64, or no LAHF in 64-bit mode); CI's
// VMAPSTACK_REQUIRE_TOOLS=1 makes that a failure, as for a missing tool.
func requireNativeTier(t *testing.T) {
	t.Helper()
	if nativeSupported {
		return
	}
	if os.Getenv("VMAPSTACK_REQUIRE_TOOLS") == "1" {
		t.Fatal("no native tier on this host (linux/amd64 with LAHF in 64-bit mode), and VMAPSTACK_REQUIRE_TOOLS=1")
	}
	t.Skip("no native tier on this host; VMAPSTACK_REQUIRE_TOOLS=1 makes this a failure")
}

// regOnlyGen writes random register-form instructions (the native tier's
// whole repertoire, and some it must refuse: RSP, SPL, LOCK, memory
// operands) in raw encodings.
type regOnlyGen struct {
	r *rand.Rand
	b []byte
}

// reg is a register number: RSP (4) only when rsp is set.
func (g *regOnlyGen) reg(rsp bool) uint8 {
	for {
		r := uint8(g.r.Intn(16))
		if r != RSP || rsp {
			return r
		}
	}
}

// rex is the REX byte for a 64-bit operand size (w) and the high bits of
// the ModRM reg, SIB index and ModRM rm or SIB base registers.
func rex(w bool, reg, index, base uint8) byte {
	b := byte(0x40) | reg>>3<<2 | index>>3<<1 | base>>3
	if w {
		b |= 8
	}
	return b
}

// modrmRR appends [66] [REX] op... ModRM(11, reg, rm) for operand size
// size (1, 2, 4, 8).
func (g *regOnlyGen) modrmRR(size int, op []byte, reg, rm uint8) {
	if size == 2 {
		g.b = append(g.b, 0x66)
	}
	rex := rex(size == 8, reg, 0, rm)
	// Without REX, byte registers 4-7 are AH..BH; with it SPL..DIL.
	if rex != 0x40 || (size == 1 && g.r.Intn(2) == 0) {
		g.b = append(g.b, rex)
	}
	g.b = append(g.b, op...)
	g.b = append(g.b, 0xc0|(reg&7)<<3|rm&7)
}

func (g *regOnlyGen) imm(n int) {
	for i := 0; i < n; i++ {
		g.b = append(g.b, byte(g.r.Intn(256)))
	}
	if g.r.Intn(4) == 0 { // small counts and values matter for flags
		for i := len(g.b) - n; i < len(g.b); i++ {
			g.b[i] = byte(g.r.Intn(3))
		}
	}
}

func (g *regOnlyGen) size() int { return []int{1, 2, 4, 8, 8, 4}[g.r.Intn(6)] }

// memOps are memory forms with ModRM: the opcode bytes, whether it takes
// an imm8, and whether its size follows REX.W/66 (else it is fixed).
var memOps = []struct {
	op     []byte
	imm8   bool
	sized  bool
	byteOp bool
	imm32  bool
	ext    int // the ModRM reg field, when the opcode has one (-1: a register)
}{
	{op: []byte{0x81}, imm32: true, sized: true, ext: 1 + 6}, // group 1 m, imm32 (ext-1: 6 is XOR)
	{op: []byte{0xc7}, imm32: true, sized: true, ext: 1 + 0}, // mov m, imm32
	{op: []byte{0x69}, imm32: true, sized: true},             // imul r, m, imm32
	{op: []byte{0xf7}, imm32: true, sized: true, ext: 1 + 0}, // test m, imm32
	{op: []byte{0x8b}, sized: true},                          // mov r, m
	{op: []byte{0x89}, sized: true},                          // mov m, r
	{op: []byte{0x88}, byteOp: true},                         // mov m8, r8
	{op: []byte{0x03}, sized: true},                          // add r, m
	{op: []byte{0x2b}, sized: true},                          // sub r, m
	{op: []byte{0x33}, sized: true},                          // xor r, m
	{op: []byte{0x13}, sized: true},                          // adc r, m
	{op: []byte{0x01}, sized: true},                          // add m, r
	{op: []byte{0x21}, sized: true},                          // and m, r
	{op: []byte{0x39}, sized: true},                          // cmp m, r
	{op: []byte{0x85}, sized: true},                          // test m, r
	{op: []byte{0x83}, imm8: true, sized: true},              // group 1 m, imm8 (reg field: the op)
	{op: []byte{0xff}, sized: true},                          // inc/dec m (reg field 0/1)
	{op: []byte{0x0f, 0xb6}, sized: true},                    // movzx r, m8
	{op: []byte{0x0f, 0xbf}, sized: true},                    // movsx r, m16
	{op: []byte{0x63}, sized: true},                          // movsxd r, m32
	{op: []byte{0x0f, 0xaf}, sized: true},                    // imul r, m
	{op: []byte{0x6b}, imm8: true, sized: true},              // imul r, m, imm8
	{op: []byte{0xf7}, sized: true},                          // not/neg m (reg field 2/3)
	{op: []byte{0x80}, imm8: true, byteOp: true},             // group 1 m8, imm8
}

// memOp appends a memory form: through RSP, a base register set just
// before to the data page, RIP-relative or an absolute address (some
// crossing into the next page, some in the code page), with or without
// an FS override.
func (g *regOnlyGen) memOp(reg uint8) {
	m := memOps[g.r.Intn(len(memOps))]
	if m.ext > 0 {
		reg = uint8(m.ext - 1)
		if m.op[0] == 0x81 {
			reg = uint8(g.r.Intn(8))
		}
	}
	if m.op[0] == 0xff {
		reg = uint8(g.r.Intn(2))
	}
	if m.op[0] == 0xf7 && !m.imm32 {
		reg = 2 + uint8(g.r.Intn(2))
	}
	size := 1
	if !m.byteOp {
		size = []int{2, 4, 8, 8}[g.r.Intn(4)]
	}
	kind := g.r.Intn(7)
	if kind == 6 { // MOV with a moffs (A0-A3): no ModRM, never in a block
		addr := uint64(wbData + g.r.Intn(0xf00))
		op := 0xa0 + byte(g.r.Intn(4))
		switch g.r.Intn(3) {
		case 0: // 64-bit address
			g.b = append(g.b, 0x48, op)
			g.b = binary.LittleEndian.AppendUint64(g.b, addr)
		case 1: // 32-bit address (67h)
			g.b = append(g.b, 0x67, op)
			g.b = binary.LittleEndian.AppendUint32(g.b, uint32(addr))
		default: // 64-bit address, 32-bit operand
			g.b = append(g.b, op|1)
			g.b = binary.LittleEndian.AppendUint64(g.b, addr)
		}
		return
	}
	var base, index uint8
	if kind == 5 { // an index register with a small value
		for index = g.reg(false); index == reg || index == RSP; index = g.reg(false) {
		}
		g.modrmRR(4, nil, 0, index)
		g.b[len(g.b)-1] = 0xb8 + index&7
		g.b = binary.LittleEndian.AppendUint32(g.b, uint32(g.r.Intn(0x100)))
	}
	if kind == 1 || kind == 5 { // a base register pointing into the data page
		for base = g.reg(false); base == reg || base == index || base == RBP || base == R13 || base == R12; base = g.reg(false) {
		}
		g.modrmRR(4, nil, 0, base)
		g.b[len(g.b)-1] = 0xb8 + base&7
		g.b = binary.LittleEndian.AppendUint32(g.b, uint32(wbData+g.r.Intn(0xf00)))
	}
	if (kind == 0 || kind == 4) && g.r.Intn(4) == 0 {
		g.b = append(g.b, 0x64) // FS: its base is nativeFSBase
	}
	if size == 2 {
		g.b = append(g.b, 0x66)
	}
	rex := rex(size == 8, reg, index, base)
	if rex != 0x40 || g.r.Intn(3) == 0 {
		g.b = append(g.b, rex)
	}
	g.b = append(g.b, m.op...)
	imm := 0
	if m.imm8 {
		imm = 1
	}
	if m.imm32 {
		imm = 4
		if size == 2 {
			imm = 2
		}
	}
	switch kind {
	case 0, 4: // [rsp+disp8]
		g.b = append(g.b, 1<<6|(reg&7)<<3|4, 0x24, byte(int8(-64+g.r.Intn(120))))
	case 1: // [base+disp8]
		g.b = append(g.b, 1<<6|(reg&7)<<3|base&7, byte(g.r.Intn(0x70)))
	case 5: // [base+index*scale+disp8]
		g.b = append(g.b, 1<<6|(reg&7)<<3|4, byte(g.r.Intn(4))<<6|(index&7)<<3|base&7, byte(g.r.Intn(0x70)))
	case 2: // [rip+disp32] into the data page
		g.b = append(g.b, (reg&7)<<3|5)
		end := wbCode + len(g.b) + 4 + imm
		g.b = binary.LittleEndian.AppendUint32(g.b, uint32(wbData+g.r.Intn(0xf00)-end))
	case 3: // [disp32]: the data page, its last bytes, or the code page
		g.b = append(g.b, (reg&7)<<3|4, 0x25)
		a := wbData + g.r.Intn(0xf00)
		switch g.r.Intn(4) {
		case 0:
			a = wbData + 0xffb + g.r.Intn(5) // crosses when wide
		case 1:
			a = wbCode + 0x800 + g.r.Intn(0x100) // a page with decoded code
		}
		g.b = binary.LittleEndian.AppendUint32(g.b, uint32(a))
	}
	for i := 0; i < imm; i++ {
		g.b = append(g.b, byte(g.r.Intn(256)))
	}
}

// nativeFSBase is the FS base of TestNativeMatchesInterpreter: FS:RSP
// lands in RAM, away from the code.
const nativeFSBase = 0x100000

// one appends one instruction.
func (g *regOnlyGen) one() {
	// RSP only as a source (case 17): the memory forms go through it.
	rsp := false
	reg, rm := g.reg(rsp), g.reg(rsp)
	switch k := g.r.Intn(27); k {
	case 0, 1, 2, 3: // ALU r/m, r: ADD OR ADC SBB AND SUB XOR CMP, TEST, MOV
		ops := []byte{0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x84, 0x88}
		op := ops[g.r.Intn(len(ops))]
		s := g.size()
		if s != 1 {
			op++
		}
		g.modrmRR(s, []byte{op}, reg, rm)
	case 4, 5: // ALU r/m, imm8 (83 /ext) or imm32 (81 /ext)
		s := []int{2, 4, 8}[g.r.Intn(3)]
		if g.r.Intn(2) == 0 {
			g.modrmRR(s, []byte{0x83}, uint8(g.r.Intn(8)), rm)
			g.imm(1)
		} else {
			g.modrmRR(s, []byte{0x81}, uint8(g.r.Intn(8)), rm)
			g.imm(map[int]int{2: 2, 4: 4, 8: 4}[s])
		}
	case 6: // NOT NEG (F7 /2 /3), INC DEC (FF /0 /1)
		s := []int{2, 4, 8}[g.r.Intn(3)]
		switch g.r.Intn(4) {
		case 0:
			g.modrmRR(s, []byte{0xf7}, 2, rm)
		case 1:
			g.modrmRR(s, []byte{0xf7}, 3, rm)
		case 2:
			g.modrmRR(s, []byte{0xff}, 0, rm)
		default:
			g.modrmRR(s, []byte{0xff}, 1, rm)
		}
	case 7, 8: // ROL ROR SHL SHR SAR by imm8 (C1) or by 1 (D1), 32 and 64 bits
		s := []int{4, 8}[g.r.Intn(2)]
		ext := []uint8{0, 1, 4, 5, 7}[g.r.Intn(5)]
		if g.r.Intn(4) == 0 {
			g.modrmRR(s, []byte{0xd1}, ext, rm)
		} else {
			g.modrmRR(s, []byte{0xc1}, ext, rm)
			g.b = append(g.b, byte(g.r.Intn(70)))
		}
	case 9: // IMUL r, r/m; r, r/m, imm8; r, r/m, imm32
		s := []int{2, 4, 8}[g.r.Intn(3)]
		switch g.r.Intn(3) {
		case 0:
			g.modrmRR(s, []byte{0x0f, 0xaf}, reg, rm)
		case 1:
			g.modrmRR(s, []byte{0x6b}, reg, rm)
			g.imm(1)
		default:
			g.modrmRR(s, []byte{0x69}, reg, rm)
			g.imm(map[int]int{2: 2, 4: 4, 8: 4}[s])
		}
	case 10: // MOV r, imm (B8+r), MOVABS, MOV r/m, imm32 (C7 /0)
		switch g.r.Intn(3) {
		case 0:
			g.modrmRR(4, nil, 0, rm)
			g.b[len(g.b)-1] = 0xb8 + rm&7
			g.imm(4)
		case 1:
			g.modrmRR(8, nil, 0, rm)
			g.b[len(g.b)-1] = 0xb8 + rm&7
			g.imm(8)
		default:
			g.modrmRR(8, []byte{0xc7}, 0, rm)
			g.imm(4)
		}
	case 11: // MOVZX MOVSX r, r8/r16; MOVSXD
		switch g.r.Intn(3) {
		case 0:
			g.modrmRR([]int{2, 4, 8}[g.r.Intn(3)], []byte{0x0f, []byte{0xb6, 0xb7}[g.r.Intn(2)]}, reg, rm)
		case 1:
			g.modrmRR([]int{2, 4, 8}[g.r.Intn(3)], []byte{0x0f, []byte{0xbe, 0xbf}[g.r.Intn(2)]}, reg, rm)
		default:
			g.modrmRR(8, []byte{0x63}, reg, rm)
		}
	case 12, 13: // LEA r, [base + index*scale + disp]
		s := []int{4, 8, 8}[g.r.Intn(3)]
		base, index := g.reg(rsp), g.reg(false)
		rex := rex(s == 8, reg, index, base)
		if g.r.Intn(6) == 0 {
			g.b = append(g.b, 0x67) // 32-bit address
		}
		mod := byte(g.r.Intn(3))
		if base&7 == RBP && mod == 0 {
			mod = 1
		}
		g.b = append(g.b, rex, 0x8d, mod<<6|(reg&7)<<3|4, byte(g.r.Intn(4))<<6|(index&7)<<3|base&7)
		switch mod {
		case 1:
			g.imm(1)
		case 2:
			g.imm(4)
		}
	case 14: // CMOVcc r, r/m
		g.modrmRR([]int{2, 4, 8}[g.r.Intn(3)], []byte{0x0f, 0x40 | byte(g.r.Intn(16))}, reg, rm)
	case 15: // SETcc r/m8
		g.modrmRR(1, []byte{0x0f, 0x90 | byte(g.r.Intn(16))}, 0, rm)
	case 16: // XCHG, BSWAP, CDQE, CQO, CDQ, CWDE
		switch g.r.Intn(4) {
		case 0:
			g.modrmRR(g.size(), []byte{0x87}, reg, rm)
			if g.b[len(g.b)-2] == 0x87 && g.r.Intn(2) == 0 {
				g.b[len(g.b)-2] = 0x86
			}
		case 1:
			g.modrmRR([]int{4, 8}[g.r.Intn(2)], []byte{0x0f}, 0, rm)
			g.b[len(g.b)-1] = 0xc8 + rm&7
		case 2:
			g.b = append(g.b, []byte{0x48, 0x98}[g.r.Intn(2):]...)
		default:
			g.b = append(g.b, []byte{0x48, 0x99}[g.r.Intn(2):]...)
		}
	case 17: // NOP m (copied), an RSP operand (refused), a hint NOP (refused)
		switch g.r.Intn(3) {
		case 0:
			g.b = append(g.b, 0x0f, 0x1f, 0x44, 0x00, 0x00)
		case 1:
			g.modrmRR(8, []byte{0x89}, RSP, reg) // mov reg, rsp
		default:
			g.b = append(g.b, 0x0f, 0x1e, 0xc0|reg&7) // hint NOP, 0F 1E /r
		}
	case 18, 19, 20, 21:
		g.memOp(reg)
	case 22: // a Jcc or JMP inside a block, over a 2-byte ADD or to the next instruction
		skip := byte(2 * g.r.Intn(2))
		g.b = append(g.b, 0x70|byte(g.r.Intn(16)), skip)
		if g.r.Intn(4) == 0 {
			g.b[len(g.b)-2] = 0xeb
		}
		if skip != 0 {
			g.b = append(g.b, 0x01, 0xc0|byte(g.r.Intn(4))<<3|byte(g.r.Intn(4))) // add r32, r32 (eax..ebx)
		}
	case 23: // PUSH r64, POP r64 (50+r, 58+r), with REX.B or REX.W; PUSH RSP (refused)
		op := byte(0x50)
		if g.r.Intn(2) == 0 {
			op = 0x58
		}
		r := g.reg(op == 0x50 && g.r.Intn(8) == 0)
		switch {
		case r >= 8:
			g.b = append(g.b, 0x41)
		case g.r.Intn(4) == 0:
			g.b = append(g.b, 0x48) // REX.W: still 64-bit
		}
		g.b = append(g.b, op|r&7)
	case 24: // ADD or SUB RSP, imm8 or imm32
		v := int32(8 * (g.r.Intn(9) - 4))
		ext := byte(0xc4) // add
		if g.r.Intn(2) == 0 {
			ext = 0xec // sub
		}
		if g.r.Intn(3) == 0 {
			g.b = append(g.b, 0x48, 0x81, ext)
			g.b = binary.LittleEndian.AppendUint32(g.b, uint32(v))
		} else {
			g.b = append(g.b, 0x48, 0x83, ext, byte(int8(v)))
		}
	case 25: // CALL to the next instruction; or a return address pushed and RET to it
		if g.r.Intn(2) == 0 {
			g.b = append(g.b, 0xe8, 0, 0, 0, 0)
			return
		}
		r := g.reg(false)
		push := []byte{0x50 | r&7}
		if r >= 8 {
			push = []byte{0x41, 0x50 | r&7}
		}
		// lea r, [rip+d]: d reaches past the push and the RET.
		g.b = append(g.b, rex(true, r, 0, 0), 0x8d, (r&7)<<3|5)
		g.b = binary.LittleEndian.AppendUint32(g.b, uint32(len(push)+1))
		g.b = append(g.b, push...)
		g.b = append(g.b, 0xc3)
	default: // more of the common ones: ADD/SUB/CMP/XOR r64, r64
		g.modrmRR(8, []byte{[]byte{0x01, 0x29, 0x39, 0x31, 0x89}[g.r.Intn(5)]}, reg, rm)
	}
}

// TestNativeMatchesInterpreter runs random runs of register forms, some
// ending in a Jcc, as blocks and in single steps from the same random
// state, and compares the registers, RIP, RFLAGS and the instruction
// count. Each program is run five times with the tier on: a head is
// marked on one run and translated on the next, so the blocks after the
// first are run as host code on the fourth, which links each block's
// exits to the blocks after them, and the fifth runs them chained in host
// code.
func TestNativeMatchesInterpreter(t *testing.T) {
	requireNativeTier(t)
	r := rand.New(rand.NewSource(1))
	var blocks, jccs, accesses, misses, chained uint64
	for iter := 0; iter < 3000; iter++ {
		g := &regOnlyGen{r: r}
		g.b = append(g.b, 0xeb, 0x00) // jmp to the next instruction: marks the run's head
		split := r.Intn(2) == 0
		for n := 4 + r.Intn(24); n > 0; n-- {
			g.one()
			if split && n == 6 {
				// jmp to the next instruction: the block ends there, and
				// the next one is chained to it.
				g.b = append(g.b, 0xeb, 0x00)
			}
		}
		jcc := r.Intn(2) == 0
		if jcc {
			// jcc +1: taken to the second HLT, not taken to the first.
			g.b = append(g.b, 0x70|byte(r.Intn(16)), 0x01)
			if r.Intn(8) == 0 {
				g.b[len(g.b)-2] = 0xeb // jmp +1
			}
		}
		g.b = append(g.b, 0xf4, 0xf4)
		code := g.b

		var gpr [16]uint64
		for i := range gpr {
			gpr[i] = r.Uint64()
			if r.Intn(4) == 0 {
				gpr[i] = uint64(r.Intn(3)) - 1
			}
		}
		gpr[RSP] = wbStackTop
		flags := uint64(2) | uint64(r.Intn(1<<12))&arithFlags

		// The memory the programs use: the stack, FS:stack, the data
		// page and the one after it, the code page's second half.
		windows := [][2]int{{wbStackTop - 0x400, wbStackTop + 0x400}, {nativeFSBase + wbStackTop - 0x100, nativeFSBase + wbStackTop + 0x100},
			{wbData, wbData + 0x2000}, {wbCode + 0x800, wbCode + 0x900}}
		var mem [][]byte
		for _, w := range windows {
			b := make([]byte, w[1]-w[0])
			r.Read(b)
			mem = append(mem, b)
		}
		// Not SetState, which drops the decoded code (and the blocks).
		start := func(c *CPU) {
			c.gpr = gpr
			c.rip = wbCode
			c.setRflags(flags)
			c.halted = false
			c.seg[FS].Base = nativeFSBase
			c.updateMode()
			for i, w := range windows {
				copy(c.ram[w[0]:w[1]], mem[i])
			}
		}
		// The interpreter: single steps to the HLT.
		ref, ram := newWB(t, code)
		start(ref)
		for i := 0; i < 100 && ram[ref.RIP()] != 0xf4; i++ {
			if ex := ref.Step(); ex.Kind != ExitStep {
				t.Fatalf("step: exit %v at %#x", ex.Kind, ref.RIP())
			}
		}
		want := ref.State()

		c, _ := newWB(t, code)
		if iter%2 == 0 {
			c.native.poison = sdmUndefinedFlags
		}
		var got State
		var instret uint64
		for run := 0; run < 5; run++ {
			start(c)
			if run == 4 && iter%3 == 0 {
				c.flushTLB(true) // accesses in blocks miss, and leave them
			}
			before := c.Instret()
			if ex := c.Run(before + 1000); ex.Kind != ExitHalt {
				t.Fatalf("iter %d run %d: exit %v at %#x (% x)", iter, run, ex.Kind, c.RIP(), code)
			}
			got = c.State()
			got.RIP--                          // after the HLT; the steps stopped at it
			instret = c.Instret() - before - 1 // not the HLT
		}
		accesses += c.native.accesses
		misses += c.native.misses
		chained += c.native.chained
		if c.native.runs > 0 {
			blocks++
			for _, b := range c.native.blocks {
				taken := b.hasJcc
				for _, e := range b.exits {
					taken = taken || e.taken
				}
				if taken && b.code != 0 {
					jccs++
					break
				}
			}
		}
		sameMem := true
		for _, w := range windows {
			if !bytes.Equal(c.ram[w[0]:w[1]], ref.ram[w[0]:w[1]]) {
				sameMem = false
				t.Errorf("iter %d: memory at %#x differs", iter, w[0])
			}
		}
		if got.GPR != want.GPR || got.RIP != want.RIP || got.RFLAGS != want.RFLAGS || instret != ref.Instret() || !sameMem {
			t.Errorf("iter %d: code % x", iter, code)
			for i := range got.GPR {
				if got.GPR[i] != want.GPR[i] {
					t.Errorf("  r%d = %#x, interpreter %#x", i, got.GPR[i], want.GPR[i])
				}
			}
			t.Errorf("  rip %#x / %#x, rflags %#x / %#x (diff %#x), instructions %d / %d",
				got.RIP, want.RIP, got.RFLAGS, want.RFLAGS, got.RFLAGS^want.RFLAGS, instret, ref.Instret())
			if t.Failed() && iter > 20 {
				t.FailNow()
			}
		}
	}
	// The comparison means something only if blocks ran.
	if blocks < 2000 || jccs < 400 || accesses < 2000 || misses < 200 || chained < 1000 {
		t.Errorf("blocks ran in %d of 3000 programs, %d with a branch; %d memory accesses in blocks, %d left a block, %d entered from another: the tier did not run",
			blocks, jccs, accesses, misses, chained)
	}
	t.Logf("blocks ran in %d of 3000 programs, %d with a branch; %d memory accesses in blocks, %d left a block, %d entered from another",
		blocks, jccs, accesses, misses, chained)
}

// sdmUndefinedFlags are the flags the SDM (Vol. 2, each instruction's
// "Flags Affected") leaves undefined after in, written here apart from
// nativeFlagEffect so that a mistake there is not repeated.
func sdmUndefinedFlags(in *inst) uint64 {
	count := func() uint64 {
		if in.args[0].size == 8 {
			return uint64(in.imm) & 63
		}
		return uint64(in.imm) & 31
	}
	switch x86asm.Op(in.op) {
	case x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.TEST:
		return x86.FlagAF
	case x86asm.IMUL:
		return x86.FlagSF | x86.FlagZF | x86.FlagAF | x86.FlagPF
	case x86asm.SHL, x86asm.SHR, x86asm.SAR:
		switch n := count(); {
		case n == 0:
			return 0
		case n == 1:
			return x86.FlagAF
		default:
			return x86.FlagAF | x86.FlagOF
		}
	case x86asm.ROL, x86asm.ROR:
		if count() > 1 {
			return x86.FlagOF
		}
	}
	return 0
}

// TestNativeFlagPlan checks the flag plans of short runs: where a block
// must end, and what it moves in and out.
func TestNativeFlagPlan(t *testing.T) {
	mk := func(op string, args ...int) *inst {
		ops := map[string]x86asm.Op{"add": x86asm.ADD, "imul": x86asm.IMUL, "shr": x86asm.SHR, "and": x86asm.AND,
			"inc": x86asm.INC, "mov": x86asm.MOV, "adc": x86asm.ADC, "jne": x86asm.JNE, "seto": x86asm.SETO}
		in := &inst{op: uint16(ops[op]), nargs: 2}
		switch op {
		case "shr":
			in.args[1].kind = argImm
			in.imm = int64(args[0])
		case "inc", "jne", "seto":
			in.nargs = 1
		}
		in.args[0] = operand{kind: argReg, size: 8}
		if in.args[1].kind == 0 && in.nargs == 2 {
			in.args[1] = operand{kind: argReg, size: 8, reg: 1}
		}
		return in
	}
	type step = *inst
	// want: the plan's length, entry flags, the end's flags out and AF
	// fix, and the exits before memory accesses.
	type want struct {
		n           int
		in, out, af bool
		exits       []nativeExit
	}
	tests := []struct {
		name string
		run  []step
		jcc  step
		want want
	}{
		{"no flags", []step{mk("mov"), mk("mov")}, nil, want{2, false, false, false, nil}},
		{"add writes all", []step{mk("mov"), mk("add")}, nil, want{2, false, true, false, nil}},
		{"adc reads CF first", []step{mk("adc")}, nil, want{1, true, true, false, nil}},
		{"inc keeps CF", []step{mk("inc")}, nil, want{1, true, true, false, nil}},
		{"logic: AF to 0", []step{mk("and")}, nil, want{1, false, true, true, nil}},
		{"add after and: AF defined", []step{mk("and"), mk("add")}, nil, want{2, false, true, false, nil}},
		{"imul at the end is cut", []step{mk("add"), mk("imul")}, nil, want{1, false, true, false, nil}},
		{"imul then add", []step{mk("imul"), mk("add")}, nil, want{2, false, true, false, nil}},
		{"shr 1 defines OF", []step{mk("shr", 1)}, nil, want{1, false, true, true, nil}},
		{"shr 3: OF set as the interpreter sets it", []step{mk("mov"), mk("shr", 3)}, nil, want{2, false, true, true, nil}},
		{"shr 0 changes nothing", []step{mk("shr", 64)}, nil, want{1, false, false, false, nil}},
		{"seto after shr 3 reads the fixed OF", []step{mk("shr", 3), mk("seto"), mk("add")}, nil, want{3, false, true, false, nil}},
		{"seto after imul reads OF, which IMUL defines", []step{mk("imul"), mk("seto"), mk("add")}, nil, want{3, false, true, false, nil}},
		{"jne after imul would read an undefined ZF", []step{mk("imul")}, mk("jne"), want{}},
		{"jne reads ZF from entry", []step{mk("mov")}, mk("jne"), want{1, true, false, false, nil}},
		{"jne after add", []step{mk("add")}, mk("jne"), want{1, false, true, false, nil}},
	}
	for _, tc := range tests {
		got := nativePlanFlags(tc.run, tc.jcc)
		w := tc.want
		bad := got.n != w.n || got.flagsIn != w.in || got.end.flagsOut != w.out || got.end.clearAF != w.af ||
			int(got.end.count) != w.n || len(got.exits) != len(w.exits)
		for i := 0; !bad && i < len(w.exits); i++ {
			bad = got.exits[i] != w.exits[i]
		}
		if bad {
			t.Errorf("%s: %+v, want %+v", tc.name, got, w)
		}
	}
}

// TestNativeRunStopsOnLimit: a block is not entered when it would run
// past the limit, so Run's instruction limit stays exact.
func TestNativeRunStopsOnLimit(t *testing.T) {
	requireNativeTier(t)
	// loop: jmp +0; 8 x add rax, rbx; jmp loop
	code := []byte{0xeb, 0x00}
	for i := 0; i < 8; i++ {
		code = append(code, 0x48, 0x01, 0xd8)
	}
	code = append(code, 0xeb, byte(-(len(code) + 2)))
	c, _ := newWB(t, code)
	c.SetReg(RBX, 3)
	for limit, i := uint64(1), uint64(0); limit < 2000; limit, i = limit+1+i%23, i+1 {
		if ex := c.Run(limit); ex.Kind != ExitLimit || c.Instret() != limit {
			t.Fatalf("Run(%d): exit %v, instret %d", limit, ex.Kind, c.Instret())
		}
	}
	// 10 instructions a round, 8 of them adds.
	n := c.Instret()
	adds := n / 10 * 8
	if r := n % 10; r > 1 {
		adds += min(r-1, 8)
	}
	if c.Reg(RAX) != 3*adds {
		t.Errorf("rax %d after %d instructions, want %d", c.Reg(RAX), n, 3*adds)
	}
	if c.native.runs == 0 {
		t.Error("no block ran")
	}
}

// BenchmarkNativeBlock runs a loop of k register adds between two jumps,
// as blocks and interpreted: the difference per loop at small k is what
// a block's entry and exit cost (nativeMinLen).
func BenchmarkNativeBlock(b *testing.B) {
	for _, k := range []int{4, 5, 6, 8, 26} {
		for _, on := range []bool{true, false} {
			name := fmt.Sprintf("adds=%d/native=%v", k, on)
			b.Run(name, func(b *testing.B) {
				code := []byte{0xeb, 0x00}
				for i := 0; i < k; i++ {
					code = append(code, 0x48, 0x01, 0xd8) // add rax, rbx
				}
				code = append(code, 0xe9)
				code = binary.LittleEndian.AppendUint32(code, uint32(-(len(code) + 4)))
				c, _ := newWB(b, code)
				c.SetNativeTier(on)
				benchLoops(b, c, uint64(k+2))
			})
		}
	}
}

// benchLoops runs c for 65,536 rounds of a loop of loop instructions per
// iteration, and reports the time a round.
func benchLoops(b *testing.B, c *CPU, loop uint64) {
	const loops = 1 << 16
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ex := c.Run(c.Instret() + loops*loop); ex.Kind != ExitLimit {
			b.Fatalf("exit %v", ex.Kind)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/loops, "ns/loop")
}
