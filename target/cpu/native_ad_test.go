package cpu

import "testing"

// TestNativeADBitStaleCopy: the page walk sets A in a PTE that is also code, after the code was
// decoded and before its block is translated: no codeWritten, so the
// decode is stale while nativeEmit copies the new bytes. The host then
// runs A3 <moffs64> (mov [0x48000000000507c0], eax): SIGSEGV, fatal.
func TestNativeADBitStaleCopy(t *testing.T) {
	finalRAX := func(native bool) uint64 {
		driver := []byte{0x8a, 0x04, 0x25, 0x00, 0x10, 0x20, 0x00, 0xf4} // mov al, [0x201000]; hlt
		c, ram := newWB(t, driver)
		c.SetNativeTier(native)
		c.gpr[RBX] = 0x33
		blk := []byte{
			0xeb, 0x00, // 0x5000 (PT1, also code): jmp +0 marks the head
			0x48, 0x01, 0xd8, 0x48, 0x01, 0xd8, // 0x5002: add rax,rbx x2
			0x83, 0xc0, 0x07, 0x05, 0x00, 0x00, 0x00, 0x00, // 0x5008 = PTE of linear 0x201000: add eax,7; add eax,0
			0x48, 0x01, 0xd8, 0x48, 0x01, 0xd8, // add rax,rbx x2
			0xf4,
		}
		copy(ram[0x5000:], blk)
		run := func(rip uint64) {
			c.rip = rip
			c.halted = false
			if ex := c.Run(c.Instret() + 100); ex.Kind != ExitHalt {
				t.Fatalf("exit %v at %#x", ex.Kind, c.rip)
			}
		}
		run(0x5000) // decoded; head marked, seen once
		run(wbCode) // the walk sets A: ram[0x5008] 0x83 -> 0xa3, nothing invalidated
		run(0x5000) // translated now, from the changed bytes
		run(0x5000) // host runs the block
		return c.gpr[RAX]
	}
	// What runs is the decode the interpreter holds (a stale one: the
	// walk's write did not drop it), never the changed bytes.
	if got, want := finalRAX(true), finalRAX(false); got != want {
		t.Errorf("rax %#x with the native tier, %#x without", got, want)
	}
}
