// From an independent review: nativeFixOF against the interpreter for
// every shift and rotate by an immediate above 1, both sizes, every
// register but RSP, with and without the undefined-flag poison.

package cpu

import (
	"math/rand"
	"testing"
)

// Every shift/rotate by imm, 32/64 bits, counts 2..w-1, every register but RSP:
// native block result (regs, flags) == interpreter.
func TestNativeFixOFExhaustive(t *testing.T) {
	requireNativeTier(t)
	r := rand.New(rand.NewSource(7))
	nat, _ := newWB(t, nil)
	ref, _ := newWB(t, nil)
	ref.SetNativeTier(false)
	bad := 0
	progs := 0
	for _, ext := range []uint8{0, 1, 4, 5, 7} {
		for _, size := range []int{4, 8} {
			w := 8 * size
			for reg := uint8(0); reg < 16; reg++ {
				if reg == RSP {
					continue
				}
				for n := 2; n < w; n++ {
					code := []byte{0xeb, 0x00, 0x0f, 0x1f, 0x44, 0x00, 0x00}
					rx := rex(size == 8, 0, 0, reg)
					if rx != 0x40 {
						code = append(code, rx)
					}
					code = append(code, 0xc1, 0xc0|ext<<3|reg&7, byte(n))
					code = append(code, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xf4)
					var gpr [16]uint64
					for i := range gpr {
						gpr[i] = r.Uint64()
					}
					gpr[RSP] = wbStackTop
					flags := uint64(2) | uint64(r.Intn(1<<12))&arithFlags
					start := func(c *CPU) {
						copy(c.ram[wbCode:], code)
						c.gpr = gpr
						c.rip = wbCode
						c.setRflags(flags)
						c.halted = false
					}
					ref.invalidateCode()
					start(ref)
					ref.Run(ref.Instret() + 100)
					nat.invalidateCode()
					if progs%2 == 0 {
						nat.native.poison = sdmUndefinedFlags
					} else {
						nat.native.poison = nil
					}
					runs0 := nat.native.runs
					for run := 0; run < 3; run++ {
						start(nat)
						nat.Run(nat.Instret() + 100)
					}
					progs++
					if nat.native.runs == runs0 {
						t.Fatalf("no block ran: ext %d size %d reg %d n %d", ext, size, reg, n)
					}
					if nat.gpr != ref.gpr || nat.rflags() != ref.rflags() || nat.rip != ref.rip {
						bad++
						if bad < 10 {
							t.Errorf("ext %d size %d reg %d n %d: rflags %#x / %#x regs eq %v", ext, size, reg, n, nat.rflags(), ref.rflags(), nat.gpr == ref.gpr)
						}
					}
				}
			}
		}
	}
	t.Logf("%d programs, %d bad", progs, bad)
}
