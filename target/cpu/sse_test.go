package cpu_test

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"vmapstack/target/cpu"
)

const (
	sseCr4OSFXSR     = 1 << 9
	sseCr4OSXMMEXCPT = 1 << 10
	sseCr0EM         = 1 << 2
	sseCr0TS         = 1 << 3

	sseVecUD = 6
	sseVecNM = 7
	sseVecGP = 13
	sseVecMF = 16
	sseVecXM = 19
)

// sseRow is one natively recorded case (sse_native_table_test.go).
type sseRow struct {
	asm    string
	mx     uint32
	in     [4]uint64 // XMM0 lo, hi, XMM1 lo, hi
	mm     [2]uint64 // MM0, MM1
	rax    uint64
	out    [4]uint64
	mmOut  [2]uint64
	raxOut uint64
	mxOut  uint32
	flags  uint64 // CF PF AF ZF SF OF after (checked for COMIS/UCOMIS)
}

func putXMM(s *cpu.State, r int, lo, hi uint64) {
	binary.LittleEndian.PutUint64(s.XMM[r][0:], lo)
	binary.LittleEndian.PutUint64(s.XMM[r][8:], hi)
}

func getXMM(s *cpu.State, r int) (lo, hi uint64) {
	return binary.LittleEndian.Uint64(s.XMM[r][0:]), binary.LittleEndian.Uint64(s.XMM[r][8:])
}

// putMM writes MMX register r as an MMX instruction would (the exponent
// bits of the physical register all ones); TOP is 0.
func putMM(s *cpu.State, r int, v uint64) {
	binary.LittleEndian.PutUint64(s.ST[r][:8], v)
	s.ST[r][8], s.ST[r][9] = 0xff, 0xff
}

func getMM(s *cpu.State, r int) uint64 { return binary.LittleEndian.Uint64(s.ST[r][:8]) }

// sseSetup enables SSE (CR4.OSFXSR, OSXMMEXCPT) for a snippet.
func sseSetup(f func(ram []byte, s *cpu.State)) func(ram []byte, s *cpu.State) {
	return func(ram []byte, s *cpu.State) {
		s.CR4 |= sseCr4OSFXSR | sseCr4OSXMMEXCPT
		if f != nil {
			f(ram, s)
		}
	}
}

// approxOK checks an RCP/RSQRT result against the exact one: relative
// error at most 1.5*2^-12 (SDM Vol. 2 RCPPS), or the same special value.
func approxOK(got, want uint32) bool {
	if got == want {
		return true
	}
	g, w := float64(math.Float32frombits(got)), float64(math.Float32frombits(want))
	if math.IsNaN(w) || math.IsInf(w, 0) || w == 0 {
		return false
	}
	return math.Abs(g-w)/math.Abs(w) <= 1.5*0x1p-12*2 // both sides approximate
}

func TestSSENativeTable(t *testing.T) {
	srcs := make([]string, len(sseNativeRows))
	for i, r := range sseNativeRows {
		srcs[i] = r.asm
	}
	codes := assemble(t, 64, srcs...)
	for i, r := range sseNativeRows {
		m := newMachine(t, 64, codes[i], sseSetup(func(ram []byte, s *cpu.State) {
			putXMM(s, 0, r.in[0], r.in[1])
			putXMM(s, 1, r.in[2], r.in[3])
			putMM(s, 0, r.mm[0])
			putMM(s, 1, r.mm[1])
			s.GPR[cpu.RAX] = r.rax
			s.MXCSR = r.mx
		}))
		st := m.complete()
		x0lo, x0hi := getXMM(&st, 0)
		x1lo, x1hi := getXMM(&st, 1)
		got := [4]uint64{x0lo, x0hi, x1lo, x1hi}
		gotMM := [2]uint64{getMM(&st, 0), getMM(&st, 1)}
		name := r.asm
		if strings.HasPrefix(name, "rcp") || strings.HasPrefix(name, "rsqrt") {
			for k := 0; k < 2; k++ {
				for sh := 0; sh < 64; sh += 32 {
					g, w := uint32(got[k]>>sh), uint32(r.out[k]>>sh)
					if !approxOK(g, w) {
						t.Errorf("%s (in %#x): XMM0 dword %d = %#x, host %#x", name, r.in, 2*k+sh/32, g, w)
					}
				}
			}
			got[0], got[1] = r.out[0], r.out[1]
		}
		if got != r.out {
			t.Errorf("%s mxcsr %#x in %#x: XMM0,XMM1 = %#x, host %#x", name, r.mx, r.in, got, r.out)
		}
		if gotMM != r.mmOut {
			t.Errorf("%s in %#x mm %#x: MM0,MM1 = %#x, host %#x", name, r.in, r.mm, gotMM, r.mmOut)
		}
		if st.GPR[cpu.RAX] != r.raxOut {
			t.Errorf("%s in %#x: RAX = %#x, host %#x", name, r.in, st.GPR[cpu.RAX], r.raxOut)
		}
		if st.MXCSR != r.mxOut {
			t.Errorf("%s mxcsr %#x in %#x: MXCSR = %#x, host %#x", name, r.mx, r.in, st.MXCSR, r.mxOut)
		}
		if strings.Contains(name, "comis") && st.RFLAGS&statusMask != r.flags {
			t.Errorf("%s in %#x: flags = %s, host %s", name, r.in, flagString(st.RFLAGS&statusMask), flagString(r.flags))
		}
		if strings.Contains(name, "mm") {
			// an MMX instruction: TOP 0, all tags valid
			if st.FSTAT>>11&7 != 0 || st.FTAG != 0 {
				t.Errorf("%s: FSW %#x FTW %#x after an MMX instruction", name, st.FSTAT, st.FTAG)
			}
		}
	}
}

// sseFault is a snippet expected to raise an exception (vector) before
// anything changes, or to complete (vector -1) with check passing.
type sseFault struct {
	name   string
	asm    string
	setup  func(ram []byte, s *cpu.State)
	vector int
	check  func(t *testing.T, st *cpu.State, ram []byte)
}

func runSSEFaults(t *testing.T, cases []sseFault) {
	t.Helper()
	srcs := make([]string, len(cases))
	for i, c := range cases {
		srcs[i] = c.asm
	}
	codes := assemble(t, 64, srcs...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMachine(t, 64, codes[i], c.setup)
			var st cpu.State
			if c.vector >= 0 {
				if v := m.runToHandler(); v != c.vector {
					t.Fatalf("vector %d, want %d", v, c.vector)
				}
				st = m.c.State()
				// nothing but the delivery changed: the registers
				// the snippet works on are as before
				if st.XMM != m.init.XMM || st.ST != m.init.ST {
					t.Errorf("XMM/ST changed by a faulting instruction")
				}
			} else {
				st = m.complete()
			}
			if c.check != nil {
				c.check(t, &st, m.ram)
			}
		})
	}
}

func wantXMM(r int, lo, hi uint64) func(t *testing.T, st *cpu.State, ram []byte) {
	return func(t *testing.T, st *cpu.State, ram []byte) {
		t.Helper()
		if gl, gh := getXMM(st, r); gl != lo || gh != hi {
			t.Errorf("XMM%d = %#x %#x, want %#x %#x", r, gl, gh, lo, hi)
		}
	}
}

func wantMXCSR(v uint32) func(t *testing.T, st *cpu.State, ram []byte) {
	return func(t *testing.T, st *cpu.State, ram []byte) {
		t.Helper()
		if st.MXCSR != v {
			t.Errorf("MXCSR = %#x, want %#x", st.MXCSR, v)
		}
	}
}

func all(fs ...func(t *testing.T, st *cpu.State, ram []byte)) func(t *testing.T, st *cpu.State, ram []byte) {
	return func(t *testing.T, st *cpu.State, ram []byte) {
		t.Helper()
		for _, f := range fs {
			f(t, st, ram)
		}
	}
}

func wantMem(addr uint64, b []byte) func(t *testing.T, st *cpu.State, ram []byte) {
	return func(t *testing.T, st *cpu.State, ram []byte) {
		t.Helper()
		if got := ram[addr : addr+uint64(len(b))]; string(got) != string(b) {
			t.Errorf("memory at %#x = % x, want % x", addr, got, b)
		}
	}
}

// pattern is 32 bytes 0x10, 0x11... at dataAddr.
func withPattern(f func(ram []byte, s *cpu.State)) func(ram []byte, s *cpu.State) {
	return sseSetup(func(ram []byte, s *cpu.State) {
		for i := 0; i < 32; i++ {
			ram[dataAddr+i] = byte(0x10 + i)
		}
		s.GPR[cpu.RAX] = dataAddr
		putXMM(s, 0, 0x0706050403020100, 0x0f0e0d0c0b0a0908)
		putXMM(s, 1, 0xa0a1a2a3a4a5a6a7, 0xb0b1b2b3b4b5b6b7)
		if f != nil {
			f(ram, s)
		}
	})
}

const (
	pat0 = 0x1716151413121110
	pat1 = 0x1f1e1d1c1b1a1918
	pat2 = 0x2726252423222120
)

func TestSSEMemoryForms(t *testing.T) {
	misalign := func(ram []byte, s *cpu.State) { s.GPR[cpu.RAX] = dataAddr + 8 }
	runSSEFaults(t, []sseFault{
		{name: "movaps load", asm: "movaps (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, pat0, pat1)},
		{name: "movaps misaligned", asm: "movaps (%rax),%xmm0", setup: withPattern(misalign), vector: sseVecGP},
		{name: "movdqa store misaligned", asm: "movdqa %xmm1,(%rax)", setup: withPattern(misalign), vector: sseVecGP,
			check: wantMem(dataAddr+8, []byte{0x18, 0x19})},
		{name: "movups misaligned", asm: "movups (%rax),%xmm0", setup: withPattern(misalign), vector: -1, check: wantXMM(0, pat1, pat2)},
		{name: "movdqu store misaligned", asm: "movdqu %xmm1,(%rax)", setup: withPattern(misalign), vector: -1,
			check: wantMem(dataAddr+8, []byte{0xa7, 0xa6, 0xa5, 0xa4, 0xa3, 0xa2, 0xa1, 0xa0, 0xb7, 0xb6, 0xb5, 0xb4, 0xb3, 0xb2, 0xb1, 0xb0, 0x28})},
		{name: "lddqu misaligned", asm: "lddqu 1(%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x1817161514131211, 0x201f1e1d1c1b1a19)},
		{name: "paddb m128 misaligned", asm: "paddb 4(%rax),%xmm0", setup: withPattern(nil), vector: sseVecGP},
		{name: "addps m128 misaligned", asm: "addps 4(%rax),%xmm0", setup: withPattern(nil), vector: sseVecGP},
		{name: "addss m32 misaligned", asm: "addss 1(%rax),%xmm0", setup: withPattern(nil), vector: -1},
		{name: "movss load zeroes", asm: "movss (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x13121110, 0)},
		{name: "movsd load zeroes", asm: "movsd (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, pat0, 0)},
		{name: "movss reg merges", asm: "movss %xmm1,%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x07060504a4a5a6a7, 0x0f0e0d0c0b0a0908)},
		{name: "movss store", asm: "movss %xmm1,(%rax)", setup: withPattern(nil), vector: -1, check: wantMem(dataAddr, []byte{0xa7, 0xa6, 0xa5, 0xa4, 0x14})},
		{name: "movlps load", asm: "movlps (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, pat0, 0x0f0e0d0c0b0a0908)},
		{name: "movhpd load", asm: "movhpd (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x0706050403020100, pat0)},
		{name: "movhps store", asm: "movhps %xmm1,(%rax)", setup: withPattern(nil), vector: -1,
			check: wantMem(dataAddr, []byte{0xb7, 0xb6, 0xb5, 0xb4, 0xb3, 0xb2, 0xb1, 0xb0, 0x18})},
		{name: "movq store", asm: "movq %xmm1,(%rax)", setup: withPattern(nil), vector: -1,
			check: wantMem(dataAddr, []byte{0xa7, 0xa6, 0xa5, 0xa4, 0xa3, 0xa2, 0xa1, 0xa0, 0x18})},
		{name: "movq load zeroes", asm: "movq (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, pat0, 0)},
		{name: "movd load zeroes", asm: "movd (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x13121110, 0)},
		{name: "movd store", asm: "movd %xmm1,4(%rax)", setup: withPattern(nil), vector: -1,
			check: wantMem(dataAddr, []byte{0x10, 0x11, 0x12, 0x13, 0xa7, 0xa6, 0xa5, 0xa4, 0x18})},
		{name: "movddup m64", asm: "movddup 1(%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x1817161514131211, 0x1817161514131211)},
		{name: "movshdup m128", asm: "movshdup (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x1716151417161514, 0x1f1e1d1c1f1e1d1c)},
		{name: "pinsrw m16", asm: "pinsrw $7,1(%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x0706050403020100, 0x12110d0c0b0a0908)},
		{name: "punpcklbw m128", asm: "punpcklbw (%rax),%xmm0", setup: withPattern(nil), vector: -1, check: wantXMM(0, 0x1303120211011000, 0x1707160615051404)},
		{name: "cvtsi2sdl m32", asm: "cvtsi2sdl (%rax),%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			copy(ram[dataAddr:], []byte{0xfe, 0xff, 0xff, 0xff}) // -2
		}), vector: -1, check: wantXMM(0, 0xc000000000000000, 0x0f0e0d0c0b0a0908)},
		{name: "movnti", asm: "movnti %ecx,2(%rax)", setup: withPattern(func(ram []byte, s *cpu.State) { s.GPR[cpu.RCX] = 0xdeadbeef }), vector: -1,
			check: wantMem(dataAddr, []byte{0x10, 0x11, 0xef, 0xbe, 0xad, 0xde, 0x16})},
		{name: "movntdq misaligned", asm: "movntdq %xmm0,8(%rax)", setup: withPattern(nil), vector: sseVecGP},
		{name: "maskmovdqu", asm: "maskmovdqu %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			s.GPR[cpu.RDI] = dataAddr + 1
			putXMM(s, 1, 0x8000000000000080, 0x0000000000ff0000) // bytes 0, 7 and 10
		}), vector: -1,
			check: wantMem(dataAddr, []byte{0x10, 0x00, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x07, 0x19, 0x1a, 0x0a, 0x1c})},
		{name: "maskmovq", asm: "maskmovq %mm1,%mm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			s.GPR[cpu.RDI] = dataAddr
			putMM(s, 0, 0x1122334455667788)
			putMM(s, 1, 0x80000000000000ff)
		}), vector: -1,
			check: wantMem(dataAddr, []byte{0x88, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x11, 0x18})},
		{name: "punpckldq m32 mmx", asm: "punpckldq 4(%rax),%mm0", setup: withPattern(func(ram []byte, s *cpu.State) { putMM(s, 0, 0x1122334455667788) }), vector: -1,
			check: func(t *testing.T, st *cpu.State, ram []byte) {
				if v := getMM(st, 0); v != 0x1716151455667788 {
					t.Errorf("MM0 = %#x", v)
				}
			}},
		{name: "cvtps2pd m64", asm: "cvtps2pd (%rax),%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			binary.LittleEndian.PutUint64(ram[dataAddr:], 0x40000000bf800000) // -1.0, 2.0
		}), vector: -1, check: wantXMM(0, 0xbff0000000000000, 0x4000000000000000)},
	})
}

func TestSSEExceptionConditions(t *testing.T) {
	cr := func(cr0set, cr4clear uint64) func(ram []byte, s *cpu.State) {
		return withPattern(func(ram []byte, s *cpu.State) {
			s.CR0 |= cr0set
			s.CR4 &^= cr4clear
		})
	}
	pending := withPattern(func(ram []byte, s *cpu.State) {
		s.FCTRL = 0x37e // IM unmasked
		s.FSTAT = 0x81  // IE, ES: an x87 exception waits
	})
	one := func(ram []byte, s *cpu.State) {
		putXMM(s, 0, 0x3ff0000000000000, 0)
		putXMM(s, 1, 0x3c30000000000000, 0) // 2^-60: 1+2^-60 is inexact
	}
	runSSEFaults(t, []sseFault{
		// SDM Vol. 3A 13.1, Vol. 2 ch. 2.5 exception classes
		{name: "no OSFXSR: SSE #UD", asm: "addps %xmm1,%xmm0", setup: cr(0, sseCr4OSFXSR), vector: sseVecUD},
		{name: "no OSFXSR: movd #UD", asm: "movd %eax,%xmm0", setup: cr(0, sseCr4OSFXSR), vector: sseVecUD},
		{name: "no OSFXSR: ldmxcsr #UD", asm: "ldmxcsr (%rax)", setup: cr(0, sseCr4OSFXSR), vector: sseVecUD},
		{name: "no OSFXSR: MMX runs", asm: "paddb %mm1,%mm0", setup: cr(0, sseCr4OSFXSR), vector: -1},
		{name: "EM: SSE #UD", asm: "pxor %xmm1,%xmm0", setup: cr(sseCr0EM, 0), vector: sseVecUD},
		{name: "EM: MMX #UD", asm: "pxor %mm1,%mm0", setup: cr(sseCr0EM, 0), vector: sseVecUD},
		{name: "EM: EMMS #UD", asm: "emms", setup: cr(sseCr0EM, 0), vector: sseVecUD},
		{name: "EM: FXSAVE #NM", asm: "fxsave64 (%rax)", setup: cr(sseCr0EM, 0), vector: sseVecNM},
		{name: "TS: SSE #NM", asm: "movdqa %xmm1,%xmm0", setup: cr(sseCr0TS, 0), vector: sseVecNM},
		{name: "TS: MMX #NM", asm: "movq %mm1,%mm0", setup: cr(sseCr0TS, 0), vector: sseVecNM},
		{name: "TS: FXRSTOR #NM", asm: "fxrstor64 (%rax)", setup: cr(sseCr0TS, 0), vector: sseVecNM},
		{name: "TS: STMXCSR #NM", asm: "stmxcsr (%rax)", setup: cr(sseCr0TS, 0), vector: sseVecNM},
		{name: "TS: MOVNTI runs", asm: "movnti %ecx,(%rax)", setup: cr(sseCr0TS, 0), vector: -1},
		{name: "pending x87: MMX #MF", asm: "paddb %mm1,%mm0", setup: pending, vector: sseVecMF},
		{name: "pending x87: EMMS #MF", asm: "emms", setup: pending, vector: sseVecMF},
		{name: "pending x87: CVTPI2PS #MF", asm: "cvtpi2ps %mm1,%xmm0", setup: pending, vector: sseVecMF},
		{name: "pending x87: SSE runs", asm: "paddb %xmm1,%xmm0", setup: pending, vector: -1},
		// with an m64 source, CVTPI2PS/PD neither check for a pending x87
		// exception nor enter MMX state (as the host does)
		{name: "pending x87: CVTPI2PS m64 runs", asm: "cvtpi2ps (%rax),%xmm0", setup: pending, vector: -1,
			check: func(t *testing.T, st *cpu.State, ram []byte) {
				if st.FSTAT != 0x81 || st.FTAG != 0 {
					t.Errorf("FSW %#x FTW %#x", st.FSTAT, st.FTAG)
				}
			}},
		{name: "CVTPI2PD m64: no MMX transition", asm: "cvtpi2pd (%rax),%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			s.FSTAT = 7 << 11
			s.FTAG = 0x3fff
		}), vector: -1, check: func(t *testing.T, st *cpu.State, ram []byte) {
			if st.FSTAT != 7<<11 || st.FTAG != 0x3fff {
				t.Errorf("FSW %#x FTW %#x", st.FSTAT, st.FTAG)
			}
		}},
		{name: "CVTPI2PS mm: MMX transition", asm: "cvtpi2ps %mm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			s.FSTAT = 7 << 11
			s.FTAG = 0x3fff
		}), vector: -1, check: func(t *testing.T, st *cpu.State, ram []byte) {
			if st.FSTAT != 0 || st.FTAG != 0 {
				t.Errorf("FSW %#x FTW %#x", st.FSTAT, st.FTAG)
			}
		}},
		// unmasked SIMD floating-point exceptions (SDM Vol. 1 11.5.3):
		// the destination is unchanged, the flags are set
		{name: "ZE unmasked #XM", asm: "divsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 0, 0x3ff0000000000000, 7)
			putXMM(s, 1, 0, 0)
			s.MXCSR = 0x1d80
		}), vector: sseVecXM, check: wantMXCSR(0x1d84)},
		{name: "ZE unmasked without OSXMMEXCPT #UD", asm: "divsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 0, 0x3ff0000000000000, 7)
			putXMM(s, 1, 0, 0)
			s.MXCSR = 0x1d80
			s.CR4 &^= sseCr4OSXMMEXCPT
		}), vector: sseVecUD, check: wantMXCSR(0x1d84)},
		{name: "PE unmasked #XM", asm: "addsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			one(ram, s)
			s.MXCSR = 0x0f80
		}), vector: sseVecXM, check: wantMXCSR(0x0fa0)},
		{name: "PE masked", asm: "addsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			one(ram, s)
		}), vector: -1, check: all(wantMXCSR(0x1fa0), wantXMM(0, 0x3ff0000000000000, 0))},
		{name: "RC up", asm: "addsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			one(ram, s)
			s.MXCSR = 0x5f80
		}), vector: -1, check: all(wantMXCSR(0x5fa0), wantXMM(0, 0x3ff0000000000001, 0))},
		{name: "ZE unmasked, IE masked: pre-computation flags only", asm: "divpd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 0, 0x3ff0000000000000, 0)
			putXMM(s, 1, 0, 0)
			s.MXCSR = 0x1d80
		}), vector: sseVecXM, check: wantMXCSR(0x1d85)},
		{name: "UE unmasked, exact tiny", asm: "mulsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 0, 0x0010000000000000, 0)
			putXMM(s, 1, 0x3fe0000000000000, 0)
			s.MXCSR = 0x1780
		}), vector: sseVecXM, check: wantMXCSR(0x1790)},
		{name: "OE unmasked, inexact", asm: "mulsd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 0, 0x7fe0000000000001, 0)
			putXMM(s, 1, 0x4000000000000001, 0)
			s.MXCSR = 0x1b80
		}), vector: sseVecXM, check: wantMXCSR(0x1ba8)},
		{name: "IE unmasked COMISD: flags unchanged", asm: "comisd %xmm1,%xmm0", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 1, 0x7ff8000000000000, 0)
			s.MXCSR = 0x1f00
		}), vector: sseVecXM, check: wantMXCSR(0x1f01)},
		{name: "IE unmasked CVTSD2SI: RAX unchanged", asm: "cvtsd2si %xmm1,%rax", setup: withPattern(func(ram []byte, s *cpu.State) {
			putXMM(s, 1, 0x7ff8000000000000, 0)
			s.MXCSR = 0x1f00
		}), vector: sseVecXM, check: func(t *testing.T, st *cpu.State, ram []byte) {
			if st.GPR[cpu.RAX] != dataAddr || st.MXCSR != 0x1f01 {
				t.Errorf("RAX %#x MXCSR %#x", st.GPR[cpu.RAX], st.MXCSR)
			}
		}},
		{name: "LDMXCSR reserved bit #GP", asm: "ldmxcsr (%rax)", setup: withPattern(func(ram []byte, s *cpu.State) {
			binary.LittleEndian.PutUint32(ram[dataAddr:], 0x11f80)
		}), vector: sseVecGP, check: wantMXCSR(0x1f80)},
		{name: "LDMXCSR all defined bits", asm: "ldmxcsr (%rax)", setup: withPattern(func(ram []byte, s *cpu.State) {
			binary.LittleEndian.PutUint32(ram[dataAddr:], 0xffff)
		}), vector: -1, check: wantMXCSR(0xffff)},
		{name: "STMXCSR", asm: "stmxcsr 4(%rax)", setup: withPattern(func(ram []byte, s *cpu.State) { s.MXCSR = 0x7fa5 }), vector: -1,
			check: wantMem(dataAddr, []byte{0x10, 0x11, 0x12, 0x13, 0xa5, 0x7f, 0, 0, 0x18})},
		// MMX state (SDM Vol. 1 9.5.1): a write sets bits 64-79 of the
		// physical register, TOP 0, tags valid; EMMS empties the tags
		{name: "MMX write", asm: "movd %ecx,%mm3", setup: withPattern(func(ram []byte, s *cpu.State) {
			s.FSTAT = 5 << 11
			s.FTAG = 0xffff
			s.GPR[cpu.RCX] = 0x12345678
		}), vector: -1, check: func(t *testing.T, st *cpu.State, ram []byte) {
			if st.ST[3] != [10]byte{0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0xff, 0xff} || st.FSTAT != 0 || st.FTAG != 0 {
				t.Errorf("R3 % x FSW %#x FTW %#x", st.ST[3], st.FSTAT, st.FTAG)
			}
		}},
		{name: "EMMS", asm: "emms", setup: withPattern(func(ram []byte, s *cpu.State) { s.FSTAT = 3 << 11 }), vector: -1,
			check: func(t *testing.T, st *cpu.State, ram []byte) {
				if st.FTAG != 0xffff || st.FSTAT != 3<<11 {
					t.Errorf("FSW %#x FTW %#x", st.FSTAT, st.FTAG)
				}
			}},
	})
}

// fxState is an x87/SSE state with TOP 6: R6 = 1.0 (valid), R7 = +0
// (zero), the other registers empty.
func fxState(ram []byte, s *cpu.State) {
	s.FCTRL = 0x27f
	s.FSTAT = 6<<11 | 0x20
	s.FTAG = 0x4fff
	s.ST[6] = [10]byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}
	s.ST[0] = [10]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	s.FOP = 0x5d9
	s.FIOFF, s.FISEG = 0x401000, 0x33
	s.FOOFF, s.FOSEG = 0x7000, 0x2b
	s.MXCSR = 0x9fe1
	putXMM(s, 3, 0x0123456789abcdef, 0xfedcba9876543210)
	putXMM(s, 15, 0x1111111111111111, 0x2222222222222222)
}

func TestSSEFXSAVE(t *testing.T) {
	le := binary.LittleEndian
	header := func(w64 bool) []byte {
		b := make([]byte, 32)
		le.PutUint16(b[0:], 0x27f)
		le.PutUint16(b[2:], 6<<11|0x20)
		b[4] = 0xc0 // R6 and R7 not empty
		le.PutUint16(b[6:], 0x5d9)
		if w64 {
			le.PutUint64(b[8:], 0x401000)
			le.PutUint64(b[16:], 0x7000)
		} else {
			le.PutUint32(b[8:], 0x401000)
			le.PutUint16(b[12:], 0x33)
			le.PutUint32(b[16:], 0x7000)
			le.PutUint16(b[20:], 0x2b)
		}
		le.PutUint32(b[24:], 0x9fe1)
		le.PutUint32(b[28:], 0xffff) // MXCSR_MASK, as QEMU
		return b
	}
	stAt := func(i int) []byte { // the FXSAVE slot of ST(i) = R((6+i)&7)
		b := make([]byte, 16)
		switch (6 + i) & 7 {
		case 6:
			copy(b, []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
		case 0:
			copy(b, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
		}
		return b
	}
	checkImage := func(w64 bool) func(t *testing.T, st *cpu.State, ram []byte) {
		return func(t *testing.T, st *cpu.State, ram []byte) {
			img := ram[dataAddr : dataAddr+512]
			if h := header(w64); string(img[:32]) != string(h) {
				t.Errorf("header % x\nwant   % x", img[:32], h)
			}
			for i := 0; i < 8; i++ {
				if got, want := img[32+16*i:48+16*i], stAt(i); string(got) != string(want) {
					t.Errorf("ST(%d) slot % x, want % x", i, got, want)
				}
			}
			if le.Uint64(img[160+48:]) != 0x0123456789abcdef || le.Uint64(img[160+56:]) != 0xfedcba9876543210 ||
				le.Uint64(img[160+240:]) != 0x1111111111111111 {
				t.Errorf("XMM area % x", img[160:416])
			}
			for i := 416; i < 512; i++ {
				if img[i] != 0xee {
					t.Fatalf("reserved byte %d written: %#x", i, img[i])
				}
			}
		}
	}
	fill := func(f func(ram []byte, s *cpu.State)) func(ram []byte, s *cpu.State) {
		return withPattern(func(ram []byte, s *cpu.State) {
			for i := 0; i < 512; i++ {
				ram[dataAddr+i] = 0xee
			}
			fxState(ram, s)
			if f != nil {
				f(ram, s)
			}
		})
	}
	// an image to restore: the saved one of fxState, R0 tagged too
	image := func(ram []byte, s *cpu.State) {
		img := ram[dataAddr : dataAddr+512]
		copy(img, header(true))
		img[4] = 0xc1
		for i := 0; i < 8; i++ {
			copy(img[32+16*i:], stAt(i))
		}
		le.PutUint64(img[160+48:], 0x0123456789abcdef)
		le.PutUint64(img[160+56:], 0xfedcba9876543210)
		le.PutUint64(img[160+240:], 0x1111111111111111)
		le.PutUint64(img[160+248:], 0x2222222222222222)
		// the registers start elsewhere
		s.FCTRL, s.FSTAT, s.FTAG, s.MXCSR = 0x37f, 0, 0xffff, 0x1f80
		s.XMM = [16][16]byte{}
		s.ST = [8][10]byte{}
	}
	checkRestored := func(t *testing.T, st *cpu.State, ram []byte) {
		if st.FCTRL != 0x27f || st.FSTAT != 6<<11|0x20 || st.FOP != 0x5d9 || st.FIOFF != 0x401000 || st.FOOFF != 0x7000 || st.MXCSR != 0x9fe1 {
			t.Errorf("FCW %#x FSW %#x FOP %#x FIP %#x FDP %#x MXCSR %#x", st.FCTRL, st.FSTAT, st.FOP, st.FIOFF, st.FOOFF, st.MXCSR)
		}
		// R0 holds an unnormal (integer bit clear): special; R6 valid;
		// R7 zero; the rest empty (SDM Vol. 1 Table 10-2 note)
		if st.FTAG != 0x4ffe {
			t.Errorf("FTW %#x, want 0x4ffe", st.FTAG)
		}
		if st.ST[6] != [10]byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f} || st.ST[0] != [10]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} {
			t.Errorf("R6 % x R0 % x", st.ST[6], st.ST[0])
		}
		if lo, hi := getXMM(st, 15); lo != 0x1111111111111111 || hi != 0x2222222222222222 {
			t.Errorf("XMM15 %#x %#x", lo, hi)
		}
	}
	runSSEFaults(t, []sseFault{
		{name: "fxsave64", asm: "fxsave64 (%rax)", setup: fill(nil), vector: -1, check: checkImage(true)},
		{name: "fxsave", asm: "fxsave (%rax)", setup: fill(nil), vector: -1, check: checkImage(false)},
		{name: "fxsave misaligned", asm: "fxsave 8(%rax)", setup: fill(nil), vector: sseVecGP,
			check: wantMem(dataAddr, []byte{0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee})},
		{name: "fxrstor64", asm: "fxrstor64 (%rax)", setup: withPattern(image), vector: -1, check: checkRestored},
		{name: "fxrstor reserved MXCSR #GP", asm: "fxrstor64 (%rax)", setup: withPattern(func(ram []byte, s *cpu.State) {
			image(ram, s)
			le.PutUint32(ram[dataAddr+24:], 0x10000)
		}), vector: sseVecGP, check: wantMXCSR(0x1f80)},
		{name: "fxsave then fxrstor", asm: "fxsave64 (%rax); movq $0, %rcx; ldmxcsr 512(%rax); pxor %xmm15,%xmm15; fxrstor64 (%rax)",
			setup: fill(func(ram []byte, s *cpu.State) {
				le.PutUint32(ram[dataAddr+512:], 0x1f80)
			}), vector: -1, check: all(wantMXCSR(0x9fe1), wantXMM(15, 0x1111111111111111, 0x2222222222222222))},
	})
}

// TestSSEFXSAVE32 runs FXSAVE/FXRSTOR in 32-bit protected mode: eight
// XMM registers, FCS and FDS in the image.
func TestSSEFXSAVE32(t *testing.T) {
	le := binary.LittleEndian
	code := asm1(t, 32, "fxsave (%eax)\nmovl $0x1f80, 512(%eax)\nldmxcsr 512(%eax)\nfxrstor (%eax)")
	m := newMachine(t, 32, code, sseSetup(func(ram []byte, s *cpu.State) {
		for i := 0; i < 512; i++ {
			ram[dataAddr+i] = 0xee
		}
		fxState(ram, s)
		putXMM(s, 7, 0x7777, 0x8888)
		s.GPR[cpu.RAX] = dataAddr
	}))
	st := m.complete()
	img := m.ram[dataAddr : dataAddr+512]
	if le.Uint16(img[12:]) != 0x33 || le.Uint16(img[20:]) != 0x2b || le.Uint32(img[8:]) != 0x401000 {
		t.Errorf("FCS/FIP/FDS % x", img[8:24])
	}
	if le.Uint64(img[160+112:]) != 0x7777 || img[160+128] != 0xee {
		t.Errorf("XMM7 slot % x, XMM8 slot starts %#x (must be untouched)", img[160+112:160+128], img[160+128])
	}
	if st.MXCSR != 0x9fe1 || st.FISEG != 0x33 || st.FOSEG != 0x2b || st.FTAG != 0x4fff {
		t.Errorf("after FXRSTOR: MXCSR %#x FCS %#x FDS %#x FTW %#x", st.MXCSR, st.FISEG, st.FOSEG, st.FTAG)
	}
}
