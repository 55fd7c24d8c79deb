package monitor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/kernelsym"
	"vmapstack/target"
	"vmapstack/target/cpu"
)

// Tests against the real mini kernel booted in the machine.

// overflowEnv is the machine stopped where #DF is delivered in
// scenario=overflow, and the facts the tests check the output against,
// read from guest memory and the console, not from the monitor.
type overflowEnv struct {
	m            *target.Machine
	stop         target.Stop
	k            *kernelsym.ELFKernel
	st           cpu.State
	stack        uint64 // current_task->stack, read from memory
	consoleStack uint64 // the "task 1 \"recurse\": stack 0x..." console line
	tr           []byte // the TSS's first 104 bytes
}

func bootOverflow(t *testing.T) *overflowEnv {
	t.Helper()
	m, st := bootKernel(t, "scenario=overflow", "df", 50_000_000)
	if st.Kind != target.StopBreakOn || st.Event == nil || st.Event.Vector != 8 {
		t.Fatalf("scenario=overflow with break-on df stopped with %v\nconsole:\n%s", st, m.Console())
	}
	k, err := kernelsym.Load(mustKernel(m))
	if err != nil || !k.TasksOK {
		t.Fatalf("kernel symbols: %v %v", err, k)
	}
	e := &overflowEnv{m: m, stop: st, k: k, st: m.CPU().State()}
	ct, ok := k.Lookup("current_task")
	if !ok {
		t.Fatal("no current_task symbol")
	}
	var b [8]byte
	if _, err := m.CPU().ReadLinear(ct.Addr, b[:]); err != nil {
		t.Fatal(err)
	}
	task := binary.LittleEndian.Uint64(b[:])
	if _, err := m.CPU().ReadLinear(task+k.Task.Stack.Offset, b[:]); err != nil {
		t.Fatal(err)
	}
	e.stack = binary.LittleEndian.Uint64(b[:])
	mm := regexp.MustCompile(`task 1 "recurse": stack 0x([0-9a-f]{16})\.\.`).FindStringSubmatch(string(m.Console()))
	if mm == nil {
		t.Fatalf("no task line on the console:\n%s", m.Console())
	}
	e.consoleStack, _ = strconv.ParseUint(mm[1], 16, 64)
	e.tr = make([]byte, 104)
	if _, err := m.CPU().ReadLinear(e.st.TR.Base, e.tr); err != nil {
		t.Fatal(err)
	}
	return e
}

func mustKernel(m *target.Machine) []byte { _, b := m.Kernel(); return b }

// matches checks out against regular expressions.
func matches(t *testing.T, out string, res ...string) {
	t.Helper()
	for _, re := range res {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no match for %s in:\n%s", re, out)
		}
	}
}

func contains(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("no %q in:\n%s", s, out)
		}
	}
}

// commandCases are the commands checked on the kernel stopped at the
// #DF of scenario=overflow; TestEveryCommandHasATest makes sure every
// command has one.
var commandCases = []struct {
	line  string
	check func(t *testing.T, e *overflowEnv, out string)
}{
	{"help", func(t *testing.T, e *overflowEnv, out string) {
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != len(Commands())+1 {
			t.Errorf("%d help lines for %d commands", len(lines), len(Commands()))
		}
		for i, c := range Commands() {
			if !strings.HasPrefix(lines[i], c+" ") {
				t.Errorf("help line %d %q does not start with %q", i, lines[i], c)
			}
		}
	}},
	{"pt", func(t *testing.T, e *overflowEnv, out string) {
		s := e.stack
		contains(t, out, fmt.Sprintf("%s-%s    16K  RW     NX      pte", hex16(s), hex16(s+16384)),
			fmt.Sprintf("%s-%s     4K  unmapped  (guard page of task \"recurse\", stack %s-%s)", hex16(s-4096), hex16(s), hex16(s), hex16(s+16384)),
			"---[ direct map 0xffff888000000000 ]---", "---[ vmalloc 0xffffc90000000000 ]---", "---[ kernel image 0xffffffff80000000 ]---",
			fmt.Sprintf("address space of CR3 %#x", e.st.CR3))
	}},
	{"bt", func(t *testing.T, e *overflowEnv, out string) {
		// The #DF entry stub, the recursion's interrupted frame, a run of
		// the recursion's frames down the whole 16K stack, the task's
		// entry: what gdb's bt shows at this stop.
		contains(t, out, `Call Trace (DWARF CFI; current task "recurse" pid 1, from the stopped CPU's registers):`,
			"recurse_task+", "ret_from_fork+", "end of stack (")
		matches(t, out, `(?m)^ #0 +0x[0-9a-f]{16}  stub_8\+0x0/`, `(?m)^ #1 +0x[0-9a-f]{16}  recurse\+0x[0-9a-f]+/0x[0-9a-f]+ +sp `+hex16(e.stack)+`  \(interrupted here\)$`)
		run := regexp.MustCompile(`(?m)^ #2-#\d+  0x[0-9a-f]{16}  recurse\+0x[0-9a-f]+/0x[0-9a-f]+ +sp (0x[0-9a-f]{16})-(0x[0-9a-f]{16})  \((\d+) frames\)$`).FindStringSubmatch(out)
		if run == nil {
			t.Fatalf("no run of recurse frames in:\n%s", out)
		}
		if n, _ := strconv.Atoi(run[3]); n < 1000 {
			t.Errorf("%d recurse frames, want the 16K stack's ~1000", n)
		}
	}},
	{"bt swapper", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, `task "swapper" pid 0, switched out: from its saved sp`, "scenario_overflow+", "start_kernel+", "end of stack (")
	}},
	{"walk $cr2", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, fmt.Sprintf("walk %s with CR3 %#x", hex16(e.st.CR2), e.st.CR3), "PML4E", "PDPTE", "PDE",
			fmt.Sprintf("not present at PTE: %s is not mapped (guard page of task \"recurse\"", hex16(e.st.CR2)))
		if l, _ := lineWith(out, "PTE   ["); !strings.HasSuffix(l, "not present") {
			t.Errorf("PTE line %q", l)
		}
	}},
	{"walk $rsp", func(t *testing.T, e *overflowEnv, out string) {
		phys, ok := e.m.CPU().Translate(e.st.CR3, e.st.GPR[cpu.RSP])
		if !ok {
			t.Fatal("RSP not mapped")
		}
		contains(t, out, fmt.Sprintf("%s -> phys %s, 4K page", hex16(e.st.GPR[cpu.RSP]), hex16(phys)), "RW NX")
	}},
	{"stack", func(t *testing.T, e *overflowEnv, out string) {
		if e.stack != e.consoleStack {
			t.Fatalf("task_struct.stack %#x, console says %#x", e.stack, e.consoleStack)
		}
		s := e.stack
		contains(t, out,
			"task               \"recurse\" pid 1",
			"[current]",
			"source             kernel symbols (task_struct.stack; THREAD_SIZE 16K from DWARF variable thread_size)",
			fmt.Sprintf("stack              %s-%s  16K", hex16(s), hex16(s+16384)),
			"bottom             "+hex16(s),
			"top                "+hex16(s+16384),
			"size               16K (16384 bytes)",
			// At the #DF, RSP is on IST 1; the interrupted RSP is the stack's bottom.
			fmt.Sprintf("rsp                %s  (RSP interrupted by #DF", hex16(s)),
			"used               16384 bytes",
			"left               0 bytes",
			fmt.Sprintf("guard page         %s-%s  not present at PTE", hex16(s-4096), hex16(s)),
			"rsp in guard page  no",
			fmt.Sprintf("cr2 in guard page  yes (CR2 %s, %d bytes below the stack)", hex16(e.st.CR2), s-e.st.CR2))
	}},
	{"stack swapper", func(t *testing.T, e *overflowEnv, out string) {
		bs, _ := e.k.Lookup("boot_stack")
		contains(t, out, "task               \"swapper\" pid 0", "bottom             "+hex16(bs.Addr),
			"thread.sp (saved at its last switch)", "no guard page: the page below the stack is present")
	}},
	{"stack 1", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, "task               \"recurse\" pid 1", "bottom             "+hex16(e.stack))
	}},
	{"cr2", func(t *testing.T, e *overflowEnv, out string) {
		if e.st.CR2 < e.stack-4096 || e.st.CR2 >= e.stack {
			t.Fatalf("CR2 %#x is not in the guard page below %#x", e.st.CR2, e.stack)
		}
		rec, _ := e.k.Lookup("recurse")
		contains(t, out, "CR2                "+hex16(e.st.CR2),
			"error code 0x2 (W: not-present page, write, supervisor mode)",
			fmt.Sprintf("at RIP %s <recurse+", hex16(e.stop.Event.RIP)),
			fmt.Sprintf("points at          guard page of task \"recurse\" (stack %s-%s), %d bytes below the stack", hex16(e.stack), hex16(e.stack+16384), e.stack-e.st.CR2),
			"mapping            not present at PTE")
		if e.stop.Event.RIP < rec.Addr || e.stop.Event.RIP >= rec.Addr+rec.Size {
			t.Errorf("the #DF interrupted %#x, outside recurse", e.stop.Event.RIP)
		}
	}},
	{"faults", func(t *testing.T, e *overflowEnv, out string) {
		pf, ok := lineWith(out, " #PF ", hex16(e.st.CR2))
		df, ok2 := lineWith(out, "#PF -> #DF")
		if !ok || !ok2 || strings.Index(out, pf) > strings.Index(out, df) {
			t.Fatalf("want a #PF row then a #PF -> #DF row:\n%s", out)
		}
		contains(t, pf, "0x2", "not delivered", fmt.Sprintf("0010:%016x", e.stop.Event.RIP), fmt.Sprintf("0018:%016x", e.stack))
		if f := strings.Fields(df); f[len(f)-3] != "1" || f[len(f)-2] != "delivered" {
			t.Errorf("#DF row %q: want IST 1, delivered", df)
		}
	}},
	{"faults 1", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, "last 1 of", "#PF -> #DF")
		if strings.Contains(out, "not delivered") {
			t.Errorf("faults 1 shows more than the #DF:\n%s", out)
		}
	}},
	{"break-on", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, "break-on df,triple\n")
	}},
	{"idt", func(t *testing.T, e *overflowEnv, out string) {
		df, _ := lineWith(out, "8    #DF")
		pf, _ := lineWith(out, "14   #PF")
		// docs/design.md §4: the #DF gate uses IST 1; CS is the kernel's 0x10.
		if f := strings.Fields(df); len(f) < 8 || f[2] != fmt.Sprintf("0x%04x", e.st.Seg[cpu.CS].Sel) || f[7] != "1" {
			t.Errorf("#DF gate %q", df)
		}
		if f := strings.Fields(pf); len(f) < 8 || f[7] != "-" || f[4] != "interrupt" {
			t.Errorf("#PF gate %q", pf)
		}
		contains(t, out, fmt.Sprintf("IDTR base %s limit %#x", hex16(e.st.IDTR.Base), e.st.IDTR.Limit))
	}},
	{"gdt", func(t *testing.T, e *overflowEnv, out string) {
		cs, _ := lineWith(out, fmt.Sprintf(" 0x%04x code", e.st.Seg[cpu.CS].Sel))
		contains(t, cs, "code 64-bit", " L ")
		contains(t, out, fmt.Sprintf("0x%04x TSS (busy)               %s 0x67", e.st.TR.Sel, hex16(e.st.TR.Base)))
	}},
	{"tss", func(t *testing.T, e *overflowEnv, out string) {
		ist1 := binary.LittleEndian.Uint64(e.tr[0x24:])
		if ist1 == 0 {
			t.Fatal("IST1 is 0 in guest memory")
		}
		contains(t, out, fmt.Sprintf("TR selector 0x%04x base %s", e.st.TR.Sel, hex16(e.st.TR.Base)),
			"IST1  "+hex16(ist1)+"  <end of doublefault_stack>")
		// The #DF handler's RSP is on that stack.
		dfs, _ := e.k.Lookup("doublefault_stack")
		if rsp := e.st.GPR[cpu.RSP]; rsp < dfs.Addr || rsp >= ist1 {
			t.Errorf("RSP %#x not on the IST1 stack %#x-%#x", rsp, dfs.Addr, ist1)
		}
	}},
	{"cregs", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, "CR0                "+hex16(e.st.CR0)+"  PE", " WP PG\n", "CR2                "+hex16(e.st.CR2), "CR3                "+hex16(e.st.CR3),
			fmt.Sprintf("PML4 at %#x", e.st.CR3&^0xfff), "CR4                "+hex16(e.st.CR4), "PAE", "EFER               "+hex16(e.st.EFER), "LME LMA NXE")
	}},
	{"tasks", func(t *testing.T, e *overflowEnv, out string) {
		rec, ok := lineWith(out, `"recurse"`)
		sw, ok2 := lineWith(out, `"swapper"`)
		if !ok || !ok2 {
			t.Fatalf("tasks:\n%s", out)
		}
		if !strings.HasPrefix(rec, "*    1") || !strings.HasPrefix(sw, "     0") {
			t.Errorf("current marker: %q / %q", rec, sw)
		}
		contains(t, rec, "TASK_RUNNING", fmt.Sprintf("%s-%s", hex16(e.stack), hex16(e.stack+16384)), "init_mm")
		contains(t, out, "* current task")
	}},
	{"phys on", func(t *testing.T, e *overflowEnv, out string) {
		contains(t, out, "phys on")
	}},
	{"stats", func(t *testing.T, e *overflowEnv, out string) {
		s := e.m.Stats()
		contains(t, out, fmt.Sprintf("instructions       %d\n", e.m.Instret()),
			fmt.Sprintf("decode cache       hits %d", s.DecodeHits), fmt.Sprintf("misses %d", s.DecodeMisses),
			fmt.Sprintf("TLB                misses %d", s.TLBMisses), "instructions/s     unknown",
			fmt.Sprintf("native tier        blocks %d, runs %d (%d from another block), instructions %d", s.NativeBlocks, s.NativeRuns,
				s.NativeChained, s.NativeInstructions))
	}},
}

func TestCommandsAtDoubleFault(t *testing.T) {
	e := bootOverflow(t)
	mon := New(e.m, e.k)
	for _, c := range commandCases {
		t.Run(c.line, func(t *testing.T) {
			c.check(t, e, runOK(t, mon, c.line))
		})
	}
	t.Run("stats with run time", func(t *testing.T) {
		mon.RunTime = func() time.Duration { return 2 * time.Second }
		want := fmt.Sprintf("(%d instructions in 2.000s of host time)", e.m.Instret())
		contains(t, runOK(t, mon, "stats"), want)
	})
	t.Run("unknown task", func(t *testing.T) {
		err := mon.Run("stack nosuch", &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), `stack: no task "nosuch" (tasks: 0 "swapper", 1 "recurse")`) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("monitor loads the symbols itself", func(t *testing.T) {
		out := runOK(t, New(e.m, nil), "stack")
		contains(t, out, "source             kernel symbols", "bottom             "+hex16(e.stack))
	})
}

// TestEveryCommandHasATest: each command of help has a case above and an
// error case in TestErrors (checked by name prefix).
func TestEveryCommandHasATest(t *testing.T) {
	for _, c := range Commands() {
		found := false
		for _, cc := range commandCases {
			if strings.Fields(cc.line)[0] == c {
				found = true
			}
		}
		if !found {
			t.Errorf("command %q has no case in commandCases", c)
		}
	}
}

// TestStackScanMatchesSymbols: with the symbols hidden, the page-table
// scan finds the same stack as task_struct.stack.
func TestStackScanMatchesSymbols(t *testing.T) {
	e := bootOverflow(t)
	out := runOK(t, New(e.m, &kernelsym.ELFKernel{}), "stack")
	contains(t, out, "source             page-table scan",
		fmt.Sprintf("stack              %s-%s  16K", hex16(e.stack), hex16(e.stack+16384)),
		fmt.Sprintf("rsp                %s  (RSP interrupted by #DF", hex16(e.stack)),
		"cr2 in guard page  yes")
	// tasks needs the symbols.
	if err := New(e.m, &kernelsym.ELFKernel{}).Run("tasks", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no kernel symbols") {
		t.Errorf("tasks without symbols: %v", err)
	}
	// DescribeStop still says where CR2 is, as far as the tables tell.
	msg := New(e.m, &kernelsym.ELFKernel{}).DescribeStop(e.stop)
	contains(t, msg, "#DF: #PF (error 0x2, CR2="+hex16(e.st.CR2), "CR2 is 8 bytes below mapped memory at "+hex16(e.stack)+": a guard page?")
}

func TestPTTasksScenario(t *testing.T) {
	m, st := bootKernel(t, "scenario=tasks", "triple", 1_500_000)
	if st.Kind != target.StopLimit {
		t.Fatalf("scenario=tasks stopped with %v", st)
	}
	mon := New(m, nil)
	tasks, err := mon.Kernel().Tasks(kernelsym.Memory{Read: m.CPU().ReadLinear})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) < 4 {
		t.Fatalf("%d tasks", len(tasks))
	}
	out := runOK(t, mon, "pt")
	vm := out[strings.Index(out, "---[ vmalloc"):strings.Index(out, "---[ kernel image")]
	n := 0
	for _, tk := range tasks {
		if tk.Stack < 0xffffc90000000000 || tk.Stack >= 0xffffe90000000000 {
			continue // swapper's stack is in the kernel image
		}
		n++
		stack, ok := lineWith(vm, fmt.Sprintf("%s-%s   ", hex16(tk.Stack), hex16(tk.StackEnd)), " pte ")
		if !ok {
			t.Errorf("no range for the stack of %q:\n%s", tk.Comm, vm)
			continue
		}
		if f := strings.Fields(stack); f[1] != "16K" || f[2] != "RW" || f[3] != "NX" || f[4] != "pte" {
			t.Errorf("stack of %q: %q", tk.Comm, stack)
		}
		g0, g1 := tk.GuardPage()
		guard, ok := lineWith(vm, fmt.Sprintf("%s-%s", hex16(g0), hex16(g1)))
		if !ok || !strings.Contains(guard, fmt.Sprintf("4K  unmapped  (guard page of task %q", tk.Comm)) {
			t.Errorf("guard page of %q: %q\n%s", tk.Comm, guard, vm)
		}
		// The guard line comes right before the stack's line.
		if strings.Index(vm, guard)+len(guard)+1 != strings.Index(vm, stack) {
			t.Errorf("guard page of %q is not right below its stack", tk.Comm)
		}
	}
	if n != len(tasks)-1 {
		t.Errorf("%d vmapped stacks for %d tasks", n, len(tasks))
	}
	// tasks lists them all, with saved stack pointers inside their stacks.
	tout := runOK(t, mon, "tasks")
	for _, tk := range tasks {
		l, ok := lineWith(tout, fmt.Sprintf("%q", tk.Comm))
		if !ok || !strings.Contains(l, hex16(tk.SP)) || !strings.Contains(l, tk.StateName) {
			t.Errorf("tasks line for %q: %q", tk.Comm, l)
		}
	}
	// Each address space through the CR3 tasks shows (__pa of mm->pgd):
	// mm-a and mm-b map a user page at 0x400000 (USER_DATA_VA), init_mm
	// does not.
	users := 0
	for _, tk := range tasks {
		cr3 := tk.PGD - 0xffff888000000000
		l, _ := lineWith(tout, fmt.Sprintf("%q", tk.Comm))
		contains(t, l, fmt.Sprintf("  %#x  ", cr3))
		pt := runOK(t, mon, fmt.Sprintf("pt %#x", cr3))
		user := strings.Contains(pt, "0x0000000000400000-0x0000000000401000     4K  RW")
		if user != (tk.MMName != "init_mm") {
			t.Errorf("task %q (mm %s): user page mapped %v\n%s", tk.Comm, tk.MMName, user, pt)
		}
		if user {
			users++
		}
	}
	if users < 2 {
		t.Errorf("%d tasks with their own address space, want mm-a and mm-b", users)
	}
	// Each task's stack, through its pid.
	for _, tk := range tasks[1:] {
		sout := runOK(t, mon, fmt.Sprintf("stack %d", tk.Pid))
		contains(t, sout, "bottom             "+hex16(tk.Stack), "rsp in guard page  no")
	}
}

func TestDescribeStop(t *testing.T) {
	cases := []struct {
		name, cmdline, breakOn string
		kind                   target.StopKind
		want                   []string
	}{
		{"overflow", "scenario=overflow", "df", target.StopBreakOn, []string{
			"#DF: #PF (error 0x2, CR2=0xffffc90000003ff8) could not be delivered at RIP=0xffffffff",
			" RSP=0xffffc90000004000; CR2 is 8 bytes below the stack of task \"recurse\" (0xffffc90000004000-0xffffc90000008000)"}},
		{"overflow-pf", "scenario=overflow-pf", "pf", target.StopBreakOn, []string{
			"#PF (error 0x2: not-present page, write, supervisor mode; CR2=0xffffc9", "bytes below the stack of task \"bigframe\""}},
		{"irq-overflow", "scenario=irq-overflow", "df", target.StopBreakOn, []string{
			"#DF: #PF (error 0x2, CR2=", "while delivering IRQ 0x20", "below the stack of task \"irqwait\""}},
		{"lazy-pgd noprobe", "scenario=lazy-pgd noprobe", "df", target.StopBreakOn, []string{
			"#DF: #PF (error 0x0", "CR2 is inside the stack of task", "not in a guard page (not present at PML4E in this address space)"}},
		{"noist", "scenario=overflow noist", "triple", target.StopTripleFault, []string{
			"triple fault: ", "CR2 is 8 bytes below the stack of task \"recurse\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, st := bootKernel(t, c.cmdline, c.breakOn, 50_000_000)
			if st.Kind != c.kind {
				t.Fatalf("stopped with %v, want %v\nconsole:\n%s", st, c.kind, m.Console())
			}
			msg := DescribeStop(m, nil, st)
			contains(t, msg, c.want...)
			if strings.Contains(msg, "\n") {
				t.Errorf("multi-line message %q", msg)
			}
		})
	}
	// Other stops are described as the machine does.
	m, st := bootKernel(t, "scenario=tasks", "", 1000)
	if got := DescribeStop(m, nil, st); got != st.String() {
		t.Errorf("limit stop: %q, want %q", got, st.String())
	}
	ev := &cpu.Event{Vector: 13, HasError: true, ErrorCode: 0x10, RIP: 0x1234}
	if got := New(m, nil).DescribeEvent(ev); got != target.DescribeEvent(ev) {
		t.Errorf("#GP: %q", got)
	}
	if got := New(m, nil).DescribeEvent(&cpu.Event{Vector: 8}); !strings.HasPrefix(got, "#DF (error 0x0) at RIP=") {
		t.Errorf("#DF with no nested event: %q", got)
	}
}
