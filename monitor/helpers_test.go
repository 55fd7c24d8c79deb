package monitor

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelsym"
	"vmapstack/target"
	"vmapstack/target/cpu"
	"vmapstack/target/paging"
)

// run executes a command that must succeed and returns its output.
func runOK(t *testing.T, mon *Monitor, line string) string {
	t.Helper()
	var b bytes.Buffer
	if err := mon.Run(line, &b); err != nil {
		t.Fatalf("monitor %s: %v\noutput so far:\n%s", line, err, b.String())
	}
	return b.String()
}

// lineWith returns the first output line containing all of subs.
func lineWith(out string, subs ...string) (string, bool) {
next:
	for _, l := range strings.Split(out, "\n") {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		return l, true
	}
	return "", false
}

// bootKernel boots the real mini kernel with the command line and runs
// it until a break-on stop, its exit, or limit instructions.
func bootKernel(t *testing.T, cmdline, breakOn string, limit uint64) (*target.Machine, target.Stop) {
	t.Helper()
	m, err := target.New(target.Config{Kernel: kernelimg.ELF, KernelPath: "kernel.elf", Append: cmdline})
	if err != nil {
		t.Fatal(err)
	}
	bo, err := target.ParseBreakOn(breakOn)
	if err != nil {
		t.Fatal(err)
	}
	m.SetBreakOn(bo)
	st := m.RunUntil(context.Background(), limit)
	if st.Kind == target.StopInternal {
		t.Fatalf("machine stopped with an internal error: %v\nconsole:\n%s", st, m.Console())
	}
	return m, st
}

// haltKernel is a kernel whose code is one HLT: a machine with no kernel
// symbols, for tests that build their own page tables and descriptor
// tables.
func haltKernel() []byte { return testtool.PVHKernel([]byte{0xf4}) }

// The unit machine's layout (4 MiB of RAM).
const (
	unitRAM     = 4 << 20
	unitStack1  = 0xffffc90000004000 // 16K, 4K pages, guard page below
	unitStack2  = 0xffffc9000000c000
	unitStackPA = 0x300000 // frames of stack 1; stack 2 at +0x10000
	unitDirect  = 0xffff888000000000
	unitText    = 0xffffffff80100000 // 8K read-only, executable
	unitUser1G  = 0x40000000         // a 1G user page (frame outside RAM)
	unitIDT     = unitDirect + 0x250000
	unitGDT     = unitDirect + 0x260000
	unitTSS     = unitDirect + 0x270000
	unitRSP     = unitStack1 + 0x3f00
	unitCR2     = unitStack1 - 8
)

// unitMachine is a machine whose CPU state and page tables the test
// built (nothing runs): 64-bit mode, paging on, no kernel symbols.
func unitMachine(t *testing.T) (*target.Machine, uint64) {
	t.Helper()
	m, err := target.New(target.Config{Kernel: haltKernel(), KernelPath: "tiny.elf", MemoryBytes: unitRAM})
	if err != nil {
		t.Fatal(err)
	}
	ram := m.RAM()
	next := uint64(0x200000)
	alloc := func() (uint64, error) {
		a := next
		next += 4096
		clear(ram[a : a+4096])
		return a, nil
	}
	cr3, _ := alloc()
	upper := paging.FlagP | paging.FlagRW | paging.FlagUS
	rwnx := paging.FlagP | paging.FlagRW | paging.FlagNX | paging.FlagA | paging.FlagD
	mustMap := func(lin, phys uint64, level int, leaf paging.PTE) {
		if err := paging.Map(ram, cr3, lin, phys, level, leaf, upper, alloc); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(0); i < 2; i++ { // direct map of the 4M, 2M pages
		mustMap(unitDirect+i<<21, i<<21, 2, rwnx|paging.FlagG)
	}
	for i := uint64(0); i < 4; i++ {
		mustMap(unitStack1+i*4096, unitStackPA+i*4096, 1, rwnx)
		mustMap(unitStack2+i*4096, unitStackPA+0x10000+i*4096, 1, rwnx)
	}
	for i := uint64(0); i < 2; i++ {
		mustMap(unitText+i*4096, 0x100000+i*4096, 1, paging.FlagP|paging.FlagG)
	}
	mustMap(unitUser1G, 0x40000000, 3, paging.FlagP|paging.FlagUS)

	// IDT: gate 8 an interrupt gate with IST 3; gate 14 a DPL-3 trap
	// gate; gate 3 not present.
	gate := func(v int, target uint64, sel uint16, ist, attr byte) {
		g := ram[0x250000+16*v:]
		binary.LittleEndian.PutUint16(g[0:], uint16(target))
		binary.LittleEndian.PutUint16(g[2:], sel)
		g[4] = ist
		g[5] = attr
		binary.LittleEndian.PutUint16(g[6:], uint16(target>>16))
		binary.LittleEndian.PutUint32(g[8:], uint32(target>>32))
	}
	gate(8, unitText+0x80, 0x10, 3, 0x8e)
	gate(14, unitText+0x123, 0x10, 0, 0xef)
	// GDT: null, 64-bit code, data, TSS (16 bytes) at slot 3.
	gdt := ram[0x260000:]
	binary.LittleEndian.PutUint64(gdt[8:], 0x00af9b000000ffff)
	binary.LittleEndian.PutUint64(gdt[16:], 0x00cf93000000ffff)
	tssBase := uint64(unitTSS)
	lo := uint64(0x67) | (tssBase&0xffffff)<<16 | uint64(0x8b)<<40 | (tssBase>>24&0xff)<<56
	binary.LittleEndian.PutUint64(gdt[24:], lo)
	binary.LittleEndian.PutUint64(gdt[32:], tssBase>>32)
	// TSS: RSP0 and IST3.
	tss := ram[0x270000:]
	binary.LittleEndian.PutUint64(tss[4:], unitStack2+0x4000)
	binary.LittleEndian.PutUint64(tss[0x24+8*2:], unitStack1+0x4000)
	binary.LittleEndian.PutUint16(tss[0x66:], 0x68)

	st := m.CPU().State()
	st.CR0 = 0x80010011 // PG WP ET PE
	st.CR4 = 0x20       // PAE
	st.EFER = 0xd00     // NXE LMA LME
	st.CR3 = cr3
	st.CR2 = unitCR2
	st.GPR[cpu.RSP] = unitRSP
	st.RIP = unitText
	st.Seg[cpu.CS] = cpu.Seg{Sel: 0x10, Attr: 0xa09b}
	st.IDTR = cpu.DTR{Base: unitIDT, Limit: 0xfff}
	st.GDTR = cpu.DTR{Base: unitGDT, Limit: 39}
	st.TR = cpu.Seg{Sel: 0x18, Base: unitTSS, Limit: 0x67, Attr: 0x8b}
	m.CPU().SetState(&st)
	return m, cr3
}

// noSymbols is what Load returns for a kernel without symbols.
func noSymbols(t *testing.T) *kernelsym.ELFKernel {
	k, err := kernelsym.Load(haltKernel())
	if err != nil {
		t.Fatal(err)
	}
	if k.HasSymbols || k.TasksOK {
		t.Fatal("the tiny kernel has symbols")
	}
	return k
}

// newTiny is a machine just booted with the tiny kernel: paging off.
func newTiny() (*target.Machine, error) {
	return target.New(target.Config{Kernel: haltKernel(), KernelPath: "tiny.elf", MemoryBytes: unitRAM})
}
