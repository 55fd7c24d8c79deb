package dwarfcfi_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelsym/dwarfcfi"
	"vmapstack/target"
)

// Tests on the real mini kernel: its .debug_frame as gcc and gas wrote
// it, and its stack at the #DF of scenario=overflow, unwound as gdb's
// `bt` shows it.

// ksym is a symbol of the kernel's text.
type ksym struct {
	name       string
	addr, size uint64
	fn         bool // STT_FUNC (the others are assembler labels, size 0)
}

// kernelSyms returns the kernel's text symbols sorted by address: the C
// functions and the assembler labels (stub_8, common_entry) gdb also
// names frames by.
func kernelSyms(t *testing.T) []ksym {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(kernelimg.ELF))
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var out []ksym
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		// _text and _etext are the linker script's bounds, not code.
		if s.Name == "" || int(s.Section) >= len(f.Sections) || f.Sections[s.Section] != text ||
			typ != elf.STT_FUNC && typ != elf.STT_NOTYPE || s.Name == "_text" || s.Name == "_etext" {
			continue
		}
		out = append(out, ksym{name: s.Name, addr: s.Value, size: s.Size, fn: typ == elf.STT_FUNC})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

// symbolize names addr: the last symbol at or below it.
func symbolize(syms []ksym, addr uint64) string {
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > addr })
	if i == 0 {
		return fmt.Sprintf("%#x", addr)
	}
	s := syms[i-1]
	if s.size != 0 && addr >= s.addr+s.size {
		return fmt.Sprintf("%#x", addr)
	}
	return s.name
}

func loadKernel(t *testing.T) *dwarfcfi.Table {
	t.Helper()
	tab, err := dwarfcfi.Load(kernelimg.ELF)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestKernelFDEsCoverFunctions: every function of the symbol table but
// the assembly ones without CFI is covered from its first to its last
// byte by one FDE, every exception stub and common_entry by a signal
// frame's, and every FDE's program runs to its end.
func TestKernelFDEsCoverFunctions(t *testing.T) {
	tab := loadKernel(t)
	syms := kernelSyms(t)
	// The functions written in assembly without CFI: the 32-bit PVH
	// entry and the switch to long mode (head.S, before there is a stack
	// to unwind), and entry.S's routines gdb cannot unwind either.
	noCFI := []string{"pvh_start", "startup_64", "startup_64_high", "switch_to", "irq_overflow_wait", "memset", "memcpy"}
	var uncovered []string
	funcs := 0
	for i, s := range syms {
		size := s.size
		if size == 0 && i+1 < len(syms) {
			size = syms[i+1].addr - s.addr // an assembler label: up to the next symbol
		}
		f := tab.Find(s.addr)
		if f == nil {
			uncovered = append(uncovered, s.name)
			continue
		}
		funcs++
		if s.fn && !f.Contains(s.addr+size-1) {
			t.Errorf("%s %#x..%#x: its FDE %v does not reach its end", s.name, s.addr, s.addr+size, f)
		}
		signal := strings.HasPrefix(s.name, "stub_") || s.name == "common_entry"
		if f.CIE.Signal != signal {
			t.Errorf("%s: signal frame %v, want %v (%v)", s.name, f.CIE.Signal, signal, f)
		}
	}
	if strings.Join(uncovered, " ") != strings.Join(noCFI, " ") {
		t.Errorf("functions without FDE: %q, want %q", uncovered, noCFI)
	}
	if funcs < 48+20 {
		t.Errorf("only %d functions have FDEs", funcs)
	}
	for _, f := range tab.FDEs() {
		if f.CIE.Section != ".debug_frame" || f.CIE.RAColumn != dwarfcfi.RIP || f.CIE.DataAlign != -8 || f.CIE.CodeAlign != 1 {
			t.Errorf("%v: CIE %+v", f, f.CIE)
		}
		if _, err := f.Rows(); err != nil {
			t.Errorf("%v: %v", f, err)
		}
	}
}

// readelfRow is one row of `readelf --debug-dump=frames-interp`.
type readelfRow struct {
	loc  uint64
	cfa  string
	regs map[string]string
}

// readelfTables parses readelf's interpreted frame tables: FDE start ->
// rows.
func readelfTables(t *testing.T, out string) map[uint64][]readelfRow {
	t.Helper()
	fdeRE := regexp.MustCompile(`^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.[0-9a-f]+$`)
	tables := map[uint64][]readelfRow{}
	var cols []string
	var cur uint64
	inFDE := false
	regName := regexp.MustCompile(`(r\d+) \(\w+\)`)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := regName.ReplaceAllString(sc.Text(), "$1")
		fields := strings.Fields(line)
		switch {
		case fdeRE.MatchString(line):
			cur, _ = strconv.ParseUint(fdeRE.FindStringSubmatch(line)[1], 16, 64)
			inFDE = true
			tables[cur] = nil
		case strings.Contains(line, " CIE"):
			inFDE = false
		case len(fields) > 1 && fields[0] == "LOC" && fields[1] == "CFA":
			cols = fields[2:]
		case inFDE && len(fields) == len(cols)+2:
			loc, err := strconv.ParseUint(fields[0], 16, 64)
			if err != nil {
				continue
			}
			r := readelfRow{loc: loc, cfa: fields[1], regs: map[string]string{}}
			for i, c := range cols {
				r.regs[c] = fields[2+i]
			}
			tables[cur] = append(tables[cur], r)
		}
	}
	return tables
}

// readelfRule writes a rule as readelf does: "u" undefined (or not
// given), "s" same value, "c-16" at CFA-16, "v+8" CFA+8, "rN" in
// register N (readelf adds the name: readelfTables drops it),
// "exp"/"vexp" by expression.
func readelfRule(r dwarfcfi.Rule) string {
	switch r.Kind {
	case dwarfcfi.RuleUnspecified, dwarfcfi.RuleUndefined:
		return "u"
	case dwarfcfi.RuleSameValue:
		return "s"
	case dwarfcfi.RuleOffset:
		return fmt.Sprintf("c%+d", r.Offset)
	case dwarfcfi.RuleValOffset:
		return fmt.Sprintf("v%+d", r.Offset)
	case dwarfcfi.RuleRegister:
		return fmt.Sprintf("r%d", r.Reg)
	case dwarfcfi.RuleExpression:
		return "exp"
	}
	return "vexp"
}

// TestKernelRowsMatchReadelf compares every row of every FDE with what
// binutils' readelf computes from the same .debug_frame.
func TestKernelRowsMatchReadelf(t *testing.T) {
	testtool.Require(t, "readelf")
	path := filepath.Join(t.TempDir(), "kernel.elf")
	if err := os.WriteFile(path, kernelimg.ELF, 0o644); err != nil {
		t.Fatal(err)
	}
	compareReadelf(t, path, loadKernel(t))
}

// compareReadelf checks that the table has the FDEs of `readelf
// --debug-dump=frames-interp` on the file, and the same rule for every
// register readelf shows, at the first and last address of every row.
func compareReadelf(t *testing.T, path string, tab *dwarfcfi.Table) {
	t.Helper()
	out, err := exec.Command("readelf", "--debug-dump=frames-interp", path).Output()
	if err != nil {
		t.Fatalf("readelf: %v", err)
	}
	tables := readelfTables(t, string(out))
	fdes := tab.FDEs()
	if len(tables) != len(fdes) {
		t.Errorf("readelf lists %d FDEs, Load %d", len(tables), len(fdes))
	}
	rows := 0
	for _, f := range fdes {
		want, ok := tables[f.Start]
		if !ok {
			t.Errorf("%v: not in readelf's output", f)
			continue
		}
		for i, w := range want {
			// The row holds from its location to the next one's.
			last := f.End - 1
			if i+1 < len(want) {
				last = want[i+1].loc - 1
			}
			for _, pc := range []uint64{w.loc, last} {
				row, err := f.Row(pc)
				if err != nil {
					t.Errorf("%v at %#x: %v", f, pc, err)
					continue
				}
				rows++
				cfa := fmt.Sprintf("%s%+d", dwarfcfi.RegName(row.CFA.Reg), row.CFA.Offset)
				if row.CFA.IsExpr {
					cfa = "exp"
				}
				if cfa != w.cfa {
					t.Errorf("%v at %#x: CFA %s, readelf %s", f, pc, cfa, w.cfa)
				}
				for name, rule := range w.regs {
					n := regNumber(name)
					if n < 0 {
						t.Fatalf("readelf column %q", name)
					}
					if got := readelfRule(row.Regs[n]); got != rule {
						t.Errorf("%v at %#x: %s %s, readelf %s", f, pc, name, got, rule)
					}
				}
			}
		}
	}
	t.Logf("%s: %d FDEs, %d rows compared with readelf", filepath.Base(path), len(fdes), rows)
}

// regNumber is the DWARF number of a readelf column ("ra" is RIP).
func regNumber(name string) int {
	if name == "ra" {
		return dwarfcfi.RIP
	}
	for n := 0; n < dwarfcfi.NumRegs; n++ {
		if dwarfcfi.RegName(uint64(n)) == name {
			return n
		}
	}
	return -1
}

// bootTo boots the kernel with the command line and runs it to the
// first delivery of the exception vector (break-on): the CPU is at the
// entry stub's first instruction.
func bootTo(t *testing.T, cmdline string, vector uint8) *target.Machine {
	t.Helper()
	m, err := target.New(target.Config{Kernel: kernelimg.ELF, KernelPath: "kernel.elf", Append: cmdline})
	if err != nil {
		t.Fatal(err)
	}
	bo, err := target.ParseBreakOn(strconv.Itoa(int(vector)))
	if err != nil {
		t.Fatal(err)
	}
	m.SetBreakOn(bo)
	st := m.RunUntil(context.Background(), 50_000_000)
	if st.Kind != target.StopBreakOn || st.Event == nil || st.Event.Vector != vector {
		t.Fatalf("%s with break-on %d stopped with %v\nconsole:\n%s", cmdline, vector, st, m.Console())
	}
	return m
}

// bootToDF runs scenario=overflow to the #DF delivery: the CPU is at
// stub_8's first instruction on IST 1.
func bootToDF(t *testing.T) *target.Machine { return bootTo(t, "scenario=overflow", 8) }

// runTo continues the machine to a breakpoint at addr.
func runTo(t *testing.T, m *target.Machine, addr uint64) {
	t.Helper()
	m.CPU().SetBreakpoint(addr, true)
	defer m.CPU().SetBreakpoint(addr, false)
	if st := m.RunUntil(context.Background(), 1_000_000); st.Kind != target.StopBreakpoint || st.Addr != addr {
		t.Fatalf("run to %#x: stopped with %v", addr, st)
	}
}

// unwindMachine unwinds the stopped machine's kernel stack.
func unwindMachine(t *testing.T, m *target.Machine) ([]dwarfcfi.Frame, error) {
	t.Helper()
	st := m.CPU().State()
	return loadKernel(t).Unwind(m.CPU().ReadLinear, dwarfcfi.RegsFromISA(st.GPR, st.RIP), 0)
}

// frameNames are the frames' function names, gdb style: a signal frame
// is "<signal handler called>".
func frameNames(syms []ksym, frames []dwarfcfi.Frame) []string {
	var names []string
	for _, f := range frames {
		if f.Signal {
			names = append(names, "<signal handler called>")
			continue
		}
		names = append(names, symbolize(syms, f.LookupPC))
	}
	return names
}

// squash writes a list of names with runs as "name ×n".
func squash(names []string) string {
	var out []string
	for i := 0; i < len(names); {
		j := i
		for j < len(names) && names[j] == names[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", names[i], j-i))
		} else {
			out = append(out, names[i])
		}
		i = j
	}
	return strings.Join(out, ", ")
}

// TestKernelOverflowUnwind unwinds the mini kernel's stack where the #DF
// of scenario=overflow is delivered: the exception frame on IST 1, then
// back on the task's stack the recursion that ran into the guard page,
// down to the task's entry; and again from handle_stack_overflow, where
// the C handler runs under common_entry.
func TestKernelOverflowUnwind(t *testing.T) {
	m := bootToDF(t)
	syms := kernelSyms(t)
	st := m.CPU().State()
	if got := symbolize(syms, st.RIP); got != "stub_8" {
		t.Fatalf("#DF stop at %#x (%s), want stub_8", st.RIP, got)
	}
	frames, err := unwindMachine(t, m)
	if err != nil {
		t.Fatalf("unwind: %v (frames: %s)", err, squash(frameNames(syms, frames)))
	}
	names := frameNames(syms, frames)
	t.Logf("at the #DF: %s", squash(names))
	n := len(frames)
	if n < 3 || names[0] != "<signal handler called>" || symbolize(syms, frames[0].PC) != "stub_8" ||
		names[n-2] != "recurse_task" || names[n-1] != "ret_from_fork" || frames[n-1].End != dwarfcfi.EndUndefinedRA {
		t.Fatalf("frames %s (last ends with %v), want stub_8's signal frame, recurse many times, recurse_task, ret_from_fork",
			squash(names), frames[n-1].End)
	}
	recursions := 0
	for i := 1; i < n-2; i++ {
		if names[i] != "recurse" {
			t.Fatalf("frame #%d is %s, want recurse (frames: %s)", i, names[i], squash(names))
		}
		recursions++
	}
	// Each level of recurse is 16 bytes (kernelimg/src/scenarios.c):
	// ~1000 of them fill the 16 KiB stack.
	if recursions < 900 {
		t.Errorf("%d recurse frames, want the 16 KiB stack full of 16-byte frames", recursions)
	}
	// The CPU's frame on IST 1 says where the task was: frame #1 is that
	// RIP and RSP (the stack's bottom), found with the PC itself.
	hw := make([]byte, 48)
	if _, err := m.CPU().ReadLinear(st.GPR[4], hw); err != nil {
		t.Fatal(err)
	}
	rip, rsp := binary.LittleEndian.Uint64(hw[8:]), binary.LittleEndian.Uint64(hw[32:])
	if f := frames[1]; f.PC != rip || f.LookupPC != rip || f.SP != rsp || frames[0].CFA != st.GPR[4]+48 {
		t.Errorf("frame #1 pc %#x (lookup %#x) sp %#x, frame #0 CFA %#x; want the interrupted RIP %#x and RSP %#x, CFA RSP+48 %#x",
			f.PC, f.LookupPC, f.SP, frames[0].CFA, rip, rsp, st.GPR[4]+48)
	}
	stackTop := rsp&^0x3fff + 0x4000
	for i := 1; i < n; i++ {
		f := frames[i]
		if f.SP < rsp || f.CFA > stackTop {
			t.Errorf("frame #%d sp %#x CFA %#x: not on the task stack %#x..%#x", i, f.SP, f.CFA, rsp, stackTop)
		}
		if i > 1 && i < n-2 && (f.CFA-frames[i-1].CFA != 16 || f.LookupPC != f.PC-1) {
			t.Errorf("recurse frame #%d: CFA %#x after %#x, lookup %#x for pc %#x", i, f.CFA, frames[i-1].CFA, f.LookupPC, f.PC)
		}
	}

	// On to handle_stack_overflow: do_double_fault called it from the C
	// handler under common_entry, still on IST 1.
	runTo(t, m, symAddr(t, syms, "handle_stack_overflow"))
	frames, err = unwindMachine(t, m)
	if err != nil {
		t.Fatalf("unwind: %v (frames: %s)", err, squash(frameNames(syms, frames)))
	}
	names = frameNames(syms, frames)
	t.Logf("at handle_stack_overflow: %s", squash(names))
	sig := -1
	for i, f := range frames {
		if f.Signal {
			sig = i
			break
		}
	}
	if sig < 0 || symbolize(syms, frames[sig].PC) != "common_entry" || frames[sig].LookupPC != frames[sig].PC ||
		names[0] != "handle_stack_overflow" || !contains(names[:sig], "do_double_fault") || names[sig+1] != "recurse" ||
		frames[sig+1].PC != rip || frames[sig+1].SP != rsp || names[len(names)-1] != "ret_from_fork" {
		t.Errorf("frames %s: want handle_stack_overflow … do_double_fault …, common_entry's signal frame (found with its PC), then the recursion from RIP %#x RSP %#x",
			squash(names), rip, rsp)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func symAddr(t *testing.T, syms []ksym, name string) uint64 {
	t.Helper()
	for _, s := range syms {
		if s.name == name {
			return s.addr
		}
	}
	t.Fatalf("no symbol %s", name)
	return 0
}

// TestKernelOtherStops unwinds the other scenarios' exception stops: an
// exception on the task's own stack, an interrupt taken in code without
// CFI, and a #DF whose interrupted stack is not mapped.
func TestKernelOtherStops(t *testing.T) {
	syms := kernelSyms(t)
	for _, tc := range []struct {
		cmdline string
		vector  uint8
		want    string
		end     dwarfcfi.Reason
		err     string
	}{
		// #PF delivered on the task stack (the frame is 16 KiB): the
		// signal frame's caller is on the same stack.
		{"scenario=overflow-pf", 14, "<signal handler called>, probe_big_frame, probe_task, ret_from_fork", dwarfcfi.EndUndefinedRA, ""},
		// irq_overflow_wait (entry.S) has no CFI: the stack ends there.
		{"scenario=irq-overflow", 8, "<signal handler called>, irq_overflow_wait", dwarfcfi.EndNoFDE, ""},
		// switch_mm switched to page tables without the stack: the return
		// address cannot be read.
		{"scenario=lazy-pgd nosync", 8, "<signal handler called>, switch_mm", dwarfcfi.StopRead,
			"memory read failed: frame at pc"},
	} {
		t.Run(tc.cmdline, func(t *testing.T) {
			frames, err := unwindMachine(t, bootTo(t, tc.cmdline, tc.vector))
			if got := squash(frameNames(syms, frames)); got != tc.want || frames[len(frames)-1].End != tc.end {
				t.Errorf("frames %s ending with %v, want %s ending with %v", got, frames[len(frames)-1].End, tc.want, tc.end)
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
