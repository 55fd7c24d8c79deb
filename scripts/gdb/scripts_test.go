package gdbscripts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
)

// Set up once by TestMain: the stub built from this tree and the
// repository root (gdb runs there: the example scripts source the loader
// by a path relative to it, as their comments tell users to).
var (
	stubBin  string
	repoRoot string
)

// testTimeout is a safety net only: a wedged gdb or stub must not hang
// the run. Nothing asserts on durations.
const testTimeout = 120 * time.Second

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gdbscripts: getwd: %v\n", err)
		return 1
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	dir, err := os.MkdirTemp("", "vmapstack-gdbscripts")
	if err != nil {
		fmt.Fprintf(os.Stderr, "gdbscripts: temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if stubBin, err = testtool.BuildStub(dir); err != nil {
		fmt.Fprintf(os.Stderr, "gdbscripts: %v\n", err)
		return 1
	}
	return m.Run()
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// stub is a running stub on a unix socket; the test's cleanup kills it.
type stub struct {
	sock           string
	cmd            *exec.Cmd
	stdout, stderr *testtool.SyncBuffer // the kernel's console, the stub's messages
	done           chan struct{}
	waitErr        error
}

// startStub boots the kernel with the command line appendLine and waits
// until the stub listens.
func startStub(t *testing.T, ctx context.Context, appendLine string, flags ...string) *stub {
	t.Helper()
	s := &stub{sock: testtool.SocketPath(t), stdout: &testtool.SyncBuffer{}, stderr: &testtool.SyncBuffer{}, done: make(chan struct{})}
	args := append([]string{"--listen", "unix:" + s.sock, "--append", appendLine}, flags...)
	s.cmd = exec.CommandContext(ctx, stubBin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start stub: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	for !strings.Contains(s.stderr.String(), "waiting for a debugger on") {
		select {
		case <-s.done:
			t.Fatalf("stub exited before listening: %v\n%s", s.waitErr, s.stderr.String())
		case <-ctx.Done():
			t.Fatalf("stub did not listen: %v\n%s", ctx.Err(), s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return s
}

// wait waits for the stub to exit (gdb's kill ends it) and returns its
// exit status.
func (s *stub) wait(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case <-s.done:
	case <-ctx.Done():
		t.Fatalf("stub did not exit: %v\n%s", ctx.Err(), s.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(s.waitErr, &ee) {
		return ee.ExitCode()
	}
	if s.waitErr != nil {
		t.Fatalf("stub: %v", s.waitErr)
	}
	return 0
}

// gdbEnv keeps the user's configuration and debuginfod out of the runs.
func gdbEnv() []string {
	return append(os.Environ(), "DEBUGINFOD_URLS=", "HOME="+os.TempDir())
}

// runGDB runs gdb -nx -batch with args in the repository root and
// returns everything it printed.
func runGDB(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "gdb", append([]string{"-nx", "-batch"}, args...)...)
	cmd.Dir = repoRoot
	cmd.Env = gdbEnv()
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("gdb did not finish: %v\n%s", ctx.Err(), out)
	}
	// gdb -batch exits non-zero when the last command failed; the
	// assertions on the output say what matters.
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("gdb: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gdb output:\n%s", out)
		}
	})
	return string(out)
}

// exArgs turns commands into -ex arguments.
func exArgs(cmds ...string) []string {
	var args []string
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	return args
}

// mark is a gdb command printing a section marker that sections splits on.
func mark(name string) string { return "echo @@" + name + "@@\\n" }

// sections splits gdb output at the markers printed by mark.
func sections(out string) map[string]string {
	secs := map[string]string{}
	re := regexp.MustCompile(`(?m)^@@([a-z0-9-]+)@@\n`)
	locs := re.FindAllStringSubmatchIndex(out, -1)
	for i, l := range locs {
		end := len(out)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		secs[out[l[2]:l[3]]] = out[l[1]:end]
	}
	return secs
}

// scriptSection is the output after the example scripts' header
// "=== title ..." up to the next header.
func scriptSection(out, title string) string {
	i := strings.Index(out, "=== "+title)
	if i < 0 {
		return ""
	}
	rest := out[i:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[nl+1:]
	}
	if j := strings.Index(rest, "\n=== "); j >= 0 {
		rest = rest[:j+1]
	}
	return rest
}

var gdbValueRE = regexp.MustCompile(`(?m)^\$\d+ = (.*)$`)

// gdbValues are the values of gdb's "$N = ..." lines, in order.
func gdbValues(s string) []string {
	var vs []string
	for _, m := range gdbValueRE.FindAllStringSubmatch(s, -1) {
		vs = append(vs, m[1])
	}
	return vs
}

// hexValue parses a "0x..." value (gdb's p/x) as uint64.
func hexValue(t *testing.T, what, s string) uint64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("%s: no value", what)
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 64)
	if err != nil {
		t.Fatalf("%s: %q is not a hex value: %v", what, s, err)
	}
	return v
}

// field is the value of a "name   value" line (vs-stack, monitor stack).
func field(s, name string) string {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(.*)$`)
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func hex16(v uint64) string { return fmt.Sprintf("0x%016x", v) }

// consoleTask is a "task N "name": stack A..B" line of the kernel console.
type consoleTask struct {
	pid         int
	name        string
	first, last uint64
}

func consoleTasks(t *testing.T, console string) []consoleTask {
	t.Helper()
	re := regexp.MustCompile(`(?m)^task (\d+) "([^"]+)": stack 0x([0-9a-f]{16})\.\.0x([0-9a-f]{16})$`)
	var ts []consoleTask
	for _, m := range re.FindAllStringSubmatch(console, -1) {
		pid, _ := strconv.Atoi(m[1])
		a, _ := strconv.ParseUint(m[3], 16, 64)
		b, _ := strconv.ParseUint(m[4], 16, 64)
		ts = append(ts, consoleTask{pid, m[2], a, b})
	}
	if len(ts) == 0 {
		t.Fatalf("no task lines in the console:\n%s", console)
	}
	return ts
}

const loader = "source scripts/gdb/vmapstack-gdb.py"

// checkTasks asserts vs-tasks lists every task of the console with its
// stack range, and marks current as current.
func checkTasks(t *testing.T, out, console, current string) {
	t.Helper()
	for _, ct := range consoleTasks(t, console) {
		re := regexp.MustCompile(`(?m)^([* ])\s+` + strconv.Itoa(ct.pid) + `\s+"` + regexp.QuoteMeta(ct.name) +
			`"\s+TASK_\w+\s+` + hex16(ct.first) + `\.\.` + hex16(ct.last) + `\s`)
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("vs-tasks does not list task %d %q with stack %s..%s:\n%s", ct.pid, ct.name, hex16(ct.first), hex16(ct.last), out)
			continue
		}
		if cur := m[1] == "*"; cur != (ct.name == current) {
			t.Errorf("vs-tasks: task %q current marker %q, want current task %q", ct.name, m[1], current)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+0\s+"swapper"\s`).MatchString(out) {
		t.Errorf("vs-tasks does not list init_task (pid 0, swapper):\n%s", out)
	}
}

// TestVsCommandsOverflow runs every vs- command and both convenience
// functions at do_double_fault in scenario=overflow, then vs-dmesg at
// panic, and checks them against gdb's own view and the kernel console.
func TestVsCommandsOverflow(t *testing.T) {
	testtool.Require(t, "gdb")
	ctx := testContext(t)
	s := startStub(t, ctx, "scenario=overflow")
	out := runGDB(t, ctx, exArgs(
		"target remote "+s.sock,
		loader,
		loader, // idempotent: a second source registers nothing twice
		"break do_double_fault",
		"continue",
		mark("tasks"), "vs-tasks",
		mark("stack"), "vs-stack",
		mark("gdb"), "p/x current_task->stack", "p/x $cr2", "p/x regs->sp",
		mark("pt-cr2"), "vs-pt",
		mark("pt-stack"), "vs-pt $vs_stack_bottom()",
		mark("pt-monitor"), "vs-pt -m $cr2",
		mark("funcs"), "p $vs_current() == current_task", "p $vs_current()->comm",
		"p/x $vs_stack_bottom()", "p/x $vs_stack_bottom(1)", `p/x $vs_stack_bottom("recurse")`, "p/x $vs_stack_bottom(current_task)",
		mark("dmesg-df"), "vs-dmesg",
		"break panic",
		"continue",
		mark("dmesg"), "vs-dmesg",
		mark("end"),
		"kill",
	)...)
	if code := s.wait(t, ctx); code != 0 {
		t.Errorf("stub exit status %d after gdb's kill, want 0", code)
	}
	console := s.stdout.String()
	secs := sections(out)

	if n := strings.Count(out, "vmapstack: loaded vs-tasks"); n != 1 {
		t.Errorf("the loader announced itself %d times after two sources, want once", n)
	}
	if strings.Contains(out, "Traceback") || strings.Contains(out, "Python Exception") {
		t.Errorf("a Python traceback leaked into gdb's output")
	}

	vals := gdbValues(secs["gdb"])
	if len(vals) != 3 {
		t.Fatalf("gdb printed %d values, want 3 (stack, cr2, regs->sp):\n%s", len(vals), secs["gdb"])
	}
	bottom := hexValue(t, "current_task->stack", vals[0])
	cr2 := hexValue(t, "$cr2", vals[1])
	interrupted := hexValue(t, "regs->sp", vals[2])
	if !(cr2 >= bottom-4096 && cr2 < bottom) {
		t.Fatalf("scenario=overflow: CR2 %#x is not in the guard page below %#x; the kernel or CPU misbehaves", cr2, bottom)
	}

	checkTasks(t, secs["tasks"], console, "recurse")

	st := secs["stack"]
	if got := field(st, "bottom"); got != hex16(bottom) {
		t.Errorf("vs-stack bottom %q, want current_task->stack %s", got, hex16(bottom))
	}
	if got := field(st, "top"); !strings.HasPrefix(got, hex16(bottom+0x3fff)+" ") {
		t.Errorf("vs-stack top %q, want bottom + 0x3fff = %s", got, hex16(bottom+0x3fff))
	}
	if got := field(st, "size"); !strings.HasPrefix(got, "16384 bytes") {
		t.Errorf("vs-stack size %q, want 16384 bytes", got)
	}
	if got := field(st, "rsp"); !strings.HasPrefix(got, hex16(interrupted)+" ") || !strings.Contains(got, "IST1") {
		t.Errorf("vs-stack rsp %q, want the interrupted RSP %s (regs->sp) from the IST1 frame", got, hex16(interrupted))
	}
	if got, want := field(st, "guard page"), fmt.Sprintf("%s..%s  (not present at PTE)", hex16(bottom-4096), hex16(bottom-1)); got != want {
		t.Errorf("vs-stack guard page %q, want %q", got, want)
	}
	if got, want := field(st, "cr2 in guard page"), fmt.Sprintf("yes (CR2 %s, %d bytes below the stack)", hex16(cr2), bottom-cr2); got != want {
		t.Errorf("vs-stack cr2 in guard page %q, want %q", got, want)
	}
	if got := field(st, "task"); !strings.Contains(got, `"recurse" pid 1`) || !strings.Contains(got, "[current]") {
		t.Errorf("vs-stack task %q, want the current task \"recurse\" pid 1", got)
	}

	checkWalk(t, secs["pt-cr2"], cr2, []string{"PML4E", "PDPTE", "PDE", "PTE"})
	if want := fmt.Sprintf("=> not present at PTE: %s is not mapped (guard page of task \"recurse\"", hex16(cr2)); !strings.Contains(secs["pt-cr2"], want) {
		t.Errorf("vs-pt $cr2 does not end with %q:\n%s", want, secs["pt-cr2"])
	}
	if !regexp.MustCompile(`(?m)^PTE\s+\[\s*\d+\].*\(P=0\)`).MatchString(secs["pt-cr2"]) {
		t.Errorf("vs-pt $cr2: the PTE is not shown as not present:\n%s", secs["pt-cr2"])
	}
	checkWalk(t, secs["pt-stack"], bottom, []string{"PML4E", "PDPTE", "PDE", "PTE"})
	if !regexp.MustCompile(`(?m)^=> ` + hex16(bottom) + ` -> phys 0x[0-9a-f]{16}: 4K page, present RW NX \(stack of task "recurse"`).MatchString(secs["pt-stack"]) {
		t.Errorf("vs-pt of the stack bottom is not a present RW NX 4K page:\n%s", secs["pt-stack"])
	}

	// -m hands the walk to the stub's monitor.
	if want := "not present at PTE: " + hex16(cr2) + " is not mapped"; !strings.Contains(secs["pt-monitor"], want) ||
		strings.Contains(secs["pt-monitor"], "direct map") {
		t.Errorf("vs-pt -m $cr2: want monitor walk's %q:\n%s", want, secs["pt-monitor"])
	}

	fv := gdbValues(secs["funcs"])
	if len(fv) != 6 {
		t.Fatalf("convenience functions printed %d values, want 6:\n%s", len(fv), secs["funcs"])
	}
	if fv[0] != "1" {
		t.Errorf("$vs_current() == current_task is %s, want 1", fv[0])
	}
	if !strings.HasPrefix(fv[1], `"recurse\000`) {
		t.Errorf("$vs_current()->comm = %s, want \"recurse\"", fv[1])
	}
	for i, form := range []string{"()", "(1)", `("recurse")`, "(current_task)"} {
		if got := hexValue(t, "$vs_stack_bottom"+form, fv[2+i]); got != bottom {
			t.Errorf("$vs_stack_bottom%s = %#x, want current_task->stack %#x", form, got, bottom)
		}
	}

	if d := secs["dmesg-df"]; !strings.Contains(d, "overflow: recursing until the stack runs into its guard page") || strings.Contains(d, "BUG:") {
		t.Errorf("vs-dmesg at do_double_fault should hold the log so far, without the BUG line yet:\n%s", d)
	}
	bug := fmt.Sprintf("BUG: stack guard page was hit at %s (stack is %s..%s)\nkernel stack overflow (double-fault)\n",
		hex16(cr2), hex16(bottom), hex16(bottom+0x3fff))
	if !strings.Contains(secs["dmesg"], bug) {
		t.Errorf("vs-dmesg at panic does not contain\n%s", bug)
	}
	// Everything the kernel wrote to COM1 before panic is in log_buf.
	if got := secs["dmesg"]; got != console {
		t.Errorf("vs-dmesg at panic differs from the kernel console:\n--- vs-dmesg\n%s--- console\n%s", got, console)
	}
}

// checkWalk asserts a vs-pt walk of addr shows the entry names in order
// with the indices addr selects.
func checkWalk(t *testing.T, out string, addr uint64, names []string) {
	t.Helper()
	shifts := map[string]uint{"PML4E": 39, "PDPTE": 30, "PDE": 21, "PTE": 12}
	if !strings.Contains(out, "walk "+hex16(addr)+" with CR3 ") {
		t.Errorf("vs-pt: no header for %s:\n%s", hex16(addr), out)
	}
	for _, n := range names {
		idx := addr >> shifts[n] & 511
		re := regexp.MustCompile(`(?m)^` + n + `\s+\[\s*` + strconv.FormatUint(idx, 10) + `\]\s+at phys 0x[0-9a-f]{16}\s+= 0x[0-9a-f]{16}`)
		if !re.MatchString(out) {
			t.Errorf("vs-pt %s: no %s line with index %d:\n%s", hex16(addr), n, idx, out)
		}
	}
}

// TestVsCommandsErrors checks the commands fail with clear gdb errors,
// not Python tracebacks: no target, paging off, bad arguments.
func TestVsCommandsErrors(t *testing.T) {
	testtool.Require(t, "gdb")
	ctx := testContext(t)

	out := runGDB(t, ctx, exArgs(loader, "vs-tasks", "vs-stack", "vs-pt", "vs-dmesg", "p $vs_current()")...)
	for _, want := range []string{
		"vs-tasks: no target: attach first",
		"vs-stack: no target: attach first",
		"vs-pt: no target: attach first",
		"vs-dmesg: no target: attach first",
		"$vs_current: cannot read current_task",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("without a target: no %q in:\n%s", want, out)
		}
	}

	s := startStub(t, ctx, "scenario=overflow")
	out += runGDB(t, ctx, exArgs(
		"target remote "+s.sock,
		loader,
		mark("entry"), "vs-tasks", "vs-pt 0x1000",
		"break start_kernel", "continue",
		mark("start"), "vs-stack", "vs-tasks extra", "vs-stack nosuch", "vs-pt 0x0008000000000000", "p $vs_stack_bottom(1, 2)",
		"kill",
	)...)
	secs := sections(out)
	for sec, wants := range map[string][]string{
		"entry": {
			"vs-tasks: paging is off (CR0.PG=0)",
			"vs-pt: paging is off (CR0.PG=0)",
		},
		"start": {
			"vs-stack: current_task is NULL",
			"vs-tasks: takes no arguments",
			"vs-stack: no task 'nosuch'",
			"vs-pt: 0x8000000000000 is not canonical",
			"$vs_stack_bottom: takes at most one argument",
		},
	} {
		for _, want := range wants {
			if !strings.Contains(secs[sec], want) {
				t.Errorf("%s: no %q in:\n%s", sec, want, secs[sec])
			}
		}
	}
	if strings.Contains(out, "Traceback") || strings.Contains(out, "Python Exception") {
		t.Errorf("a Python traceback leaked into gdb's output")
	}
}

// TestVsCommandsTasks looks at several tasks in different address
// spaces (scenario=tasks), stopped in the spinner task.
func TestVsCommandsTasks(t *testing.T) {
	testtool.Require(t, "gdb")
	ctx := testContext(t)
	s := startStub(t, ctx, "scenario=tasks")
	out := runGDB(t, ctx, exArgs(
		"target remote "+s.sock,
		loader,
		"break spinner",
		"continue",
		mark("tasks"), "vs-tasks",
		mark("worker-a"), "vs-stack worker-a",
		mark("gdb"), "p/x task_table[1]->stack", "p/x task_table[1]->thread.sp", "p/x task_table[2]->stack",
		`p/x $vs_stack_bottom("worker-b")`, "p/x $vs_stack_bottom(task_table[2])", "p/x $cr3",
		"p/x (unsigned long)task_table[1]->mm->pgd - 0xffff888000000000",
		mark("spinner"), "vs-stack 4",
		mark("user-mm-a"), "vs-pt 0x400000 task_table[1]->mm->pgd",
		mark("user-init"), "vs-pt 0x400000 init_mm.pgd",
		mark("end"),
		"kill",
	)...)
	s.wait(t, ctx)
	secs := sections(out)
	checkTasks(t, secs["tasks"], s.stdout.String(), "spinner")
	for name, mm := range map[string]string{"worker-a": "mm-a", "worker-b": "mm-b"} {
		if !regexp.MustCompile(`(?m)"` + name + `".*\s` + mm + `$`).MatchString(secs["tasks"]) {
			t.Errorf("vs-tasks: %s is not shown in %s:\n%s", name, mm, secs["tasks"])
		}
	}

	vals := gdbValues(secs["gdb"])
	if len(vals) != 7 {
		t.Fatalf("gdb printed %d values, want 7:\n%s", len(vals), secs["gdb"])
	}
	stackA := hexValue(t, "task_table[1]->stack", vals[0])
	spA := hexValue(t, "task_table[1]->thread.sp", vals[1])
	stackB := hexValue(t, "task_table[2]->stack", vals[2])
	for i, form := range []string{`("worker-b")`, "(task_table[2])"} {
		if got := hexValue(t, "$vs_stack_bottom"+form, vals[3+i]); got != stackB {
			t.Errorf("$vs_stack_bottom%s = %#x, want %#x", form, got, stackB)
		}
	}
	cr3 := hexValue(t, "$cr3", vals[5])
	pgdA := hexValue(t, "mm-a's pgd", vals[6])

	wa := secs["worker-a"]
	if got := field(wa, "task"); !strings.Contains(got, `"worker-a" pid 1`) || strings.Contains(got, "[current]") {
		t.Errorf("vs-stack worker-a: task %q, want \"worker-a\" pid 1, not current", got)
	}
	if got := field(wa, "bottom"); got != hex16(stackA) {
		t.Errorf("vs-stack worker-a: bottom %q, want %s", got, hex16(stackA))
	}
	if got := field(wa, "saved sp"); !strings.HasPrefix(got, hex16(spA)+" ") {
		t.Errorf("vs-stack worker-a: saved sp %q, want thread.sp %s", got, hex16(spA))
	}
	if got := field(wa, "used"); got != fmt.Sprintf("%d bytes", stackA+0x4000-spA) {
		t.Errorf("vs-stack worker-a: used %q, want %d bytes", got, stackA+0x4000-spA)
	}
	if got := field(wa, "rsp in guard page"); got != "no" {
		t.Errorf("vs-stack worker-a: rsp in guard page %q, want no", got)
	}
	if got := field(secs["spinner"], "task"); !strings.Contains(got, `"spinner" pid 4`) || !strings.Contains(got, "[current]") {
		t.Errorf("vs-stack 4: task %q, want the current task \"spinner\" pid 4", got)
	}
	if got := field(secs["spinner"], "rsp"); !strings.Contains(got, "(RSP)") {
		t.Errorf("vs-stack 4: rsp %q, want the live RSP", got)
	}

	// The user page at 0x400000 is mapped in mm-a (read by worker-a) but
	// not in init_mm; vs-pt takes a pgd pointer as the CR3.
	if want := fmt.Sprintf("walk 0x0000000000400000 with CR3 %#x", pgdA); !strings.Contains(secs["user-mm-a"], want) {
		t.Errorf("vs-pt with mm-a's pgd: no %q:\n%s", want, secs["user-mm-a"])
	}
	if !regexp.MustCompile(`(?m)^=> 0x0000000000400000 -> phys 0x[0-9a-f]{16}: 4K page, present`).MatchString(secs["user-mm-a"]) {
		t.Errorf("vs-pt 0x400000 in mm-a: not a present 4K page:\n%s", secs["user-mm-a"])
	}
	if !strings.Contains(secs["user-init"], "=> not present at ") {
		t.Errorf("vs-pt 0x400000 in init_mm: should not be present:\n%s", secs["user-init"])
	}
	if cr3 == 0 {
		t.Errorf("$cr3 is 0 with paging on")
	}
}

// TestAutoLoad follows scripts/gdb/README.md: kernel.elf-gdb.py next to
// the ELF (a symlink to the loader) and add-auto-load-safe-path.
func TestAutoLoad(t *testing.T) {
	testtool.Require(t, "gdb")
	ctx := testContext(t)
	dir := t.TempDir()
	elf := filepath.Join(dir, "kernel.elf")
	if err := os.WriteFile(elf, kernelimg.ELF, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repoRoot, "scripts", "gdb", "vmapstack-gdb.py"), elf+"-gdb.py"); err != nil {
		t.Fatal(err)
	}
	s := startStub(t, ctx, "scenario=overflow")
	out := runGDB(t, ctx, append([]string{"-iex", "add-auto-load-safe-path " + dir, elf}, exArgs(
		"info auto-load python-scripts",
		"target remote "+s.sock,
		"source "+filepath.Join(repoRoot, "scripts", "gdb", "vmapstack-gdb.py"), // a second load: harmless
		"break do_double_fault",
		"continue",
		mark("stack"), "vs-stack",
		"kill",
	)...)...)
	if !regexp.MustCompile(`(?m)^Yes\s+` + regexp.QuoteMeta(elf+"-gdb.py")).MatchString(out) {
		t.Errorf("gdb did not auto-load %s-gdb.py", elf)
	}
	if n := strings.Count(out, "vmapstack: loaded vs-tasks"); n != 1 {
		t.Errorf("the loader announced itself %d times (auto-load, then source), want once", n)
	}
	if got := field(sections(out)["stack"], "cr2 in guard page"); !strings.HasPrefix(got, "yes") {
		t.Errorf("vs-stack after auto-load: cr2 in guard page %q, want yes", got)
	}
}

// x6gx parses the quadwords of an "x/6gx" dump.
func x6gx(s string) []uint64 {
	var vs []uint64
	re := regexp.MustCompile(`(?m)^0x[0-9a-f]+(?: <[^>]*>)?:((?:\s+0x[0-9a-f]+)+)$`)
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		for _, f := range strings.Fields(m[1]) {
			v, _ := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 64)
			vs = append(vs, v)
		}
	}
	return vs
}

// checkFaults asserts `monitor faults` shows a #PF that was not delivered,
// followed by the #DF it raised, delivered on IST 1.
func checkFaults(t *testing.T, out string) {
	t.Helper()
	pf, df := -1, -1
	for i, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "#PF -> #DF") && strings.Contains(line, " delivered") && !strings.Contains(line, "not delivered"):
			df = i
		case strings.Contains(line, "#PF") && !strings.Contains(line, "#DF") && strings.Contains(line, "not delivered"):
			pf = i
		}
	}
	if pf < 0 || df < 0 || pf > df {
		t.Errorf("monitor faults does not show an undelivered #PF followed by a delivered \"#PF -> #DF\":\n%s", out)
	}
}

// TestCatchOverflowScript runs scripts/gdb/catch-overflow.gdb as its
// comment says and checks the diagnosis it prints.
func TestCatchOverflowScript(t *testing.T) {
	testtool.Require(t, "gdb")
	ctx := testContext(t)
	s := startStub(t, ctx, "scenario=overflow")
	out := runGDB(t, ctx, "-ex", "target remote "+s.sock, "-x", "scripts/gdb/catch-overflow.gdb")
	if code := s.wait(t, ctx); code != 0 {
		t.Errorf("stub exit status %d, want 0 (the script ends with kill)", code)
	}

	where := scriptSection(out, "where are we?")
	vals := gdbValues(where)
	if len(vals) < 2 {
		t.Fatalf("the script did not print $cr2 and current_task->stack at the #DF stop (did `monitor break-on df on` work?)")
	}
	cr2 := hexValue(t, "$cr2", vals[0])
	bottom := hexValue(t, "current_task->stack", vals[1])
	if !(cr2 >= bottom-4096 && cr2 < bottom) {
		t.Errorf("CR2 %#x is not in the guard page below the stack %#x", cr2, bottom)
	}
	if !strings.Contains(where, "stub_8 in section .text") {
		t.Errorf("the #DF stop is not at the #DF entry stub (stub_8):\n%s", where)
	}
	// The entry stub's CFI lets gdb unwind through the CPU's frame into
	// the recursion.
	if !regexp.MustCompile(`(?m)^#1\s+0x[0-9a-f]+ in recurse \(`).MatchString(where) {
		t.Errorf("bt at the #DF stop does not unwind into recurse:\n%s", where)
	}

	frame := x6gx(scriptSection(out, "the exception frame"))
	if len(frame) != 6 {
		t.Errorf("x/6gx $rsp: %d quadwords, want 6", len(frame))
	} else {
		if frame[0] != 0 || frame[2] != 0x10 || frame[5] != 0x18 {
			t.Errorf("#DF frame error/CS/SS = %#x/%#x/%#x, want 0/0x10/0x18", frame[0], frame[2], frame[5])
		}
		if frame[4] != bottom {
			t.Errorf("#DF frame RSP %#x, want the stack bottom %#x (the next push hit the guard page)", frame[4], bottom)
		}
	}
	if !strings.Contains(scriptSection(out, "the exception frame"), "recurse + ") {
		t.Errorf("info symbol does not place the faulting RIP in recurse")
	}

	ms := scriptSection(out, "monitor stack")
	if got := field(ms, "bottom"); got != hex16(bottom) {
		t.Errorf("monitor stack bottom %q, want p/x current_task->stack = %s", got, hex16(bottom))
	}
	if got := field(ms, "top"); got != hex16(bottom+16<<10) {
		t.Errorf("monitor stack top %q, want bottom + 16K = %s", got, hex16(bottom+16<<10))
	}
	if got := field(ms, "cr2 in guard page"); !strings.HasPrefix(got, "yes") {
		t.Errorf("monitor stack: cr2 in guard page %q, want yes", got)
	}

	mc := scriptSection(out, "monitor cr2")
	if got := field(mc, "CR2"); got != hex16(cr2) {
		t.Errorf("monitor cr2: CR2 %q, want p/x $cr2 = %s", got, hex16(cr2))
	}
	if got := field(mc, "points at"); !strings.HasPrefix(got, `guard page of task "recurse"`) {
		t.Errorf("monitor cr2: points at %q, want the guard page of task \"recurse\"", got)
	}

	if want := "not present at PTE: " + hex16(cr2) + " is not mapped"; !strings.Contains(scriptSection(out, "monitor walk $cr2"), want) {
		t.Errorf("monitor walk $cr2 does not stop at the PTE (%q)", want)
	}
	checkFaults(t, scriptSection(out, "monitor faults"))

	bug := fmt.Sprintf("BUG: stack guard page was hit at %s (stack is %s..%s)", hex16(cr2), hex16(bottom), hex16(bottom+0x3fff))
	panicSec := scriptSection(out, "let the #DF handler run")
	if !strings.Contains(panicSec, bug) || !strings.Contains(panicSec, "kernel stack overflow (double-fault)") {
		t.Errorf("the script's vs-dmesg does not show %q and the double-fault diagnosis", bug)
	}
	for _, fn := range []string{"panic", "handle_stack_overflow", "do_double_fault"} {
		if !strings.Contains(panicSec, " "+fn+" (") {
			t.Errorf("bt at panic does not show %s", fn)
		}
	}
}

// TestLazyPgdNosyncScript runs scripts/gdb/lazy-pgd-nosync.gdb: a #DF that
// is not an overflow.
func TestLazyPgdNosyncScript(t *testing.T) {
	testtool.Require(t, "gdb")
	ctx := testContext(t)
	s := startStub(t, ctx, "scenario=lazy-pgd nosync")
	out := runGDB(t, ctx, "-ex", "target remote "+s.sock, "-x", "scripts/gdb/lazy-pgd-nosync.gdb")
	s.wait(t, ctx)

	who := scriptSection(out, "who faulted")
	vals := gdbValues(who)
	if len(vals) < 3 {
		t.Fatalf("the script did not print comm, $cr2 and current_task->stack at the #DF stop (did `monitor break-on df on` work?)")
	}
	if !strings.HasPrefix(vals[0], `"lazy-b\000`) {
		t.Errorf("current task %s, want lazy-b", vals[0])
	}
	cr2 := hexValue(t, "$cr2", vals[1])
	bottom := hexValue(t, "current_task->stack", vals[2])
	if !(cr2 >= bottom && cr2 < bottom+16<<10) {
		t.Errorf("CR2 %#x is not inside lazy-b's stack %#x..%#x", cr2, bottom, bottom+0x3fff)
	}
	if !strings.Contains(who, "switch_mm + ") {
		t.Errorf("the faulting RIP is not in switch_mm")
	}

	whose := gdbValues(scriptSection(out, "whose page tables"))
	if len(whose) != 5 {
		t.Errorf("whose page tables: %d values, want 5", len(whose))
	} else {
		cr3 := hexValue(t, "$cr3", whose[0])
		pgdC := hexValue(t, "mm-c's pgd", whose[3])
		if cr3 != pgdC || !strings.Contains(whose[2], `"mm-c"`) || !strings.Contains(whose[4], `"mm-b"`) {
			t.Errorf("CR3 %#x should be mm-c's PML4 (%#x, %s) while lazy-b's mm is %s", cr3, pgdC, whose[2], whose[4])
		}
	}

	ms := scriptSection(out, "monitor stack")
	if got := field(ms, "bottom"); got != hex16(bottom) {
		t.Errorf("monitor stack bottom %q, want %s", got, hex16(bottom))
	}
	for _, f := range []string{"cr2 in guard page", "rsp in guard page"} {
		// monitor stack and vs-stack both print these lines; both must say no.
		re := regexp.MustCompile(`(?m)^` + f + `\s+(\S+)`)
		ms := re.FindAllStringSubmatch(ms, -1)
		if len(ms) != 2 {
			t.Errorf("%q: %d lines (monitor stack, vs-stack), want 2", f, len(ms))
		}
		for _, m := range ms {
			if m[1] != "no" {
				t.Errorf("%s: %s, want no: this #DF is not an overflow", f, m[1])
			}
		}
	}

	mc := scriptSection(out, "monitor cr2")
	if got := field(mc, "CR2"); got != hex16(cr2) {
		t.Errorf("monitor cr2: CR2 %q, want %s", got, hex16(cr2))
	}
	if got := field(mc, "points at"); !strings.HasPrefix(got, `stack of task "lazy-b"`) {
		t.Errorf("monitor cr2: points at %q, want the stack of task \"lazy-b\"", got)
	}

	live := scriptSection(out, "the walk in the live address space")
	if want := "not present at PML4E: " + hex16(bottom) + " is not mapped"; !strings.Contains(live, want) {
		t.Errorf("monitor walk of the stack in mm-c does not stop at the PML4E (%q)", want)
	}
	if want := "=> not present at PML4E: " + hex16(cr2); !strings.Contains(live, want) {
		t.Errorf("vs-pt $cr2 in mm-c does not stop at the PML4E (%q)", want)
	}
	own := scriptSection(out, "the same address in mm-b")
	if !regexp.MustCompile(`(?m)^` + hex16(bottom) + ` -> phys 0x[0-9a-f]{16}, 4K page at `).MatchString(own) {
		t.Errorf("monitor walk of the stack in mm-b does not reach a present 4K page")
	}
	if !regexp.MustCompile(`(?m)^=> ` + hex16(bottom) + ` -> phys 0x[0-9a-f]{16}: 4K page, present RW NX`).MatchString(own) {
		t.Errorf("vs-pt of the stack in mm-b is not a present RW NX 4K page")
	}
	checkFaults(t, scriptSection(out, "monitor faults"))

	p := scriptSection(out, "let the #DF handler run")
	if !strings.Contains(p, "double fault: 0000 [#1]") || strings.Contains(p, "BUG: stack guard page") {
		t.Errorf("vs-dmesg at panic should show a plain double fault, not a stack overflow:\n%s", p)
	}
}

// ---- .vscode ----

type miCommand struct {
	Description    string `json:"description"`
	Text           string `json:"text"`
	IgnoreFailures bool   `json:"ignoreFailures"`
}

type launchConfig struct {
	Name                      string      `json:"name"`
	Type                      string      `json:"type"`
	Request                   string      `json:"request"`
	Program                   string      `json:"program"`
	Cwd                       string      `json:"cwd"`
	MIMode                    string      `json:"MIMode"`
	MIDebuggerPath            string      `json:"miDebuggerPath"`
	MIDebuggerServerAddress   string      `json:"miDebuggerServerAddress"`
	PreLaunchTask             string      `json:"preLaunchTask"`
	SetupCommands             []miCommand `json:"setupCommands"`
	PostRemoteConnectCommands []miCommand `json:"postRemoteConnectCommands"`
}

type vscodeTask struct {
	Label          string   `json:"label"`
	Command        string   `json:"command"`
	Args           []string `json:"args"`
	IsBackground   bool     `json:"isBackground"`
	ProblemMatcher struct {
		Pattern struct {
			Regexp string `json:"regexp"`
		} `json:"pattern"`
		Background struct {
			ActiveBegins  bool   `json:"activeBegins"`
			BeginsPattern string `json:"beginsPattern"`
			EndsPattern   string `json:"endsPattern"`
		} `json:"background"`
	} `json:"problemMatcher"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// vscodeVars substitutes the variables VS Code would.
func vscodeVars(s string) string {
	return strings.ReplaceAll(s, "${workspaceFolder}", repoRoot)
}

// mi is a gdb/MI session, driven as cppdbg (MIEngine) drives it.
type mi struct {
	t     *testing.T
	ctx   context.Context
	in    io.WriteCloser
	lines chan string
	token int
	log   *testtool.SyncBuffer
}

func startMI(t *testing.T, ctx context.Context, dir string) *mi {
	t.Helper()
	cmd := exec.CommandContext(ctx, "gdb", "--interpreter=mi3", "-nx", "-q")
	cmd.Dir = dir
	cmd.Env = gdbEnv()
	cmd.WaitDelay = 5 * time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	m := &mi{t: t, ctx: ctx, in: in, lines: make(chan string, 1024), log: &testtool.SyncBuffer{}}
	cmd.Stderr = m.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gdb/MI: %v", err)
	}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(outPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			m.log.Write([]byte(sc.Text() + "\n"))
			m.lines <- sc.Text()
		}
		close(m.lines)
		close(done)
	}()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
		if t.Failed() {
			t.Logf("gdb/MI transcript:\n%s", m.log.String())
		}
	})
	return m
}

// next returns the next output line, failing the test at EOF or timeout.
func (m *mi) next() string {
	m.t.Helper()
	select {
	case l, ok := <-m.lines:
		if !ok {
			m.t.Fatalf("gdb/MI exited")
		}
		return l
	case <-m.ctx.Done():
		m.t.Fatalf("gdb/MI: %v", m.ctx.Err())
	}
	return ""
}

// send sends an MI command and returns its result record (without the
// token) and the console stream output that came with it.
func (m *mi) send(command string) (result, console string) {
	m.t.Helper()
	m.token++
	tok := strconv.Itoa(m.token)
	m.log.Write([]byte("<- " + tok + command + "\n"))
	if _, err := io.WriteString(m.in, tok+command+"\n"); err != nil {
		m.t.Fatalf("gdb/MI: write: %v", err)
	}
	var cons strings.Builder
	for {
		l := m.next()
		switch {
		case strings.HasPrefix(l, tok+"^"):
			return strings.TrimPrefix(l, tok), cons.String()
		case strings.HasPrefix(l, "~"):
			if s, err := strconv.Unquote(l[1:]); err == nil {
				cons.WriteString(s)
			}
		}
	}
}

// console sends a CLI command the way MIEngine sends non-MI setup commands.
func (m *mi) console(text string) (result, console string) {
	m.t.Helper()
	return m.send("-interpreter-exec console " + strconv.Quote(text))
}

// setupCommand sends a launch.json command: MI commands as they are, CLI
// commands through -interpreter-exec.
func (m *mi) setupCommand(c miCommand) (result, console string) {
	text := vscodeVars(c.Text)
	if strings.HasPrefix(text, "-") {
		return m.send(text)
	}
	return m.console(text)
}

// waitStopped reads until a *stopped record.
func (m *mi) waitStopped() string {
	m.t.Helper()
	for {
		if l := m.next(); strings.HasPrefix(l, "*stopped") {
			return l
		}
	}
}

// TestVSCodeConfig checks .vscode/launch.json and tasks.json against the
// stub and replays each configuration's commands through gdb/MI in
// cppdbg's order: setupCommands, the program, -target-select remote,
// postRemoteConnectCommands, then run to the #DF.
func TestVSCodeConfig(t *testing.T) {
	var launch struct {
		Configurations []launchConfig `json:"configurations"`
	}
	var tasks struct {
		Tasks []vscodeTask `json:"tasks"`
	}
	readJSON(t, filepath.Join(repoRoot, ".vscode", "launch.json"), &launch)
	readJSON(t, filepath.Join(repoRoot, ".vscode", "tasks.json"), &tasks)
	if len(launch.Configurations) == 0 {
		t.Fatal("launch.json has no configurations")
	}
	taskByLabel := map[string]vscodeTask{}
	for _, tk := range tasks.Tasks {
		taskByLabel[tk.Label] = tk
	}

	testtool.Require(t, "gdb")
	for _, cfg := range launch.Configurations {
		t.Run(cfg.Name, func(t *testing.T) {
			if cfg.Type != "cppdbg" || cfg.MIMode != "gdb" || cfg.Request != "launch" {
				t.Errorf("type %q MIMode %q request %q, want cppdbg gdb launch", cfg.Type, cfg.MIMode, cfg.Request)
			}
			if cfg.MIDebuggerServerAddress != "127.0.0.1:1234" {
				t.Errorf("miDebuggerServerAddress %q, want the stub's default 127.0.0.1:1234", cfg.MIDebuggerServerAddress)
			}
			program := vscodeVars(cfg.Program)
			if cfg.Program != "${workspaceFolder}/kernelimg/kernel.elf" {
				t.Errorf("program %q, want ${workspaceFolder}/kernelimg/kernel.elf", cfg.Program)
			}
			if _, err := os.Stat(program); err != nil {
				t.Errorf("program: %v", err)
			}
			if !hasCommand(cfg.SetupCommands, "source ${workspaceFolder}/scripts/gdb/vmapstack-gdb.py") {
				t.Errorf("setupCommands do not source scripts/gdb/vmapstack-gdb.py")
			}
			if !hasCommand(cfg.PostRemoteConnectCommands, "monitor break-on df on") {
				t.Errorf("postRemoteConnectCommands do not turn on break-on df")
			}
			if cfg.PreLaunchTask != "" {
				checkStubTask(t, taskByLabel, cfg)
			}

			ctx := testContext(t)
			s := startStub(t, ctx, "scenario=overflow")
			m := startMI(t, ctx, vscodeVars(cfg.Cwd))
			for _, c := range cfg.SetupCommands {
				if r, _ := m.setupCommand(c); r != "^done" {
					t.Errorf("setupCommand %q: %s, want ^done", c.Text, r)
				}
			}
			if r, _ := m.send("-file-exec-and-symbols " + program); r != "^done" {
				t.Errorf("-file-exec-and-symbols: %s", r)
			}
			// The address is the only thing replaced: a unix socket per test.
			if r, _ := m.send("-target-select remote " + s.sock); !strings.HasPrefix(r, "^connected") {
				t.Fatalf("-target-select remote: %s", r)
			}
			for _, c := range cfg.PostRemoteConnectCommands {
				if r, _ := m.setupCommand(c); r != "^done" {
					t.Errorf("postRemoteConnectCommand %q: %s, want ^done", c.Text, r)
				}
			}
			if r, _ := m.send("-exec-continue"); r != "^running" {
				t.Fatalf("-exec-continue: %s", r)
			}
			stop := m.waitStopped()
			if !strings.Contains(stop, `reason="signal-received"`) {
				t.Errorf("unexpected stop: %s", stop)
			}
			if r, out := m.console("info symbol $pc"); r != "^done" || !strings.HasPrefix(out, "stub_8 in section") {
				t.Errorf("the machine did not stop at #DF delivery (stub_8): %s %q (stop: %s)", r, out, stop)
			}
			r, out := m.console("vs-stack")
			if r != "^done" || !strings.Contains(out, "cr2 in guard page  yes") {
				t.Errorf("vs-stack through MI: %s\n%s", r, out)
			}
			if r, _ := m.send(`-data-evaluate-expression "$vs_current()->pid"`); r != `^done,value="1"` {
				t.Errorf("$vs_current()->pid through MI: %s, want ^done,value=\"1\"", r)
			}
			m.console("kill")
			m.send("-gdb-exit")
		})
	}
}

func hasCommand(cs []miCommand, text string) bool {
	for _, c := range cs {
		if c.Text == text {
			return true
		}
	}
	return false
}

// checkStubTask checks the preLaunchTask starts the stub where the
// configuration attaches, and that its problem matcher's end pattern
// matches the line the stub prints once it listens.
func checkStubTask(t *testing.T, byLabel map[string]vscodeTask, cfg launchConfig) {
	t.Helper()
	tk, ok := byLabel[cfg.PreLaunchTask]
	if !ok {
		t.Errorf("preLaunchTask %q is not in tasks.json", cfg.PreLaunchTask)
		return
	}
	args := strings.Join(tk.Args, " ")
	if tk.Command != "go" || !strings.HasPrefix(args, "run ./cmd/stub") || !strings.Contains(args, "--listen "+cfg.MIDebuggerServerAddress) {
		t.Errorf("task %q runs %q %q, want go run ./cmd/stub --listen %s", tk.Label, tk.Command, args, cfg.MIDebuggerServerAddress)
	}
	if !tk.IsBackground || !tk.ProblemMatcher.Background.ActiveBegins {
		t.Errorf("task %q must be a background task, active from the start", tk.Label)
	}
	ends, err := regexp.Compile(tk.ProblemMatcher.Background.EndsPattern)
	if err != nil {
		t.Fatalf("endsPattern: %v", err)
	}
	ctx := testContext(t)
	s := startStub(t, ctx, "scenario=overflow", "--listen", "127.0.0.1:0") // the last --listen wins; never connected
	_ = s
	line := ""
	for _, l := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(l, "waiting for a debugger") {
			line = l
		}
	}
	if !ends.MatchString(line) {
		t.Errorf("endsPattern %q does not match the stub's line %q", ends, line)
	}
	for _, l := range strings.Split(s.stderr.String(), "\n") {
		if l != line && l != "" && ends.MatchString(l) {
			t.Errorf("endsPattern %q also matches %q", ends, l)
		}
	}
	pat, err := regexp.Compile(tk.ProblemMatcher.Pattern.Regexp)
	if err != nil {
		t.Fatalf("problem pattern: %v", err)
	}
	if !pat.MatchString("./cmd/stub/main.go:12:3: undefined: x") {
		t.Errorf("problem pattern %q does not match a Go compile error", pat)
	}
}
