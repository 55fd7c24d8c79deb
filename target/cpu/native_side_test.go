// Regression tests from an independent review of the native tier's
// side exits (a0cc9ec).

package cpu

import (
	"testing"
)

func nativeSideRun(t *testing.T, code []byte, native bool, rcx uint64, limits []uint64) (*CPU, []uint64) {
	c, _ := newWB(t, code)
	c.SetNativeTier(native)
	c.gpr[RBX] = 3
	c.gpr[RCX] = rcx
	var trace []uint64
	for _, l := range limits {
		c.Run(c.Instret() + l)
		trace = append(trace, c.rip, c.gpr[RAX], c.gpr[RCX], c.Instret(), c.rflags())
	}
	return c, trace
}

// nativeSideCompare runs code with and without blocks, RCX set to rcx,
// stopping n times after 1 to mod instructions and then at the end, and
// requires the same RIP, RAX, RCX, instruction count and RFLAGS at each
// stop; it returns the CPU that ran blocks.
func nativeSideCompare(t *testing.T, code []byte, rcx uint64, n, mod int) *CPU {
	t.Helper()
	var limits []uint64
	for i := 0; i < n; i++ {
		limits = append(limits, uint64(1+i%mod))
	}
	limits = append(limits, 100000)
	c, got := nativeSideRun(t, code, true, rcx, limits)
	_, want := nativeSideRun(t, code, false, rcx, limits)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("stop %d: rip rax rcx instret rflags %#x, interpreter %#x", i/5, got[i-i%5:i-i%5+5], want[i-i%5:i-i%5+5])
		}
	}
	return c
}

// A loop whose back edge is a side exit (backward, off < 0), the block re-entered from its cached slot.
func TestNativeBackwardSideExit(t *testing.T) {
	code := []byte{0xeb, 0x00,
		0x48, 0x01, 0xd8, // L: add rax, rbx
		0x48, 0x01, 0xc2, // add rdx, rax
		0x48, 0xff, 0xc9, // dec rcx
		0x75, 0xf5, // jne L
		0x48, 0x01, 0xd6, // add rsi, rdx
		0x48, 0x89, 0xf7, // mov rdi, rsi
		0xf4}
	c := nativeSideCompare(t, code, 2000, 300, 7)
	t.Logf("runs %d (and %d from another block) instrs %d made %d", c.native.runs, c.native.chained, c.native.instrs, c.native.made)
	if c.native.runs+c.native.chained < 100 {
		t.Errorf("few block runs")
	}
}

// inc (keeps CF); jne taken (side exit with CF from entry); later a full writer.
func TestNativePartialFlagsAtSideExit(t *testing.T) {
	code := []byte{0xeb, 0x00,
		0x48, 0xff, 0xc0, // inc rax
		0x75, 0x06, // jne +6 (to the hlt)
		0x48, 0x01, 0xdb, // add rbx, rbx
		0x48, 0x01, 0xd2, // add rdx, rdx
		0xf4}
	for _, cf := range []uint64{0, 1} {
		var res [2]uint64
		for k, native := range []bool{false, true} {
			c, _ := newWB(t, code)
			c.SetNativeTier(native)
			for run := 0; run < 4; run++ {
				c.rip = wbCode
				c.halted = false
				c.gpr[RAX] = 5
				if run == 0 {
					c.gpr[RAX] = ^uint64(0) // not taken: decode the path after the jne
				}
				c.setRflags(2 | cf)
				c.Run(c.Instret() + 100)
			}
			res[k] = c.rflags()
		}
		if res[0] != res[1] {
			t.Errorf("entry CF %d: rflags native %#x, interpreter %#x", cf, res[1], res[0])
		}
	}
}
