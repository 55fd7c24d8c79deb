package hostdiff

// Tests that need no host processor: the encoder against an independent
// decoder, the comparison's masks, and the faults the host run must avoid
// (checked in the emulator against the SDM).

import (
	"encoding/binary"
	"math"
	"testing"

	"vmapstack/target/x86"

	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/cpu"
)

// testLayout is a region like the one the host test maps.
var testLayout = layout{base: 0x3e000000, low: true,
	fsBase: 0x7f0012345640, gsBase: 0}

// TestEncoderDecodes decodes every generated instruction with x86asm:
// it must be one valid instruction of exactly the encoded length, so the
// generator's encodings mean what its names say to a second decoder.
func TestEncoderDecodes(t *testing.T) {
	g := newGen(*flagSeed, testLayout)
	g.fams = append(append([]family(nil), families...), pendingFamilies...)
	n := *flagCases
	bad := 0
	for i := 0; i < n && bad < 20; i++ {
		c := g.next(i)
		in, err := x86asm.Decode(c.code, 64)
		switch {
		case err != nil:
			t.Errorf("case %d [%s] % x: x86asm: %v", i, c.name, c.code, err)
			bad++
		case in.Len != c.insnLen:
			t.Errorf("case %d [%s] % x: x86asm decodes %d bytes (%s), want %d", i, c.name, c.code, in.Len, x86asm.IntelSyntax(in, 0, nil), c.insnLen)
			bad++
		}
	}
}

// TestEncoderForms pins a few encodings against the SDM tables (values
// as GNU as produces them).
func TestEncoderForms(t *testing.T) {
	tests := []struct {
		name string
		in   insn
		want []byte
	}{
		{"add rax, [r13]", insn{w: true, op: []byte{0x03}, modrm: true, reg: rAX, rm: operand{isMem: true, mem: memOp{base: 13, index: -1, scale: 1}}, opReg: -1},
			[]byte{0x49, 0x03, 0x45, 0x00}}, // r/m 101 with mod 00 would be RIP-relative: disp8 0
		{"mov ah, [rsp+8]", insn{op: []byte{0x8a}, modrm: true, reg: hiByte, regByte: true, rm: operand{isMem: true, mem: memOp{base: rSP, index: -1, scale: 1, disp: 8}}, opReg: -1},
			[]byte{0x8a, 0x64, 0x24, 0x08}},
		{"mov sil, dil", insn{op: []byte{0x88}, modrm: true, reg: rDI, regByte: true, rm: operand{reg: rSI}, rmByte: true, opReg: -1},
			[]byte{0x40, 0x88, 0xfe}},
		{"lea eax, [r12*4+0x10] (a32)", insn{op: []byte{0x8d}, modrm: true, reg: rAX, rm: operand{isMem: true, mem: memOp{base: -1, index: 12, scale: 4, disp: 0x10, a32: true}}, opReg: -1},
			[]byte{0x67, 0x42, 0x8d, 0x04, 0xa5, 0x10, 0x00, 0x00, 0x00}},
		{"bswap r9", insn{w: true, op: []byte{0x0f, 0xc8}, opReg: 9}, []byte{0x49, 0x0f, 0xc9}},
	}
	for _, tt := range tests {
		got, err := tt.in.encode()
		if err != nil || string(got) != string(tt.want) {
			t.Errorf("%s: % x, %v; want % x", tt.name, got, err, tt.want)
		}
	}
	ahREX := insn{op: []byte{0x88}, modrm: true, reg: hiByte, regByte: true, rm: operand{reg: 8}, rmByte: true, opReg: -1}
	if _, err := ahREX.encode(); err == nil {
		t.Error("mov r8b, ah encoded: AH cannot be addressed with a REX prefix")
	}
}

// TestDiffMasks checks that the comparison ignores exactly what a case
// declares undefined.
func TestDiffMasks(t *testing.T) {
	c := &testCase{undefFlags: x86.FlagAF, undefRegs: 1 << rDX, undefMemOff: 16, undefMemLen: 2}
	base := result{data: make([]byte, 64)}
	other := func(f func(r *result)) result {
		r := base
		r.data = append([]byte(nil), base.data...)
		f(&r)
		return r
	}
	tests := []struct {
		name string
		emu  result
		want int
	}{
		{"same", base, 0},
		{"undefined AF", other(func(r *result) { r.flags ^= x86.FlagAF }), 0},
		{"undefined RDX", other(func(r *result) { r.regs[rDX] = 5 }), 0},
		{"undefined memory", other(func(r *result) { r.data[17] = 1 }), 0},
		{"CF", other(func(r *result) { r.flags ^= x86.FlagCF }), 1},
		{"IF", other(func(r *result) { r.flags ^= x86.FlagIF }), 1},
		{"RAX", other(func(r *result) { r.regs[rAX] = 1 }), 1},
		{"memory", other(func(r *result) { r.data[18] = 1 }), 1},
	}
	for _, tt := range tests {
		if d := diff(c, base, tt.emu); len(d) != tt.want {
			t.Errorf("%s: differences %v, want %d", tt.name, d, tt.want)
		}
	}
}

// TestFaultsPerSDM runs, in the emulator only, the inputs the host run
// avoids because they fault, and checks the exception the SDM names.
func TestFaultsPerSDM(t *testing.T) {
	emu, err := newEmulator(testLayout)
	if err != nil {
		t.Fatal(err)
	}
	scratch := testLayout.base + memLo + 0x101 // not 16-byte aligned
	tests := []struct {
		name   string
		code   []byte
		regs   map[int]uint64
		vector uint8
	}{
		// DIV/IDIV: "#DE If the source operand (divisor) is 0. If the
		// quotient is too large for the designated register."
		{"div bl by 0", []byte{0xf6, 0xf3}, map[int]uint64{rAX: 7, rBX: 0x100}, 0},
		{"div bl overflow", []byte{0xf6, 0xf3}, map[int]uint64{rAX: 0x200, rBX: 2}, 0},
		{"div ecx overflow", []byte{0xf7, 0xf1}, map[int]uint64{rDX: 1, rAX: 0, rCX: 1}, 0},
		{"div rcx by 0", []byte{0x48, 0xf7, 0xf1}, map[int]uint64{rAX: 1, rCX: 0}, 0},
		{"idiv rcx: -2^63 / -1", []byte{0x48, 0xf7, 0xf9}, map[int]uint64{rDX: ^uint64(0), rAX: 1 << 63, rCX: ^uint64(0)}, 0},
		{"idiv cx: -2^31 / -1", []byte{0x66, 0xf7, 0xf9}, map[int]uint64{rDX: 0x8000, rAX: 0, rCX: 0xffff}, 0},
		{"idiv bl: 0x7f80 / 1", []byte{0xf6, 0xfb}, map[int]uint64{rAX: 0x80, rBX: 1}, 0}, // +128 does not fit
		// LOCK: "#UD If the LOCK prefix is used but the destination is
		// not a memory operand" / with an instruction not in the list.
		{"lock add eax, ebx", []byte{0xf0, 0x01, 0xd8}, nil, 6},
		{"lock mov [rbx], eax", []byte{0xf0, 0x89, 0x03}, map[int]uint64{rBX: scratch}, 6},
		// CMPXCHG16B: "#GP(0) If memory operand for CMPXCHG16B is not
		// aligned on a 16-byte boundary."
		{"cmpxchg16b misaligned", []byte{0x48, 0x0f, 0xc7, 0x0b}, map[int]uint64{rBX: scratch}, 13},
		// #GP(0) for "exceeding the instruction length limit of 15
		// bytes (this only can occur when redundant prefixes are placed
		// before an instruction)" (SDM Vol. 3A 6.15, Interrupt 13; the
		// limit is in Vol. 2A 2.3.11). The host raises it (SIGSEGV) for
		// this 16-byte LOCK AND, which the generator produced once.
		{"16-byte instruction", []byte{0x67, 0x26, 0xf0, 0x66, 0x48, 0x81, 0xa4, 0xda, 0x93, 0, 0, 0, 0x4a, 0x43, 0x1e, 0x3c},
			map[int]uint64{rDX: scratch, rBX: 0}, 13},
	}
	for _, tt := range tests {
		c := &testCase{code: tt.code, data: make([]byte, dataSize), entry: 0x200}
		c.regs[rSP] = testLayout.base + stackOff
		for r, v := range tt.regs {
			c.regs[r] = v
		}
		_, err := emu.run(c, codePage(c))
		if err == nil {
			t.Errorf("%s: completed, want exception %d", tt.name, tt.vector)
			continue
		}
		ev, ok := emu.firstEvent()
		rip := testLayout.base + uint64(c.entry+insnOff)
		if !ok || ev.Vector != tt.vector || ev.RIP != rip {
			t.Errorf("%s: %v; want vector %d at RIP %#x", tt.name, err, tt.vector, rip)
		}
	}
	// The divisions the generator does keep must not fault.
	for _, v := range []struct {
		signed     bool
		n          int
		hi, lo, d  uint64
		wantFaults bool
	}{
		{false, 8, 0, 0xff, 1, false}, {false, 8, 1, 0, 1, true}, {true, 8, 0xff, 0x80, 1, false},
		{true, 64, ^uint64(0), 1 << 63, ^uint64(0), true}, {true, 64, 0, 5, ^uint64(0), false},
		{false, 64, 5, 0, 6, false}, {false, 64, 6, 0, 6, true}, {false, 32, 0, 1, 0, true},
	} {
		if got := divFaults(v.signed, v.n, v.hi, v.lo, v.d); got != v.wantFaults {
			t.Errorf("divFaults(%v, %d, %#x:%#x / %#x) = %v", v.signed, v.n, v.hi, v.lo, v.d, got)
		}
	}
}

// TestFPDiffMasks checks the FP comparison: it reports every compared
// field, and ignores exactly what a case declares undefined or
// approximate and the contents of empty registers.
func TestFPDiffMasks(t *testing.T) {
	var base fpState
	base.fsw = 3 << 11 // TOP 3
	base.tags = 1<<3 | 1<<4
	base.st[3] = f80FromFloat(1.5)
	base.st[4] = f80FromFloat(-2)
	binary.LittleEndian.PutUint32(base.xmm[2][4:], math.Float32bits(0.25))
	f := &fpCase{undefFSW: x86.FSWC0, ulpST: 1 << 1,
		approx: []approxLane{{reg: 2, lane: 1, ref: 0.25, rel: 1.5 / 4096}}}
	tests := []struct {
		name string
		mod  func(s *fpState)
		want int
	}{
		{"same", func(s *fpState) {}, 0},
		{"XMM5", func(s *fpState) { s.xmm[5][15] = 1 }, 1},
		{"XMM2 lane 0", func(s *fpState) { s.xmm[2][0] = 1 }, 1},
		{"XMM2 lane 1 within the bound", func(s *fpState) {
			binary.LittleEndian.PutUint32(s.xmm[2][4:], math.Float32bits(0.25*(1+1.0/4096)))
		}, 0},
		{"XMM2 lane 1 outside the bound", func(s *fpState) {
			binary.LittleEndian.PutUint32(s.xmm[2][4:], math.Float32bits(0.25*(1+2.0/4096)))
		}, 1},
		{"MXCSR", func(s *fpState) { s.mxcsr ^= x86.MXCSRDAZ }, 1},
		{"FCW", func(s *fpState) { s.fcw ^= 0x400 }, 1},
		{"FSW C0 (undefined)", func(s *fpState) { s.fsw ^= x86.FSWC0 }, 0},
		{"FSW C1", func(s *fpState) { s.fsw ^= x86.FSWC1 }, 1},
		{"FSW PE", func(s *fpState) { s.fsw ^= x86.FSWPE }, 1},
		{"TOP", func(s *fpState) { s.fsw ^= 1 << 11 }, 3}, // FSW, and ST0, ST1 name other registers
		{"tags", func(s *fpState) { s.tags ^= 1 << 7 }, 1},
		{"empty R0", func(s *fpState) { s.st[0][3] = 1 }, 0},
		{"ST0", func(s *fpState) { s.st[3][0] = 1 }, 1},
		{"ST1 one ulp", func(s *fpState) { s.st[4][0] = 1 }, 0},
		{"ST1 two ulps", func(s *fpState) { s.st[4][0] = 2 }, 1},
	}
	for _, tt := range tests {
		emu := base
		tt.mod(&emu)
		if d := fpDiff(f, &base, &emu); len(d) != tt.want {
			t.Errorf("%s: differences %v, want %d", tt.name, d, tt.want)
		}
	}
	// The host itself outside the SDM bound is a generator error.
	nat := base
	binary.LittleEndian.PutUint32(nat.xmm[2][4:], math.Float32bits(0.3))
	if d := fpDiff(f, &nat, &nat); len(d) != 1 {
		t.Errorf("host outside the bound: %v", d)
	}
}

// TestFullTag checks the tag word FXRSTOR reconstructs from the abridged
// one (SDM Vol. 1 10.5.1.1, Table 10-3): 11 empty, 01 zero, 10 special
// (NaN, infinity, denormal, unnormal), 00 valid.
func TestFullTag(t *testing.T) {
	var s fpState
	reg := func(se uint16, m uint64) (r [10]byte) {
		binary.LittleEndian.PutUint64(r[:], m)
		binary.LittleEndian.PutUint16(r[8:], se)
		return r
	}
	s.st[0] = reg(0x3fff, 1<<63)          // 1.0: valid
	s.st[1] = reg(0x8000, 0)              // -0: zero
	s.st[2] = reg(0x0000, 1)              // denormal: special
	s.st[3] = reg(0x7fff, 1<<63)          // infinity: special
	s.st[4] = reg(0xffff, 0xc000<<48)     // QNaN: special
	s.st[5] = reg(0x4000, 0x4000<<48)     // unnormal: special
	s.st[6] = reg(0x3fff, 1<<63)          // valid, but empty
	s.st[7] = reg(0x0000, 0x8000<<48|123) // pseudo-denormal: special
	s.tags = 0xbf
	if got, want := s.fullTag(), uint16(0b10_11_10_10_10_10_01_00); got != want {
		t.Errorf("fullTag = %016b, want %016b", got, want)
	}
	var st cpu.State
	s.toCPU(&st)
	if back := fromCPU(&st); back != s {
		t.Errorf("fromCPU(toCPU(s)) = %+v, want %+v", back, s)
	}
}
