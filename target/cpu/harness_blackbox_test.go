package cpu_test

// Black-box test harness for package cpu: guest code is assembled with GNU
// as at test time, placed in a RAM slice with page tables, a GDT, an IDT
// and a TSS built here, and run through the exported API only. The
// expected values come from the Intel SDM (Vol. 2 instruction pages, Vol.
// 3A chapters 4 and 6), never from the emulator.

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/target/cpu"
)

// RFLAGS bits (SDM Vol. 1 3.4.3).
const (
	fCF = 1 << 0
	fPF = 1 << 2
	fAF = 1 << 4
	fZF = 1 << 6
	fSF = 1 << 7
	fTF = 1 << 8
	fIF = 1 << 9
	fDF = 1 << 10
	fOF = 1 << 11
	fRF = 1 << 16

	fixed1     = 1 << 1 // RFLAGS bit 1 reads as 1
	statusMask = fCF | fPF | fAF | fZF | fSF | fOF
)

// Guest physical layout. Paging is an identity map of the first 4 MiB with
// 4K pages (PT0 and PT1 are contiguous, so the PTE of linear page n is at
// pt0Addr+8n); page 0 is left not present.
const (
	ramSize     = 4 << 20
	pml4Addr    = 0x1000
	pdptAddr    = 0x2000
	pdAddr      = 0x3000
	pt0Addr     = 0x4000
	pt1Addr     = 0x5000
	gdtAddr     = 0x6000
	idtAddr     = 0x7000 // 64-bit IDT: 256 x 16 bytes
	tssAddr     = 0x8000
	handlerBase = 0x9000 // handler of vector v at handlerBase+16v: a HLT
	idt32Addr   = 0xb000 // 32-bit IDT: 256 x 8 bytes
	stackTop    = 0x80000
	ist1Top     = 0x90000
	ist2Top     = 0x88000
	rsp0Top     = 0xa0000
	codeAddr    = 0x100000
	dataAddr    = 0x200000

	selCode64  = 0x08
	selData    = 0x10
	selCode32  = 0x18
	selData32  = 0x20
	selUData   = 0x2b // GDT index 5, RPL 3
	selUCode64 = 0x33 // GDT index 6, RPL 3
	selTSS     = 0x40

	pteP   = 1 << 0
	pteRW  = 1 << 1
	pteUS  = 1 << 2
	pteA   = 1 << 5
	pteD   = 1 << 6
	ptePS  = 1 << 7
	pteG   = 1 << 8
	pteNX  = 1 << 63
	pteDef = pteP | pteRW | pteUS

	cr0PE   = 1 << 0
	cr0ET   = 1 << 4
	cr0NE   = 1 << 5
	cr0WP   = 1 << 16
	cr0PG   = 1 << 31
	cr4PAE  = 1 << 5
	cr4PGE  = 1 << 7
	eferLME = 1 << 8
	eferLMA = 1 << 10
	eferNXE = 1 << 11

	runLimit = 200000 // safety net for one snippet, in instructions
)

// ---------------------------------------------------------------------
// Assembling snippets with GNU as.

var asmCache = struct {
	sync.Mutex
	m map[string][]byte
}{m: map[string][]byte{}}

// assemble returns the machine code of every snippet (AT&T syntax unless
// the snippet switches). All snippets not yet cached are assembled in a
// single `as` run, each in its own section, so one table costs one
// process. Snippets must be position independent or use absolute numeric
// addresses (code runs at codeAddr); named labels must be unique within a
// batch (prefer numeric local labels 1: / 1b / 1f).
func assemble(t testing.TB, bits int, srcs ...string) [][]byte {
	t.Helper()
	testtool.Require(t, "as")
	key := func(s string) string { return fmt.Sprintf("%d\x00%s", bits, s) }
	asmCache.Lock()
	defer asmCache.Unlock()
	var missing []string
	seen := map[string]bool{}
	for _, s := range srcs {
		if _, ok := asmCache.m[key(s)]; !ok && !seen[s] {
			seen[s] = true
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		codes, err := runAs(bits, missing)
		if err != nil {
			t.Fatalf("assemble: %v", err)
		}
		for i, s := range missing {
			asmCache.m[key(s)] = codes[i]
		}
	}
	out := make([][]byte, len(srcs))
	for i, s := range srcs {
		out[i] = asmCache.m[key(s)]
	}
	return out
}

// asm1 assembles one snippet.
func asm1(t testing.TB, bits int, src string) []byte {
	t.Helper()
	return assemble(t, bits, src)[0]
}

func runAs(bits int, srcs []string) ([][]byte, error) {
	dir, err := os.MkdirTemp("", "cpu-blackbox-as")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var b strings.Builder
	if bits == 64 {
		b.WriteString(".code64\n")
	} else {
		b.WriteString(".code32\n")
	}
	for i, s := range srcs {
		fmt.Fprintf(&b, ".section .text.c%d,\"ax\",@progbits\n.att_syntax prefix\n", i)
		if bits == 64 {
			b.WriteString(".code64\n")
		} else {
			b.WriteString(".code32\n")
		}
		b.WriteString(s)
		b.WriteString("\n")
	}
	src := filepath.Join(dir, "t.s")
	obj := filepath.Join(dir, "t.o")
	if err := os.WriteFile(src, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	flag := "--64"
	if bits == 32 {
		flag = "--32"
	}
	cmd := exec.Command("as", flag, "-o", obj, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("as %s: %v\n%s\nsource:\n%s", flag, err, out, numbered(b.String()))
	}
	f, err := elf.Open(obj)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", obj, err)
	}
	defer f.Close()
	codes := make([][]byte, len(srcs))
	for i := range srcs {
		name := fmt.Sprintf(".text.c%d", i)
		if f.Section(".rela"+name) != nil || f.Section(".rel"+name) != nil {
			return nil, fmt.Errorf("snippet %d needs relocations (use numeric addresses or local labels):\n%s", i, srcs[i])
		}
		sec := f.Section(name)
		if sec == nil {
			codes[i] = nil
			continue
		}
		d, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
		codes[i] = d
	}
	return codes, nil
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Devices the CPU talks to.

type portWrite struct {
	port uint16
	size int
	val  uint32
}

type fakeBus struct {
	outs []portWrite
	in   map[uint16]uint32
}

func (b *fakeBus) In(port uint16, size int) uint32 { return b.in[port] }
func (b *fakeBus) Out(port uint16, size int, val uint32) {
	b.outs = append(b.outs, portWrite{port, size, val})
}

// fakePIC hands out queued vectors on the acknowledge cycle.
type fakePIC struct {
	pending []uint8
	acks    int
}

func (p *fakePIC) Ack() (uint8, bool) {
	p.acks++
	if len(p.pending) == 0 {
		return 0, false
	}
	v := p.pending[0]
	p.pending = p.pending[1:]
	return v, true
}

// ---------------------------------------------------------------------
// The machine.

type machine struct {
	t    testing.TB
	c    *cpu.CPU
	ram  []byte
	bus  *fakeBus
	pic  *fakePIC
	bits int
	end  uint64 // address of the HLT appended after the snippet
	init cpu.State
}

func le64(b []byte, off uint64, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }
func le16(b []byte, off uint64, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }

// buildTables writes the page tables, GDT, 64-bit and 32-bit IDTs, TSS
// and exception handlers into ram.
func buildTables(ram []byte) {
	// 4-level identity map of 0..4M with 4K pages, U/S=1 everywhere so a
	// CPL 3 context can run anywhere unless a test clears it.
	le64(ram, pml4Addr, pdptAddr|pteDef)
	le64(ram, pdptAddr, pdAddr|pteDef)
	le64(ram, pdAddr, pt0Addr|pteDef)
	le64(ram, pdAddr+8, pt1Addr|pteDef)
	for n := uint64(1); n < 1024; n++ {
		le64(ram, pt0Addr+8*n, n<<12|pteDef)
	}
	// GDT (SDM Vol. 3A 3.4.5, 7.2.3 for the 16-byte 64-bit TSS descriptor).
	gdt := []uint64{
		0,
		0x00af9b000000ffff, // 0x08 kernel code, L=1
		0x00cf93000000ffff, // 0x10 kernel data
		0x00cf9b000000ffff, // 0x18 code, 32-bit (D=1)
		0x00cf93000000ffff, // 0x20 data, 32-bit
		0x00cff3000000ffff, // 0x28 user data, DPL 3
		0x00affb000000ffff, // 0x30 user code, L=1, DPL 3
		0,
	}
	for i, d := range gdt {
		le64(ram, gdtAddr+8*uint64(i), d)
	}
	// 64-bit TSS descriptor at 0x40: base tssAddr, limit 0x67, type 0xb
	// (busy, as after LTR).
	tssDesc := uint64(0x67) | (uint64(tssAddr)&0xffffff)<<16 | uint64(0x8b)<<40 | (uint64(tssAddr)>>24&0xff)<<56
	le64(ram, gdtAddr+selTSS, tssDesc)
	le64(ram, gdtAddr+selTSS+8, uint64(tssAddr)>>32)
	// TSS (SDM Vol. 3A 7.7): RSP0 at +4, IST1 at +0x24, IST2 at +0x2c,
	// I/O map base at +0x66 beyond the limit (no I/O bitmap).
	le64(ram, tssAddr+4, rsp0Top)
	le64(ram, tssAddr+0x24, ist1Top)
	le64(ram, tssAddr+0x2c, ist2Top)
	le16(ram, tssAddr+0x66, 0x68)
	for v := uint64(0); v < 256; v++ {
		h := handlerBase + 16*v
		ram[h] = 0xf4 // hlt
		ram[h+1] = 0xeb
		ram[h+2] = 0xfd // jmp back to the hlt
		setGate64(ram, int(v), h, 0, 0)
		// 32-bit interrupt gate (SDM Vol. 3A 6.11, Figure 6-2).
		g := uint64(h&0xffff) | uint64(selCode32)<<16 | uint64(0x8e00)<<32 | (h>>16)<<48
		le64(ram, idt32Addr+8*v, g)
	}
}

// setGate64 writes a 64-bit interrupt gate (SDM Vol. 3A 6.14.1, Figure
// 6-8) for vector v with the given IST index and DPL, present.
func setGate64(ram []byte, v int, handler uint64, ist int, dpl int) {
	lo := handler&0xffff | uint64(selCode64)<<16 | uint64(ist&7)<<32 |
		uint64(0x8e|dpl<<5)<<40 | (handler>>16&0xffff)<<48
	le64(ram, idtAddr+16*uint64(v), lo)
	le64(ram, idtAddr+16*uint64(v)+8, handler>>32)
}

func pteAddr(linear uint64) uint64 { return pt0Addr + 8*(linear>>12) }

// handlerAddr is the HLT of vector v's handler.
func handlerAddr(v int) uint64 { return handlerBase + 16*uint64(v) }

func longState() cpu.State {
	var s cpu.State
	s.RIP = codeAddr
	s.RFLAGS = fixed1
	s.GPR[cpu.RSP] = stackTop
	data := cpu.Seg{Sel: selData, Base: 0, Limit: 0xffffffff, Attr: 0xc093}
	for i := range s.Seg {
		s.Seg[i] = data
	}
	s.Seg[cpu.CS] = cpu.Seg{Sel: selCode64, Base: 0, Limit: 0xffffffff, Attr: 0xa09b}
	s.LDTR = cpu.Seg{Attr: 0x82, Limit: 0xffff}
	s.TR = cpu.Seg{Sel: selTSS, Base: tssAddr, Limit: 0x67, Attr: 0x8b}
	s.GDTR = cpu.DTR{Base: gdtAddr, Limit: 0x4f}
	s.IDTR = cpu.DTR{Base: idtAddr, Limit: 0xfff}
	s.CR0 = cr0PG | cr0WP | cr0NE | cr0ET | cr0PE
	s.CR3 = pml4Addr
	s.CR4 = cr4PAE
	s.EFER = eferLME | eferLMA | eferNXE
	s.FCTRL = 0x37f
	s.MXCSR = 0x1f80
	return s
}

func protState() cpu.State {
	var s cpu.State
	s.RIP = codeAddr
	s.RFLAGS = fixed1
	s.GPR[cpu.RSP] = stackTop
	data := cpu.Seg{Sel: selData32, Base: 0, Limit: 0xffffffff, Attr: 0xc093}
	for i := range s.Seg {
		s.Seg[i] = data
	}
	s.Seg[cpu.CS] = cpu.Seg{Sel: selCode32, Base: 0, Limit: 0xffffffff, Attr: 0xc09b}
	s.LDTR = cpu.Seg{Attr: 0x82, Limit: 0xffff}
	s.TR = cpu.Seg{Attr: 0x8b, Limit: 0x67, Base: tssAddr}
	s.GDTR = cpu.DTR{Base: gdtAddr, Limit: 0x4f}
	s.IDTR = cpu.DTR{Base: idt32Addr, Limit: 0x7ff}
	s.CR0 = cr0ET | cr0PE
	s.FCTRL = 0x37f
	s.MXCSR = 0x1f80
	return s
}

// newMachine builds a machine in 64-bit mode (bits 64) or 32-bit
// protected mode without paging (bits 32), with code at codeAddr followed
// by a HLT. setup, if not nil, may change memory and the initial state
// before the CPU is created.
func newMachine(t testing.TB, bits int, code []byte, setup func(ram []byte, s *cpu.State)) *machine {
	t.Helper()
	ram := make([]byte, ramSize)
	buildTables(ram)
	copy(ram[codeAddr:], code)
	end := uint64(codeAddr + len(code))
	ram[end] = 0xf4
	var s cpu.State
	if bits == 64 {
		s = longState()
	} else {
		s = protState()
	}
	if setup != nil {
		setup(ram, &s)
	}
	m := &machine{t: t, ram: ram, bus: &fakeBus{in: map[uint16]uint32{}}, pic: &fakePIC{}, bits: bits, end: end, init: s}
	m.c = cpu.New(ram, m.bus, m.pic)
	m.c.SetState(&s)
	return m
}

// newAsm assembles src for the mode and builds the machine.
func newAsm(t testing.TB, bits int, src string, setup func(ram []byte, s *cpu.State)) *machine {
	t.Helper()
	return newMachine(t, bits, asm1(t, bits, src), setup)
}

func (m *machine) r64(a uint64) uint64 { return binary.LittleEndian.Uint64(m.ram[a:]) }
func (m *machine) r32(a uint64) uint32 { return binary.LittleEndian.Uint32(m.ram[a:]) }

// run executes at most n more instructions.
func (m *machine) run(n uint64) cpu.Exit { return m.c.Run(m.c.Instret() + n) }

// finished reports whether the exit is the end of the snippet: the
// breakpoint placed on the trailing HLT, or that HLT itself having run.
func (m *machine) finished(e cpu.Exit) bool {
	rip := m.c.RIP()
	switch e.Kind {
	case cpu.ExitBreakpoint:
		return rip == m.end
	case cpu.ExitHalt:
		return rip == m.end+1 || rip == m.end
	}
	return false
}

// complete runs the snippet to its end and fails the test, describing
// what happened instead, if it does not get there.
func (m *machine) complete() cpu.State {
	m.t.Helper()
	m.c.SetBreakpoint(m.end, true)
	e := m.run(runLimit)
	if !m.finished(e) {
		m.t.Fatalf("snippet did not complete: %s", m.describe(e))
	}
	return m.c.State()
}

// describe explains an exit for a failure message.
func (m *machine) describe(e cpu.Exit) string {
	rip := m.c.RIP()
	s := fmt.Sprintf("exit kind %d (%s) at RIP %#x, instret %d", e.Kind, exitName(e.Kind), rip, m.c.Instret())
	if e.Err != nil {
		s += ", err: " + e.Err.Error()
	}
	if rip >= handlerBase && rip < handlerBase+256*16 {
		s += fmt.Sprintf(", in the handler of vector %d", (rip-handlerBase)/16)
	}
	if ev := m.c.Events(); len(ev) > 0 {
		s += "; events:"
		for _, x := range ev {
			s += "\n  " + eventString(x)
		}
	}
	return s
}

func eventString(x cpu.Event) string {
	return fmt.Sprintf("seq %d kind %d vector %d err %v/%#x cr2 %#x rip %#x rsp %#x rax %#x nested %d delivered %v ist %d newrsp %#x",
		x.Seq, x.Kind, x.Vector, x.HasError, x.ErrorCode, x.CR2, x.RIP, x.RSP, x.RAX, x.Nested, x.Delivered, x.IST, x.NewRSP)
}

func exitName(k cpu.ExitKind) string {
	names := []string{"limit", "step", "halt", "stop-request", "breakpoint", "watchpoint", "break-on", "triple-fault", "internal"}
	if int(k) >= 0 && int(k) < len(names) {
		return names[k]
	}
	return "?"
}

// runToHandler runs until a handler's HLT executes and returns the vector
// whose handler it is; it fails if the machine stops anywhere else.
func (m *machine) runToHandler() int {
	m.t.Helper()
	e := m.run(runLimit)
	rip := m.c.RIP()
	if e.Kind != cpu.ExitHalt || rip <= handlerBase || rip > handlerBase+256*16 {
		m.t.Fatalf("expected a handler's HLT: %s", m.describe(e))
	}
	return int((rip - 1 - handlerBase) / 16)
}

// ---------------------------------------------------------------------
// Register-level table cases.

type regs map[int]uint64

var regName = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// regCase is one run of a snippet: initial GPRs and arithmetic flags,
// expected GPRs (registers not listed must be unchanged, registers in
// undefRegs are not checked) and expected RFLAGS, compared except for the
// bits in undef (flags the SDM leaves undefined for that instruction).
type regCase struct {
	name      string
	asm       string
	in        regs
	inFlags   uint64
	out       regs
	flags     uint64
	undef     uint64
	undefRegs []int
	mem       map[uint64][]byte // initial bytes (physical = linear)
	wantMem   map[uint64][]byte
	bits      int // 0 means 64
}

func (c *regCase) mode() int {
	if c.bits == 0 {
		return 64
	}
	return c.bits
}

// runRegCases runs every case, assembling all snippets of the table in one
// batch and reusing one machine per snippet for cases without memory.
func runRegCases(t *testing.T, cases []regCase) {
	t.Helper()
	var srcs64, srcs32 []string
	for _, c := range cases {
		if c.mode() == 64 {
			srcs64 = append(srcs64, c.asm)
		} else {
			srcs32 = append(srcs32, c.asm)
		}
	}
	if len(srcs64) > 0 {
		assemble(t, 64, srcs64...)
	}
	if len(srcs32) > 0 {
		assemble(t, 32, srcs32...)
	}
	machines := map[string]*machine{}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("%d:%s", c.mode(), c.asm)
			m := machines[key]
			fresh := m == nil || c.mem != nil || c.wantMem != nil
			if fresh {
				m = newAsm(t, c.mode(), c.asm, nil)
			}
			m.t = t
			s := m.init
			for r, v := range c.in {
				s.GPR[r] = v
			}
			s.RFLAGS = fixed1 | c.inFlags
			for a, b := range c.mem {
				copy(m.ram[a:], b)
			}
			m.c.SetState(&s)
			m.c.SetBreakpoint(m.end, true)
			e := m.run(runLimit)
			if !m.finished(e) {
				delete(machines, key)
				t.Fatalf("%s: did not complete: %s", c.asm, m.describe(e))
			}
			if e.Kind == cpu.ExitBreakpoint && c.mem == nil && c.wantMem == nil {
				machines[key] = m
			} else {
				delete(machines, key)
			}
			got := m.c.State()
			checkRegs(t, c.asm, s, got, c.out, c.undefRegs)
			want := c.flags | fixed1
			if diff := (got.RFLAGS ^ want) &^ c.undef; diff != 0 {
				t.Errorf("%s: in %s flags %s: RFLAGS = %s, want %s (differs in %s; undefined per SDM: %s)",
					c.asm, fmtRegs(c.in), flagString(c.inFlags), flagString(got.RFLAGS), flagString(want), flagString(diff), flagString(c.undef))
			}
			for a, b := range c.wantMem {
				if g := m.ram[a : a+uint64(len(b))]; !bytes.Equal(g, b) {
					t.Errorf("%s: memory at %#x = % x, want % x", c.asm, a, g, b)
				}
			}
		})
	}
}

func checkRegs(t *testing.T, what string, before, got cpu.State, want regs, undef []int) {
	t.Helper()
	skip := map[int]bool{}
	for _, r := range undef {
		skip[r] = true
	}
	for r := 0; r < 16; r++ {
		if skip[r] {
			continue
		}
		w, ok := want[r]
		if !ok {
			w = before.GPR[r]
		}
		if got.GPR[r] != w {
			t.Errorf("%s: %s = %#x, want %#x (before %#x)", what, regName[r], got.GPR[r], w, before.GPR[r])
		}
	}
}

func fmtRegs(r regs) string {
	var parts []string
	for i := 0; i < 16; i++ {
		if v, ok := r[i]; ok {
			parts = append(parts, fmt.Sprintf("%s=%#x", regName[i], v))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func flagString(f uint64) string {
	names := []struct {
		bit  uint64
		name string
	}{{fOF, "OF"}, {fDF, "DF"}, {fIF, "IF"}, {fTF, "TF"}, {fSF, "SF"}, {fZF, "ZF"}, {fAF, "AF"}, {fPF, "PF"}, {fCF, "CF"}}
	var parts []string
	for _, n := range names {
		if f&n.bit != 0 {
			parts = append(parts, n.name)
		}
	}
	return fmt.Sprintf("%#x[%s]", f, strings.Join(parts, " "))
}

// ---------------------------------------------------------------------
// Operand-size helpers for the reference models.

type width struct {
	bits   uint
	suffix string
	a, b   string // register names holding the two operands: rax-, rbx-family
	c      string // rcx family
	d      string // rdx family
}

var widths = []width{
	{8, "b", "%al", "%bl", "%cl", "%dl"},
	{16, "w", "%ax", "%bx", "%cx", "%dx"},
	{32, "l", "%eax", "%ebx", "%ecx", "%edx"},
	{64, "q", "%rax", "%rbx", "%rcx", "%rdx"},
}

func (w width) mask() uint64 {
	if w.bits == 64 {
		return ^uint64(0)
	}
	return 1<<w.bits - 1
}
func (w width) sign() uint64 { return 1 << (w.bits - 1) }

// merge writes v into the low w.bits of old as the SDM says a register
// destination of that size is written in 64-bit mode: 8- and 16-bit
// results keep bits 63:w, 32-bit results zero bits 63:32 (SDM Vol. 1
// 3.4.1.1).
func (w width) merge(old, v uint64) uint64 {
	switch w.bits {
	case 32:
		return v & 0xffffffff
	case 64:
		return v
	}
	return old&^w.mask() | v&w.mask()
}

// edges are the interesting values of a width: 0, 1, the sign boundary
// either side, all ones and an irregular pattern.
func (w width) edges() []uint64 {
	m := w.mask()
	return []uint64{0, 1, w.sign() - 1, w.sign(), m, 0xa5c3_5a3c_96e1_f00f & m}
}

func parity(v uint64) bool {
	v &= 0xff
	n := 0
	for ; v != 0; v &= v - 1 {
		n++
	}
	return n%2 == 0
}

// szp returns SF, ZF and PF for result r of width w.
func szp(w width, r uint64) uint64 {
	var f uint64
	r &= w.mask()
	if r == 0 {
		f |= fZF
	}
	if r&w.sign() != 0 {
		f |= fSF
	}
	if parity(r) {
		f |= fPF
	}
	return f
}

// garbage is what the upper bits of the destination hold before a
// partial-register write, so merging is observable.
const garbage = 0xdead_beef_cafe_f00d
