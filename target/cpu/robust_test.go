package cpu

import (
	"math/rand"
	"strings"
	"testing"
	"vmapstack/internal/testtool"
)

// TestRandomCodeNeverPanics runs random bytes as 64-bit code: whatever
// the guest executes, the emulator must end in an architectural outcome
// (a fault, a triple fault, a halt, the limit), never an internal error.
func TestRandomCodeNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	n := 1000
	if testtool.Short() {
		n = 200
	}
	kinds := map[ExitKind]int{}
	for i := 0; i < n; i++ {
		code := make([]byte, 64)
		rng.Read(code)
		c, _ := newWB(t, code)
		for r := 0; r < 16; r++ {
			if r != RSP {
				c.SetReg(r, wbData+uint64(rng.Intn(0x1000)))
			}
		}
		ex := c.Run(500)
		kinds[ex.Kind]++
		if ex.Kind == ExitInternal {
			t.Fatalf("seed case %d: code % x: %v", i, code, ex.Err)
		}
	}
	if kinds[ExitTripleFault] == 0 {
		t.Fatalf("no random program faulted (no IDT): %v", kinds)
	}
}

// TestRandomCodeWithHandlersNeverPanics lets every exception handler jump
// back into the random code, so execution goes on through many faults,
// in 64-bit and in 32-bit compatibility mode, and at CPL 3.
func TestRandomCodeWithHandlersNeverPanics(t *testing.T) {
	unimpl := map[string]int{} // instructions the model has and we do not: reported, not failed
	defer func() {
		if len(unimpl) > 0 {
			t.Logf("stopped at unimplemented instructions: %v", unimpl)
		}
	}()
	rng := rand.New(rand.NewSource(2))
	n := 400
	if testtool.Short() {
		n = 100
	}
	for i := 0; i < n; i++ {
		code := make([]byte, 256)
		rng.Read(code)
		c, ram := newWB(t, code)
		withIDT(c, ram)
		for v := uint64(0); v < 256; v++ {
			// mov $0x100000+v,%eax; jmp *%rax
			h := 0x9000 + 16*v
			copy(ram[h:], []byte{0xb8, byte(v), 0, 0x10, 0, 0xff, 0xe0})
		}
		// A TSS for CPL changes, a 32-bit code segment and user segments.
		le64(ram, wbGDT+24, 0x00cf9b000000ffff) // 0x18: 32-bit code
		le64(ram, wbGDT+32, 0x00affb000000ffff) // 0x20: 64-bit user code
		le64(ram, wbGDT+40, 0x00cff3000000ffff) // 0x28: user data
		le64(ram, 0x8000+4, 0x70000)            // TSS.RSP0
		le64(ram, wbGDT+48, 0x0000890080000067) // 0x30: TSS at 0x8000
		s := c.State()
		s.GDTR.Limit = 0x3f
		s.TR = Seg{Sel: 0x30, Base: 0x8000, Limit: 0x67, Attr: 0x8b}
		switch i % 3 {
		case 1:
			s.Seg[CS] = Seg{Sel: 0x18, Limit: 0xffffffff, Attr: 0xc09b}
		case 2:
			s.Seg[CS] = Seg{Sel: 0x23, Limit: 0xffffffff, Attr: 0xa0fb}
			s.Seg[SS] = Seg{Sel: 0x2b, Limit: 0xffffffff, Attr: 0xc0f3}
		}
		for r := 0; r < 16; r++ {
			if r != RSP {
				s.GPR[r] = wbData + uint64(rng.Intn(0x1000))
			}
		}
		s.RFLAGS = 2 | uint64(rng.Intn(2))<<10 // DF sometimes
		c.SetState(&s)
		ex := c.Run(3000)
		// Stopping at an instruction the model has and we do not
		// implement is the specified outcome; anything else internal
		// is a bug.
		if ex.Kind == ExitInternal && !strings.Contains(ex.Err.Error(), ": unimplemented instruction ") {
			t.Fatalf("case %d: code % x: %v", i, code, ex.Err)
		}
		if ex.Kind == ExitInternal {
			unimpl[strings.SplitN(ex.Err.Error(), "(", 2)[1]]++
		}
	}
}
