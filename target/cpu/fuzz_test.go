package cpu

import (
	"strings"
	"testing"

	"vmapstack/target/x86"
)

// Guest modes FuzzGuestCode runs its input in: the first input byte picks
// one, the rest is the code.
const (
	fuzzLong64   = iota // 64-bit kernel mode, paging on, an IDT whose handlers jump back into the code
	fuzzLongUser        // the same at CPL 3
	fuzzCompat          // 32-bit compatibility mode under long mode
	fuzzProt32          // 32-bit protected mode, paging off: the PVH entry's mode
	fuzzModes
)

// FuzzGuestCode executes arbitrary bytes as guest code (issue 6, item 4b):
// whatever the guest runs, the emulator must end in an architectural
// outcome (an exception delivered, a triple fault, a halt, the instruction
// limit) or a named stop for something it does not emulate; a Go panic
// inside the CPU, which Run turns into an "internal error" exit, is a bug.
//
//	go test -run '^$' -fuzz FuzzGuestCode -fuzztime 5m ./target/cpu
func FuzzGuestCode(f *testing.F) {
	seeds := [][]byte{
		{fuzzLong64, 0x48, 0xf7, 0xf1},                      // div %rcx (maybe #DE)
		{fuzzLong64, 0xf3, 0x48, 0xab, 0xeb, 0xfc},          // rep stos, loop
		{fuzzLongUser, 0x0f, 0x01, 0x15, 0, 0, 0, 0},        // lgdt at CPL 3: #GP
		{fuzzCompat, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},    // nopw in compatibility mode
		{fuzzProt32, 0x0f, 0x22, 0xc0, 0xea, 0, 0, 0, 0},    // mov %eax,%cr0; ljmp
		{fuzzProt32, 0xcd, 0x80, 0xcf},                      // int $0x80 without an IDT
		{fuzzLong64, 0x0f, 0x0b},                            // ud2
		{fuzzLong64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0x80}, // load from a non-canonical-ish address
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 || len(in) > 4096 {
			return
		}
		c := fuzzCPU(t, int(in[0])%fuzzModes, in[1:])
		ex := c.Run(2000)
		if ex.Kind == ExitInternal && (ex.Err == nil || strings.Contains(ex.Err.Error(), "internal error")) {
			t.Fatalf("mode %d, code % x: %v", in[0]%fuzzModes, in[1:], ex.Err)
		}
		// Step through a few more: the debugger's path must hold too.
		for i := 0; i < 8 && ex.Kind != ExitTripleFault && ex.Kind != ExitInternal; i++ {
			ex = c.Step()
			if ex.Kind == ExitInternal && (ex.Err == nil || strings.Contains(ex.Err.Error(), "internal error")) {
				t.Fatalf("step: mode %d, code % x: %v", in[0]%fuzzModes, in[1:], ex.Err)
			}
		}
	})
}

// fuzzCPU builds a CPU in the given mode with code at wbCode, an IDT whose
// handlers jump back to the code (so execution goes on through faults),
// a TSS for privilege changes, and registers pointing at data.
func fuzzCPU(t testing.TB, mode int, code []byte) *CPU {
	c, ram := newWB(t, code)
	withIDT(c, ram)
	for v := uint64(0); v < 256; v++ {
		// mov $wbCode+v,%eax; jmp *%rax
		copy(ram[0x9000+16*v:], []byte{0xb8, byte(v), 0, 0x10, 0, 0xff, 0xe0})
	}
	le64(ram, wbGDT+24, 0x00cf9b000000ffff) // 0x18: 32-bit code
	le64(ram, wbGDT+32, 0x00affb000000ffff) // 0x20: 64-bit user code
	le64(ram, wbGDT+40, 0x00cff3000000ffff) // 0x28: user data
	le64(ram, 0x8000+4, 0x70000)            // TSS.RSP0
	le64(ram, wbGDT+48, 0x0000890080000067) // 0x30: TSS at 0x8000
	s := c.State()
	s.GDTR.Limit = 0x3f
	s.TR = Seg{Sel: 0x30, Base: 0x8000, Limit: 0x67, Attr: 0x8b}
	for r := 0; r < 16; r++ {
		if r != RSP {
			s.GPR[r] = wbData + uint64(r)*0x40
		}
	}
	switch mode {
	case fuzzLongUser:
		s.Seg[CS] = Seg{Sel: 0x23, Limit: 0xffffffff, Attr: 0xa0fb}
		s.Seg[SS] = Seg{Sel: 0x2b, Limit: 0xffffffff, Attr: 0xc0f3}
	case fuzzCompat:
		s.Seg[CS] = Seg{Sel: 0x18, Limit: 0xffffffff, Attr: 0xc09b}
	case fuzzProt32:
		// As the PVH entry leaves it (SDM 9.9: paging off, CR0.PE only).
		s.CR0, s.CR4, s.EFER, s.CR3 = x86.CR0PE|x86.CR0ET, 0, 0, 0
		s.Seg[CS] = Seg{Sel: 0x18, Limit: 0xffffffff, Attr: 0xc09b}
		s.IDTR = DTR{} // no IDT yet: a fault triple-faults, as in early boot
	}
	c.SetState(&s)
	return c
}
