package cpu_test

// x87 behaviour a user-mode host program cannot show (unmasked exceptions
// and #MF, CR0.NE/TS/EM/MP, the pointer registers at known addresses),
// with expected values from the SDM: Vol. 1 ch. 8 (8.1.3 status word,
// 8.1.8 last instruction/data pointers, 8.1.10 environment image, 8.5
// exception conditions, 8.6-8.7 exception synchronisation and #MF) and
// Vol. 3A 2.5 (CR0) and Table 2-2.

import (
	"encoding/binary"
	"strings"
	"testing"

	"vmapstack/target/cpu"
)

// x87 FSW bits (SDM Vol. 1 Figure 8-4).
const (
	swIE = 1 << 0
	swDE = 1 << 1
	swZE = 1 << 2
	swOE = 1 << 3
	swPE = 1 << 5
	swSF = 1 << 6
	swES = 1 << 7
	swC1 = 1 << 9
	swB  = 1 << 15

	cr0MP = 1 << 1
	cr0EM = 1 << 2
	cr0TS = 1 << 3
	vecNM = 7
	vecMF = 16
)

func x87Machine(t *testing.T, src string, data []byte, setup func(s *cpu.State)) *machine {
	t.Helper()
	return newAsm(t, 64, strings.ReplaceAll(src, "; ", "\n"), func(ram []byte, s *cpu.State) {
		copy(ram[dataAddr:], data)
		s.GPR[cpu.RBX] = dataAddr
		if setup != nil {
			setup(s)
		}
	})
}

func st(s cpu.State, i int) [10]byte {
	top := int(s.FSTAT>>11) & 7
	return s.ST[(top+i)&7]
}

func f80bytes(se uint16, m uint64) (b [10]byte) {
	binary.LittleEndian.PutUint64(b[:], m)
	binary.LittleEndian.PutUint16(b[8:], se)
	return b
}

var one80 = f80bytes(0x3fff, 1<<63)

func f32le(bits uint32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, bits)
	return b
}

// An unmasked exception sets ES and B, leaves the destination unchanged,
// and is reported as #MF by the next waiting x87 instruction, not by a
// no-wait one (SDM Vol. 1 8.5.3, 8.6; Vol. 3A 2.5 CR0.NE).
func TestX87UnmaskedZeroDivideRaisesMFAtNextWait(t *testing.T) {
	src := "fninit; fldcw 8(%rbx); fld1; fdivs 0(%rbx); fnstsw %ax; fnstcw 16(%rbx); fwait; nop"
	m := x87Machine(t, src, append(f32le(0), 0, 0, 0, 0, 0x7b, 0x03), nil) // 0.0f; FCW 0x37b: ZE unmasked
	if v := m.runToHandler(); v != vecMF {
		t.Fatalf("vector %d, want #MF (%d)", v, vecMF)
	}
	ev := m.c.Events()
	last := ev[len(ev)-1]
	code := asm1(t, 64, strings.ReplaceAll(src, "; ", "\n"))
	fwait := uint64(codeAddr + len(code) - 2) // fwait (9b) then nop (90)
	if last.RIP != fwait {
		t.Errorf("#MF reported at %#x, want the FWAIT at %#x (a fault on the next waiting instruction)", last.RIP, fwait)
	}
	s := m.c.State()
	ax := uint16(s.GPR[cpu.RAX])
	if want := uint16(swZE | swES | swB | 7<<11); ax != want {
		t.Errorf("FNSTSW AX = %#04x, want %#04x (ZE, ES, B, TOP 7)", ax, want)
	}
	if st(s, 0) != one80 {
		t.Errorf("ST(0) = %x, want 1.0 unchanged (unmasked #Z: no result)", st(s, 0))
	}
}

// With CR0.NE clear the error would go to FERR#/IRQ 13, which this
// machine does not wire: no #MF is raised, the exception stays pending.
func TestX87NEClearNoMF(t *testing.T) {
	m := x87Machine(t, "fninit; fldcw 8(%rbx); fld1; fdivs 0(%rbx); fwait; fld1", append(f32le(0), 0, 0, 0, 0, 0x7b, 0x03), func(s *cpu.State) {
		s.CR0 &^= cr0NE
	})
	s := m.complete()
	if s.FSTAT&(swES|swZE) != swES|swZE {
		t.Errorf("FSW %#04x: want ZE and ES pending", s.FSTAT)
	}
}

// FNCLEX clears the flags and ES, so the next FWAIT runs (SDM Vol. 2
// FCLEX/FNCLEX).
func TestX87FnclexClearsPending(t *testing.T) {
	m := x87Machine(t, "fninit; fldcw 8(%rbx); fld1; fdivs 0(%rbx); fnclex; fwait; fld1", append(f32le(0), 0, 0, 0, 0, 0x7b, 0x03), nil)
	s := m.complete()
	if s.FSTAT&0xff != 0 || s.FSTAT&swB != 0 {
		t.Errorf("FSW %#04x after FNCLEX, want flags, ES and B clear", s.FSTAT)
	}
}

// Unmasking a flag that is already set with FLDCW makes the exception
// pending: the next waiting instruction raises #MF (SDM Vol. 1 8.5, 8.6).
func TestX87FldcwUnmaskingPendingFlag(t *testing.T) {
	m := x87Machine(t, "fninit; fld1; fdivs 0(%rbx); fldcw 8(%rbx); fld1", append(f32le(0), 0, 0, 0, 0, 0x7b, 0x03), nil)
	if v := m.runToHandler(); v != vecMF {
		t.Fatalf("vector %d, want #MF", v)
	}
}

// #NM: CR0.EM or CR0.TS for an x87 instruction; WAIT only with MP and TS
// (SDM Vol. 3A Table 2-2).
func TestX87DeviceNotAvailable(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		cr0  uint64
		nm   bool
	}{
		{"TS fld1", "fld1", cr0TS, true},
		{"EM fld1", "fld1", cr0EM, true},
		{"TS fnstsw", "fnstsw %ax", cr0TS, true},
		{"TS fwait without MP", "fwait", cr0TS, false},
		{"MP TS fwait", "fwait", cr0TS | cr0MP, true},
		{"EM fwait", "fwait", cr0EM, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := x87Machine(t, c.src, nil, func(s *cpu.State) { s.CR0 |= c.cr0 })
			if c.nm {
				if v := m.runToHandler(); v != vecNM {
					t.Fatalf("vector %d, want #NM", v)
				}
				return
			}
			m.complete()
		})
	}
}

// Stack underflow with IE unmasked: IE, SF, C1 = 0, ES; the stack is left
// as it was (SDM Vol. 1 8.5.1.1, 8.5.1.2).
func TestX87UnmaskedStackUnderflow(t *testing.T) {
	m := x87Machine(t, "fninit; fldcw 0(%rbx); fadd %st(0), %st; fnstsw %ax", []byte{0x7e, 0x03}, nil)
	s := m.complete()
	ax := uint16(s.GPR[cpu.RAX])
	if want := uint16(swIE | swSF | swES | swB); ax != want {
		t.Errorf("FSW %#04x, want %#04x", ax, want)
	}
	if s.FTAG != 0xffff {
		t.Errorf("tag word %#04x, want all empty", s.FTAG)
	}
}

// Unmasked overflow to a register: the result is the rounded value with
// its exponent reduced by 24576 (SDM Vol. 1 8.5.4, 4.9.1.4); to memory
// nothing is stored and FSTP does not pop.
func TestX87UnmaskedOverflowBiasAdjust(t *testing.T) {
	data := make([]byte, 32)
	copy(data[0:], []byte{0x77, 0x03}) // OM unmasked
	big := f80bytes(0x7e7f, 1<<63)     // 2^16000
	copy(data[16:], big[:])
	m := x87Machine(t, "fninit; fldcw 0(%rbx); fldt 16(%rbx); fmul %st(0), %st; fnstsw %ax; fnclex; fstps 8(%rbx)", data, nil)
	s := m.complete()
	if got, want := st(s, 0), f80bytes(0x3fff+32000-24576, 1<<63); got != want {
		t.Errorf("ST(0) = %x, want 2^32000 bias-adjusted %x", got, want)
	}
	if ax := uint16(s.GPR[cpu.RAX]); ax&0xff != swOE|swES {
		t.Errorf("FSW %#04x, want OE and ES (exact: no PE)", ax)
	}
	if b := m.ram[dataAddr+8 : dataAddr+12]; string(b) != "\x00\x00\x00\x00" {
		t.Errorf("FSTP m32 with unmasked overflow stored % x, want nothing", b)
	}
	if top := (s.FSTAT >> 11) & 7; top != 7 {
		t.Errorf("TOP %d: FSTP with an unmasked overflow must not pop", top)
	}
}

// FIP/FCS, FDP/FDS and FOP as FNSTENV stores them in the 32-bit format
// (SDM Vol. 1 8.1.8, 8.1.9, Figure 8-9): the last non-control instruction
// and its memory operand; FOP is the low 3 bits of the first opcode byte
// and the ModR/M byte. A register-only instruction leaves FDP alone;
// control instructions (FNSTENV, FLDCW) change none of them.
func TestX87InstructionAndDataPointers(t *testing.T) {
	src := "fninit; fldl 8(%rbx); fldcw 0(%rbx); fnstenv 32(%rbx); fld1; fnstenv 64(%rbx)"
	data := []byte{0x7f, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}
	m := x87Machine(t, src, data, nil)
	m.complete()
	env := func(off uint64, i int) uint32 { return m.r32(dataAddr + off + 4*uint64(i)) }
	fldl := uint32(codeAddr + 2) // after FNINIT (db e3)
	if got := env(32, 3); got != fldl {
		t.Errorf("FIP %#x, want the FLD at %#x", got, fldl)
	}
	if got := env(32, 4); got != 0x0543<<16|selCode64 {
		t.Errorf("FOP:FCS %#x, want FOP 0x543 (dd 43) and CS %#x", got, selCode64)
	}
	if got := env(32, 5); got != dataAddr+8 {
		t.Errorf("FDP %#x, want %#x", got, dataAddr+8)
	}
	if got := env(32, 6) & 0xffff; got != selData {
		t.Errorf("FDS %#x, want %#x", got, selData)
	}
	if got := env(64, 4) >> 16; got != 0x1e8 {
		t.Errorf("FOP after FLD1 %#x, want 0x1e8 (d9 e8)", got)
	}
	if got := env(64, 5); got != dataAddr+8 {
		t.Errorf("FDP after FLD1 %#x, want %#x unchanged", got, dataAddr+8)
	}
	if got := env(32, 0); got != 0xffff037f {
		t.Errorf("FCW dword %#x, want 0xffff037f (reserved bits set)", got)
	}
}

// FNSAVE stores the environment and the registers, then initialises the
// FPU; FRSTOR brings everything back (SDM Vol. 2 FSAVE/FRSTOR). The
// 16-bit form (66h) uses the 14-byte environment (Figure 8-10).
func TestX87SaveRestore(t *testing.T) {
	for _, c := range []struct {
		name string
		pfx  string
		env  int
	}{{"32-bit", "", 28}, {"16-bit", "data16 ", 14}} {
		t.Run(c.name, func(t *testing.T) {
			src := "fninit; fldpi; fld1; fldz; " + c.pfx + "fnsave 0(%rbx); fnstsw 200(%rbx); fnstcw 202(%rbx); " + c.pfx + "frstor 0(%rbx)"
			m := x87Machine(t, src, nil, nil)
			s := m.complete()
			if got := binary.LittleEndian.Uint16(m.ram[dataAddr+200:]); got != 0 {
				t.Errorf("FSW after FNSAVE %#x, want 0 (FNINIT)", got)
			}
			if got := binary.LittleEndian.Uint16(m.ram[dataAddr+202:]); got != 0x37f {
				t.Errorf("FCW after FNSAVE %#x, want 0x37f", got)
			}
			// ST(0)..ST(2) = 0, 1, pi right after the environment
			regs := m.ram[dataAddr+uint64(c.env):]
			if [10]byte(regs[10:20]) != one80 {
				t.Errorf("saved ST(1) % x, want 1.0", regs[10:20])
			}
			// TOP 5: R5 holds zero (tag 01), R6 and R7 valid, the rest empty
			if st(s, 1) != one80 || s.FTAG != 0x07ff {
				t.Errorf("after FRSTOR ST(1) %x, tag %#04x, want 1.0 and 0x07ff", st(s, 1), s.FTAG)
			}
			if top := (s.FSTAT >> 11) & 7; top != 5 {
				t.Errorf("TOP %d after FRSTOR, want 5", top)
			}
		})
	}
}

// FXAM of an empty register: C3 and C0 (SDM Vol. 2 FXAM, Table 3-47).
func TestX87FxamEmpty(t *testing.T) {
	m := x87Machine(t, "fninit; fxam; fnstsw %ax", nil, nil)
	s := m.complete()
	if ax := uint16(s.GPR[cpu.RAX]) & 0x4700; ax != 0x4100 {
		t.Errorf("C3..C0 %#04x, want 0x4100 (empty)", ax)
	}
}

// No guest input panics the emulator: random x87 encodings, register
// and [rbx] memory forms, over random data (so FLDCW, FLDENV and FRSTOR
// load random control words, unmasking exceptions at random) run without
// an internal error. The #MF handler clears the exceptions, the #UD
// handler (an encoding x86asm does not know) skips the two bytes.
func TestX87RandomProgramsNoInternalError(t *testing.T) {
	for run := uint32(1); run <= 3; run++ {
		seed := run
		next := func() byte {
			seed = seed*1103515245 + 12345
			return byte(seed >> 16)
		}
		var code []byte
		for len(code) < 20000 {
			modrm := next()
			if modrm < 0xc0 {
				modrm = modrm&0x38 | 3 // [rbx]
			}
			code = append(code, 0xd8+next()%8, modrm)
		}
		data := make([]byte, 256)
		for i := range data {
			data[i] = next()
		}
		m := newMachine(t, 64, code, func(ram []byte, s *cpu.State) {
			copy(ram[dataAddr:], data)
			s.GPR[cpu.RBX] = dataAddr
			// #UD: skip the two bytes (addq $2, (%rsp); iretq); #MF:
			// fnclex; iretq.
			copy(ram[handlerAddr(6):], []byte{0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf})
			copy(ram[handlerAddr(vecMF):], []byte{0xdb, 0xe2, 0x48, 0xcf})
		})
		m.c.SetBreakpoint(m.end, true)
		e := m.run(200 * runLimit)
		if e.Kind == cpu.ExitInternal {
			t.Fatalf("run %d: internal error: %v", run, e.Err)
		}
		if !m.finished(e) {
			t.Fatalf("run %d: stopped: %s", run, m.describe(e))
		}
		t.Logf("run %d: %d instructions, %d exceptions delivered", run, m.c.Instret(), m.c.EventCount())
	}
}
