package integration

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// kernelSymbol returns the address and size of a symbol of the embedded
// kernel.
func kernelSymbol(t *testing.T, name string) (addr, size uint64) {
	t.Helper()
	f, err := elf.Open(kernelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value, s.Size
		}
	}
	t.Fatalf("kernel has no symbol %q", name)
	return 0, 0
}

// pvhEntry returns the kernel's XEN_ELFNOTE_PHYS32_ENTRY (type 18).
func pvhEntry(t *testing.T) uint64 {
	t.Helper()
	f, err := elf.Open(kernelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		for len(b) >= 12 {
			le := f.ByteOrder
			namesz, descsz, typ := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])
			name := (namesz + 3) &^ 3
			desc := (descsz + 3) &^ 3
			if uint64(12+name+desc) > uint64(len(b)) {
				break
			}
			if typ == 18 && descsz >= 4 && strings.TrimRight(string(b[12:12+namesz]), "\x00") == "Xen" {
				d := b[12+name : 12+name+descsz]
				if descsz >= 8 {
					return le.Uint64(d)
				}
				return uint64(le.Uint32(d))
			}
			b = b[12+name+desc:]
		}
	}
	t.Fatal("kernel has no PHYS32_ENTRY note")
	return 0
}

// regValue finds "name   0xVALUE" as `info registers` prints it.
func regValue(t *testing.T, out, name string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+0x([0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("register %s not shown in:\n%s", name, out)
	}
	v, _ := strconv.ParseUint(m[1], 16, 64)
	return v
}

// marked extracts the value printed by `echo MARK\n` + `p/x EXPR`: gdb's
// "$N = 0x..." line following the marker.
func marked(t *testing.T, out, mark string) uint64 {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(mark) + `\n\$\d+ = (?:\([^)]*\) )?0x([0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no value after %s in:\n%s", mark, out)
	}
	v, _ := strconv.ParseUint(m[1], 16, 64)
	return v
}

func pmark(mark, expr string) []string {
	return []string{"echo " + mark + `\n`, "p/x " + expr}
}

// TestGDBSession is the basic scripted session of docs/design.md §1 with a bare
// gdb (no file argument): symbols come from the stub (qXfer:exec-file +
// vFile), the registers include the system ones, a breakpoint by name
// stops where #DF is handled, and the stack and CR2 show the overflow.
func TestGDBSession(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=overflow", "--serial", "none")
	cmds := []string{"target remote " + s.gdbAddr, "info registers"}
	cmds = append(cmds, "break do_double_fault", "continue", "bt 3", "x/8gx $rsp")
	cmds = append(cmds, pmark("@RSP", "$rsp")...)
	cmds = append(cmds, pmark("@CR2", "$cr2")...)
	cmds = append(cmds, pmark("@PC1", "*(unsigned long *)$rsp")...)
	cmds = append(cmds, pmark("@STACK", "current_task->stack")...)
	cmds = append(cmds, "p current_task->comm", "kill")
	out := runGDB(t, ctx, exs(cmds...)...)

	if !strings.Contains(out, "Reading symbols from target:") {
		t.Errorf("gdb did not load the symbols from the target:\n%s", out)
	}
	entry := pvhEntry(t)
	if got := regValue(t, out, "rip"); got != entry {
		t.Errorf("rip at attach = %#x, want the PVH entry %#x", got, entry)
	}
	for _, r := range []string{"eflags", "cs", "fs_base", "gs_base", "k_gs_base", "cr0", "cr2", "cr3", "cr4", "cr8", "efer"} {
		regValue(t, out, r)
	}
	if cr0 := regValue(t, out, "cr0"); cr0&1 == 0 {
		t.Errorf("cr0 %#x at the PVH entry: PE clear (PVH enters in protected mode)", cr0)
	}
	if !regexp.MustCompile(`(?m)^Breakpoint 1, (0x[0-9a-f]+ in )?do_double_fault \(`).MatchString(out) {
		t.Errorf("no stop at do_double_fault:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^#0  (0x[0-9a-f]+ in )?do_double_fault \(`).MatchString(out) {
		t.Errorf("bt frame #0 is not do_double_fault:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^#1  0x([0-9a-f]+) in (\w+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no frame #1 in:\n%s", out)
	}
	pc1, _ := strconv.ParseUint(m[1], 16, 64)

	rsp := marked(t, out, "@RSP")
	dfs, dfsize := kernelSymbol(t, "doublefault_stack")
	if rsp < dfs || rsp >= dfs+dfsize {
		t.Errorf("rsp %#x at do_double_fault is not on the IST1 stack doublefault_stack %#x..%#x", rsp, dfs, dfs+dfsize)
	}
	cr2 := marked(t, out, "@CR2")
	if !inGuardPage(cr2) {
		t.Errorf("cr2 %#x is not in the guard page of the overflowing stack", cr2)
	}
	// task_struct.stack is the lowest address of the stack: the guard
	// page is the page below it.
	if stack := marked(t, out, "@STACK"); cr2 >= stack || cr2 < stack-4096 {
		t.Errorf("cr2 %#x is not in the page below current_task->stack %#x", cr2, stack)
	}
	// x/8gx $rsp: 4 lines of 2 quadwords, the first at $rsp; at the
	// breakpoint on the function's first instruction, [rsp] is the
	// return address, which is frame #1's pc.
	xm := regexp.MustCompile(`(?m)^0x([0-9a-f]+)(?: <[^>]*>)?:\s+0x([0-9a-f]{16})\s+0x([0-9a-f]{16})$`).FindAllStringSubmatch(out, -1)
	if len(xm) != 4 {
		t.Fatalf("x/8gx $rsp printed %d lines of 2 quadwords, want 4:\n%s", len(xm), out)
	}
	if a, _ := strconv.ParseUint(xm[0][1], 16, 64); a != rsp {
		t.Errorf("x/8gx $rsp starts at %#x, want %#x", a, rsp)
	}
	if v, _ := strconv.ParseUint(xm[0][2], 16, 64); v != pc1 || marked(t, out, "@PC1") != pc1 {
		t.Errorf("[rsp] = %#x, want frame #1's pc %#x", v, pc1)
	}
	if !regexp.MustCompile(`(?m)^\$\d+ = "recurse(\\000)*"$`).MatchString(out) {
		t.Errorf("current_task->comm is not \"recurse\":\n%s", out)
	}
	code, err := s.wait(ctx)
	if err != nil || code != 0 {
		t.Errorf("stub after kill: status %d, %v (stderr: %s)", code, err, s.stderr.String())
	}
}

// inGuardPage reports whether addr is in a stack guard page by the
// layout rule of docs/design.md §4 (the tests run with --serial none, so there are
// no "task N: stack" lines to check against): the page below a
// THREAD_SIZE-aligned stack in the vmalloc area.
func inGuardPage(addr uint64) bool {
	if addr < qemutest.VmallocStart || addr >= qemutest.VmallocEnd {
		return false
	}
	bottom := (addr + qemutest.PageSize) &^ (qemutest.ThreadSize - 1)
	return addr >= bottom-qemutest.PageSize && addr < bottom
}

// stepScript writes a gdb Python script that steps n instructions and
// prints every PC on one line "PCS pc1 pc2 ...".
func stepScript(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "step.py")
	src := fmt.Sprintf(`import gdb
pcs = []
for i in range(%d):
    gdb.execute("stepi", to_string=True)
    pcs.append(int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff)
print("PCS " + " ".join("%%x" %% p for p in pcs))
`, n)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func parsePCs(t *testing.T, out string) []uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^PCS (.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no PC trace in gdb output:\n%s", out)
	}
	var pcs []uint64
	for _, f := range strings.Fields(m[1]) {
		v, err := strconv.ParseUint(f, 16, 64)
		if err != nil {
			t.Fatalf("bad pc %q", f)
		}
		pcs = append(pcs, v)
	}
	return pcs
}

// TestGDBStepiMatchesQEMU single-steps 200 instructions under our stub
// and under QEMU's gdbstub from the same place and compares every PC:
// from the PVH entry (QEMU starts in the firmware: a hardware breakpoint
// on the entry brings it there) and from start_kernel. Interrupts are off
// through both stretches (cli is the entry's first instruction, the
// kernel enables them later), so only the instructions decide the path.
// A repeated string instruction takes one step per iteration, as on
// hardware with EFLAGS.TF (SDM Vol. 3B 18.3.1.4; the REP entry in Vol. 2B
// says the iteration count is kept in (E)CX so the instruction restarts).
func TestGDBStepiMatchesQEMU(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	testtool.Require(t, "qemu-system-x86_64")
	acquireHeavy(t)
	ctx := testContext(t)
	const n = 200
	script := stepScript(t, n)
	entry := pvhEntry(t)
	sk, _ := kernelSymbol(t, "start_kernel")
	for _, tc := range []struct {
		name  string
		start uint64
		// to brings a machine halted at its reset/entry state to start.
		to []string
	}{
		{"entry", entry, []string{fmt.Sprintf("hbreak *%#x", entry), "continue", "delete"}},
		{"start_kernel", sk, []string{"hbreak start_kernel", "continue", "delete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStub(t, ctx, false, "--append", "scenario=overflow", "--serial", "none")
			cmds := []string{"target remote " + s.gdbAddr}
			if tc.start != entry {
				cmds = append(cmds, tc.to...)
			}
			cmds = append(cmds, pmark("@START", "$pc")...)
			out := runGDB(t, ctx, append([]string{kernelPath}, exs(append(cmds, "source "+script, "kill")...)...)...)
			if pc := marked(t, out, "@START"); pc != tc.start {
				t.Fatalf("our stub did not stop at %#x (pc %#x):\n%s", tc.start, pc, out)
			}
			ours := parsePCs(t, out)

			_, qsock := startQEMUGDB(t, ctx, "scenario=overflow")
			cmds = append([]string{"target remote " + qsock}, tc.to...)
			cmds = append(cmds, pmark("@START", "$pc")...)
			qout := runGDB(t, ctx, append([]string{kernelPath}, exs(append(cmds, "source "+script, "kill")...)...)...)
			if pc := marked(t, qout, "@START"); pc != tc.start {
				t.Fatalf("QEMU did not stop at %#x (pc %#x):\n%s", tc.start, pc, qout)
			}
			theirs := parsePCs(t, qout)

			if len(ours) != n || len(theirs) != n {
				t.Fatalf("%d steps under our stub, %d under QEMU; want %d", len(ours), len(theirs), n)
			}
			distinct := map[uint64]bool{}
			for _, pc := range ours {
				distinct[pc] = true
			}
			if len(distinct) < 2 || ours[0] == tc.start {
				t.Errorf("stepping did not move the PC: first %#x, %d distinct PCs", ours[0], len(distinct))
			}
			for i := range ours {
				if ours[i] != theirs[i] {
					lo := max(0, i-3)
					t.Errorf("step %d: pc %#x under our stub, %#x under QEMU (the previous %d steps agree)\nours %x\nqemu %x",
						i+1, ours[i], theirs[i], i, ours[lo:min(n, i+4)], theirs[lo:min(n, i+4)])
					break
				}
			}
		})
	}
}

// TestGDBWatch sets a hardware watchpoint on nr_tasks (sched_init's first
// store) and checks that gdb reports the change with the PC right after
// the storing instruction, as under QEMU.
func TestGDBWatch(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	testtool.Require(t, "qemu-system-x86_64")
	acquireHeavy(t)
	ctx := testContext(t)
	addr, _ := kernelSymbol(t, "nr_tasks")
	cmds := func(target string) []string {
		c := []string{"target remote " + target, "watch nr_tasks", "continue"}
		c = append(c, pmark("@PC", "$pc")...)
		c = append(c, "x/2i $pc-10", "kill")
		return c
	}
	s := startStub(t, ctx, false, "--append", "scenario=overflow", "--serial", "none")
	out := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds(s.gdbAddr)...)...)...)
	if !strings.Contains(out, "Hardware watchpoint 1: nr_tasks") {
		t.Fatalf("gdb did not set a hardware watchpoint:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^Old value = .*\nNew value = 1$`).MatchString(out) {
		t.Errorf("no \"Old value/New value = 1\" report:\n%s", out)
	}
	pc := marked(t, out, "@PC")
	// The instruction that ends at pc must be the store to nr_tasks:
	// disassemble backwards in gdb's x/2i from pc-10 and find the line
	// whose next line is pc.
	re := regexp.MustCompile(`(?m)^\s*(?:=> )?0x([0-9a-f]+) <[^>]+>:\s+(.*)$`)
	lines := re.FindAllStringSubmatch(out, -1)
	store := ""
	for i := 0; i+1 < len(lines); i++ {
		if next, _ := strconv.ParseUint(lines[i+1][1], 16, 64); next == pc {
			store = lines[i][2]
		}
	}
	if !strings.Contains(store, fmt.Sprintf("%#x <nr_tasks>", addr)) || !strings.HasPrefix(store, "mov") {
		t.Errorf("instruction before the stop pc %#x is %q, want a mov to nr_tasks (%#x):\n%s", pc, store, addr, out)
	}

	_, qsock := startQEMUGDB(t, ctx, "scenario=overflow")
	qout := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds(qsock)...)...)...)
	if qpc := marked(t, qout, "@PC"); qpc != pc {
		t.Errorf("watchpoint stop pc %#x under our stub, %#x under QEMU", pc, qpc)
	}
	// gdb reads the old value before the kernel runs: paging is off and
	// the address is the kernel's high virtual one. QEMU cannot read it
	// ("<unreadable>"); the stub should agree.
	oldRE := regexp.MustCompile(`(?m)^Old value = (.*)$`)
	if o, q := oldRE.FindStringSubmatch(out), oldRE.FindStringSubmatch(qout); o == nil || q == nil || o[1] != q[1] {
		t.Errorf("watchpoint old value differs: ours %q, QEMU %q", o, q)
	}
}

// TestGDBInterrupt interrupts a running machine the way a user does: ^C
// (SIGINT to gdb) while `continue` runs scenario=endless, which never
// ends. gdb sends the interrupt byte and must get a SIGINT stop it can
// inspect; with --busy-poll too, where the interrupt watcher polls the
// socket for that byte.
func TestGDBInterrupt(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	for _, tc := range []struct {
		name  string
		flags []string
	}{{"default", nil}, {"busy-poll", []string{"--busy-poll", "300us"}}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gdbInterrupt(t, tc.flags)
		})
	}
}

func gdbInterrupt(t *testing.T, flags []string) {
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, append([]string{"--append", "scenario=endless", "--serial", "none"}, flags...)...)
	args := gdbArgs(append([]string{kernelPath}, exs("target remote "+s.gdbAddr,
		// Run into the kernel first: an interrupt that arrives before the
		// machine ran an instruction would legitimately stop at the entry.
		"break start_kernel", "continue", "delete",
		"set debug remote 1", "continue", "set debug remote 0",
		"echo @STOPPED\\n", "info registers rip", "kill")...)...)
	g := startProc(t, ctx, "gdb", args...)
	// With `set debug remote 1` gdb logs each packet on stderr; once the
	// resume packet is out the machine runs (and, endless, never stops by itself).
	resumed := regexp.MustCompile(`Sending packet: \$(vCont;c|c)[#:;]`)
	for !resumed.MatchString(g.stderr.String()) {
		if g.exited() {
			t.Fatalf("gdb ended before continuing:\n%s%s", g.stdout.String(), g.stderr.String())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gdb never continued:\n%s", g.stdout.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := g.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if _, err := g.wait(ctx); err != nil {
		t.Fatal(err)
	}
	out := g.stdout.String() + g.stderr.String()
	if !strings.Contains(out, "received signal SIGINT") {
		t.Errorf("no SIGINT stop after ^C:\n%s", out)
	}
	after := out[strings.Index(out, "@STOPPED"):]
	rip := regValue(t, after, "rip")
	if rip < 0xffffffff80000000 {
		t.Errorf("interrupted at rip %#x, not in the kernel image", rip)
	}
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after kill: %d %v", code, err)
	}
}

// TestGDBDetachReattach detaches (the machine runs on) and attaches a
// second gdb, which must find the machine stopped somewhere in the kernel
// and read its registers; kill then ends the stub with status 0.
func TestGDBDetachReattach(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=endless", "--serial", "stdio")
	out1 := runGDB(t, ctx, exs("target remote "+s.gdbAddr, "p/x $pc", "detach")...)
	if !strings.Contains(out1, "Detaching from program") && !strings.Contains(out1, "[Inferior 1 (Remote target) detached]") {
		t.Errorf("first gdb did not detach:\n%s", out1)
	}
	// The machine, halted at its entry until the detach, has run into
	// the kernel once it prints the scenario's banner.
	s.waitStdout(t, ctx, endlessBanner)
	cmds := []string{"target remote " + s.gdbAddr}
	cmds = append(cmds, pmark("@PC", "$pc")...)
	cmds = append(cmds, pmark("@CR3", "$cr3")...)
	cmds = append(cmds, "bt 1", "kill")
	out2 := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds...)...)...)
	pc := marked(t, out2, "@PC")
	if pc < 0xffffffff80000000 {
		t.Errorf("second gdb found pc %#x: the machine did not run on after detach", pc)
	}
	if cr3 := marked(t, out2, "@CR3"); cr3 == 0 {
		t.Errorf("cr3 is 0 after the kernel ran")
	}
	if !regexp.MustCompile(`(?m)^#0  `).MatchString(out2) {
		t.Errorf("no backtrace after reattach:\n%s", out2)
	}
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after kill: status %d, %v (stderr: %s)", code, err, s.stderr.String())
	}
}

// TestGDBAttachRunning starts the stub with --wait=false (the kernel runs
// at once) and attaches later: gdb must find the machine stopped in the
// kernel, as QEMU's gdbstub stops the VM when a debugger connects. Over
// TCP this time.
func TestGDBAttachRunning(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, true, "--append", "scenario=endless", "--wait=false", "--serial", "stdio")
	s.waitStdout(t, ctx, endlessBanner) // it runs the kernel before gdb attaches
	cmds := []string{"target remote " + s.gdbAddr}
	cmds = append(cmds, pmark("@PC", "$pc")...)
	cmds = append(cmds, "stepi")
	cmds = append(cmds, pmark("@PC2", "$pc")...)
	cmds = append(cmds, "kill")
	out := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds...)...)...)
	pc := marked(t, out, "@PC")
	if pc < 0xffffffff80000000 {
		t.Errorf("attached at pc %#x: the kernel was not running", pc)
	}
	if pc2 := marked(t, out, "@PC2"); pc2 == pc {
		t.Errorf("stepi after attaching did not move pc %#x", pc)
	}
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after kill: status %d, %v", code, err)
	}
}

// TestGDBBusyPoll: with --busy-poll the stub polls gdb's socket between
// packets; a breakpoint, stepping and kill work as without
// (TestGDBInterrupt interrupts a continue with it).
func TestGDBBusyPoll(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, true, "--append", "scenario=tasks", "--serial", "none", "--busy-poll", "300us")
	cmds := []string{"target remote " + s.gdbAddr, "break switch_to", "continue"}
	cmds = append(cmds, pmark("@PC", "$pc")...)
	cmds = append(cmds, "stepi", "stepi")
	cmds = append(cmds, pmark("@PC2", "$pc")...)
	cmds = append(cmds, "kill")
	out := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds...)...)...)
	pc := marked(t, out, "@PC")
	if want, _ := kernelSymbol(t, "switch_to"); pc != want {
		t.Errorf("stopped at pc %#x, want switch_to at %#x:\n%s", pc, want, out)
	}
	if pc2 := marked(t, out, "@PC2"); pc2 == pc {
		t.Errorf("two stepi did not move pc %#x", pc)
	}
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after kill: status %d, %v", code, err)
	}
}

// TestGDBMonitorHelp runs `monitor help`, which lists every command of
// docs/design.md §7, one per line.
func TestGDBMonitorHelp(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=overflow", "--serial", "none")
	out := runGDB(t, ctx, exs("target remote "+s.gdbAddr, "echo @HELP\\n", "monitor help", "kill")...)
	checkMonitorHelp(t, out[strings.Index(out, "@HELP"):])
}

// monitorCommands are the monitor's commands (README, "Monitor commands"),
// QEMU's HMP ones included.
var monitorCommands = []string{"help", "pt", "walk", "stack", "cr2", "faults", "break-on", "idt", "gdt", "tss", "cregs", "tasks", "phys", "stats",
	"info", "xp", "x", "gva2gpa"}

func checkMonitorHelp(t *testing.T, out string) {
	t.Helper()
	var missing []string
	for _, c := range monitorCommands {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(c) + `\b`).MatchString(out) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.Errorf("monitor help does not list %q:\n%s", missing, out)
	}
}

// TestGDBMonitorStats: after the machine has run, "monitor stats" gives a
// rate, from the instruction count and the host time the stub spent
// running it (the machine itself never reads a clock).
func TestGDBMonitorStats(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=tasks", "--serial", "none")
	out := runGDB(t, ctx, exs("target remote "+s.gdbAddr, "break switch_mm", "continue", "continue",
		"echo @STATS\\n", "monitor stats", "kill")...)
	out = out[strings.Index(out, "@STATS"):]
	m := regexp.MustCompile(`(?m)^instructions\s+(\d+)$`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("no instruction count in monitor stats:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^instructions/s\s+[0-9.]+[KMG]? \(` + m[1] + ` instructions in [0-9.]+s of host time\)$`).MatchString(out) {
		t.Errorf("monitor stats gives no rate for %s instructions:\n%s", m[1], out)
	}
	// The native tier's line (README): block runs, of which entered
	// from another block in host code, and the share of instructions.
	if !regexp.MustCompile(`(?m)^native tier\s+blocks \d+, runs \d+ \(\d+ from another block\), instructions \d+ \([0-9.]+%\)$`).MatchString(out) {
		t.Errorf("monitor stats has no native tier line:\n%s", out)
	}
}
