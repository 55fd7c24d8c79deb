package kernelimg_test

import (
	"bytes"
	"context"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
	"vmapstack/kernelimg/qemutest"
)

// kernelFile writes the embedded image to a temporary file for QEMU.
func kernelFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kernel.elf")
	if err := os.WriteFile(p, kernelimg.ELF, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func openELF(t *testing.T) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(kernelimg.ELF))
	if err != nil {
		t.Fatalf("embedded kernel: %v", err)
	}
	return f
}

const startKernelMap = 0xffffffff80000000

// The image is what the PVH loaders expect: ELF64 x86-64, segments whose
// physical address is the virtual one minus __START_KERNEL_map, and a Xen
// PHYS32_ENTRY note holding the physical entry, in a 4-aligned PT_NOTE.
func TestELFLayout(t *testing.T) {
	f := openELF(t)
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Fatalf("class %v machine %v type %v, want ELF64 x86-64 EXEC", f.Class, f.Machine, f.Type)
	}
	var entry uint64
	loads := 0
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads++
			if p.Vaddr-p.Paddr != startKernelMap {
				t.Errorf("segment vaddr %#x paddr %#x: want paddr = vaddr - %#x", p.Vaddr, p.Paddr, uint64(startKernelMap))
			}
			if p.Paddr < 0x100000 {
				t.Errorf("segment at physical %#x, below 1 MiB", p.Paddr)
			}
		case elf.PT_NOTE:
			if p.Align != 4 {
				t.Errorf("PT_NOTE p_align %d, want 4 (QEMU rounds the name by p_align)", p.Align)
			}
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			for len(b) >= 12 {
				namesz := binary.LittleEndian.Uint32(b[0:])
				descsz := binary.LittleEndian.Uint32(b[4:])
				typ := binary.LittleEndian.Uint32(b[8:])
				name := b[12 : 12+namesz]
				descOff := 12 + (namesz+3)&^3
				desc := b[descOff : descOff+descsz]
				if string(name) == "Xen\x00" && typ == 18 {
					if descsz != 8 {
						t.Errorf("PHYS32_ENTRY payload %d bytes, want 8", descsz)
					}
					entry = binary.LittleEndian.Uint64(desc)
				}
				b = b[descOff+(descsz+3)&^3:]
			}
		}
	}
	if loads == 0 {
		t.Fatal("no PT_LOAD segment")
	}
	if entry == 0 {
		t.Fatal("no Xen PHYS32_ENTRY (type 18) note")
	}
	if entry != f.Entry {
		t.Errorf("PVH entry %#x, e_entry %#x: want both the physical pvh_start", entry, f.Entry)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]elf.Symbol{}
	for _, s := range syms {
		byName[s.Name] = s
	}
	if s, ok := byName["pvh_start"]; !ok || s.Value-startKernelMap != entry {
		t.Errorf("pvh_start %#x does not match the PVH entry %#x", s.Value, entry)
	}
	for _, name := range []string{"do_double_fault", "handle_stack_overflow", "do_page_fault", "vmalloc_fault",
		"prepare_switch_to", "switch_to", "switch_mm", "panic"} {
		s, ok := byName[name]
		if !ok || elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 {
			t.Errorf("function symbol %s missing (or not a sized function: %+v)", name, s)
		}
	}
	for _, name := range []string{"current_task", "task_table", "nr_tasks", "log_buf", "log_len", "init_mm"} {
		if s, ok := byName[name]; !ok || elf.ST_TYPE(s.Info) != elf.STT_OBJECT {
			t.Errorf("data symbol %s missing", name)
		}
	}
}

// The debugger's scripts read these through DWARF: the names are a contract.
func TestDWARFNames(t *testing.T) {
	d, err := openELF(t).DWARF()
	if err != nil {
		t.Fatalf("DWARF: %v", err)
	}
	want := map[string][]string{
		"task_struct":   {"thread", "stack", "mm", "pid", "state", "comm"},
		"thread_struct": {"sp"},
		"mm_struct":     {"pgd"},
		"pt_regs":       {"ip", "sp", "error_code"},
	}
	got := map[string]map[string]bool{}
	vars := map[string]bool{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		switch e.Tag {
		case dwarf.TagVariable:
			vars[name] = true
		case dwarf.TagStructType:
			if _, ok := want[name]; !ok || !e.Children || got[name] != nil {
				continue
			}
			members := map[string]bool{}
			for {
				c, err := r.Next()
				if err != nil || c == nil || c.Tag == 0 {
					break
				}
				if c.Tag == dwarf.TagMember {
					n, _ := c.Val(dwarf.AttrName).(string)
					members[n] = true
				}
				if c.Children {
					r.SkipChildren()
				}
			}
			got[name] = members
			continue
		}
		if e.Children && e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
		}
	}
	for st, fields := range want {
		for _, f := range fields {
			if !got[st][f] {
				t.Errorf("struct %s has no member %s in DWARF", st, f)
			}
		}
	}
	for _, v := range []string{"current_task", "task_table", "nr_tasks", "log_buf", "log_len"} {
		if !vars[v] {
			t.Errorf("variable %s missing from DWARF", v)
		}
	}
}

func TestScenariosUnderQEMU(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	kernel := kernelFile(t)
	for _, c := range qemutest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := qemutest.Run(context.Background(), kernel, c.Append, qemutest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := qemutest.CheckCase(c, res); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(res.Stderr, []byte("rror")) {
				t.Errorf("qemu stderr: %s", res.Stderr)
			}
		})
	}
}

// The console must not depend on when timer ticks arrive: rerun every case
// with QEMU's instruction-counting clock, one tick every ~1000
// instructions (-icount shift=10) and every ~1M (shift=0), and compare
// byte for byte with the host-clock run.
func TestOutputIndependentOfTimer(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	if testtool.Short() {
		t.Skip("-short")
	}
	kernel := kernelFile(t)
	for _, c := range qemutest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			base, err := qemutest.Run(context.Background(), kernel, c.Append, qemutest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, shift := range []string{"shift=0,sleep=off", "shift=10,sleep=off"} {
				res, err := qemutest.Run(context.Background(), kernel, c.Append,
					qemutest.Options{Extra: []string{"-icount", shift}})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(res.Console, base.Console) {
					t.Errorf("-icount %s: console differs from the host-clock run:\n--- host clock\n%s--- icount\n%s",
						shift, base.Console, res.Console)
				}
				if res.Status != base.Status {
					t.Errorf("-icount %s: status %d, host clock %d", shift, res.Status, base.Status)
				}
			}
		})
	}
}

func caseByName(t *testing.T, name string) qemutest.Case {
	t.Helper()
	for _, c := range qemutest.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %s", name)
	return qemutest.Case{}
}

// QEMU's -d int log shows the mechanism: a #PF whose delivery faults
// again ("check_exception old: 0xe new 0xe"), then #DF; for an overflow
// CR2 is in the guard page, for the lazy-pgd failures it is not.
func TestInterruptLog(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	kernel := kernelFile(t)
	tests := []struct {
		name       string
		inGuard    bool
		wantVector int // delivery before the #PF (-1: none required)
		triple     bool
	}{
		{"overflow", true, -1, false},
		{"irq-overflow", true, 0x20, false},
		{"lazy-pgd_nosync", false, -1, false},
		{"lazy-pgd_noprobe", false, -1, false},
		{"overflow_noist", true, -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := caseByName(t, tc.name)
			res, err := qemutest.Run(context.Background(), kernel, c.Append, qemutest.Options{IntLog: true})
			if err != nil {
				t.Fatal(err)
			}
			recs := qemutest.ParseIntLog(res.IntLog)
			pf, df, err := qemutest.FindDoubleFault(recs)
			if err != nil {
				t.Fatalf("%v; records: %v", err, recs)
			}
			if !pf.HasCR2 {
				t.Fatalf("#PF record without CR2: %v", pf)
			}
			stacks, err := qemutest.ParseStacks(res.Console)
			if err != nil || len(stacks) == 0 {
				t.Fatalf("no task stacks in console (%v):\n%s", err, res.Console)
			}
			inGuard := false
			for _, s := range stacks {
				inGuard = inGuard || s.InGuard(pf.CR2)
			}
			if inGuard != tc.inGuard {
				t.Errorf("#PF CR2 %#x in a guard page: %v, want %v (stacks %+v)", pf.CR2, inGuard, tc.inGuard, stacks)
			}
			if df.IP != pf.IP || df.SP != pf.SP {
				t.Errorf("#DF at %#x/%#x, #PF at %#x/%#x: want the same faulting context", df.IP, df.SP, pf.IP, pf.SP)
			}
			if tc.wantVector >= 0 {
				found := false
				for _, r := range recs {
					if r.Kind == "int" && r.Count == pf.Count-1 && r.Vector == tc.wantVector {
						found = true
					}
				}
				if !found {
					t.Errorf("no v=%02x delivery right before the #PF: %v", tc.wantVector, recs)
				}
			}
			last := recs[len(recs)-1]
			if tc.triple {
				if last.Kind != "triple" || !res.TripleFault() {
					t.Errorf("want a triple fault at the end, got %v", last)
				}
				var sawDFCheck bool
				for _, r := range recs {
					sawDFCheck = sawDFCheck || (r.Kind == "check" && r.Old == 8 && r.New == 14)
				}
				if !sawDFCheck {
					t.Errorf("no \"check_exception old: 0x8 new 0xe\" (#PF while delivering #DF): %v", recs)
				}
			} else if last.Kind != "int" || last.Vector != 8 {
				t.Errorf("last record %v, want the #DF delivery", last)
			}
		})
	}
}

// gdb attached to QEMU's own stub stops in do_double_fault and sees the
// overflowing task, its stack, and CR2 in that stack's guard page.
func TestGDBAgainstQEMU(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	gdb := testtool.Require(t, "gdb")
	kernel := kernelFile(t)
	sock := testtool.SocketPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), qemutest.DefaultTimeout)
	defer cancel()
	qemu := exec.CommandContext(ctx, qemutest.QEMU, qemutest.Args(kernel, "scenario=overflow",
		"-gdb", qemutest.GDBArg(sock), "-S")...)
	qemu.Stdout = new(bytes.Buffer)
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = qemu.Process.Kill(); _ = qemu.Wait() }()
	if err := qemutest.WaitSocket(ctx, sock); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, gdb, "-nx", "-batch",
		"-ex", "set confirm off",
		"-ex", "file "+kernel,
		"-ex", "target remote "+sock,
		"-ex", "break do_double_fault",
		"-ex", "continue",
		"-ex", "p *current_task",
		"-ex", "p/x $cr2",
		"-ex", "p/x (unsigned long)current_task->stack",
		"-ex", "p current_task->comm",
		"-ex", "bt 4",
		"-ex", "kill",
	).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, "Breakpoint 1, do_double_fault") {
		t.Fatalf("gdb did not stop in do_double_fault:\n%s", text)
	}
	vals := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "$") {
			k, v, _ := strings.Cut(line, " = ")
			vals[k] = v
		}
	}
	if !strings.Contains(vals["$1"], "stack = 0x") || !strings.Contains(vals["$1"], `comm = "recurse`) {
		t.Errorf("p *current_task = %s", vals["$1"])
	}
	var cr2, stack uint64
	if _, err := fmtSscan(vals["$2"], &cr2); err != nil {
		t.Fatalf("p/x $cr2 = %q: %v", vals["$2"], err)
	}
	if _, err := fmtSscan(vals["$3"], &stack); err != nil {
		t.Fatalf("p/x current_task->stack = %q: %v", vals["$3"], err)
	}
	if !(cr2 >= stack-qemutest.PageSize && cr2 < stack) {
		t.Errorf("CR2 %#x not in the guard page below current_task->stack %#x", cr2, stack)
	}
	if !strings.HasPrefix(vals["$4"], `"recurse`) {
		t.Errorf("current_task->comm = %s", vals["$4"])
	}
	// entry.S's CFI lets gdb unwind from the #DF handler into the recursion.
	if !regexp.MustCompile(`(?m)^#2  <signal handler called>\n#3  0x[0-9a-f]+ in recurse \(`).MatchString(text) {
		t.Errorf("bt does not reach the overflowing recursion through the #DF frame:\n%s", text)
	}
}

// With both fixes, lazy-pgd takes one ordinary #PF: prepare_switch_to's
// probe of lazy-b's stack, which vmalloc_fault resolves; no #DF.
func TestLazyPGDProbeFault(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	c := caseByName(t, "lazy-pgd")
	res, err := qemutest.Run(context.Background(), kernelFile(t), c.Append, qemutest.Options{IntLog: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := qemutest.CheckCase(c, res); err != nil {
		t.Fatal(err)
	}
	stacks, err := qemutest.ParseStacks(res.Console)
	if err != nil {
		t.Fatal(err)
	}
	var lazyB qemutest.Stack
	for _, s := range stacks {
		if s.Comm == "lazy-b" {
			lazyB = s
		}
	}
	var pfs []qemutest.IntRecord
	for _, r := range qemutest.ParseIntLog(res.IntLog) {
		if r.Kind == "int" && r.Vector == 8 {
			t.Fatalf("#DF in lazy-pgd: %v", r)
		}
		if r.Kind == "int" && r.Vector == 14 {
			pfs = append(pfs, r)
		}
	}
	if len(pfs) != 1 {
		t.Fatalf("%d #PF deliveries, want exactly the probe's: %v", len(pfs), pfs)
	}
	if pfs[0].CR2 < lazyB.Bottom || pfs[0].CR2 > lazyB.Top || pfs[0].ErrorCode&1 != 0 {
		t.Errorf("#PF %v: want a not-present fault inside lazy-b's stack %+v", pfs[0], lazyB)
	}
	if pfs[0].SP >= lazyB.Bottom && pfs[0].SP <= lazyB.Top {
		t.Errorf("#PF taken on lazy-b's own stack (RSP %#x): the probe must run on the previous one", pfs[0].SP)
	}
}

// The committed kernel.elf must be what `make -C kernelimg` produces from
// the sources, wherever the tree is.
func TestReproducibleBuild(t *testing.T) {
	for _, tool := range []string{"make", "gcc", "ld", "as"} {
		testtool.Require(t, tool)
	}
	checkToolVersions(t)
	dir := filepath.Join(t.TempDir(), "elsewhere", "kernelimg")
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "Makefile", filepath.Join(dir, "Makefile"))
	srcs, err := filepath.Glob("src/*")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no sources in src/: %v", err)
	}
	for _, s := range srcs {
		copyFile(t, s, filepath.Join(dir, s))
	}
	out, err := exec.Command("make", "-s", "-C", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	built, err := os.ReadFile(filepath.Join(dir, "kernel.elf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, kernelimg.ELF) {
		t.Fatalf("kernel.elf built from the sources differs from the committed one: rebuild with make -C kernelimg")
	}
	if bytes.Contains(built, []byte(dir)) {
		t.Errorf("the build directory %s leaks into kernel.elf", dir)
	}
}
