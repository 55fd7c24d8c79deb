package cpu

import (
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/target/x86"
)

// TestRandomSSECodeNeverPanics runs random two-byte-opcode instructions
// (0F xx with the 66/F2/F3 prefixes, REX, random ModRM, SIB and
// immediates) on XMM and MMX registers full of special values, under
// random MXCSR settings with some exceptions unmasked: every outcome
// must be architectural, never an internal error.
func TestRandomSSECodeNeverPanics(t *testing.T) {
	unimpl := map[string]int{} // instructions the model has and we do not: reported, not failed
	defer func() {
		if len(unimpl) > 0 {
			t.Logf("stopped at unimplemented instructions: %v", unimpl)
		}
	}()
	rng := rand.New(rand.NewSource(3))
	n := 300
	if testtool.Short() {
		n = 60
	}
	specials := []uint64{0, 1, 0x8000000000000000, 0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001,
		0x000fffffffffffff, 0x7fefffffffffffff, 0x3ff0000000000000, 0x7f800001ff800000, 0x007fffff00000001,
		0x7f7fffff80800000, 0xffffffffffffffff, 0x43e0000000000000, 0xc3e0000000000001}
	for i := 0; i < n; i++ {
		var code []byte
		for len(code) < 200 {
			switch rng.Intn(4) {
			case 1:
				code = append(code, 0x66)
			case 2:
				code = append(code, 0xf2)
			case 3:
				code = append(code, 0xf3)
			}
			if rng.Intn(3) == 0 {
				code = append(code, 0x40|byte(rng.Intn(16)))
			}
			code = append(code, 0x0f, byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)))
		}
		c, ram := newWB(t, code)
		withIDT(c, ram)
		for v := uint64(0); v < 256; v++ {
			// mov $0x100000+v,%eax; jmp *%rax: back into the code
			h := 0x9000 + 16*v
			copy(ram[h:], []byte{0xb8, byte(v), 0, 0x10, 0, 0xff, 0xe0})
		}
		s := c.State()
		s.CR4 |= x86.CR4OSFXSR
		if rng.Intn(4) != 0 {
			s.CR4 |= x86.CR4OSXMMEXCPT
		}
		for r := 0; r < 16; r++ {
			if r != RSP {
				s.GPR[r] = wbData + uint64(rng.Intn(0x1000))
			}
			binary.LittleEndian.PutUint64(s.XMM[r][0:], specials[rng.Intn(len(specials))])
			binary.LittleEndian.PutUint64(s.XMM[r][8:], specials[rng.Intn(len(specials))])
		}
		for r := 0; r < 8; r++ {
			binary.LittleEndian.PutUint64(s.ST[r][:8], specials[rng.Intn(len(specials))])
		}
		s.MXCSR = uint32(rng.Intn(0x10000)) | 0x1f80&uint32(rng.Intn(0x10000))
		c.SetState(&s)
		ex := c.Run(2000)
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
