package monitor

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"vmapstack/kernelsym"
	"vmapstack/target/paging"
	"vmapstack/target/x86"
)

// section is a named part of the address space (Linux x86-64 layout,
// Documentation/arch/x86/x86_64/mm.rst, as the mini kernel uses it).
type section struct {
	name        string
	first, last uint64 // inclusive
	named       bool   // always printed, even when empty
}

var sections = []section{
	{"user space", 0, 0x00007fffffffffff, true},
	{"kernel (other)", 0xffff800000000000, 0xffff887fffffffff, false},
	{"direct map", 0xffff888000000000, 0xffffc87fffffffff, true},
	{"kernel (other)", 0xffffc88000000000, 0xffffc8ffffffffff, false},
	{"vmalloc", 0xffffc90000000000, 0xffffe8ffffffffff, true},
	{"kernel (other)", 0xffffe90000000000, 0xffffffff7fffffff, false},
	{"kernel image", 0xffffffff80000000, 0xffffffffffffffff, true},
}

// sections returns the kernel's own layout when its model knows it
// (Linux's randomized bases), else the fixed one above.
func (mon *Monitor) sections() []section {
	l, ok := mon.k.(kernelsym.Layout)
	if !ok {
		return sections
	}
	rs := l.Regions()
	if len(rs) == 0 {
		return sections
	}
	out := make([]section, len(rs))
	for i, r := range rs {
		last := uint64(0xffffffffffffffff)
		if i+1 < len(rs) {
			last = rs[i+1].Start - 1
		}
		if r.Name == "user space" {
			last = 0x00007fffffffffff
		}
		out[i] = section{name: r.Name, first: r.Start, last: last, named: r.Name != "kernel (other)"}
	}
	return out
}

// run is a ptdump line: adjacent leaves of one level with the same
// effective rights, merged whether or not their frames are contiguous
// (as Linux's ptdump does; vmalloc'ed stacks are rarely contiguous).
type run struct {
	first, last                uint64 // inclusive
	phys                       uint64 // frame of the first page
	contiguous                 bool   // phys+offset maps the whole run
	level                      int
	writable, user, nx, global bool
}

func (r run) size() uint64 { return r.last - r.first + 1 }

func levelName(l int) string {
	switch l {
	case 1:
		return "pte"
	case 2:
		return "pmd"
	case 3:
		return "pud"
	}
	return fmt.Sprintf("level%d", l)
}

// entryName is the SDM's name of an entry at level.
func entryName(l int) string {
	switch l {
	case 4:
		return "PML4E"
	case 3:
		return "PDPTE"
	case 2:
		return "PDE"
	case 1:
		return "PTE"
	}
	return fmt.Sprintf("level %d entry", l)
}

// checkCR3 rejects a CR3 whose PML4 lies outside guest RAM.
func (mon *Monitor) checkCR3(cr3 uint64) error {
	pml4 := cr3 & 0x000ffffffffff000
	if pml4 >= mon.m.MemoryBytes() {
		return fmt.Errorf("CR3 %#x: its PML4 at %#x is outside guest RAM (%s)", cr3, pml4, fmtSize(mon.m.MemoryBytes()))
	}
	return nil
}

// cr3Arg is the CR3 to use: the argument, or the current CR3 when paging
// is on.
func (mon *Monitor) cr3Arg(cmd string, args []string) (uint64, error) {
	st := mon.state()
	if len(args) > 0 {
		v, err := parseAddr(args[0], &st)
		if err != nil {
			return 0, fmt.Errorf("%s: CR3: %w", cmd, err)
		}
		if err := mon.checkCR3(v); err != nil {
			return 0, fmt.Errorf("%s: %w", cmd, err)
		}
		return v, nil
	}
	if st.CR0&x86.CR0PG == 0 {
		return 0, fmt.Errorf("%s: paging is off (CR0.PG=0): linear addresses are physical; give a CR3 to look at tables anyway", cmd)
	}
	if err := mon.checkCR3(st.CR3); err != nil {
		return 0, fmt.Errorf("%s: %w", cmd, err)
	}
	return st.CR3, nil
}

func (mon *Monitor) cmdPT(args []string, out io.Writer) error {
	if err := tooMany("pt", args, 1); err != nil {
		return err
	}
	cr3, err := mon.cr3Arg("pt", args)
	if err != nil {
		return err
	}
	runs, cut, werr := collectRuns(mon.m.RAM(), cr3)
	tasks, _ := mon.tasks() // guard pages are named when the kernel's symbols allow

	lw := &limitWriter{w: out, left: maxPTOutput}
	printPT(lw, cr3, runs, tasks, mon.sections())
	switch {
	case cut || lw.cut:
		// Recursive or garbage tables: what was listed, then why it
		// ends there.
		fmt.Fprintf(out, "--- output cut after %d ranges and %d bytes: the page tables at CR3 %#x look recursive or corrupt; "+
			"see one address's entries with \"walk ADDR %#x\" ---\n", len(runs), lw.written, cr3, cr3)
		return nil
	case werr != nil:
		return fmt.Errorf("pt: %w", werr)
	}
	return nil
}

// Bounds of pt's work and output, deterministic (counts, not a clock):
// self-referencing page tables built by a guest made pt print 1.5 GB.
// A machine's real address space takes a few hundred lines.
const (
	maxPTRanges = 1 << 20 // ranges received from the walk
	maxPTRuns   = 1 << 14 // lines listed (about 90 bytes each)
	maxPTOutput = 4 << 20 // bytes printed
)

// ptCut stops paging.Ranges from inside its callback once a bound is hit.
type ptCut struct{}

// collectRuns walks the tables at cr3 into ptdump runs, stopping once
// maxPTRanges ranges or maxPTRuns runs are reached (cut is then true).
func collectRuns(mem []byte, cr3 uint64) (runs []run, cut bool, werr error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(ptCut); !ok {
				panic(r)
			}
			cut = true
		}
	}()
	seen := 0
	werr = paging.Ranges(mem, cr3, func(r paging.Range) {
		if seen++; seen > maxPTRanges {
			panic(ptCut{})
		}
		last := r.End - 1 // End 0 is the top of the address space
		if n := len(runs); n > 0 {
			p := &runs[n-1]
			if p.last+1 == r.Start && p.level == r.Level && p.writable == r.Writable &&
				p.user == r.User && p.nx == r.NX && p.global == r.Global {
				if p.contiguous && p.phys+p.size() != r.Phys {
					p.contiguous = false
				}
				p.last = last
				return
			}
		}
		if len(runs) == maxPTRuns {
			panic(ptCut{})
		}
		runs = append(runs, run{first: r.Start, last: last, phys: r.Phys, contiguous: true, level: r.Level,
			writable: r.Writable, user: r.User, nx: r.NX, global: r.Global})
	})
	return runs, false, werr
}

// limitWriter passes on at most left bytes, then drops the rest.
type limitWriter struct {
	w       io.Writer
	left    int
	written int
	cut     bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.cut {
		return len(p), nil
	}
	if len(p) > l.left {
		l.cut = true
		return len(p), nil // whole lines only
	}
	n, err := l.w.Write(p)
	l.left -= n
	l.written += n
	return len(p), err
}

// printPT lists runs by section, with the holes between them.
func printPT(out io.Writer, cr3 uint64, runs []run, tasks []kernelsym.Task, sections []section) {
	fmt.Fprintf(out, "address space of CR3 %#x (ranges end-exclusive; flags: RW/ro USR NX/x GLB; level pte=4K pmd=2M pud=1G)\n", cr3)
	for _, sec := range sections {
		var in []run
		for _, r := range runs {
			if r.last < sec.first || r.first > sec.last {
				continue
			}
			// Clip to the section (a run may cross a boundary).
			if r.first < sec.first {
				r.phys += sec.first - r.first
				r.first = sec.first
			}
			if r.last > sec.last {
				r.last = sec.last
			}
			in = append(in, r)
		}
		if len(in) == 0 && !sec.named {
			continue
		}
		fmt.Fprintf(out, "---[ %s %s ]---\n", sec.name, hex16(sec.first))
		if len(in) == 0 {
			fmt.Fprintf(out, "(nothing mapped)\n")
			continue
		}
		// A leading hole is shown when it holds a guard page (the first
		// vmalloc'ed stack's).
		if in[0].first > sec.first {
			if holes := splitHole(sec.first, in[0].first-1, tasks); hasGuard(holes) {
				for _, h := range holes {
					printHole(out, h)
				}
			}
		}
		for i, r := range in {
			printRun(out, r)
			if i+1 < len(in) && in[i+1].first > r.last+1 {
				for _, h := range splitHole(r.last+1, in[i+1].first-1, tasks) {
					printHole(out, h)
				}
			}
		}
	}
}

func printRun(out io.Writer, r run) {
	rw, usr, nx, glb := "ro", "   ", "x ", "   "
	if r.writable {
		rw = "RW"
	}
	if r.user {
		usr = "USR"
	}
	if r.nx {
		nx = "NX"
	}
	if r.global {
		glb = "GLB"
	}
	phys := "phys (not contiguous)"
	if r.contiguous {
		phys = "phys " + hex16(r.phys)
	}
	fmt.Fprintf(out, "%s-%s %6s  %s %s %s %s  %s  %s\n", hex16(r.first), hex16(r.last+1), fmtSize(r.size()),
		rw, usr, nx, glb, levelName(r.level), phys)
}

type hole struct {
	first, last uint64
	guard       string // the task whose guard page this is, or ""
	task        kernelsym.Task
}

func hasGuard(hs []hole) bool {
	for _, h := range hs {
		if h.guard != "" {
			return true
		}
	}
	return false
}

// splitHole cuts [first, last] at the guard pages of tasks it contains.
func splitHole(first, last uint64, tasks []kernelsym.Task) []hole {
	var guards []hole
	for _, t := range tasks {
		if t.Stack < 4096 {
			continue
		}
		g0, g1 := t.GuardPage()
		g1--
		if g0 > last || g1 < first {
			continue
		}
		guards = append(guards, hole{first: max(g0, first), last: min(g1, last), guard: t.Comm, task: t})
	}
	sort.Slice(guards, func(i, j int) bool { return guards[i].first < guards[j].first })
	var hs []hole
	cur := first
	for _, g := range guards {
		if g.first < cur {
			continue // overlapping guard pages: corrupt task data
		}
		if g.first > cur {
			hs = append(hs, hole{first: cur, last: g.first - 1})
		}
		hs = append(hs, g)
		if g.last == last {
			return hs
		}
		cur = g.last + 1
	}
	return append(hs, hole{first: cur, last: last})
}

func printHole(out io.Writer, h hole) {
	what := "unmapped"
	if h.guard != "" {
		what = fmt.Sprintf("unmapped  (guard page of task %q, stack %s-%s)", h.guard, hex16(h.task.Stack), hex16(h.task.StackEnd))
	}
	fmt.Fprintf(out, "%s-%s %6s  %s\n", hex16(h.first), hex16(h.last+1), fmtSize(h.last-h.first+1), what)
}

// canonical reports whether a is a canonical 48-bit address (SDM Vol. 1
// 3.3.7.1): bits 63:47 all equal.
func canonical(a uint64) bool {
	top := a >> 47
	return top == 0 || top == 1<<17-1
}

// pagingMode is CR0.WP and EFER.NXE, which change Translate's checks.
func (mon *Monitor) pagingMode() paging.Mode {
	st := mon.state()
	return paging.Mode{WP: st.CR0&x86.CR0WP != 0, NXE: st.EFER&x86.EFERNXE != 0}
}

// mapping says how addr is mapped in cr3: "present: ..." or "not
// present at PTE" / "reserved bits set in PDE".
func (mon *Monitor) mapping(cr3, addr uint64) (string, bool) {
	if !canonical(addr) {
		return "not canonical (bits 63:47 differ): an access raises #GP, not #PF", false
	}
	if st := mon.state(); st.CR0&x86.CR0PG == 0 && cr3 == st.CR3 {
		return "paging is off (CR0.PG=0): linear addresses are physical", false
	}
	if mon.checkCR3(cr3) != nil {
		return fmt.Sprintf("unknown (CR3 %#x is outside guest RAM)", cr3), false
	}
	t, f := paging.Translate(mon.m.RAM(), cr3, addr, paging.Access{}, mon.pagingMode(), false)
	if f != nil {
		if f.ErrorCode&paging.ErrRSVD != 0 {
			return fmt.Sprintf("reserved bits set in the %s (%#x)", entryName(f.Level), uint64(f.Entry)), false
		}
		return "not present at " + entryName(f.Level), false
	}
	rights := []string{"ro"}
	if t.Writable {
		rights[0] = "RW"
	}
	if t.User {
		rights = append(rights, "USR")
	}
	if t.NX {
		rights = append(rights, "NX")
	}
	if t.Global {
		rights = append(rights, "GLB")
	}
	return fmt.Sprintf("present: phys %s, %s page at %s, %s", hex16(t.Phys), fmtSize(t.PageSize), hex16(t.PageBase),
		strings.Join(rights, " ")), true
}

func (mon *Monitor) cmdWalk(args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("walk: missing address; usage: %s", usage("walk"))
	}
	if err := tooMany("walk", args, 2); err != nil {
		return err
	}
	st := mon.state()
	addr, err := parseAddr(args[0], &st)
	if err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	cr3, err := mon.cr3Arg("walk", args[1:])
	if err != nil {
		return err
	}
	if !canonical(addr) {
		return fmt.Errorf("walk: %#x is not canonical (bits 63:47 differ): no page table maps it, an access raises #GP", addr)
	}
	fmt.Fprintf(out, "walk %s with CR3 %#x\n", hex16(addr), cr3)
	var last struct {
		level int
		e     paging.PTE
	}
	werr := paging.Walk(mon.m.RAM(), cr3, addr, func(level int, entryAddr uint64, e paging.PTE) {
		last.level, last.e = level, e
		idx := addr >> (12 + 9*(level-1)) & 511
		next := ""
		switch {
		case !e.Present():
			next = "not present"
		case level == 1:
			next = "4K page " + hex16(e.Addr())
		case level <= 3 && e.Huge():
			next = fmt.Sprintf("%s page %s", fmtSize(1<<(12+9*(level-1))), hex16(e.HugeAddr(level)))
		default:
			next = "table " + hex16(e.Addr())
		}
		fmt.Fprintf(out, "%-5s [%3d]  at %s  = %s  %s  %s\n", entryName(level), idx, hex16(entryAddr), hex16(uint64(e)), e, next)
	})
	if werr != nil {
		return fmt.Errorf("walk: %w", werr)
	}
	desc, ok := mon.mapping(cr3, addr)
	if ok {
		fmt.Fprintf(out, "%s -> %s\n", hex16(addr), strings.TrimPrefix(desc, "present: "))
		return nil
	}
	if !last.e.Present() {
		fmt.Fprintf(out, "not present at %s: %s is not mapped", entryName(last.level), hex16(addr))
	} else {
		fmt.Fprintf(out, "translation fails: %s", desc)
	}
	if where := mon.where(addr); where != "" {
		fmt.Fprintf(out, " (%s)", where)
	}
	fmt.Fprintln(out)
	return nil
}

// where names what an address belongs to: a task's guard page or stack,
// or a kernel symbol; "" when nothing is known.
func (mon *Monitor) where(addr uint64) string {
	tasks, _ := mon.tasks()
	for _, t := range tasks {
		if t.Stack < 4096 {
			continue
		}
		g0, _ := t.GuardPage()
		switch {
		case addr >= g0 && addr < t.Stack:
			return fmt.Sprintf("guard page of task %q (stack %s-%s), %d bytes below the stack",
				t.Comm, hex16(t.Stack), hex16(t.StackEnd), t.Stack-addr)
		case addr >= t.Stack && addr < t.StackEnd:
			return fmt.Sprintf("stack of task %q (%s-%s), %d bytes above its bottom",
				t.Comm, hex16(t.Stack), hex16(t.StackEnd), addr-t.Stack)
		}
	}
	stacks, _ := mon.k.Stacks(mon.memory())
	for _, st := range stacks {
		g0, _ := st.GuardPage()
		switch {
		case st.Guard && addr >= g0 && addr < st.Begin:
			return fmt.Sprintf("guard page of the %s stack (%s-%s), %d bytes below the stack",
				st.Name, hex16(st.Begin), hex16(st.End), st.Begin-addr)
		case addr >= st.Begin && addr < st.End:
			return fmt.Sprintf("the %s stack (%s-%s), %d bytes above its bottom",
				st.Name, hex16(st.Begin), hex16(st.End), addr-st.Begin)
		}
	}
	if d := mon.k.Describe(addr); d != "" {
		return "<" + d + ">"
	}
	return ""
}
