package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// knownDifference is one documented way in which QEMU 7.2 TCG and our
// machine legitimately disagree. Every entry names the section of
// docs/qemu-differences.md that justifies it; anything not listed here
// must be equal to the bit.
type knownDifference struct {
	test  string   // "trace" (TestQEMUExceptionTraceDiff) or "regs" (TestQEMURegisterDiff)
	where []string // the cases or stops it applies to; none: all of them
	field string   // a register name, or "end" (how a run ends)
	ours  string   // the value under our stub
	qemu  string   // the value under QEMU
	doc   string   // docs/qemu-differences.md section
}

// knownDifferences is the one table of differences the differential tests
// accept. Values are as the tests print them: registers as gdb's raw
// value with leading zeros dropped, "end" as endOfRun words.
var knownDifferences = []knownDifference{
	{
		test: "regs", where: []string{"do_double_fault", "handle_stack_overflow"},
		field: "ss", ours: "0x18", qemu: "0x0",
		doc: "docs/qemu-differences.md#1-ss-after-an-ist-delivery-at-the-same-privilege-level",
	},
	{
		test: "regs", field: "ftag", ours: "0xffff", qemu: "0x0",
		doc: "docs/qemu-differences.md#5-the-x87-tag-word-in-qemus-gdb-stub",
	},
	{
		test: "trace", where: []string{"overflow_noist"},
		field: "end", ours: "triple fault: machine stopped", qemu: "triple fault: machine reset",
		doc: "docs/qemu-differences.md#3-what-a-triple-fault-does",
	},
}

// knownSeen counts, per table entry, how often a test met it; an entry
// never met in a full run is stale and is reported (logged, since a -run
// filter can legitimately skip the stops that show it).
var knownSeen = struct {
	sync.Mutex
	n map[int]int
}{n: map[int]int{}}

// lookupKnown returns the table entry that excuses field differing as
// ours/qemu at where in test, or nil.
func lookupKnown(test, where, field, ours, qemu string) *knownDifference {
	for i := range knownDifferences {
		k := &knownDifferences[i]
		if k.test != test || k.field != field || k.ours != ours || k.qemu != qemu {
			continue
		}
		if len(k.where) > 0 && !containsString(k.where, where) {
			continue
		}
		knownSeen.Lock()
		knownSeen.n[i]++
		knownSeen.Unlock()
		return k
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reportStale logs the entries of test that no subtest met.
func reportStale(t *testing.T, test string) {
	knownSeen.Lock()
	defer knownSeen.Unlock()
	for i, k := range knownDifferences {
		if k.test == test && knownSeen.n[i] == 0 {
			t.Logf("known difference %s %s (ours %s, QEMU %s; %s) was not met in this run: stale, or its stop was filtered out",
				k.test, k.field, k.ours, k.qemu, k.doc)
		}
	}
}

// endOfRun describes how a run ended in words both machines share: the
// isa-debug-exit code, or a triple fault and what the machine did then.
func endOfRun(triple bool, stopped bool, code int) string {
	switch {
	case triple && stopped:
		return "triple fault: machine stopped"
	case triple:
		return "triple fault: machine reset"
	default:
		return fmt.Sprintf("isa-debug-exit %d", code)
	}
}

// TestQEMUExceptionTraceDiff runs every scenario/flag combination of
// qemutest.Cases under QEMU (`-d int,cpu_reset -no-reboot`) and under the
// stub (`--listen none --trace-int FILE`) and compares the sequences of
// exception deliveries, vectors 0-31: vector, error code, INT n or not,
// CPL, CS:RIP, SS:RSP and CR2 for #PF or RAX for the others (the fields
// of QEMU's line but its running count and pc=). Deliveries of vectors 32 and up (the
// PIT's IRQ0) are left out: QEMU's PIT follows the host clock, ours the
// instruction count (docs/qemu-differences.md §4). How the run ends is
// compared as well: the isa-debug-exit code, or a triple fault.
func TestQEMUExceptionTraceDiff(t *testing.T) {
	t.Parallel()
	testtool.Require(t, qemutest.QEMU)
	var mu sync.Mutex
	compared := map[string]int{}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, n := range compared {
			total += n
		}
		t.Logf("%d cases compared, %d exception deliveries in all: %v", len(compared), total, compared)
		reportStale(t, "trace")
	})
	for _, c := range qemutest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			acquireHeavy(t)
			ctx := testContext(t)
			trace := filepath.Join(t.TempDir(), "trace")
			_, stderr, status := runStandalone(t, ctx, "--append", c.Append, "--serial", "none", "--trace-int", trace)
			b, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "not traced") {
				t.Fatalf("our trace is incomplete:\n%s", b)
			}
			q, err := qemutest.Run(ctx, kernelPath, c.Append, qemutest.Options{IntLog: true, Extra: qemutest.InstructionClock()})
			if err != nil {
				t.Fatal(err)
			}
			ours := exceptions(qemutest.ParseIntLog(string(b)))
			theirs := exceptions(qemutest.ParseIntLog(q.IntLog))
			for i := 0; i < len(ours) || i < len(theirs); i++ {
				o, th := "(none)", "(none)"
				if i < len(ours) {
					o = ours[i].String()
				}
				if i < len(theirs) {
					th = theirs[i].String()
				}
				if o != th {
					t.Errorf("exception delivery %d is the first to differ (vectors >= 32 filtered out):\n  ours: %s\n  qemu: %s", i, o, th)
					break
				}
			}

			ourEnd := endOfRun(status == 3, true, status)
			qemuEnd := endOfRun(q.TripleFault(), false, q.Code)
			if !q.TripleFault() && !q.DebugExit {
				t.Fatalf("QEMU neither wrote to isa-debug-exit nor triple-faulted: status %d", q.Status)
			}
			if ourEnd != qemuEnd {
				if k := lookupKnown("trace", c.Name, "end", ourEnd, qemuEnd); k != nil {
					t.Logf("end of run: ours %q, QEMU %q (known difference, %s)", ourEnd, qemuEnd, k.doc)
				} else {
					t.Errorf("end of run: ours %q (status %d, stderr %q), QEMU %q (status %d)", ourEnd, status, stderr, qemuEnd, q.Status)
				}
			}
			if c.Triple != (status == 3) {
				t.Errorf("case says triple fault %v, our stub exited %d", c.Triple, status)
			}
			mu.Lock()
			compared[c.Name] = len(ours)
			mu.Unlock()
		})
	}
}

// qemuRegisters is QEMU's x86-64 target description (gdb-xml/i386-64bit.xml
// in QEMU 7.2, docs/design.md §6): the 66 registers of the `g` packet, in the
// order of target/i386/gdbstub.c.
var qemuRegisters = func() []string {
	names := strings.Fields(`rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15
		rip eflags cs ss ds es fs gs fs_base gs_base k_gs_base
		cr0 cr2 cr3 cr4 cr8 efer`)
	for i := 0; i < 8; i++ {
		names = append(names, fmt.Sprintf("st%d", i))
	}
	names = append(names, strings.Fields("fctrl fstat ftag fiseg fioff foseg fooff fop")...)
	for i := 0; i < 16; i++ {
		names = append(names, fmt.Sprintf("xmm%d", i))
	}
	return append(names, "mxcsr")
}()

// rawRegRE matches a row of gdb's `maint print raw-registers`:
// " Name  Nr  Rel  Offset  Size  Type  Raw value". The raw value is the
// register's bytes as the stub sent them (little-endian, shown as a
// number), so st0-7 (80 bits) and xmm0-15 (128 bits) compare exactly,
// with no float formatting in between.
var rawRegRE = regexp.MustCompile(`(?m)^\s*([a-z][a-z0-9_]*)\s+\d+\s+\d+\s+\d+\s+\d+\s+\S+\s+0x([0-9a-f]+)\s*$`)

// rawRegisters parses `maint print raw-registers` into name -> "0x..."
// with leading zeros dropped.
func rawRegisters(out string) map[string]string {
	regs := map[string]string{}
	for _, m := range rawRegRE.FindAllStringSubmatch(out, -1) {
		v := strings.TrimLeft(m[2], "0")
		if v == "" {
			v = "0"
		}
		regs[m[1]] = "0x" + v
	}
	return regs
}

// benchYieldLine returns the line of the yield() call in bench_task's
// loop in kernelimg/src/scenarios.c, the source kernel.elf is built from.
func benchYieldLine(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "kernelimg", "src", "scenarios.c"))
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "static void bench_task("):
			in = true
		case in && strings.TrimSpace(line) == "yield();":
			return i + 1
		case in && line == "}":
			in = false
		}
	}
	t.Fatal("no yield(); in bench_task in kernelimg/src/scenarios.c")
	return 0
}

// TestQEMURegisterDiff drives QEMU's gdb stub (-S) and ours with the same
// gdb script to the same breakpoint and compares all 66 registers of
// QEMU's layout, x87 and SSE included: the kernel is built
// -mgeneral-regs-only and never touches them, so they hold the machine's
// initial state, which must be QEMU's reset state (FCW 0x37f, the state
// FNINIT sets; MXCSR 0x1f80). Each stop lies on a path that no timer
// tick can change (see stops).
func TestQEMURegisterDiff(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	testtool.Require(t, qemutest.QEMU)
	acquireHeavy(t)
	ctx := testContext(t)
	t.Cleanup(func() { reportStale(t, "regs") })
	stops := []struct {
		name     string // the subtest, and the "where" of knownDifferences
		appendTo string // kernel command line
		brk      string // gdb breakpoint
		fn       string // the function the breakpoint is in
	}{
		// The overflow runs into its guard page before the first tick.
		{"do_double_fault", "scenario=overflow", "do_double_fault", "do_double_fault"},
		{"handle_stack_overflow", "scenario=overflow", "handle_stack_overflow", "handle_stack_overflow"},
		// The first switch comes from wait_for_tasks' yield right after
		// preemption is enabled: before it, ticks only count jiffies.
		{"switch_to", "scenario=tasks", "switch_to", "switch_to"},
		// The bench loop: bench-0 (pid 1) about to make its first yield,
		// after the first iteration's arithmetic. Not simply the first
		// hit of bench_task: under QEMU a tick pending since the boot's
		// console output can preempt bench-0 at ret_from_fork's sti, so
		// bench-1 gets there first; and bench-0's own entry state is not
		// tick-proof either (its RFLAGS come from schedule's
		// `add $0x8,%rsp` before the jump to switch_to: PF is the parity
		// of the previous task's RSP, deeper when schedule runs from the
		// timer). Inside the loop every register is the loop's own or
		// restored by a preempting tick.
		{"bench_loop", "scenario=bench", fmt.Sprintf("scenarios.c:%d if current_task->pid == 1", benchYieldLine(t)), "bench_task"},
	}
	for _, st := range stops {
		t.Run(st.name, func(t *testing.T) {
			lo, size := kernelSymbol(t, st.fn)
			cmds := func(target string) []string {
				return []string{"target remote " + target, "break " + st.brk, "continue",
					"echo @REGS\\n", "maint print raw-registers", "kill"}
			}
			s := startStub(t, ctx, false, "--append", st.appendTo, "--serial", "none")
			out := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds(s.gdbAddr)...)...)...)
			_, qsock := startQEMUGDB(t, ctx, st.appendTo)
			qout := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds(qsock)...)...)...)

			regs := map[string]map[string]string{}
			for who, o := range map[string]string{"ours": out, "qemu": qout} {
				at := strings.Index(o, "@REGS")
				if at < 0 || !strings.Contains(o, "Breakpoint 1, ") {
					t.Fatalf("%s: no stop at %s:\n%s", who, st.brk, o)
				}
				r := rawRegisters(o[at:])
				for _, name := range qemuRegisters {
					if _, ok := r[name]; !ok {
						t.Fatalf("%s: register %s missing from maint print raw-registers:\n%s", who, name, o[at:])
					}
				}
				var rip uint64
				fmt.Sscanf(r["rip"], "0x%x", &rip)
				if rip < lo || rip >= lo+size {
					t.Fatalf("%s: stopped at rip %#x, not in %s (%#x..%#x)", who, rip, st.fn, lo, lo+size)
				}
				regs[who] = r
			}

			var diffs []string
			known := 0
			for _, name := range qemuRegisters {
				o, q := regs["ours"][name], regs["qemu"][name]
				if o == q {
					continue
				}
				if k := lookupKnown("regs", st.name, name, o, q); k != nil {
					known++
					t.Logf("%-6s ours %s  qemu %s  (known difference, %s)", name, o, q, k.doc)
					continue
				}
				diffs = append(diffs, fmt.Sprintf("%-9s ours %s  qemu %s", name, o, q))
			}
			t.Logf("%s: %d registers compared, %d equal, %d known differences, %d unexplained",
				st.name, len(qemuRegisters), len(qemuRegisters)-known-len(diffs), known, len(diffs))
			if len(diffs) > 0 {
				t.Errorf("registers at %s differ from QEMU's:\n  %s", st.brk, strings.Join(diffs, "\n  "))
			}
		})
	}
}

// markdownAnchors returns the anchors GitHub gives the headings of a
// Markdown document: lower case, punctuation but '-' and '_' dropped,
// spaces turned into '-'.
func markdownAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

// TestKnownDifferencesDocumented checks that every entry of
// knownDifferences cites a section that exists in docs/qemu-differences.md,
// and that no two entries excuse the same thing.
func TestKnownDifferencesDocumented(t *testing.T) {
	const docPath = "docs/qemu-differences.md"
	b, err := os.ReadFile(filepath.Join("..", docPath))
	if err != nil {
		t.Fatal(err)
	}
	anchors := markdownAnchors(string(b))
	if !anchors["1-ss-after-an-ist-delivery-at-the-same-privilege-level"] {
		t.Fatalf("anchor computation broken: got %v", anchors)
	}
	seen := map[string]bool{}
	for _, k := range knownDifferences {
		file, anchor, ok := strings.Cut(k.doc, "#")
		if !ok || file != docPath || !anchors[anchor] {
			t.Errorf("%s %s: doc %q is not a section of %s", k.test, k.field, k.doc, docPath)
		}
		if k.test != "trace" && k.test != "regs" {
			t.Errorf("%s %s: unknown test %q", k.test, k.field, k.test)
		}
		if k.test == "regs" && !containsString(qemuRegisters, k.field) {
			t.Errorf("regs %s: not a register of QEMU's layout", k.field)
		}
		key := k.test + "/" + k.field + "/" + strings.Join(k.where, ",")
		if seen[key] {
			t.Errorf("two entries for %s", key)
		}
		seen[key] = true
	}
}

// TestRawRegisters checks the parser of `maint print raw-registers` on
// rows as gdb 13 prints them: 64-bit, 32-bit, 80-bit and 128-bit values,
// cooked pseudo-registers and unnamed slots left out.
func TestRawRegisters(t *testing.T) {
	out := ` Name         Nr  Rel Offset    Size  Type            Raw value
 rax           0    0      0       8 int64_t         0x0000000000000008
 rbp           6    6     48       8 *1              0x0000000000000000
 eflags       17   17    136       4 x64_eflags      0x00000046
 st0          24   24    164      10 _i387_ext       0x3fff8000000000000000
 ''           40   40    276       0 int0_t          
 xmm15       179  179    588      16 vec128          0x000000000000000100000000000000ff
 al          181    0    608       1 int8_t          <cooked>
*1: Register type's name NULL.
Kill the program being debugged? (y or n) [answered Y; input not from terminal]
`
	got := rawRegisters(out)
	want := map[string]string{
		"rax": "0x8", "rbp": "0x0", "eflags": "0x46",
		"st0": "0x3fff8000000000000000", "xmm15": "0x100000000000000ff",
	}
	if len(got) != len(want) {
		t.Errorf("parsed %d registers %v, want %d", len(got), got, len(want))
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %q, want %q", name, got[name], v)
		}
	}
	if len(qemuRegisters) != 66 {
		t.Errorf("QEMU's layout has 66 registers, the list %d", len(qemuRegisters))
	}
}
