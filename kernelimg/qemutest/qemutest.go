// Package qemutest runs the mini kernel under the real qemu-system-x86_64
// and parses what comes out: the console, the exit status, the BUG line,
// the register lines and QEMU's `-d int` log. kernelimg's tests use it, and
// so do the emulator's tests that compare our machine with QEMU byte for
// byte. It is test support: nothing in the stub imports it.
package qemutest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// QEMU is the binary the helpers run.
const QEMU = "qemu-system-x86_64"

// DefaultTimeout bounds one QEMU run, a safety net only. Most scenarios
// end in well under a second, but bench under -icount shift=10 (a timer
// tick every ~1000 instructions) took 7.7 s on a quiet 2-core AMD EPYC, and
// a loaded host may take several times that.
const DefaultTimeout = 2 * time.Minute

// Kernel constants the parsers check against (kernelimg/src/kernel.h).
const (
	PageSize     = 4096
	ThreadSize   = 16 * 1024
	VmallocStart = 0xffffc90000000000
	VmallocEnd   = 0xffffe90000000000
)

// Console lines of the kernel (docs/design.md §4).
const (
	LineOverflowDF = "kernel stack overflow (double-fault)"
	LineOverflowPF = "kernel stack overflow (page fault)"
	PanicPrefix    = "Kernel panic - not syncing: "
	PowerDown      = "reboot: Power down"
)

// Case is one scenario/flag combination and what it must do.
type Case struct {
	Name   string // a test name: the command line with "_" for spaces
	Append string // the kernel command line
	// ExitCode is the value the kernel writes to isa-debug-exit: 0 clean,
	// 1 panic. QEMU exits with (ExitCode<<1)|1. Unused when Triple.
	ExitCode int
	// Triple: the run ends in a triple fault (QEMU -no-reboot exits 0, the
	// kernel never reaches isa-debug-exit).
	Triple bool
	// Overflow is the diagnosis line when the case must print a BUG line
	// (LineOverflowDF or LineOverflowPF), else "".
	Overflow string
	// DoubleFault: an undiagnosed #DF ("double fault: ..." and registers),
	// whose CR2 lies in no stack guard page.
	DoubleFault bool
	// MustContain lists whole console lines that must appear, in order.
	MustContain []string
}

// Cases lists every scenario/flag combination the kernel supports.
var Cases = []Case{
	{Name: "tasks", Append: "scenario=tasks", ExitCode: 0, MustContain: []string{
		"scenario: tasks",
		`spinner: busy-waiting for worker-c without yielding; only the timer can switch away`,
		`worker-a: round 0 in mm-a, 0x400000 reads "hello from mm-a"`,
		`worker-b: round 0 in mm-b, 0x400000 reads "hello from mm-b"`,
		`worker-c: round 2 in init_mm, 0x400000 reads "(nothing mapped)"`,
		"spinner: released",
		"tasks: all 4 tasks exited",
		PowerDown,
	}},
	{Name: "overflow", Append: "scenario=overflow", ExitCode: 1, Overflow: LineOverflowDF, MustContain: []string{
		`task 1 "recurse": stack 0xffffc90000004000..0xffffc90000007fff`,
		"BUG: stack guard page was hit at 0xffffc90000003ff8 (stack is 0xffffc90000004000..0xffffc90000007fff)",
		LineOverflowDF,
		PanicPrefix + LineOverflowDF,
	}},
	{Name: "overflow-pf", Append: "scenario=overflow-pf", ExitCode: 1, Overflow: LineOverflowPF, MustContain: []string{
		`task 1 "bigframe": stack 0xffffc90000004000..0xffffc90000007fff`,
		LineOverflowPF,
		PanicPrefix + LineOverflowPF,
	}},
	{Name: "irq-overflow", Append: "scenario=irq-overflow", ExitCode: 1, Overflow: LineOverflowDF, MustContain: []string{
		`task 1 "irqwait": stack 0xffffc90000004000..0xffffc90000007fff`,
		"irq-overflow: waiting for the timer with RSP = 0xffffc90000004010 (stack bottom + 16)",
		"BUG: stack guard page was hit at 0xffffc90000003ff8 (stack is 0xffffc90000004000..0xffffc90000007fff)",
		LineOverflowDF,
		PanicPrefix + LineOverflowDF,
	}},
	{Name: "lazy-pgd", Append: "scenario=lazy-pgd", ExitCode: 0, MustContain: []string{
		`task 2 "lazy-b": stack 0xffffc98000004000..0xffffc98000007fff`,
		"lazy-pgd: PML4 slot 403 present in init_mm: yes, mm-b: no, mm-c: no",
		`lazy-b: running in mm-b (reads "hello from mm-b"), PML4 slot 403 present: yes`,
		"lazy-c: back in mm-c, PML4 slot 403 present: yes",
		"lazy-pgd: ok",
		PowerDown,
	}},
	{Name: "lazy-pgd_nosync", Append: "scenario=lazy-pgd nosync", ExitCode: 1, DoubleFault: true, MustContain: []string{
		`lazy-b: running in mm-b (reads "hello from mm-b"), PML4 slot 403 present: yes`,
		"double fault: 0000 [#1]",
		"CPU: 0 PID: 2 Comm: lazy-b",
		PanicPrefix + "double fault",
	}},
	{Name: "lazy-pgd_noprobe", Append: "scenario=lazy-pgd noprobe", ExitCode: 1, DoubleFault: true, MustContain: []string{
		`lazy-c: running in mm-c (reads "hello from mm-c"), PML4 slot 403 present: no`,
		"double fault: 0000 [#1]",
		"CPU: 0 PID: 2 Comm: lazy-b",
		PanicPrefix + "double fault",
	}},
	{Name: "overflow_noist", Append: "scenario=overflow noist", Triple: true, MustContain: []string{
		"scenario: overflow noist",
		"overflow: recursing until the stack runs into its guard page",
	}},
	{Name: "bench", Append: "scenario=bench", ExitCode: 0, MustContain: []string{
		"bench: 4 tasks x 2000000 iterations, yielding every 2048",
		"bench: 3908 yields, checksum 0x9c3f1a3d448d95d4",
		PowerDown,
	}},
	{Name: "unknown", Append: "scenario=nonesuch", ExitCode: 1, MustContain: []string{
		PanicPrefix + `unknown scenario "nonesuch" (scenarios: tasks overflow overflow-pf irq-overflow lazy-pgd bench endless)`,
	}},
}

// Options tunes one run.
type Options struct {
	// IntLog asks for QEMU's `-d int,cpu_reset` log (Result.IntLog).
	IntLog bool
	// Extra arguments appended to the QEMU command line (e.g. "-icount",
	// "shift=10", or "-gdb", "tcp:127.0.0.1:1234", "-S").
	Extra []string
	// Timeout of the run; DefaultTimeout when zero.
	Timeout time.Duration
}

// InstructionClock returns the QEMU arguments that make its virtual clock
// count instructions, one nanosecond each, as our machine's does
// (-icount shift=0), and jump over idle time instead of sleeping through
// it (sleep=off). Without them QEMU's PIT follows the host clock, so on a
// loaded host a tick can land earlier in the guest's instruction stream
// and change what a differential test compares (seen in CI-like load: the
// tasks scenario's lazy vmalloc #PF taken inside the timer path, RSP 0xb0
// deeper). A fresh slice each call: callers may append to it.
func InstructionClock() []string { return []string{"-icount", "shift=0,sleep=off"} }

// Args returns QEMU's arguments (without the binary name) to boot kernel
// with the command line appendLine: no display, no reboot on triple fault,
// COM1 on stdout, isa-debug-exit at 0x501.
func Args(kernel, appendLine string, extra ...string) []string {
	args := []string{
		"-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none",
		"-device", "isa-debug-exit", "-kernel", kernel, "-append", appendLine,
	}
	return append(args, extra...)
}

// Result is what one QEMU run produced.
type Result struct {
	Console []byte // everything the kernel wrote to COM1
	Stderr  []byte
	Status  int // QEMU's exit status
	// DebugExit: the kernel wrote to isa-debug-exit (the status is odd);
	// Code is then the value it wrote.
	DebugExit bool
	Code      int
	IntLog    string // the -d int,cpu_reset log when Options.IntLog
}

// TripleFault reports whether the run ended in a triple fault: QEMU's log
// says so when IntLog was on; otherwise status 0 without a debug exit is
// the only sign (-no-reboot turns the reset into a clean shutdown).
func (r *Result) TripleFault() bool {
	if r.IntLog != "" {
		return strings.Contains(r.IntLog, "Triple fault")
	}
	return !r.DebugExit && r.Status == 0
}

// Run boots kernel under QEMU with appendLine and waits for it to stop.
func Run(ctx context.Context, kernel, appendLine string, opt Options) (*Result, error) {
	timeout := opt.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	extra := append([]string(nil), opt.Extra...)
	var logPath string
	if opt.IntLog {
		dir, err := os.MkdirTemp("", "qemutest")
		if err != nil {
			return nil, fmt.Errorf("qemu log dir: %w", err)
		}
		defer os.RemoveAll(dir)
		logPath = filepath.Join(dir, "int.log")
		extra = append(extra, "-d", "int,cpu_reset", "-D", logPath)
	}
	cmd := exec.CommandContext(ctx, QEMU, Args(kernel, appendLine, extra...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	err := cmd.Run()
	res := &Result{Console: stdout.Bytes(), Stderr: stderr.Bytes()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("qemu %q: no exit within %v (console so far: %q)", appendLine, timeout, stdout.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		res.Status = 0
	case errors.As(err, &ee) && ee.Exited():
		res.Status = ee.ExitCode()
	default:
		return res, fmt.Errorf("qemu %q: %w (stderr: %s)", appendLine, err, stderr.String())
	}
	if res.Status&1 == 1 {
		res.DebugExit = true
		res.Code = res.Status >> 1
	}
	if logPath != "" {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return res, fmt.Errorf("qemu %q: read -d log: %w", appendLine, err)
		}
		res.IntLog = string(b)
	}
	return res, nil
}

// Lines splits console output into lines without their terminators.
func Lines(console []byte) []string {
	s := strings.TrimSuffix(strings.ReplaceAll(string(console), "\r\n", "\n"), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// CheckCase verifies a result against c: exit status, the lines that must
// appear (in order), a BUG line when c.Overflow is set and none otherwise,
// and for c.DoubleFault a CR2 outside every stack's guard page.
func CheckCase(c Case, r *Result) error {
	lines := Lines(r.Console)
	if c.Triple {
		if !r.TripleFault() {
			return fmt.Errorf("%s: want a triple fault, got status %d", c.Name, r.Status)
		}
	} else if !r.DebugExit || r.Code != c.ExitCode {
		return fmt.Errorf("%s: want isa-debug-exit code %d (status %d), got status %d",
			c.Name, c.ExitCode, c.ExitCode<<1|1, r.Status)
	}
	next := 0
	for _, want := range c.MustContain {
		found := false
		for next < len(lines) {
			next++
			if lines[next-1] == want {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s: line %q missing (or out of order) in console:\n%s", c.Name, want, r.Console)
		}
	}
	bug, hasBug, err := ParseBug(r.Console)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	switch {
	case c.Overflow != "" && !hasBug:
		return fmt.Errorf("%s: no BUG line in console:\n%s", c.Name, r.Console)
	case c.Overflow == "" && hasBug:
		return fmt.Errorf("%s: unexpected BUG line in console:\n%s", c.Name, r.Console)
	case hasBug:
		if err := bug.Check(); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if !containsLine(lines, c.Overflow) {
			return fmt.Errorf("%s: %q missing after the BUG line", c.Name, c.Overflow)
		}
	}
	if c.DoubleFault {
		regs, ok, err := ParseRegs(r.Console)
		if err != nil || !ok {
			return fmt.Errorf("%s: no register lines after \"double fault\" (%v)", c.Name, err)
		}
		stacks, err := ParseStacks(r.Console)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		for _, s := range stacks {
			if s.InGuard(regs.CR2) {
				return fmt.Errorf("%s: CR2 0x%016x is in the guard page of %s's stack", c.Name, regs.CR2, s.Comm)
			}
		}
	}
	return nil
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// Bug is the parsed BUG line: the faulting address and the stack bounds.
type Bug struct {
	Addr, Bottom, Top uint64
}

var bugRE = regexp.MustCompile(`(?m)^BUG: stack guard page was hit at 0x([0-9a-f]{16}) \(stack is 0x([0-9a-f]{16})\.\.0x([0-9a-f]{16})\)$`)

// ParseBug finds the BUG line; ok is false when there is none.
func ParseBug(console []byte) (b Bug, ok bool, err error) {
	m := bugRE.FindSubmatch(console)
	if m == nil {
		if bytes.Contains(console, []byte("BUG: stack guard page")) {
			return Bug{}, false, fmt.Errorf("malformed BUG line in %q", console)
		}
		return Bug{}, false, nil
	}
	vals := make([]uint64, 3)
	for i := range vals {
		vals[i], _ = strconv.ParseUint(string(m[i+1]), 16, 64)
	}
	return Bug{Addr: vals[0], Bottom: vals[1], Top: vals[2]}, true, nil
}

// Check verifies the BUG line's arithmetic: the address lies in the page
// just below the stack bottom and top = bottom + THREAD_SIZE - 1.
func (b Bug) Check() error {
	if b.Top != b.Bottom+ThreadSize-1 {
		return fmt.Errorf("BUG line: top 0x%016x != bottom 0x%016x + 16K - 1", b.Top, b.Bottom)
	}
	if b.Bottom%ThreadSize != 0 || b.Bottom < VmallocStart || b.Bottom >= VmallocEnd {
		return fmt.Errorf("BUG line: bottom 0x%016x is not a THREAD_SIZE-aligned vmalloc address", b.Bottom)
	}
	if !(b.Addr >= b.Bottom-PageSize && b.Addr < b.Bottom) {
		return fmt.Errorf("BUG line: address 0x%016x is not in the guard page 0x%016x..0x%016x",
			b.Addr, b.Bottom-PageSize, b.Bottom-1)
	}
	return nil
}

// Regs holds the register lines the kernel prints with an oops, a double
// fault or a stack overflow.
type Regs struct {
	CS, SS        uint64
	RIP, RSP, CR2 uint64
}

var (
	ripRE = regexp.MustCompile(`(?m)^RIP: ([0-9a-f]{4}):0x([0-9a-f]{16}) RSP: ([0-9a-f]{4}):0x([0-9a-f]{16})$`)
	cr2RE = regexp.MustCompile(`(?m)^CR2: 0x([0-9a-f]{16})$`)
)

// ParseRegs finds the first register dump; ok is false when there is none.
func ParseRegs(console []byte) (r Regs, ok bool, err error) {
	m := ripRE.FindSubmatch(console)
	c := cr2RE.FindSubmatch(console)
	if m == nil && c == nil {
		return Regs{}, false, nil
	}
	if m == nil || c == nil {
		return Regs{}, false, fmt.Errorf("incomplete register dump in %q", console)
	}
	h := func(b []byte) uint64 { v, _ := strconv.ParseUint(string(b), 16, 64); return v }
	return Regs{CS: h(m[1]), RIP: h(m[2]), SS: h(m[3]), RSP: h(m[4]), CR2: h(c[1])}, true, nil
}

// Stack is a task's stack as announced at creation.
type Stack struct {
	PID         int
	Comm        string
	Bottom, Top uint64
}

// InGuard reports whether addr is in the page below the stack.
func (s Stack) InGuard(addr uint64) bool {
	return addr >= s.Bottom-PageSize && addr < s.Bottom
}

var stackRE = regexp.MustCompile(`(?m)^task (\d+) "([^"]*)": stack 0x([0-9a-f]{16})\.\.0x([0-9a-f]{16})$`)

// ParseStacks returns the stacks of the "task N "comm": stack A..B" lines.
func ParseStacks(console []byte) ([]Stack, error) {
	var out []Stack
	for _, m := range stackRE.FindAllSubmatch(console, -1) {
		pid, _ := strconv.Atoi(string(m[1]))
		lo, _ := strconv.ParseUint(string(m[3]), 16, 64)
		hi, _ := strconv.ParseUint(string(m[4]), 16, 64)
		if hi != lo+ThreadSize-1 {
			return nil, fmt.Errorf("task %d: stack 0x%016x..0x%016x is not THREAD_SIZE long", pid, lo, hi)
		}
		out = append(out, Stack{PID: pid, Comm: string(m[2]), Bottom: lo, Top: hi})
	}
	return out, nil
}

// GDBArg is QEMU's -gdb argument for a gdbstub listening on the unix
// socket path (testtool.SocketPath gives one), without waiting for a
// client.
func GDBArg(path string) string { return "unix:" + path + ",server=on,wait=off" }

// WaitSocket waits until something accepts connections on the unix socket
// path (QEMU's gdbstub once it is up).
func WaitSocket(ctx context.Context, path string) error {
	for {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			// QEMU's gdbstub takes one client: hand it back at once.
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
