package cpu

import (
	"encoding/binary"
	"fmt"
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
	c := nativeSideCompare(t, code, 3000, 200, 13)
	if c.gpr[RSP] != wbStackTop || c.rip != wbCode+uint64(len(loop)) {
		t.Errorf("rsp %#x rip %#x at the end", c.gpr[RSP], c.rip)
	}
	if c.native.runs < 1000 {
		t.Errorf("%d block runs", c.native.runs)
	}
}

// TestNativeChainedStackFaults: a loop of two chained blocks, a PUSH in
// the first and the POP in the second, faults on the stack (#PF: the
// stack page unmapped; #SS: RSP not canonical) as the interpreter does:
// the same registers, RIP, RFLAGS, CR2, instruction count, exit and
// events. (From an independent review.)
func TestNativeChainedStackFaults(t *testing.T) {
	requireNativeTier(t)
	code := []byte{
		0xeb, 0x00, // jmp +0
		0x53,             // L: push rbx
		0x48, 0x01, 0xd8, // add rax, rbx
		0x48, 0x01, 0xc2, // add rdx, rax
		0xeb, 0x00, // jmp M
		0x5b,             // M: pop rbx
		0x48, 0x01, 0xd6, // add rsi, rdx
		0x48, 0xff, 0xc9, // dec rcx
		0x75, 0xf0, // jne L
		0xf4,
	}
	run := func(native bool, spoil func(c *CPU, ram []byte)) (State, uint64, []Event, ExitKind, *CPU) {
		c, ram := newWB(t, code)
		c.SetNativeTier(native)
		c.gpr[RBX], c.gpr[RCX] = 3, 1000
		for i := 0; i < 40; i++ {
			c.Run(c.Instret() + uint64(1+i%11))
		}
		spoil(c, ram)
		ex := c.Run(c.Instret() + 1000)
		ev := c.Events()
		for i := range ev {
			ev[i].Seq = 0
		}
		return c.State(), c.Instret(), ev, ex.Kind, c
	}
	cases := map[string]func(c *CPU, ram []byte){
		"#PF": func(c *CPU, ram []byte) {
			le64(ram, wbPT+8*((c.gpr[RSP]-8)>>12), 0)
			c.flushTLB(true)
		},
		"#SS": func(c *CPU, ram []byte) { c.gpr[RSP] = 0x0000_8000_0000_0000 },
	}
	for name, spoil := range cases {
		s, n, ev, kind, c := run(true, spoil)
		ws, wn, wev, wkind, _ := run(false, spoil)
		if s.GPR != ws.GPR || s.RIP != ws.RIP || s.RFLAGS != ws.RFLAGS || s.CR2 != ws.CR2 || n != wn || kind != wkind {
			t.Errorf("%s: blocks rip %#x rsp %#x instret %d exit %v; interpreter rip %#x rsp %#x instret %d exit %v",
				name, s.RIP, s.GPR[RSP], n, kind, ws.RIP, ws.GPR[RSP], wn, wkind)
		}
		if fmt.Sprint(ev) != fmt.Sprint(wev) || len(ev) == 0 {
			t.Errorf("%s: events %+v, interpreter %+v", name, ev, wev)
		}
		if c.native.chained == 0 {
			t.Errorf("%s: no block was entered from another", name)
		}
	}
}
