package cpu_test

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"vmapstack/target/cpu"
)

// Vectors (SDM Vol. 3A Table 6-1).
const (
	vDE = 0
	vBP = 3
	vUD = 6
	vDF = 8
	vNP = 11
	vGP = 13
	vPF = 14

	userStackTop = 0x70000
	testPage     = 0x300000 // a 4K page tests unmap or protect
	otherPage    = 0x301000
	fixHandler   = 0xc000 // room for handlers written by a test
)

// frame is an expected 64-bit mode interrupt frame (SDM Vol. 3A 6.14.2,
// Figure 6-9).
type frame struct {
	err    int64 // -1: no error code
	rip    uint64
	cs, ss uint16
	rsp    uint64
}

// checkFrame64 checks the frame at rsp and that it ends at a 16-byte
// boundary: "the processor aligns the new RSP on a 16-byte boundary"
// before pushing (6.14.2).
func checkFrame64(t *testing.T, m *machine, rsp uint64, f frame) {
	t.Helper()
	off := rsp
	if f.err >= 0 {
		if got := m.r64(off); got != uint64(f.err) {
			t.Errorf("frame error code = %#x, want %#x", got, f.err)
		}
		off += 8
	}
	if got := m.r64(off); got != f.rip {
		t.Errorf("frame RIP = %#x, want %#x", got, f.rip)
	}
	if got := m.r64(off + 8); got != uint64(f.cs) {
		t.Errorf("frame CS = %#x, want %#x", got, f.cs)
	}
	if got := m.r64(off + 16); got&fixed1 == 0 {
		t.Errorf("frame RFLAGS = %#x: bit 1 clear", got)
	}
	if got := m.r64(off + 24); got != f.rsp {
		t.Errorf("frame RSP = %#x, want %#x", got, f.rsp)
	}
	if got := m.r64(off + 32); got != uint64(f.ss) {
		t.Errorf("frame SS = %#x, want %#x", got, f.ss)
	}
	if end := off + 40; end%16 != 0 {
		t.Errorf("frame ends at %#x: not 16-byte aligned", end)
	}
}

func userMode(s *cpu.State) {
	s.Seg[cpu.CS] = cpu.Seg{Sel: selUCode64, Limit: 0xffffffff, Attr: 0xa0fb}
	for _, i := range []int{cpu.SS, cpu.DS, cpu.ES} {
		s.Seg[i] = cpu.Seg{Sel: selUData, Limit: 0xffffffff, Attr: 0xc0f3}
	}
	s.GPR[cpu.RSP] = userStackTop
}

func gateNotPresent(ram []byte, v int)     { ram[idtAddr+16*uint64(v)+5] &^= 0x80 }
func setPTE(ram []byte, linear, v uint64)  { le64(ram, pteAddr(linear), v) }
func pte(ram []byte, linear uint64) uint64 { return binary.LittleEndian.Uint64(ram[pteAddr(linear):]) }

// events returns the history, failing when it is empty.
func events(t *testing.T, m *machine) []cpu.Event {
	t.Helper()
	ev := m.c.Events()
	if len(ev) == 0 {
		t.Fatalf("no events recorded")
	}
	return ev
}

func TestExceptionFrame(t *testing.T) {
	// #UD at CPL 0 with RSP not 16-byte aligned: the frame is pushed below
	// the aligned RSP and records the unaligned one; #UD is a fault (RIP
	// of UD2) with no error code; IF is cleared through an interrupt gate
	// (6.12.1.3); CR2 is left alone.
	m := newAsm(t, 64, "nop\nud2", func(ram []byte, s *cpu.State) {
		s.GPR[cpu.RSP] = stackTop - 8
		s.GPR[cpu.RAX] = 0xfeed
		s.RFLAGS |= fIF | fCF
		s.CR2 = 0xdead000
	})
	if v := m.runToHandler(); v != vUD {
		t.Fatalf("vector %d, want #UD", v)
	}
	st := m.c.State()
	wantRSP := uint64(stackTop - 16 - 40)
	if st.GPR[cpu.RSP] != wantRSP {
		t.Errorf("handler RSP = %#x, want %#x", st.GPR[cpu.RSP], wantRSP)
	}
	checkFrame64(t, m, st.GPR[cpu.RSP], frame{err: -1, rip: codeAddr + 1, cs: selCode64, ss: selData, rsp: stackTop - 8})
	if fl := m.r64(st.GPR[cpu.RSP] + 16); fl&(fIF|fCF) != fIF|fCF {
		t.Errorf("frame RFLAGS = %s, want IF and CF as before the exception", flagString(fl))
	}
	if st.RFLAGS&fIF != 0 {
		t.Errorf("handler runs with IF=1 through an interrupt gate")
	}
	if st.CR2 != 0xdead000 {
		t.Errorf("CR2 = %#x after #UD, want it unchanged (0xdead000)", st.CR2)
	}
	if st.Seg[cpu.CS].Sel != selCode64 {
		t.Errorf("handler CS = %#x, want %#x", st.Seg[cpu.CS].Sel, selCode64)
	}
	ev := lastEvent(t, m)
	want := cpu.Event{Kind: cpu.EventException, Vector: vUD, CS: selCode64, RIP: codeAddr + 1, SS: selData,
		RSP: stackTop - 8, CPL: 0, Delivered: true, NewRSP: wantRSP, CR2: 0xdead000, RAX: 0xfeed}
	checkEvent(t, ev, want)
	if n := m.c.EventCount(); n != ev.Seq || n == 0 {
		t.Errorf("EventCount %d, newest Seq %d", n, ev.Seq)
	}
}

// checkEvent compares the fields of an event that a test fixes (Seq and
// Instret are checked separately).
func checkEvent(t *testing.T, got, want cpu.Event) {
	t.Helper()
	got.Seq, got.Instret, want.Seq, want.Instret = 0, 0, 0, 0
	if got != want {
		t.Errorf("event:\n got %s\nwant %s", eventString(got), eventString(want))
	}
}

func TestExceptionIST(t *testing.T) {
	// A gate with IST=1 always switches to TSS.IST1 (TSS+0x24), even
	// without a privilege change (SDM Vol. 3A 6.14.5).
	m := newAsm(t, 64, "ud2", func(ram []byte, s *cpu.State) {
		setGate64(ram, vUD, handlerAddr(vUD), 1, 0)
	})
	if v := m.runToHandler(); v != vUD {
		t.Fatalf("vector %d, want #UD", v)
	}
	st := m.c.State()
	if st.GPR[cpu.RSP] != ist1Top-40 {
		t.Errorf("handler RSP = %#x, want IST1 top %#x - 40", st.GPR[cpu.RSP], ist1Top)
	}
	checkFrame64(t, m, ist1Top-40, frame{err: -1, rip: codeAddr, cs: selCode64, ss: selData, rsp: stackTop})
	ev := lastEvent(t, m)
	if ev.IST != 1 || ev.NewRSP != ist1Top-40 {
		t.Errorf("event IST %d NewRSP %#x, want 1 and %#x", ev.IST, ev.NewRSP, ist1Top-40)
	}
}

func TestExceptionFromUserMode(t *testing.T) {
	// CPL 3 -> 0: the stack comes from TSS.RSP0, SS becomes NULL (6.14.4),
	// the frame holds the user SS:RSP and CS. HLT at CPL 3 is #GP(0).
	m := newAsm(t, 64, "movl $5, %eax\nhlt", func(ram []byte, s *cpu.State) { userMode(s) })
	if v := m.runToHandler(); v != vGP {
		t.Fatalf("vector %d, want #GP", v)
	}
	st := m.c.State()
	if st.GPR[cpu.RAX] != 5 {
		t.Errorf("rax = %d, want 5", st.GPR[cpu.RAX])
	}
	if st.GPR[cpu.RSP] != rsp0Top-48 {
		t.Errorf("handler RSP = %#x, want RSP0 %#x - 48", st.GPR[cpu.RSP], rsp0Top)
	}
	checkFrame64(t, m, rsp0Top-48, frame{err: 0, rip: codeAddr + 5, cs: selUCode64, ss: selUData, rsp: userStackTop})
	if st.Seg[cpu.SS].Sel&^3 != 0 {
		t.Errorf("handler SS = %#x, want a NULL selector", st.Seg[cpu.SS].Sel)
	}
	if st.Seg[cpu.CS].Sel != selCode64 {
		t.Errorf("handler CS = %#x, want %#x", st.Seg[cpu.CS].Sel, selCode64)
	}
	ev := lastEvent(t, m)
	if ev.CPL != 3 || ev.CS != selUCode64 || ev.SS != selUData || !ev.HasError || ev.ErrorCode != 0 {
		t.Errorf("event %s: want CPL 3, CS %#x, SS %#x, error code 0", eventString(ev), selUCode64, selUData)
	}
}

func TestIretToUserMode(t *testing.T) {
	// IRETQ to CPL 3 (SDM Vol. 2 IRET, IA-32e mode return to outer level)
	// then an INT 0x80 through a DPL 3 gate, then INT 0x81 through a DPL 0
	// gate: #GP(vector*8+2) (6.12.1.1, error code IDT bit).
	src := `
	pushq $0x2b
	pushq $0x70000
	pushq $0x202
	pushq $0x33
	leaq 1f(%rip), %rax
	pushq %rax
	iretq
1:	movl $1, %ebx
	int $0x80
	movl $2, %ecx
	int $0x81
	movl $3, %edx
`
	m := newAsm(t, 64, src, func(ram []byte, s *cpu.State) {
		setGate64(ram, 0x80, fixHandler, 0, 3)
		copy(ram[fixHandler:], []byte{0x48, 0xcf}) // iretq
	})
	if v := m.runToHandler(); v != vGP {
		t.Fatalf("vector %d, want #GP", v)
	}
	st := m.c.State()
	if st.GPR[cpu.RBX] != 1 || st.GPR[cpu.RCX] != 2 || st.GPR[cpu.RDX] == 3 {
		t.Errorf("rbx %d rcx %d rdx %d: want 1, 2 and the third move not executed", st.GPR[cpu.RBX], st.GPR[cpu.RCX], st.GPR[cpu.RDX])
	}
	// INT n is a trap-like software interrupt but a #GP raised by it is a
	// fault: the saved RIP is the INT instruction.
	int81 := codeAddr + uint64(len(asm1(t, 64, src))) - 5 - 2
	checkFrame64(t, m, rsp0Top-48, frame{err: 0x81<<3 | 2, rip: int81, cs: selUCode64, ss: selUData, rsp: userStackTop})
	var sawSoft bool
	for _, e := range m.c.Events() {
		if e.Vector == 0x80 && e.Kind == cpu.EventSoftware && e.Delivered && e.CPL == 3 {
			sawSoft = true
		}
	}
	if !sawSoft {
		t.Errorf("no delivered software event for INT 0x80 at CPL 3 in %v", m.c.Events())
	}
}

func TestSoftwareInterrupts(t *testing.T) {
	// INT3 and INT n are traps: the saved RIP is the next instruction.
	m := newAsm(t, 64, "nop\nint3", nil)
	if v := m.runToHandler(); v != vBP {
		t.Fatalf("vector %d, want #BP", v)
	}
	checkFrame64(t, m, stackTop-40, frame{err: -1, rip: codeAddr + 2, cs: selCode64, ss: selData, rsp: stackTop})
	// Event.RIP of INT n/INT3 is the INT instruction (api.go: "as QEMU's
	// -d int shows it; the frame holds the next one").
	if ev := lastEvent(t, m); ev.Kind != cpu.EventSoftware || ev.Vector != vBP || ev.RIP != codeAddr+1 || ev.HasError {
		t.Errorf("event %s: want software #BP at %#x", eventString(ev), codeAddr+1)
	}

	m = newAsm(t, 64, "int $0x40", nil)
	if v := m.runToHandler(); v != 0x40 {
		t.Fatalf("vector %d, want 0x40", v)
	}
	checkFrame64(t, m, stackTop-40, frame{err: -1, rip: codeAddr + 2, cs: selCode64, ss: selData, rsp: stackTop})
	if ev := lastEvent(t, m); ev.Kind != cpu.EventSoftware || ev.Vector != 0x40 || ev.RIP != codeAddr {
		t.Errorf("event %s: want software 0x40 at %#x", eventString(ev), uint64(codeAddr))
	}

	// A handler that returns with IRETQ: flags and RSP are restored.
	m = newAsm(t, 64, "int $0x41\nmovl $1, %eax", func(ram []byte, s *cpu.State) {
		setGate64(ram, 0x41, fixHandler, 0, 0)
		copy(ram[fixHandler:], []byte{0x48, 0xcf})
		s.RFLAGS |= fCF | fZF | fIF
	})
	st := m.complete()
	if st.GPR[cpu.RAX] != 1 || st.GPR[cpu.RSP] != stackTop || st.RFLAGS&(fCF|fZF|fIF) != fCF|fZF|fIF {
		t.Errorf("after IRETQ: rax %d rsp %#x flags %s", st.GPR[cpu.RAX], st.GPR[cpu.RSP], flagString(st.RFLAGS))
	}
}

// pfCase is a #PF test: the expected error code (SDM Vol. 3A 4.7, Figure
// 4-12: P=1 W/R=2 U/S=4 RSVD=8 I/D=16), CR2 and saved RIP.
type pfCase struct {
	name    string
	asm     string
	setup   func(ram []byte, s *cpu.State)
	err     uint64
	cr2     uint64
	cr2Max  uint64 // when not 0, CR2 may be anywhere in [cr2, cr2Max)
	rip     uint64 // 0: the first instruction
	user    bool
	rspKeep bool
}

func TestPageFaultErrorCodes(t *testing.T) {
	unmap := func(ram []byte, s *cpu.State) { setPTE(ram, testPage, 0) }
	readonly := func(ram []byte, s *cpu.State) { setPTE(ram, testPage, testPage|pteP|pteUS) }
	super := func(ram []byte, s *cpu.State) { setPTE(ram, testPage, testPage|pteP|pteRW) }
	cases := []pfCase{
		{name: "read-not-present", asm: "movq 0x300123, %rax", setup: unmap, err: 0, cr2: 0x300123},
		{name: "write-not-present", asm: "movq %rax, 0x300123", setup: unmap, err: 2, cr2: 0x300123},
		{name: "write-read-only-wp1", asm: "movl %eax, 0x300010", setup: readonly, err: 3, cr2: 0x300010},
		{name: "user-read-supervisor", asm: "movq 0x300008, %rax", setup: super, err: 5, cr2: 0x300008, user: true},
		{name: "user-write-read-only", asm: "movb %al, 0x300001", setup: readonly, err: 7, cr2: 0x300001, user: true},
		{name: "user-read-not-present", asm: "movq 0x300000, %rax", setup: unmap, err: 4, cr2: 0x300000, user: true},
		// Rights combine over all levels (SDM 4.6.1): U/S=0 in the PDE.
		{name: "user-read-supervisor-pde", asm: "movq 0x300000, %rax", setup: func(ram []byte, s *cpu.State) {
			le64(ram, pdAddr+8, pt1Addr|pteP|pteRW)
		}, err: 5, cr2: 0x300000, user: true},
		// "If IA32_EFER.NXE = 0 and the P flag of a paging-structure entry
		// is 1, the XD flag (bit 63) is reserved" (SDM 4.5.4).
		{name: "rsvd-xd-without-nxe", asm: "movq 0x300000, %rax", setup: func(ram []byte, s *cpu.State) {
			s.EFER &^= eferNXE
			setPTE(ram, testPage, testPage|pteDef|pteNX)
		}, err: 9, cr2: 0x300000},
		// A 2-MByte page's PDE has bits 20:13 reserved (SDM 4.5.4, Table 4-18).
		{name: "rsvd-2m-pde-bit13", asm: "movq 0x400040, %rax", setup: func(ram []byte, s *cpu.State) {
			le64(ram, pdAddr+16, 0x200000|1<<13|ptePS|pteDef)
		}, err: 9, cr2: 0x400040},
		{name: "fetch-nx", asm: "movl $0x300000, %eax\njmp *%rax", setup: func(ram []byte, s *cpu.State) {
			setPTE(ram, testPage, testPage|pteDef|pteNX)
		}, err: 0x11, cr2: 0x300000, rip: 0x300000},
		// I/D is set for fetches when PAE paging and EFER.NXE=1 (SDM 4.7).
		{name: "fetch-not-present", asm: "movl $0x300000, %eax\njmp *%rax", setup: unmap, err: 0x10, cr2: 0x300000, rip: 0x300000},
		{name: "user-fetch-supervisor", asm: "movl $0x300000, %eax\njmp *%rax", setup: super, err: 0x15, cr2: 0x300000, rip: 0x300000, user: true},
		// An access spanning into a not-present page faults on the part in
		// that page; RAX stays unchanged (faults leave no partial result).
		{name: "read-spanning-pages", asm: "movq 0x2ffffc, %rax", setup: unmap, err: 0, cr2: 0x300000, cr2Max: 0x300004},
		{name: "push-not-present-stack", asm: "pushq $1", setup: func(ram []byte, s *cpu.State) {
			setPTE(ram, testPage, 0)
			s.GPR[cpu.RSP] = otherPage // pushes to 0x300ff8
			setGate64(ram, vPF, handlerAddr(vPF), 2, 0)
		}, err: 2, cr2: otherPage - 8, cr2Max: otherPage, rspKeep: true},
	}
	var srcs []string
	for _, c := range cases {
		srcs = append(srcs, c.asm)
	}
	assemble(t, 64, srcs...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newAsm(t, 64, c.asm, func(ram []byte, s *cpu.State) {
				le64(ram, testPage, 0x1111)
				if c.user {
					userMode(s)
				}
				s.GPR[cpu.RAX] = 0x77
				c.setup(ram, s)
			})
			if v := m.runToHandler(); v != vPF {
				t.Fatalf("vector %d, want #PF", v)
			}
			st := m.c.State()
			if c.cr2Max == 0 && st.CR2 != c.cr2 || c.cr2Max != 0 && (st.CR2 < c.cr2 || st.CR2 >= c.cr2Max) {
				t.Errorf("CR2 = %#x, want %#x (up to %#x)", st.CR2, c.cr2, c.cr2Max)
			}
			rip := c.rip
			if rip == 0 {
				rip = codeAddr
			}
			ev := lastEvent(t, m)
			if ev.Vector != vPF || !ev.HasError || ev.ErrorCode != c.err || ev.RIP != rip || ev.CR2 != st.CR2 || !ev.Delivered {
				t.Errorf("event %s: want #PF error %#x at RIP %#x, CR2 %#x", eventString(ev), c.err, rip, st.CR2)
			}
			frameRSP := st.GPR[cpu.RSP]
			f := frame{err: int64(c.err), rip: rip, cs: selCode64, ss: selData, rsp: stackTop}
			if c.user {
				f.cs, f.ss, f.rsp = selUCode64, selUData, userStackTop
			}
			if c.rspKeep {
				f.rsp = otherPage
			}
			checkFrame64(t, m, frameRSP, f)
			if st.GPR[cpu.RAX]&0xffffffff != 0x77 && rip == codeAddr {
				t.Errorf("rax = %#x: the faulting instruction changed its destination", st.GPR[cpu.RAX])
			}
		})
	}
}

func TestWriteProtectOff(t *testing.T) {
	// CR0.WP=0: supervisor writes ignore R/W=0 (SDM 4.6.1).
	m := newAsm(t, 64, "movq $0x42, 0x300010", func(ram []byte, s *cpu.State) {
		s.CR0 &^= cr0WP
		setPTE(ram, testPage, testPage|pteP|pteUS)
	})
	m.complete()
	if got := m.r64(testPage + 0x10); got != 0x42 {
		t.Errorf("memory = %#x, want 0x42", got)
	}
}

// nestCase builds a situation in which delivering a first exception
// raises a second one, per SDM Vol. 3A 6.15 Tables 6-4 (classes) and 6-5
// (what happens).
type nestCase struct {
	name  string
	asm   string
	setup func(ram []byte, s *cpu.State)
	// chain is the expected sequence of vectors from the first exception
	// on; the last one is delivered, the others are not.
	chain   []uint8
	lastErr int64 // error code of the delivered one, -1 none
	lastIST int
	// cr2Page, when not 0, is the page CR2 must be in at the end.
	cr2Page uint64
}

func TestNestedExceptions(t *testing.T) {
	unmapStack := func(ram []byte, s *cpu.State) {
		setPTE(ram, testPage, 0)
		s.GPR[cpu.RSP] = otherPage // the first push goes to the unmapped page
	}
	dfIST := func(ram []byte) { setGate64(ram, vDF, handlerAddr(vDF), 1, 0) }
	cases := []nestCase{
		// Benign (#UD) then contributory (#NP: gate 6 not present): serial.
		{name: "benign-then-contributory", asm: "ud2",
			setup: func(ram []byte, s *cpu.State) { gateNotPresent(ram, vUD) },
			// #NP error code: IDT vector 6, IDT=1, EXT=1 (6.13).
			chain: []uint8{vUD, vNP}, lastErr: vUD<<3 | 3},
		// Benign then page fault (push onto an unmapped stack), the #PF gate
		// on IST2 so its own delivery works: serial.
		{name: "benign-then-pagefault", asm: "ud2",
			setup: func(ram []byte, s *cpu.State) { unmapStack(ram, s); setGate64(ram, vPF, handlerAddr(vPF), 2, 0) },
			chain: []uint8{vUD, vPF}, lastErr: 2, lastIST: 2, cr2Page: testPage},
		// Software INT n whose gate is not present: #NP with EXT=0.
		{name: "int-n-gate-not-present", asm: "int $0x50",
			setup: func(ram []byte, s *cpu.State) { gateNotPresent(ram, 0x50) },
			chain: []uint8{0x50, vNP}, lastErr: 0x50<<3 | 2},
		// Contributory then contributory: #DE whose gate is not present.
		{name: "contributory-then-contributory", asm: "divl %ecx",
			setup: func(ram []byte, s *cpu.State) { gateNotPresent(ram, vDE) },
			chain: []uint8{vDE, vDF}, lastErr: 0},
		// #GP whose gate lies beyond the IDT limit: #GP again -> #DF.
		{name: "gp-then-gp", asm: "movq (%rbx), %rax",
			setup: func(ram []byte, s *cpu.State) {
				s.GPR[cpu.RBX] = 0x0000_8000_0000_0000 // non-canonical: #GP(0)
				s.IDTR.Limit = 16*vGP - 1
			},
			chain: []uint8{vGP, vDF}, lastErr: 0},
		// Contributory then page fault: serial.
		{name: "contributory-then-pagefault", asm: "movq (%rbx), %rax",
			setup: func(ram []byte, s *cpu.State) {
				s.GPR[cpu.RBX] = 0x0000_8000_0000_0000
				unmapStack(ram, s)
				setGate64(ram, vPF, handlerAddr(vPF), 2, 0)
			},
			chain: []uint8{vGP, vPF}, lastErr: 2, lastIST: 2, cr2Page: testPage},
		// Page fault then contributory: #PF whose gate is not present.
		{name: "pagefault-then-contributory", asm: "movq 0x300000, %rax",
			setup: func(ram []byte, s *cpu.State) { setPTE(ram, testPage, 0); gateNotPresent(ram, vPF) },
			chain: []uint8{vPF, vDF}, lastErr: 0, cr2Page: testPage},
		// Page fault then page fault: the stack is unmapped; #DF on IST1
		// (the vmapped-stack overflow case). CR2 holds the second fault's
		// address, in the stack's page.
		{name: "pagefault-then-pagefault", asm: "pushq $0",
			setup: func(ram []byte, s *cpu.State) { unmapStack(ram, s); dfIST(ram) },
			chain: []uint8{vPF, vDF}, lastErr: 0, lastIST: 1, cr2Page: testPage},
		{name: "pagefault-then-pagefault-data", asm: "movq 0x400000, %rax",
			setup: func(ram []byte, s *cpu.State) {
				unmapStack(ram, s)
				dfIST(ram)
				le64(ram, pdAddr+16, 0) // 0x400000 not present either
			},
			chain: []uint8{vPF, vDF}, lastErr: 0, lastIST: 1, cr2Page: testPage},
		// Benign first (#UD), its delivery page-faults, that #PF's delivery
		// page-faults again: #PF+#PF -> #DF.
		{name: "benign-pagefault-pagefault", asm: "ud2",
			setup: func(ram []byte, s *cpu.State) { unmapStack(ram, s); dfIST(ram) },
			chain: []uint8{vUD, vPF, vDF}, lastErr: 0, lastIST: 1, cr2Page: testPage},
	}
	var srcs []string
	for _, c := range cases {
		srcs = append(srcs, c.asm)
	}
	assemble(t, 64, srcs...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newAsm(t, 64, c.asm, c.setup)
			last := c.chain[len(c.chain)-1]
			if v := m.runToHandler(); v != int(last) {
				t.Fatalf("vector %d delivered, want %d: %s", v, last, m.describe(cpu.Exit{Kind: cpu.ExitHalt}))
			}
			ev := events(t, m)
			if len(ev) < len(c.chain) {
				t.Fatalf("%d events, want at least %d: %s", len(ev), len(c.chain), m.describe(cpu.Exit{Kind: cpu.ExitHalt}))
			}
			tail := ev[len(ev)-len(c.chain):]
			for i, e := range tail {
				if e.Vector != c.chain[i] {
					t.Errorf("event %d vector %d, want %d", i, e.Vector, c.chain[i])
				}
				wantDelivered := i == len(c.chain)-1
				if e.Delivered != wantDelivered {
					t.Errorf("event %d (vector %d) Delivered %v, want %v", i, e.Vector, e.Delivered, wantDelivered)
				}
				if i > 0 && e.Nested != tail[i-1].Seq {
					t.Errorf("event %d (vector %d) Nested %d, want %d (the delivery it interrupted)", i, e.Vector, e.Nested, tail[i-1].Seq)
				}
				if i > 0 && e.Seq <= tail[i-1].Seq {
					t.Errorf("event %d Seq %d not after %d", i, e.Seq, tail[i-1].Seq)
				}
				if i == 0 && e.Nested != 0 {
					t.Errorf("first event Nested %d, want 0", e.Nested)
				}
			}
			d := tail[len(tail)-1]
			if c.lastErr < 0 && d.HasError || c.lastErr >= 0 && (!d.HasError || d.ErrorCode != uint64(c.lastErr)) {
				t.Errorf("delivered event error %v/%#x, want %#x", d.HasError, d.ErrorCode, c.lastErr)
			}
			if d.IST != c.lastIST {
				t.Errorf("delivered event IST %d, want %d", d.IST, c.lastIST)
			}
			st := m.c.State()
			if c.cr2Page != 0 && st.CR2&^0xfff != c.cr2Page {
				t.Errorf("CR2 = %#x, want in page %#x", st.CR2, c.cr2Page)
			}
			// The frame of the delivered exception: the interrupted RIP is
			// the first faulting instruction for faults (#DF pushes RIP of
			// the context it interrupted: the instruction whose exception
			// could not be delivered).
			if d.Delivered && d.NewRSP != st.GPR[cpu.RSP] {
				t.Errorf("event NewRSP %#x, handler RSP %#x", d.NewRSP, st.GPR[cpu.RSP])
			}
			if c.lastErr >= 0 {
				if got := m.r64(st.GPR[cpu.RSP]); got != uint64(c.lastErr) {
					t.Errorf("error code on the stack %#x, want %#x", got, c.lastErr)
				}
			}
			if last == vDF {
				// SDM 6.15 Interrupt 8: "The saved contents of CS and EIP
				// registers are undefined." Only the IST stack is checked.
				if c.lastIST == 1 && (st.GPR[cpu.RSP] > ist1Top || st.GPR[cpu.RSP] < ist1Top-0x100) {
					t.Errorf("#DF handler RSP %#x not on IST1 (%#x)", st.GPR[cpu.RSP], ist1Top)
				}
			}
		})
	}
}

func TestTripleFault(t *testing.T) {
	cases := []struct {
		name  string
		asm   string
		setup func(ram []byte, s *cpu.State)
	}{
		// #PF + #PF -> #DF, whose delivery faults again on the same stack
		// (no IST): shutdown (the kernel's `noist` case).
		{"df-on-bad-stack", "pushq $0", func(ram []byte, s *cpu.State) {
			setPTE(ram, testPage, 0)
			s.GPR[cpu.RSP] = otherPage
		}},
		// Contributory + contributory -> #DF whose gate is not present.
		{"df-gate-not-present", "divl %ecx", func(ram []byte, s *cpu.State) {
			gateNotPresent(ram, vDE)
			gateNotPresent(ram, vDF)
		}},
		// Everything beyond the IDT limit.
		{"empty-idt", "ud2", func(ram []byte, s *cpu.State) { s.IDTR.Limit = 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newAsm(t, 64, c.asm, c.setup)
			e := m.run(runLimit)
			if e.Kind != cpu.ExitTripleFault {
				t.Fatalf("want a triple fault: %s", m.describe(e))
			}
			if e.Event == nil || e.Event.Vector != vDF {
				t.Errorf("Exit.Event = %v, want the #DF delivery", e.Event)
			}
			// The #DF delivery is in the history, not delivered; whatever it
			// raised may follow, nested in it.
			ev := events(t, m)
			df := -1
			for i, x := range ev {
				if x.Vector == vDF {
					df = i
				}
			}
			if df < 0 {
				t.Fatalf("no #DF in the history")
			}
			if ev[df].Delivered {
				t.Errorf("#DF %s marked delivered", eventString(ev[df]))
			}
			if e.Event != nil && e.Event.Seq != ev[df].Seq {
				t.Errorf("Exit.Event Seq %d, want the #DF's %d", e.Event.Seq, ev[df].Seq)
			}
			for _, x := range ev[df+1:] {
				if x.Nested != ev[df].Seq || x.Delivered {
					t.Errorf("event after the #DF: %s; want nested in it, not delivered", eventString(x))
				}
			}
			// Shut down: running again does not execute anything.
			before := m.c.Instret()
			if e := m.run(10); m.c.Instret() != before {
				t.Errorf("a shut-down CPU ran %d instructions (exit %s)", m.c.Instret()-before, exitName(e.Kind))
			}
		})
	}
}

func TestBreakOn(t *testing.T) {
	m := newAsm(t, 64, "movq 0x300000, %rax", func(ram []byte, s *cpu.State) { setPTE(ram, testPage, 0) })
	m.c.SetBreakOn(vPF, true)
	if !m.c.BreakOn(vPF) || m.c.BreakOn(vGP) {
		t.Errorf("BreakOn(14) %v BreakOn(13) %v, want true false", m.c.BreakOn(vPF), m.c.BreakOn(vGP))
	}
	e := m.run(runLimit)
	if e.Kind != cpu.ExitBreakOn {
		t.Fatalf("want ExitBreakOn: %s", m.describe(e))
	}
	if m.c.RIP() != handlerAddr(vPF) {
		t.Errorf("RIP %#x, want the handler's first instruction %#x", m.c.RIP(), handlerAddr(vPF))
	}
	if e.Event == nil || e.Event.Vector != vPF || e.Event.ErrorCode != 0 || e.Event.CR2 != testPage {
		t.Errorf("Exit.Event = %+v, want the #PF", e.Event)
	}
	// Resuming runs the handler.
	if v := m.runToHandler(); v != vPF {
		t.Errorf("resumed into vector %d's handler, want 14", v)
	}
	// Switched off: no stop.
	m = newAsm(t, 64, "ud2", nil)
	m.c.SetBreakOn(vUD, true)
	m.c.SetBreakOn(vUD, false)
	if v := m.runToHandler(); v != vUD {
		t.Errorf("vector %d", v)
	}
}

func TestBreakpoints(t *testing.T) {
	src := "movl $1, %eax\nmovl $2, %ebx\nmovl $3, %ecx\nmovl $0, %edx\n1: incl %edx\ncmpl $3, %edx\njne 1b"
	m := newAsm(t, 64, src, nil)
	bp := uint64(codeAddr + 5)
	m.c.SetBreakpoint(bp, true)
	e := m.run(runLimit)
	if e.Kind != cpu.ExitBreakpoint || e.Addr != bp || m.c.RIP() != bp {
		t.Fatalf("want breakpoint at %#x: %s (Addr %#x)", bp, m.describe(e), e.Addr)
	}
	if m.c.Reg(cpu.RAX) != 1 || m.c.Reg(cpu.RBX) != 0 {
		t.Errorf("at the breakpoint rax %d rbx %d: want 1 and 0 (not yet executed)", m.c.Reg(cpu.RAX), m.c.Reg(cpu.RBX))
	}
	if m.c.Instret() != 1 {
		t.Errorf("Instret %d at the breakpoint, want 1", m.c.Instret())
	}
	// Resuming executes the instruction under the breakpoint (which stays
	// set: it is only passed once).
	loop := uint64(codeAddr + 20)
	m.c.SetBreakpoint(loop, true)
	hits := 0
	for {
		e = m.run(runLimit)
		if e.Kind != cpu.ExitBreakpoint || m.c.RIP() != loop {
			break
		}
		hits++
		if hits > 10 {
			break
		}
	}
	if hits != 3 {
		t.Errorf("loop breakpoint hit %d times, want 3", hits)
	}
	if !m.finished(e) {
		t.Errorf("did not finish: %s", m.describe(e))
	}
	if m.c.Reg(cpu.RBX) != 2 || m.c.Reg(cpu.RDX) != 3 {
		t.Errorf("rbx %d rdx %d", m.c.Reg(cpu.RBX), m.c.Reg(cpu.RDX))
	}
}

func TestStep(t *testing.T) {
	m := newAsm(t, 64, "movl $1, %eax\nmovl $2, %ebx\nud2", nil)
	for i, want := range []uint64{codeAddr + 5, codeAddr + 10} {
		e := m.c.Step()
		if e.Kind != cpu.ExitStep || m.c.RIP() != want || m.c.Instret() != uint64(i+1) {
			t.Fatalf("step %d: %s, want RIP %#x", i, m.describe(e), want)
		}
	}
	if m.c.Reg(cpu.RAX) != 1 || m.c.Reg(cpu.RBX) != 2 {
		t.Errorf("rax %d rbx %d", m.c.Reg(cpu.RAX), m.c.Reg(cpu.RBX))
	}
	// Stepping a faulting instruction ends in the handler (one event
	// delivery), not past the UD2.
	m.c.Step()
	if m.c.RIP() != handlerAddr(vUD) {
		t.Errorf("after stepping UD2, RIP %#x, want the #UD handler %#x", m.c.RIP(), handlerAddr(vUD))
	}
}

func TestWatchpoints(t *testing.T) {
	src := "movq 0x200000, %rax\nmovq %rbx, 0x200008\nmovl %ecx, 0x200100\nmovl $1, %edx"
	// Instruction lengths: 8, 8, 7, 5.
	cases := []struct {
		name   string
		addr   uint64
		length uint64
		kind   cpu.WatchKind
		rip    uint64
		fired  cpu.WatchKind
	}{
		{"write", dataAddr + 8, 8, cpu.WatchWrite, codeAddr + 16, cpu.WatchWrite},
		{"read", dataAddr, 8, cpu.WatchRead, codeAddr + 8, cpu.WatchRead},
		{"access-read-first", dataAddr + 4, 8, cpu.WatchAccess, codeAddr + 8, cpu.WatchRead},
		{"write-partial-overlap", dataAddr + 0x102, 1, cpu.WatchWrite, codeAddr + 23, cpu.WatchWrite},
		{"read-not-write", dataAddr + 8, 8, cpu.WatchRead, 0, 0},
		{"no-overlap", dataAddr + 0x104, 4, cpu.WatchAccess, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newAsm(t, 64, src, func(ram []byte, s *cpu.State) {
				s.GPR[cpu.RBX] = 0xabc
				le64(ram, dataAddr, 0x55)
			})
			m.c.AddWatchpoint(c.addr, c.length, c.kind)
			m.c.SetBreakpoint(m.end, true)
			e := m.run(runLimit)
			if c.fired == 0 {
				if !m.finished(e) {
					t.Fatalf("watchpoint fired for an access it does not watch: %s", m.describe(e))
				}
				return
			}
			if e.Kind != cpu.ExitWatchpoint || m.c.RIP() != c.rip || e.Addr != c.addr || e.Watch != c.fired {
				t.Fatalf("%s (Addr %#x Watch %d); want watchpoint %#x kind %d with RIP %#x", m.describe(e), e.Addr, e.Watch, c.addr, c.fired, c.rip)
			}
			if c.fired == cpu.WatchWrite && c.addr == dataAddr+8 && m.r64(dataAddr+8) != 0xabc {
				t.Errorf("the watched write had not completed")
			}
			if m.c.Reg(cpu.RDX) == 1 {
				t.Errorf("execution went past the accessing instruction")
			}
			// Removing it lets the run finish.
			m.c.RemoveWatchpoint(c.addr, c.length, c.kind)
			if e := m.run(runLimit); !m.finished(e) {
				t.Errorf("after RemoveWatchpoint: %s", m.describe(e))
			}
		})
	}
}

func TestRunLimitAndStop(t *testing.T) {
	m := newAsm(t, 64, "1: incq %rax\njmp 1b", nil)
	e := m.c.Run(1001)
	if e.Kind != cpu.ExitLimit || m.c.Instret() != 1001 {
		t.Fatalf("Run(1001): %s", m.describe(e))
	}
	if m.c.Reg(cpu.RAX) != 501 {
		t.Errorf("rax %d after 1001 instructions, want 501", m.c.Reg(cpu.RAX))
	}
	// Run without a limit: a limit would be a deadline in disguise (the
	// native tier retires this loop at hundreds of millions of
	// instructions a second, before a loaded host may schedule the
	// requester). The minute below only bounds a hang.
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				m.c.RequestStop()
				runtime.Gosched()
			}
		}
	}()
	ran := make(chan cpu.Exit, 1)
	go func() { ran <- m.c.Run(^uint64(0)) }()
	select {
	case e = <-ran:
	case <-time.After(time.Minute):
		t.Fatalf("Run did not return a minute into RequestStop calls")
	}
	close(done)
	if e.Kind != cpu.ExitStopRequest {
		t.Errorf("want ExitStopRequest: %s", m.describe(e))
	}
}

// fakeIRQ sets up a pending vector on the fake PIC and raises INTR.
func (m *machine) raise(vec uint8) {
	m.pic.pending = append(m.pic.pending, vec)
	m.c.SetIRQ(true)
}

func TestExternalInterrupts(t *testing.T) {
	t.Run("sti-shadow", func(t *testing.T) {
		// "the processor inhibits interrupts until after the instruction
		// following STI" (SDM Vol. 2 STI): the interrupt arrives after the
		// second MOV, with RIP of the third in the frame.
		src := "movl $1, %eax\nsti\nmovl $2, %ebx\nmovl $3, %ecx"
		m := newAsm(t, 64, src, nil)
		m.raise(0x20)
		if v := m.runToHandler(); v != 0x20 {
			t.Fatalf("vector %d", v)
		}
		st := m.c.State()
		if st.GPR[cpu.RAX] != 1 || st.GPR[cpu.RBX] != 2 || st.GPR[cpu.RCX] != 0 {
			t.Errorf("rax %d rbx %d rcx %d: want 1 2 0", st.GPR[cpu.RAX], st.GPR[cpu.RBX], st.GPR[cpu.RCX])
		}
		checkFrame64(t, m, stackTop-40, frame{err: -1, rip: codeAddr + 11, cs: selCode64, ss: selData, rsp: stackTop})
		if fl := m.r64(stackTop - 40 + 16); fl&fIF == 0 {
			t.Errorf("frame RFLAGS %s: IF should be set", flagString(fl))
		}
		ev := lastEvent(t, m)
		if ev.Kind != cpu.EventInterrupt || ev.Vector != 0x20 || ev.HasError || ev.RIP != codeAddr+11 {
			t.Errorf("event %s: want an external interrupt 0x20 at %#x", eventString(ev), codeAddr+11)
		}
		if m.pic.acks != 1 {
			t.Errorf("PIC acknowledged %d times, want 1", m.pic.acks)
		}
	})
	t.Run("if-clear", func(t *testing.T) {
		m := newAsm(t, 64, "movl $1, %eax\nmovl $2, %ebx", nil)
		m.raise(0x20)
		st := m.complete()
		if st.GPR[cpu.RBX] != 2 || m.pic.acks != 0 {
			t.Errorf("with IF=0: rbx %d, PIC acks %d", st.GPR[cpu.RBX], m.pic.acks)
		}
	})
	t.Run("spurious-ack", func(t *testing.T) {
		// INTR high but the PIC has nothing any more: nothing delivered.
		m := newAsm(t, 64, "movl $1, %eax\nmovl $2, %ebx", func(ram []byte, s *cpu.State) { s.RFLAGS |= fIF })
		m.c.SetIRQ(true)
		st := m.complete()
		if st.GPR[cpu.RBX] != 2 {
			t.Errorf("rbx %d", st.GPR[cpu.RBX])
		}
		for _, e := range m.c.Events() {
			t.Errorf("unexpected event %s", eventString(e))
		}
	})
	t.Run("hlt-wakeup", func(t *testing.T) {
		m := newAsm(t, 64, "sti\nhlt\nmovl $1, %eax", nil)
		e := m.run(runLimit)
		if e.Kind != cpu.ExitHalt || !m.c.Halted() || m.c.RIP() != codeAddr+2 {
			t.Fatalf("want ExitHalt after the HLT: %s (halted %v)", m.describe(e), m.c.Halted())
		}
		n := m.c.Instret()
		m.c.AdvanceTo(n + 1000)
		if m.c.Instret() != n+1000 {
			t.Errorf("AdvanceTo: Instret %d, want %d", m.c.Instret(), n+1000)
		}
		// Still nothing pending: stays halted.
		if e := m.run(10); e.Kind != cpu.ExitHalt {
			t.Errorf("halted CPU without interrupt: %s", m.describe(e))
		}
		m.raise(0x21)
		if v := m.runToHandler(); v != 0x21 {
			t.Fatalf("vector %d", v)
		}
		// The frame's RIP is the instruction after HLT (SDM Vol. 2 HLT).
		checkFrame64(t, m, stackTop-40, frame{err: -1, rip: codeAddr + 2, cs: selCode64, ss: selData, rsp: stackTop})
	})
	t.Run("handler-iret-resumes", func(t *testing.T) {
		// The handler counts in memory and returns; the main code spins
		// until it sees the count.
		src := "sti\n1: cmpq $0, 0x200000\nje 1b\nmovl $7, %eax"
		m := newAsm(t, 64, src, func(ram []byte, s *cpu.State) {
			setGate64(ram, 0x22, fixHandler, 0, 0)
			copy(ram[fixHandler:], asm1(t, 64, "incq 0x200000\niretq"))
		})
		m.c.SetBreakpoint(m.end, true)
		if e := m.run(50); e.Kind != cpu.ExitLimit {
			t.Fatalf("spin loop: %s", m.describe(e))
		}
		m.raise(0x22)
		st := m.complete()
		if st.GPR[cpu.RAX] != 7 || m.r64(dataAddr) != 1 || st.GPR[cpu.RSP] != stackTop || st.RFLAGS&fIF == 0 {
			t.Errorf("rax %d count %d rsp %#x flags %s", st.GPR[cpu.RAX], m.r64(dataAddr), st.GPR[cpu.RSP], flagString(st.RFLAGS))
		}
	})
}

func TestInterruptShadowAndHalt(t *testing.T) {
	t.Run("mov-ss-shadow", func(t *testing.T) {
		// "MOV SS ... inhibits interrupts ... until the instruction
		// following the MOV to SS has completed" (SDM Vol. 2 MOV, and Vol.
		// 3A 6.8.3).
		m := newAsm(t, 64, "mov %eax, %ss\nmovl $2, %ebx\nmovl $3, %ecx", func(ram []byte, s *cpu.State) {
			s.GPR[cpu.RAX] = selData
			s.RFLAGS |= fIF
		})
		m.c.Step() // MOV SS
		m.raise(0x20)
		m.c.Step() // shadowed: executes movl $2
		if m.c.Reg(cpu.RBX) != 2 || m.c.RIP() != codeAddr+2+5 {
			t.Fatalf("after the shadowed instruction: rbx %d RIP %#x", m.c.Reg(cpu.RBX), m.c.RIP())
		}
		m.c.Step() // the interrupt
		if m.c.RIP() != handlerAddr(0x20) || m.c.Reg(cpu.RCX) != 0 {
			t.Errorf("interrupt not delivered after the shadow: RIP %#x rcx %d", m.c.RIP(), m.c.Reg(cpu.RCX))
		}
	})
	t.Run("hlt-if-clear", func(t *testing.T) {
		// HLT with IF=0: an INTR does not wake it (only NMI/SMI/INIT
		// would), so the CPU stays halted and nothing is acknowledged.
		m := newAsm(t, 64, "hlt\nmovl $1, %eax", nil)
		if e := m.run(runLimit); e.Kind != cpu.ExitHalt {
			t.Fatalf("%s", m.describe(e))
		}
		m.raise(0x20)
		if e := m.run(runLimit); e.Kind != cpu.ExitHalt || m.c.Reg(cpu.RAX) != 0 || m.pic.acks != 0 {
			t.Errorf("HLT with IF=0 woke up: %s, rax %d, acks %d", m.describe(e), m.c.Reg(cpu.RAX), m.pic.acks)
		}
	})
}

func TestInterruptDeliveryFaults(t *testing.T) {
	// An external interrupt is benign (Table 6-4); a fault during its
	// delivery is handled serially, with EXT=1 in a selector error code.
	t.Run("gate-not-present", func(t *testing.T) {
		m := newAsm(t, 64, "nop\nnop", func(ram []byte, s *cpu.State) {
			s.RFLAGS |= fIF
			gateNotPresent(ram, 0x20)
		})
		m.raise(0x20)
		if v := m.runToHandler(); v != vNP {
			t.Fatalf("vector %d, want #NP", v)
		}
		ev := events(t, m)
		if len(ev) != 2 || ev[0].Kind != cpu.EventInterrupt || ev[0].Delivered || ev[1].Vector != vNP ||
			ev[1].ErrorCode != 0x20<<3|3 || ev[1].Nested != ev[0].Seq || !ev[1].Delivered {
			for _, e := range ev {
				t.Log(eventString(e))
			}
			t.Errorf("want interrupt 0x20 (not delivered) then #NP(0x103) nested in it")
		}
	})
	t.Run("stack-faults", func(t *testing.T) {
		m := newAsm(t, 64, "nop\nnop", func(ram []byte, s *cpu.State) {
			s.RFLAGS |= fIF
			setPTE(ram, testPage, 0)
			s.GPR[cpu.RSP] = otherPage
			setGate64(ram, vPF, handlerAddr(vPF), 2, 0)
		})
		m.raise(0x20)
		if v := m.runToHandler(); v != vPF {
			t.Fatalf("vector %d, want #PF", v)
		}
		if st := m.c.State(); st.CR2&^0xfff != testPage {
			t.Errorf("CR2 %#x", st.CR2)
		}
	})
}

func TestInvalidOpcodes(t *testing.T) {
	// #UD (SDM Vol. 2 Appendix A opcode map: "i64" opcodes are invalid in
	// 64-bit mode; LOCK with a non-memory destination is #UD, Vol. 2
	// LOCK).
	cases := map[string]string{
		"ud2":         "ud2",
		"lock-reg":    ".byte 0xf0, 0x01, 0xc3",
		"push-es-i64": ".byte 0x06",
		"daa-i64":     ".byte 0x27",
		"aaa-i64":     ".byte 0x37",
		"into-i64":    ".byte 0xce",
		"jmpf-i64":    ".byte 0xea, 0, 0, 0, 0, 0x08, 0",
	}
	var list []string
	for _, s := range cases {
		list = append(list, s)
	}
	assemble(t, 64, list...)
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			m := newAsm(t, 64, src, nil)
			if v := m.runToHandler(); v != vUD {
				t.Fatalf("vector %d, want #UD", v)
			}
			checkFrame64(t, m, stackTop-40, frame{err: -1, rip: codeAddr, cs: selCode64, ss: selData, rsp: stackTop})
		})
	}
}

func TestInstructionFetchAcrossPages(t *testing.T) {
	// A 10-byte MOVABS starting 4 bytes before a not-present page: the
	// fetch faults with I/D=1, CR2 in the second page, RIP at the
	// instruction's start (a fault: nothing executed).
	m := newAsm(t, 64, "movl $0x300ffc, %eax\njmp *%rax", func(ram []byte, s *cpu.State) {
		setPTE(ram, otherPage, 0)
		copy(ram[0x300ffc:], []byte{0x48, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8}) // movabs $..., %rbx
	})
	if v := m.runToHandler(); v != vPF {
		t.Fatalf("vector %d, want #PF", v)
	}
	st := m.c.State()
	if st.CR2 < otherPage || st.CR2 >= otherPage+6 {
		t.Errorf("CR2 %#x, want in [%#x, %#x)", st.CR2, otherPage, otherPage+6)
	}
	checkFrame64(t, m, stackTop-48, frame{err: 0x10, rip: 0x300ffc, cs: selCode64, ss: selData, rsp: stackTop})
	if st.GPR[cpu.RBX] != 0 {
		t.Errorf("rbx %#x: the faulting instruction executed", st.GPR[cpu.RBX])
	}
}

func TestProtectedModeException(t *testing.T) {
	// 32-bit protected mode, no privilege change: the frame is EFLAGS, CS,
	// EIP (4 bytes each; SDM Vol. 3A 6.12.1, Figure 6-4), and no stack
	// alignment.
	m := newAsm(t, 32, "nop\nud2", func(ram []byte, s *cpu.State) { s.GPR[cpu.RSP] = stackTop - 4 })
	if v := m.runToHandler(); v != vUD {
		t.Fatalf("vector %d, want #UD", v)
	}
	st := m.c.State()
	sp := st.GPR[cpu.RSP]
	if sp != stackTop-4-12 {
		t.Errorf("ESP %#x, want %#x", sp, stackTop-4-12)
	}
	if eip, cs := m.r32(sp), m.r32(sp+4); eip != codeAddr+1 || cs&0xffff != selCode32 {
		t.Errorf("frame EIP %#x CS %#x", eip, cs)
	}
	if fl := m.r32(sp + 8); fl&fixed1 == 0 {
		t.Errorf("frame EFLAGS %#x", fl)
	}
	// #GP with an error code: a far jump to a selector beyond the GDT
	// limit.
	m = newAsm(t, 32, "ljmp $0x1238, $0", nil)
	if v := m.runToHandler(); v != vGP {
		t.Fatalf("vector %d, want #GP", v)
	}
	sp = m.c.Reg(cpu.RSP)
	if e := m.r32(sp); e != 0x1238 {
		t.Errorf("#GP error code %#x, want the selector 0x1238", e)
	}
}

func TestRepStringFault(t *testing.T) {
	// "A repeating string operation can be suspended by an exception or
	// interrupt. When this happens, the state of the registers is
	// preserved to allow the string operation to be resumed" (SDM Vol. 2
	// REP): a fault in the second page leaves RCX/RSI/RDI describing what
	// remains and RIP at the REP instruction.
	m := newAsm(t, 64, "rep movsb", func(ram []byte, s *cpu.State) {
		setPTE(ram, otherPage, 0)
		s.GPR[cpu.RSI] = dataAddr
		s.GPR[cpu.RDI] = otherPage - 100
		s.GPR[cpu.RCX] = 300
		for i := 0; i < 300; i++ {
			ram[dataAddr+uint64(i)] = byte(i + 1)
		}
	})
	if v := m.runToHandler(); v != vPF {
		t.Fatalf("vector %d, want #PF", v)
	}
	st := m.c.State()
	if st.CR2 != otherPage {
		t.Errorf("CR2 %#x, want %#x", st.CR2, otherPage)
	}
	if st.GPR[cpu.RCX] != 200 || st.GPR[cpu.RSI] != dataAddr+100 || st.GPR[cpu.RDI] != otherPage {
		t.Errorf("rcx %d rsi %#x rdi %#x: want 200, %#x, %#x", st.GPR[cpu.RCX], st.GPR[cpu.RSI], st.GPR[cpu.RDI], dataAddr+100, otherPage)
	}
	checkFrame64(t, m, stackTop-48, frame{err: 2, rip: codeAddr, cs: selCode64, ss: selData, rsp: stackTop})
	for i := 0; i < 100; i++ {
		if m.ram[testPage+0xf9c+uint64(i)] != byte(i+1) {
			t.Fatalf("byte %d before the fault not copied", i)
		}
	}
}

func TestCmpxchgWritesOnFailure(t *testing.T) {
	// "the destination operand receives a write cycle without regard to
	// the result of the comparison" (SDM Vol. 2 CMPXCHG): a read-only
	// destination faults with W=1 even when the values differ.
	m := newAsm(t, 64, "lock cmpxchgq %rbx, 0x300000", func(ram []byte, s *cpu.State) {
		setPTE(ram, testPage, testPage|pteP|pteUS)
		le64(ram, testPage, 5)
		s.GPR[cpu.RAX] = 6
	})
	if v := m.runToHandler(); v != vPF {
		t.Fatalf("vector %d, want #PF", v)
	}
	if ev := lastEvent(t, m); ev.ErrorCode != 3 {
		t.Errorf("#PF error %#x, want 3 (P|W)", ev.ErrorCode)
	}
	if m.c.Reg(cpu.RAX) != 6 {
		t.Errorf("rax %d changed by the faulting CMPXCHG", m.c.Reg(cpu.RAX))
	}
}

func TestTrapGate(t *testing.T) {
	// A trap gate (type 0xF) leaves IF as it was; an interrupt gate clears
	// it (SDM Vol. 3A 6.12.1.3).
	m := newAsm(t, 64, "int $0x41", func(ram []byte, s *cpu.State) {
		setGate64(ram, 0x41, handlerAddr(0x41), 0, 0)
		ram[idtAddr+16*0x41+5] = 0x8f
		s.RFLAGS |= fIF
	})
	if v := m.runToHandler(); v != 0x41 {
		t.Fatalf("vector %d", v)
	}
	if m.c.State().RFLAGS&fIF == 0 {
		t.Errorf("IF cleared through a trap gate")
	}
}

func TestISTFromUserMode(t *testing.T) {
	// With a CPL change and an IST gate, IST wins over RSP0 (6.14.5).
	m := newAsm(t, 64, "ud2", func(ram []byte, s *cpu.State) {
		userMode(s)
		setGate64(ram, vUD, handlerAddr(vUD), 1, 0)
	})
	if v := m.runToHandler(); v != vUD {
		t.Fatalf("vector %d", v)
	}
	checkFrame64(t, m, ist1Top-40, frame{err: -1, rip: codeAddr, cs: selUCode64, ss: selUData, rsp: userStackTop})
	if ev := lastEvent(t, m); ev.IST != 1 || ev.CPL != 3 {
		t.Errorf("event %s", eventString(ev))
	}
}

func TestDebugInteractions(t *testing.T) {
	t.Run("breakpoint-on-handler", func(t *testing.T) {
		// A breakpoint on a handler's first instruction stops right after
		// the delivery, before the handler runs (what `break do_page_fault`
		// needs).
		m := newAsm(t, 64, "ud2", nil)
		m.c.SetBreakpoint(handlerAddr(vUD), true)
		e := m.run(runLimit)
		if e.Kind != cpu.ExitBreakpoint || m.c.RIP() != handlerAddr(vUD) || m.c.Halted() {
			t.Fatalf("%s", m.describe(e))
		}
		if ev := lastEvent(t, m); ev.Vector != vUD || !ev.Delivered {
			t.Errorf("event %s", eventString(ev))
		}
	})
	t.Run("step-from-breakpoint", func(t *testing.T) {
		// Step at an address holding a breakpoint executes that
		// instruction (ExitStep executes one instruction).
		m := newAsm(t, 64, "movl $1, %eax\nmovl $2, %ebx", nil)
		m.c.SetBreakpoint(codeAddr, true)
		if e := m.c.Step(); e.Kind != cpu.ExitStep || m.c.Reg(cpu.RAX) != 1 || m.c.RIP() != codeAddr+5 {
			t.Errorf("Step on a breakpoint: %s rax %d", m.describe(e), m.c.Reg(cpu.RAX))
		}
	})
	t.Run("faulting-write-no-watch", func(t *testing.T) {
		// A write that faults did not happen: no watchpoint stop, the #PF
		// is delivered.
		m := newAsm(t, 64, "movq %rax, 0x300000", func(ram []byte, s *cpu.State) {
			setPTE(ram, testPage, testPage|pteP|pteUS)
		})
		m.c.AddWatchpoint(testPage, 8, cpu.WatchWrite)
		if v := m.runToHandler(); v != vPF {
			t.Errorf("vector %d", v)
		}
	})
	t.Run("watch-linear-not-physical", func(t *testing.T) {
		// Watchpoints are on linear addresses: an alias mapping of the same
		// physical page at another linear address does not fire it.
		m := newAsm(t, 64, "movq %rax, 0x302000\nmovq %rax, 0x300000", func(ram []byte, s *cpu.State) {
			setPTE(ram, 0x302000, testPage|pteDef)
		})
		m.c.AddWatchpoint(testPage, 8, cpu.WatchWrite)
		m.c.SetBreakpoint(m.end, true)
		e := m.run(runLimit)
		if e.Kind != cpu.ExitWatchpoint || m.c.RIP() != codeAddr+16 {
			t.Errorf("%s: want the watchpoint after the second store", m.describe(e))
		}
	})
}

func TestCanonicalChecks(t *testing.T) {
	// In 64-bit mode a transfer to a non-canonical RIP faults on the
	// transferring instruction (SDM Vol. 2 JMP/RET: "#GP(0) If the target
	// offset is non-canonical"); a stack access through a non-canonical
	// RSP is #SS(0) (Vol. 3A 6.15, Interrupt 12).
	cases := []struct {
		name, asm string
		vec       int
		rip       uint64 // offset of the faulting instruction
		rsp       uint64 // frame RSP
	}{
		{"jmp", "movabsq $0x800000000000, %rax\njmp *%rax", vGP, 10, stackTop},
		{"ret", "movabsq $0x800000000000, %rax\npushq %rax\nret", vGP, 11, stackTop - 8},
		{"call", "movabsq $0xffff700000000000, %rax\ncall *%rax", vGP, 10, stackTop},
		{"push-rsp", "movabsq $0x800000000010, %rsp\npushq $1", 12, 10, 0x800000000010},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newAsm(t, 64, c.asm, func(ram []byte, s *cpu.State) {
				setGate64(ram, 12, handlerAddr(12), 1, 0) // #SS on IST1: the faulting stack is unusable
			})
			if v := m.runToHandler(); v != c.vec {
				t.Fatalf("vector %d, want %d", v, c.vec)
			}
			ev := lastEvent(t, m)
			if ev.RIP != codeAddr+c.rip || !ev.HasError || ev.ErrorCode != 0 {
				t.Errorf("event %s: want error 0 at RIP %#x", eventString(ev), codeAddr+c.rip)
			}
			rsp := m.c.Reg(cpu.RSP)
			checkFrame64(t, m, rsp, frame{err: 0, rip: codeAddr + c.rip, cs: selCode64, ss: selData, rsp: c.rsp})
		})
	}
}

func TestSoftwareIntNoErrorCode(t *testing.T) {
	// "the processor does not push an error code on the stack" when INT n
	// targets an exception vector that normally has one (SDM Vol. 3A
	// 6.13): the handler of 14 finds RIP on top of the stack.
	m := newAsm(t, 64, "int $14", nil)
	if v := m.runToHandler(); v != vPF {
		t.Fatalf("vector %d", v)
	}
	checkFrame64(t, m, stackTop-40, frame{err: -1, rip: codeAddr + 2, cs: selCode64, ss: selData, rsp: stackTop})
	if ev := lastEvent(t, m); ev.HasError || ev.Kind != cpu.EventSoftware {
		t.Errorf("event %s: want a software event without error code", eventString(ev))
	}
}

func TestInterruptSequence(t *testing.T) {
	// Two requests: the CPU acknowledges one per delivery while INTR stays
	// high; a handler returning with IRETQ re-enables and takes the next.
	src := "sti\n1: cmpq $2, 0x210000\njne 1b"
	m := newAsm(t, 64, src, func(ram []byte, s *cpu.State) {
		h := asm1(t, 64, "movq 0x210000, %rax\nmovq %rax, %rbx\nshlq $3, %rbx\nmovq 8(%rsp), %rcx\nmovq %rcx, 0x210100(%rbx)\nincq 0x210000\niretq")
		for _, v := range []int{0x20, 0x21} {
			a := uint64(fixHandler + 0x100*(v-0x20))
			copy(ram[a:], h)
			setGate64(ram, v, a, 0, 0)
		}
	})
	m.pic.pending = []uint8{0x21, 0x20}
	m.c.SetIRQ(true)
	m.complete()
	ev := m.c.Events()
	if len(ev) != 2 || ev[0].Vector != 0x21 || ev[1].Vector != 0x20 || ev[0].Kind != cpu.EventInterrupt {
		t.Errorf("events %v: want 0x21 then 0x20", ev)
	}
	if m.pic.acks < 2 {
		t.Errorf("acks %d", m.pic.acks)
	}

	// INTR dropped before the CPU could take it: nothing delivered.
	m = newAsm(t, 64, "nop\nsti\nnop\nnop", nil)
	m.raise(0x20)
	m.c.Step()
	m.c.SetIRQ(false)
	m.complete()
	if len(m.c.Events()) != 0 {
		t.Errorf("an interrupt was delivered after INTR dropped: %v", m.c.Events())
	}
}

// TestStepWithoutInterrupts: with SetStepTakesInterrupts(false) (QEMU's
// NOIRQ single-step mode, the gdb stub's default) a step runs the next
// instruction although an interrupt is pending; Run then takes it.
func TestStepWithoutInterrupts(t *testing.T) {
	m := newAsm(t, 64, "movl $1, %eax\nmovl $2, %ebx\nmovl $3, %ecx", func(ram []byte, s *cpu.State) {
		s.RFLAGS |= fIF
	})
	m.c.SetStepTakesInterrupts(false)
	m.raise(0x20)
	m.c.Step()
	if m.c.RIP() != codeAddr+5 || m.c.Reg(cpu.RAX) != 1 {
		t.Fatalf("step with an interrupt pending: RIP %#x rax %d, want the next instruction", m.c.RIP(), m.c.Reg(cpu.RAX))
	}
	m.c.SetStepTakesInterrupts(true)
	m.c.Step()
	if m.c.RIP() != handlerAddr(0x20) {
		t.Errorf("with interrupts taken again: RIP %#x, want the handler %#x", m.c.RIP(), handlerAddr(0x20))
	}
}
