package cpu_test

import (
	"encoding/binary"
	"testing"

	"vmapstack/target/cpu"
)

// System instructions the kernel uses (docs/design.md §3), checked against SDM
// Vol. 2 and Vol. 4 (MSRs).

func TestCPUID(t *testing.T) {
	m := newAsm(t, 64, `
	movl $0x80000000, %eax
	cpuid
	movl %eax, %r8d
	movl $0x80000001, %eax
	cpuid
	movl %edx, %r9d
	movl $1, %eax
	cpuid
	movl %edx, %r10d
	xorl %eax, %eax
	cpuid`, func(ram []byte, s *cpu.State) {
		s.GPR[cpu.RAX] = garbage
		s.GPR[cpu.RBX] = garbage
		s.GPR[cpu.RCX] = garbage
		s.GPR[cpu.RDX] = garbage
	})
	st := m.complete()
	if st.GPR[cpu.R8] < 0x80000001 {
		t.Errorf("CPUID.80000000h:EAX = %#x: extended leaf 80000001h missing", st.GPR[cpu.R8])
	}
	// CPUID.80000001h:EDX: bit 29 Intel 64 (LM), bit 20 XD (NX).
	if st.GPR[cpu.R9]&(1<<29|1<<20) != 1<<29|1<<20 {
		t.Errorf("CPUID.80000001h:EDX = %#x: want LM (29) and NX (20)", st.GPR[cpu.R9])
	}
	// CPUID.1:EDX: TSC (4), MSR (5), PAE (6).
	if st.GPR[cpu.R10]&(1<<4|1<<5|1<<6) != 1<<4|1<<5|1<<6 {
		t.Errorf("CPUID.1:EDX = %#x: want TSC, MSR, PAE", st.GPR[cpu.R10])
	}
	// Leaf 0: max basic leaf >= 1; the 32-bit results zero-extend.
	if st.GPR[cpu.RAX] < 1 || st.GPR[cpu.RAX]>>32 != 0 || st.GPR[cpu.RBX]>>32 != 0 || st.GPR[cpu.RCX]>>32 != 0 || st.GPR[cpu.RDX]>>32 != 0 {
		t.Errorf("CPUID.0: rax %#x rbx %#x rcx %#x rdx %#x", st.GPR[cpu.RAX], st.GPR[cpu.RBX], st.GPR[cpu.RCX], st.GPR[cpu.RDX])
	}
}

func TestRDTSC(t *testing.T) {
	// The TSC counts up (SDM Vol. 3B 18.17); EDX:EAX, upper halves zero.
	m := newAsm(t, 64, `
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, %rbx
	movl $100, %ecx
1:	loop 1b
	movq $-1, %rdx
	rdtsc`, nil)
	st := m.complete()
	second := st.GPR[cpu.RDX]<<32 | st.GPR[cpu.RAX]
	if st.GPR[cpu.RDX]>>32 != 0 || st.GPR[cpu.RAX]>>32 != 0 {
		t.Errorf("RDTSC left upper halves: rax %#x rdx %#x", st.GPR[cpu.RAX], st.GPR[cpu.RDX])
	}
	if second <= st.GPR[cpu.RBX] {
		t.Errorf("TSC did not advance over 100 instructions: %d then %d", st.GPR[cpu.RBX], second)
	}
}

func TestPortIO(t *testing.T) {
	m := newAsm(t, 64, `
	movw $0x501, %dx
	movb $0x31, %al
	outb %al, %dx
	outw %ax, $0x80
	movl $0x12345678, %eax
	outl %eax, %dx
	movq $-1, %rax
	inb $0x60, %al
	movq %rax, %rbx
	movq $-1, %rax
	movw $0x3f8, %dx
	inl %dx, %eax
	movq $-1, %rcx
	movw $0x64, %dx
	xchgq %rax, %rcx
	inw %dx, %ax
	xchgq %rax, %rcx`, func(ram []byte, s *cpu.State) {})
	m.bus.in[0x60] = 0xab
	m.bus.in[0x3f8] = 0xcafe0001
	m.bus.in[0x64] = 0x1234
	st := m.complete()
	want := []portWrite{{0x501, 1, 0x31}, {0x80, 2, 0x31}, {0x501, 4, 0x12345678}}
	if len(m.bus.outs) != len(want) {
		t.Fatalf("port writes %v, want %v", m.bus.outs, want)
	}
	for i := range want {
		if m.bus.outs[i] != want[i] {
			t.Errorf("port write %d = %+v, want %+v", i, m.bus.outs[i], want[i])
		}
	}
	if st.GPR[cpu.RBX] != 0xffffffffffffffab {
		t.Errorf("inb: rax %#x, want the low byte replaced only", st.GPR[cpu.RBX])
	}
	if st.GPR[cpu.RAX] != 0xcafe0001 {
		t.Errorf("inl: rax %#x, want zero-extended 0xcafe0001", st.GPR[cpu.RAX])
	}
	if st.GPR[cpu.RCX] != 0xffffffffffff1234 {
		t.Errorf("inw: %#x", st.GPR[cpu.RCX])
	}
}

// TestPrivilegedFromUser: at CPL 3 with IOPL 0 and no I/O bitmap (the TSS
// I/O map base is beyond its limit), IN/OUT, CLI, MOV to CR, WRMSR, LIDT,
// INVLPG and HLT are #GP(0) (SDM Vol. 1 19.5.2; Vol. 2 per instruction).
func TestPrivilegedFromUser(t *testing.T) {
	srcs := map[string]string{
		"out":    "outb %al, $0x80",
		"in":     "inb %dx, %al",
		"cli":    "cli",
		"mov-cr": "movq %rax, %cr3",
		"rd-cr":  "movq %cr0, %rax",
		"wrmsr":  "wrmsr",
		"rdmsr":  "rdmsr",
		"lidt":   "lidt 0x200000",
		"invlpg": "invlpg 0x200000",
		"swapgs": "swapgs",
	}
	var list []string
	for _, s := range srcs {
		list = append(list, s)
	}
	assemble(t, 64, list...)
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			m := newAsm(t, 64, src, func(ram []byte, s *cpu.State) {
				userMode(s)
				s.GPR[cpu.RCX] = 0xc0000100
			})
			if v := m.runToHandler(); v != vGP {
				t.Fatalf("vector %d, want #GP", v)
			}
			checkFrame64(t, m, rsp0Top-48, frame{err: 0, rip: codeAddr, cs: selUCode64, ss: selUData, rsp: userStackTop})
			if len(m.bus.outs) != 0 {
				t.Errorf("port write happened: %v", m.bus.outs)
			}
		})
	}
}

func TestMSRsAndSwapgs(t *testing.T) {
	// IA32_FS_BASE C000_0100H, IA32_GS_BASE C000_0101H,
	// IA32_KERNEL_GS_BASE C000_0102H (SDM Vol. 4 Table 2-2); SWAPGS
	// exchanges GS.base with IA32_KERNEL_GS_BASE (SDM Vol. 2 SWAPGS).
	m := newAsm(t, 64, `
	movl $0xc0000100, %ecx
	movl $0x200000, %eax
	xorl %edx, %edx
	wrmsr
	movl $0xc0000101, %ecx
	movl $0x200100, %eax
	wrmsr
	movl $0xc0000102, %ecx
	movl $0x200200, %eax
	wrmsr
	movq %fs:8, %r8
	movq %gs:8, %r9
	swapgs
	movq %gs:8, %r10
	movl $0xc0000101, %ecx
	rdmsr
	movq %rax, %r11
	movl $0xc0000102, %ecx
	rdmsr
	movq %rax, %r12`, func(ram []byte, s *cpu.State) {
		le64(ram, dataAddr+8, 0xf5)
		le64(ram, dataAddr+0x108, 0x65)
		le64(ram, dataAddr+0x208, 0x6b)
	})
	st := m.complete()
	if st.GPR[cpu.R8] != 0xf5 || st.GPR[cpu.R9] != 0x65 || st.GPR[cpu.R10] != 0x6b {
		t.Errorf("fs:8 %#x gs:8 %#x gs:8 after swapgs %#x; want 0xf5 0x65 0x6b", st.GPR[cpu.R8], st.GPR[cpu.R9], st.GPR[cpu.R10])
	}
	if st.GPR[cpu.R11] != 0x200200 || st.GPR[cpu.R12] != 0x200100 {
		t.Errorf("after SWAPGS: GS_BASE %#x KERNEL_GS_BASE %#x; want swapped", st.GPR[cpu.R11], st.GPR[cpu.R12])
	}
	if st.Seg[cpu.FS].Base != 0x200000 || st.Seg[cpu.GS].Base != 0x200200 || st.KernelGSBase != 0x200100 {
		t.Errorf("State FS.Base %#x GS.Base %#x KernelGSBase %#x", st.Seg[cpu.FS].Base, st.Seg[cpu.GS].Base, st.KernelGSBase)
	}
	// "If the value in EDX:EAX is not canonical ... #GP(0)" for the base
	// MSRs (SDM Vol. 2 WRMSR).
	m = newAsm(t, 64, "wrmsr", func(ram []byte, s *cpu.State) {
		s.GPR[cpu.RCX] = 0xc0000100
		s.GPR[cpu.RDX] = 0x8000
	})
	if v := m.runToHandler(); v != vGP {
		t.Errorf("WRMSR of a non-canonical FS base: vector %d, want #GP", v)
	}
}

func TestDescriptorTables(t *testing.T) {
	// LIDT/LGDT load 10-byte pseudo-descriptors in 64-bit mode; SIDT/SGDT
	// store them. LTR loads TR from an available TSS descriptor and marks
	// it busy (SDM Vol. 2 LTR).
	m := newAsm(t, 64, `
	lidt 0x200000
	sidt 0x200010
	sgdt 0x200020
	movw $0x40, %ax
	ltr %ax
	str %bx`, func(ram []byte, s *cpu.State) {
		copy(ram[dataAddr:], []byte{0xff, 0x0f, 0x00, 0x70, 0, 0, 0, 0, 0, 0})
		ram[gdtAddr+selTSS+5] = 0x89 // available 64-bit TSS
		s.TR = cpu.Seg{Attr: 0x8b}
	})
	st := m.complete()
	if st.IDTR.Base != idtAddr || st.IDTR.Limit != 0xfff {
		t.Errorf("IDTR %+v", st.IDTR)
	}
	if got := m.ram[dataAddr+0x10 : dataAddr+0x1a]; string(got) != string(m.ram[dataAddr:dataAddr+10]) {
		t.Errorf("SIDT stored % x", got)
	}
	if got := m.ram[dataAddr+0x20 : dataAddr+0x2a]; string(got) != string([]byte{0x4f, 0, 0, 0x60, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("SGDT stored % x", got)
	}
	if st.TR.Sel != selTSS || st.TR.Base != tssAddr || st.TR.Limit != 0x67 || st.TR.Attr&0xf != 0xb {
		t.Errorf("TR = %+v: want selector 0x40 base %#x limit 0x67 busy", st.TR, tssAddr)
	}
	if m.ram[gdtAddr+selTSS+5]&0xf != 0xb {
		t.Errorf("TSS descriptor type %#x after LTR, want busy (0xb)", m.ram[gdtAddr+selTSS+5]&0xf)
	}
	if st.GPR[cpu.RBX]&0xffff != selTSS {
		t.Errorf("STR = %#x", st.GPR[cpu.RBX]&0xffff)
	}
}

func TestControlRegisters(t *testing.T) {
	// MOV to/from CRn; MOV to CR3 with a new root switches address spaces
	// at once.
	m := newAsm(t, 64, `
	movq %cr0, %rax
	movq %cr4, %rbx
	movq %cr3, %rcx
	movq $0xd000, %rdx
	movq %rdx, %cr3
	movq 0x300000, %r8
	movq %rcx, %cr3
	movq 0x300000, %r9
	movq $0x1234, %r10
	movq %r10, %cr2
	movq %cr2, %r11`, func(ram []byte, s *cpu.State) {
		// A second address space at 0xd000 sharing PDPT/PD but whose PML4
		// is a copy; its view of 0x300000 differs through a different PD.
		le64(ram, 0xd000, 0xe000|pteDef)
		le64(ram, 0xe000, 0xf000|pteDef)
		le64(ram, 0xf000, pt0Addr|pteDef)
		le64(ram, 0xf008, 0x10000|pteDef) // a PT for 2-4M
		for n := uint64(0); n < 512; n++ {
			le64(ram, 0x10000+8*n, (0x200000+n<<12)|pteDef)
		}
		le64(ram, 0x10000+8*0x100, otherPage|pteDef) // 0x300000 -> otherPage
		le64(ram, testPage, valA)
		le64(ram, otherPage, valB)
	})
	st := m.complete()
	if st.GPR[cpu.RAX] != m.init.CR0 || st.GPR[cpu.RBX] != m.init.CR4 || st.GPR[cpu.RCX] != pml4Addr {
		t.Errorf("read CR0 %#x CR4 %#x CR3 %#x", st.GPR[cpu.RAX], st.GPR[cpu.RBX], st.GPR[cpu.RCX])
	}
	if st.GPR[cpu.R8] != valB || st.GPR[cpu.R9] != valA {
		t.Errorf("reads through the two address spaces: %#x %#x, want %#x %#x", st.GPR[cpu.R8], st.GPR[cpu.R9], uint64(valB), uint64(valA))
	}
	if st.GPR[cpu.R11] != 0x1234 || st.CR2 != 0x1234 {
		t.Errorf("CR2 %#x / %#x", st.GPR[cpu.R11], st.CR2)
	}
}

func TestSegmentOverrides(t *testing.T) {
	// In 64-bit mode DS/ES/SS bases are treated as 0 (SDM Vol. 3A 3.2.4);
	// FS and GS bases apply.
	m := newAsm(t, 64, "movq %ds:8, %rax\nmovq %fs:8, %rbx\nmovq %es:(%rdi), %rcx\nmovq %ss:(%rdi), %rdx", func(ram []byte, s *cpu.State) {
		s.Seg[cpu.DS].Base = 0x100
		s.Seg[cpu.ES].Base = 0x100
		s.Seg[cpu.SS].Base = 0x100
		s.Seg[cpu.FS].Base = dataAddr
		s.GPR[cpu.RDI] = dataAddr
		le64(ram, 8, 0)
		le64(ram, dataAddr, 0x77)
		le64(ram, dataAddr+8, 0x99)
	})
	// Page 0 is not present in the harness map; map it for this test.
	setPTE(m.ram, 0, pteDef)
	st := m.complete()
	if st.GPR[cpu.RAX] != 0 || st.GPR[cpu.RBX] != 0x99 || st.GPR[cpu.RCX] != 0x77 || st.GPR[cpu.RDX] != 0x77 {
		t.Errorf("rax %#x rbx %#x rcx %#x rdx %#x", st.GPR[cpu.RAX], st.GPR[cpu.RBX], st.GPR[cpu.RCX], st.GPR[cpu.RDX])
	}
}

func TestInterruptedRepString(t *testing.T) {
	// REP string instructions are interruptible between iterations; the
	// registers then describe the remaining work and the saved RIP is the
	// REP instruction, so after IRET it completes (SDM Vol. 2 REP). The
	// interrupt may be taken at any iteration; the end result is fixed.
	// sti at +0, rep stosb at +1, then a spin until the handler has run
	// at +3.
	src := "sti\nrep stosb\n1: cmpq $0, 0x210010\nje 1b"
	m := newAsm(t, 64, src, func(ram []byte, s *cpu.State) {
		s.GPR[cpu.RAX] = 0x5a
		s.GPR[cpu.RDI] = dataAddr
		s.GPR[cpu.RCX] = 5000
		setGate64(ram, 0x23, fixHandler, 0, 0)
		copy(ram[fixHandler:], asm1(t, 64, "movq %rcx, 0x210000\nmovq (%rsp), %rax\nmovq %rax, 0x210008\nmovq $1, 0x210010\nmovl $0x5a, %eax\niretq"))
	})
	m.c.SetBreakpoint(m.end, true)
	m.run(3)
	m.raise(0x23)
	st := m.complete()
	if st.GPR[cpu.RCX] != 0 || st.GPR[cpu.RDI] != dataAddr+5000 {
		t.Errorf("after the interrupted REP STOSB: rcx %d rdi %#x", st.GPR[cpu.RCX], st.GPR[cpu.RDI])
	}
	for i := uint64(0); i < 5000; i++ {
		if m.ram[dataAddr+i] != 0x5a {
			t.Fatalf("byte %d not stored", i)
		}
	}
	if m.ram[dataAddr+5000] != 0 {
		t.Errorf("stored past the count")
	}
	if len(m.c.Events()) != 1 {
		t.Fatalf("events %v, want one interrupt", m.c.Events())
	}
	rcxSeen, ripSeen := m.r64(0x210000), m.r64(0x210008)
	switch {
	case ripSeen == codeAddr+1:
		if rcxSeen == 0 || rcxSeen > 5000 {
			t.Errorf("interrupted at the REP with rcx %d", rcxSeen)
		}
	case ripSeen > codeAddr+1 && ripSeen < m.end:
		if rcxSeen != 0 {
			t.Errorf("interrupted after the REP (RIP %#x) with rcx %d", ripSeen, rcxSeen)
		}
	default:
		t.Errorf("interrupt frame RIP %#x: want the REP (%#x) or a later instruction", ripSeen, codeAddr+1)
	}
}

// TestSyscallSysret: SYSRETQ to CPL 3 and SYSCALL back (SDM Vol. 2B
// SYSCALL, SYSRET): CS/SS from IA32_STAR, RIP from IA32_LSTAR, RCX and
// R11 saved, RFLAGS masked with IA32_FMASK.
func TestSyscallSysret(t *testing.T) {
	m := newAsm(t, 64, `
	movl $0xc0000081, %ecx
	xorl %eax, %eax
	movl $0x00200008, %edx
	wrmsr
	movl $0xc0000082, %ecx
	leaq entry(%rip), %rax
	movq %rax, %rdx
	shrq $32, %rdx
	wrmsr
	movl $0xc0000084, %ecx
	movl $0x600, %eax
	xorl %edx, %edx
	wrmsr
	movl $0xc0000080, %ecx
	rdmsr
	orl $1, %eax
	wrmsr
	leaq user(%rip), %rcx
	movq $0x60000000ffff0402, %r11
	sysretq
user:
	movl %cs, %r13d
	movl %ss, %r14d
	leaq after(%rip), %r15
	syscall
after:
	ud2
entry:
	movq %rcx, %r8
	movq %r11, %r9
	pushfq
	popq %r10
	movl %cs, %eax
	movl %ss, %ebx`, nil)
	st := m.complete()
	want := map[int]uint64{cpu.R13: 0x33, cpu.R14: 0x2b, cpu.R8: st.GPR[cpu.R15], cpu.RAX: 0x08, cpu.RBX: 0x10}
	for r, v := range want {
		if st.GPR[r] != v {
			t.Errorf("r%d = %#x, want %#x", r, st.GPR[r], v)
		}
	}
	// SYSRET loaded R11's flags (reserved bits dropped, bit 1 set); the
	// user's RFLAGS came back in R11 and were masked on entry.
	if st.GPR[cpu.R9]&0xffff != 0x402 || st.GPR[cpu.R9]>>32 != 0 {
		t.Errorf("R11 after SYSCALL = %#x, want the user's RFLAGS 0x402", st.GPR[cpu.R9])
	}
	if st.GPR[cpu.R10]&0x600 != 0 {
		t.Errorf("RFLAGS in the handler = %#x: IA32_FMASK (IF, DF) not applied", st.GPR[cpu.R10])
	}
	if st.Seg[cpu.CS].Sel != 0x08 || st.Seg[cpu.CS].Attr != 0xa09b || st.Seg[cpu.SS].Attr != 0xc093 {
		t.Errorf("after SYSCALL: CS %#x attr %#x, SS attr %#x", st.Seg[cpu.CS].Sel, st.Seg[cpu.CS].Attr, st.Seg[cpu.SS].Attr)
	}
}

// TestSyscallNeedsSCE: without EFER.SCE, SYSCALL and SYSRET are #UD.
func TestSyscallNeedsSCE(t *testing.T) {
	for _, src := range []string{"syscall", "sysretq"} {
		m := newAsm(t, 64, src, nil)
		if v := m.runToHandler(); v != 6 {
			t.Errorf("%s without EFER.SCE: vector %d, want #UD (6)", src, v)
		}
	}
}

// TestQEMUModelMSRs: the MSRs Linux reads on qemu64 answer as under QEMU
// 7.2, the AMD ones QEMU answers with 0 too, and an MSR that does not
// exist raises #GP (Linux probes with rdmsr_safe).
func TestQEMUModelMSRs(t *testing.T) {
	c := cpu.New(make([]byte, 1<<20), nil, nil)
	for _, tc := range []struct {
		msr  uint32
		want uint64
	}{
		{0xfe, 0x508},               // MTRRcap: 8 variable, fixed, WC
		{0x179, 0x100010a},          // MCG_CAP: 10 banks, MCG_CTL_P, MCG_SER_P
		{0x17b, ^uint64(0)},         // MCG_CTL
		{0x400, ^uint64(0)},         // MC0_CTL
		{0x8b, 0x01000065},          // patch level
		{0x277, 0x0007040600070406}, // PAT at reset
		{0xc0010010, 0},             // SYSCFG
		{0xc0010015, 0},             // HWCR
		{0xc0011029, 0},             // DE_CFG
	} {
		if v, err := c.ReadMSR(tc.msr); err != nil || v != tc.want {
			t.Errorf("rdmsr %#x = %#x, %v; want %#x", tc.msr, v, err, tc.want)
		}
	}
	if err := c.WriteMSR(0x2ff, 0xc06); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.ReadMSR(0x2ff); v != 0xc06 {
		t.Errorf("MTRRdefType reads back %#x", v)
	}
	if _, err := c.ReadMSR(0x3a); err == nil {
		t.Error("rdmsr 0x3a (an Intel MSR qemu64 lacks) did not #GP")
	}
	if err := c.WriteMSR(0xfe, 0); err == nil {
		t.Error("wrmsr to the read-only MTRRcap did not #GP")
	}
}

// TestSegmentChecks: LSL, LAR, VERR and VERW answer in ZF and never fault
// on a bad selector (SDM Vol. 2A LAR, Vol. 2B LSL, VERR/VERW); Linux's vDSO
// reads the CPU number with LSL on qemu64. LFS loads a far pointer.
func TestSegmentChecks(t *testing.T) {
	m := newAsm(t, 64, `
	movl $0x2b, %eax
	movl $7, %ebx
	lsl %eax, %ebx
	setz %r8b
	lar %eax, %ecx
	verr %ax
	setz %r9b
	verw %ax
	setz %r10b
	movl $0x33, %eax
	verr %ax
	setz %r11b
	verw %ax
	setz %r12b
	movl $0x1000, %eax
	movl $7, %edx
	lsl %eax, %edx
	setz %r13b
	movl $0x40, %eax
	lsl %eax, %esi
	setz %r14b
	lfs (%rdi), %r15d`, func(ram []byte, s *cpu.State) {
		for _, r := range []int{cpu.R8, cpu.R9, cpu.R10, cpu.R11, cpu.R12, cpu.R13, cpu.R14} {
			s.GPR[r] = 0xff
		}
		s.GPR[cpu.RDI] = dataAddr
		binary.LittleEndian.PutUint32(ram[dataAddr:], 0x12345678)
		ram[dataAddr+4], ram[dataAddr+5] = 0x2b, 0
	})
	st := m.complete()
	for _, c := range []struct {
		reg  int
		want uint64
		what string
	}{
		{cpu.RBX, 0xffffffff, "LSL of the user data segment: its limit, 4G-1"},
		{cpu.R8, 1, "LSL ZF"},
		{cpu.RCX, 0x00c0f300, "LAR: type, S, DPL, P, D/B, G"},
		{cpu.R9, 1, "VERR of writable data"},
		{cpu.R10, 1, "VERW of writable data"},
		{cpu.R11, 1, "VERR of readable code"},
		{cpu.R12, 0, "VERW of code"},
		{cpu.RDX, 7, "LSL beyond the GDT limit leaves the destination"},
		{cpu.R13, 0, "LSL beyond the GDT limit: ZF clear"},
		{cpu.R14, 1, "LSL of the 64-bit TSS"},
		{cpu.RSI, 0x67, "the TSS's limit"},
		{cpu.R15, 0x12345678, "LFS: the offset"},
	} {
		if got := st.GPR[c.reg] & 0xffffffff; got != c.want {
			t.Errorf("%s: r%d = %#x, want %#x", c.what, c.reg, got, c.want)
		}
	}
	if st.Seg[cpu.FS].Sel != 0x2b {
		t.Errorf("LFS: FS = %#x, want 0x2b", st.Seg[cpu.FS].Sel)
	}
}

// TestPOPCNTIsUD: qemu64 does not announce POPCNT (CPUID.01H:ECX bit 23),
// so it raises #UD as under QEMU ("#UD If CPUID.01H:ECX.POPCNT [Bit 23] =
// 0", SDM Vol. 2B POPCNT).
func TestPOPCNTIsUD(t *testing.T) {
	m := newAsm(t, 64, "popcntq %rbx, %rax", nil)
	if v := m.runToHandler(); v != vUD {
		t.Errorf("POPCNT: vector %d, want #UD", v)
	}
}

// TestDebugRegisters: MOV to/from DRn (SDM Vol. 2 MOV—Move to/from Debug
// Registers; Vol. 3B 18.2, Figure 18-1). DR6 bits 4-11 and 16-31 read as
// 1 and bit 12 as 0; DR7 bit 10 reads as 1 and bits 11, 12, 14, 15 as 0
// (qemu64 has no RTM); after reset DR6 is FFFF0FF0H and DR7 00000400H
// (Vol. 3A Table 9-1). DR4 and DR5 alias DR6 and DR7 when CR4.DE is
// clear and are #UD when it is set; a 1 in bits 63:32 of DR6 or DR7 is
// #GP(0). Linux's oops prints DR0-DR7 whenever DR6 or DR7 differ from
// their defaults.
func TestDebugRegisters(t *testing.T) {
	reads := `
	movq %dr0, %r8
	movq %dr6, %r9
	movq %dr7, %r10
	movq %dr4, %r11
	movq %dr5, %r12`
	type want struct{ dr0, dr6, dr7 uint64 }
	cases := []struct {
		name string
		src  string // runs before reads
		want want
	}{
		{"reset", "", want{0, 0xffff0ff0, 0x400}},
		{"zeros", "xorl %eax, %eax; movq %rax, %dr6; movq %rax, %dr7", want{0, 0xffff0ff0, 0x400}},
		{"ones", "movl $0xffffffff, %eax; movq %rax, %dr6; movq %rax, %dr7", want{0, 0xffffefff, 0xffff27ff}},
		{"linux", "movl $0xffff0ff0, %eax; movq %rax, %dr6; movl $0x400, %eax; movq %rax, %dr7", want{0, 0xffff0ff0, 0x400}},
		{"status", "movl $0x4001, %eax; movq %rax, %dr6; movl $0x2003, %eax; movq %rax, %dr7", want{0, 0xffff4ff1, 0x2403}},
		{"dr0 64-bit", "movq $0xffffc90000003ff8, %rax; movq %rax, %dr0", want{0xffffc90000003ff8, 0xffff0ff0, 0x400}},
		{"dr4 dr5 alias", "movl $0x1, %eax; movq %rax, %dr4; movl $0x2, %eax; movq %rax, %dr5", want{0, 0xffff0ff1, 0x402}},
	}
	var srcs []string
	for _, c := range cases {
		srcs = append(srcs, c.src+reads)
	}
	assemble(t, 64, srcs...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newAsm(t, 64, c.src+reads, nil).complete()
			got := want{st.GPR[cpu.R8], st.GPR[cpu.R9], st.GPR[cpu.R10]}
			if got != c.want {
				t.Errorf("DR0 %#x DR6 %#x DR7 %#x, want %#x %#x %#x", got.dr0, got.dr6, got.dr7, c.want.dr0, c.want.dr6, c.want.dr7)
			}
			if st.GPR[cpu.R11] != got.dr6 || st.GPR[cpu.R12] != got.dr7 {
				t.Errorf("DR4 %#x DR5 %#x, want DR6's %#x and DR7's %#x with CR4.DE clear", st.GPR[cpu.R11], st.GPR[cpu.R12], got.dr6, got.dr7)
			}
		})
	}

	faults := []struct {
		name string
		src  string
		de   bool // CR4.DE
		vec  int
	}{
		{"dr6 bit 32", "movq $0x1ffff0ff0, %rax; movq %rax, %dr6", false, vGP},
		{"dr7 bit 63", "movq $0x8000000000000400, %rax; movq %rax, %dr7", false, vGP},
		{"read dr4 with CR4.DE", "movq %dr4, %rax", true, vUD},
		{"write dr5 with CR4.DE", "movq %rax, %dr5", true, vUD},
		{"read dr6 at CPL 3", "movq %dr6, %rax", false, vGP},
	}
	srcs = srcs[:0]
	for _, f := range faults {
		srcs = append(srcs, f.src)
	}
	assemble(t, 64, srcs...)
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			m := newAsm(t, 64, f.src, func(ram []byte, s *cpu.State) {
				if f.de {
					s.CR4 |= 1 << 3
				}
				if f.name == "read dr6 at CPL 3" {
					userMode(s)
				}
			})
			if v := m.runToHandler(); v != f.vec {
				t.Errorf("vector %d, want %d", v, f.vec)
			}
		})
	}
}
