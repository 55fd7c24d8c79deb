package cpu

import (
	"encoding/binary"
	"testing"
)

// TestNativeRetNonCanonical: a RET in a block whose popped address is not
// canonical leaves the block before the RET, and the interpreter raises
// the #GP with RSP and RIP at the RET, as it does without blocks.
func TestNativeRetNonCanonical(t *testing.T) {
	requireNativeTier(t)
	code := []byte{
		0xeb, 0x00, // jmp +0
		0x53,             // push rbx
		0x48, 0x01, 0xc9, // add rcx, rcx
		0x48, 0x01, 0xc9, // add rcx, rcx
		0xc3, // ret: to rbx
		0xf4, // hlt
	}
	run := func(native bool) (Exit, State, *CPU) {
		c, _ := newWB(t, code)
		c.SetNativeTier(native)
		var ex Exit
		// The head is marked on the first run and translated on the
		// second, which return to the HLT; the third returns to a
		// non-canonical address.
		for i, to := range []uint64{wbCode + 10, wbCode + 10, 0x0000_8000_0000_0000} {
			c.rip, c.gpr[RSP], c.gpr[RBX], c.halted = wbCode, wbStackTop, to, false
			ex = c.Run(c.Instret() + 100)
			if i < 2 && ex.Kind != ExitHalt {
				t.Fatalf("run %d: exit %v at %#x", i, ex.Kind, c.rip)
			}
		}
		return ex, c.State(), c
	}
	ex, got, c := run(true)
	wex, want, _ := run(false)
	if ex.Kind != wex.Kind || got.RIP != want.RIP || got.GPR != want.GPR {
		t.Fatalf("blocks: exit %v rip %#x rsp %#x; interpreter: exit %v rip %#x rsp %#x",
			ex.Kind, got.RIP, got.GPR[RSP], wex.Kind, want.RIP, want.GPR[RSP])
	}
	if c.native.misses == 0 || c.native.runs == 0 {
		t.Errorf("the block did not run or did not leave before the RET: runs %d, misses %d", c.native.runs, c.native.misses)
	}
}

// TestNativeCallReturnLoop runs a loop that calls a function in the same
// page and one in the next, each pushing and popping, under limits that
// stop it anywhere; the state after each stop is the interpreter's.
func TestNativeCallReturnLoop(t *testing.T) {
	requireNativeTier(t)
	code := make([]byte, 0x1100)
	for i := range code {
		code[i] = 0xf4
	}
	loop := []byte{
		0xeb, 0x00, // jmp +0
		0x53,             // L: push rbx
		0x48, 0x01, 0xd8, // add rax, rbx
		0x5b,             // pop rbx
		0xe8, 0, 0, 0, 0, // call f (same page)
		0x48, 0x83, 0xec, 0x10, // sub rsp, 16
		0xe8, 0, 0, 0, 0, // call g (next page)
		0x48, 0x83, 0xc4, 0x10, // add rsp, 16
		0x48, 0xff, 0xc9, // dec rcx
		0x75, 0, // jne L
		0xf4,
	}
	copy(code, loop)
	code[len(loop)-2] = byte(2 - (len(loop) - 1))
	f := 0x80
	binary.LittleEndian.PutUint32(code[8:], uint32(f-12))
	g := 0x1040
	binary.LittleEndian.PutUint32(code[17:], uint32(g-21))
	fn := []byte{
		0x41, 0x54, // push r12
		0x49, 0x89, 0xc4, // mov r12, rax
		0x49, 0x01, 0xd4, // add r12, rdx
		0x4c, 0x89, 0xe2, // mov rdx, r12
		0x41, 0x5c, // pop r12
		0xc3, // ret
	}
	copy(code[f:], fn)
	copy(code[g:], fn)
	var limits []uint64
	for i := 0; i < 200; i++ {
		limits = append(limits, uint64(1+i%13))
	}
	limits = append(limits, 100000)
	c, got := nativeSideRun(t, code, true, 3000, limits)
	_, want := nativeSideRun(t, code, false, 3000, limits)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("stop %d: rip rax rcx instret rflags %#x, interpreter %#x", i/5, got[i-i%5:i-i%5+5], want[i-i%5:i-i%5+5])
		}
	}
	if c.gpr[RSP] != wbStackTop || c.rip != wbCode+uint64(len(loop)) {
		t.Errorf("rsp %#x rip %#x at the end", c.gpr[RSP], c.rip)
	}
	if c.native.runs < 1000 {
		t.Errorf("%d block runs", c.native.runs)
	}
}
