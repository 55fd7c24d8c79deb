package monitor

import (
	"fmt"
	"io"
	"strings"

	"vmapstack/kernelsym"
	"vmapstack/target"
	"vmapstack/target/cpu"
	"vmapstack/target/paging"
	"vmapstack/target/x86"
)

// stackInfo is what `stack` reports.
type stackInfo struct {
	task     *kernelsym.Task // nil when found by a page-table scan
	source   string
	bottom   uint64
	top      uint64 // exclusive
	rsp      uint64
	rspFrom  string // where rsp comes from
	guardMap string // how the guard page is mapped
}

// scanStack finds the mapped run of pages around addr bounded by
// unmapped pages, as a vmapped stack is (no symbols needed). A run
// larger than twice THREAD_SIZE is not taken for a stack (the kernel
// image and the direct map are bounded by unmapped pages too).
func (mon *Monitor) scanStack(cr3, addr uint64) (bottom, top uint64, err error) {
	mapped := func(a uint64) bool {
		_, ok := mon.cpu().Translate(cr3, a)
		return ok && canonical(a)
	}
	size, _ := mon.k.StackSize()
	limit := 2 * size
	if limit == 0 {
		limit = 2 * kernelsym.DefaultThreadSize
	}
	page := addr &^ 0xfff
	if !mapped(page) {
		return 0, 0, fmt.Errorf("%s is not mapped", hex16(addr))
	}
	tooBig := func() error {
		return fmt.Errorf("the mapped run around %s is larger than %s (twice THREAD_SIZE): not a vmapped stack", hex16(addr), fmtSize(limit))
	}
	bottom, top = page, page+4096
	for mapped(bottom - 4096) {
		if bottom -= 4096; top-bottom > limit {
			return 0, 0, tooBig()
		}
	}
	for mapped(top) {
		if top += 4096; top-bottom > limit {
			return 0, 0, tooBig()
		}
	}
	return bottom, top, nil
}

// stackOf gathers the stack of the current task (arg "") or of the
// named one.
func (mon *Monitor) stackOf(arg string) (stackInfo, error) {
	st := mon.state()
	var si stackInfo
	if st.CR0&x86.CR0PG == 0 {
		return si, fmt.Errorf("stack: paging is off (CR0.PG=0): the kernel has no vmapped stacks yet")
	}
	rsp := st.GPR[cpu.RSP]
	if mon.k.TaskModel() == nil {
		var t kernelsym.Task
		var err error
		if arg == "" {
			t, err = mon.k.Current(mon.memory())
		} else {
			t, err = mon.findTask(arg)
		}
		if err != nil {
			return si, fmt.Errorf("stack: %w", err)
		}
		si.task = &t
		size, from := mon.k.StackSize()
		si.source = fmt.Sprintf("kernel symbols (task_struct.stack; THREAD_SIZE %s from %s)", fmtSize(size), from)
		si.bottom, si.top = t.Stack, t.StackEnd
		if t.Current {
			si.rsp, si.rspFrom = rsp, "RSP"
		} else {
			si.rsp, si.rspFrom = t.SP, "thread.sp (saved at its last switch)"
		}
	} else {
		if arg != "" {
			return si, fmt.Errorf("stack: cannot find task %q: %w", arg, mon.noSymbols())
		}
		si.source = "page-table scan (no kernel symbols): the mapped pages around RSP, bounded by unmapped pages"
		si.rsp, si.rspFrom = rsp, "RSP"
		var err error
		si.bottom, si.top, err = mon.scanStack(st.CR3, rsp)
		if err != nil {
			// Stopped on an IST stack (a #DF): the interrupted RSP is in
			// the exception history.
			if e := lastEventNear(mon.m.Events(), func(a uint64) bool { _, _, err := mon.scanStack(st.CR3, a); return err == nil }); e != nil {
				si.bottom, si.top, _ = mon.scanStack(st.CR3, e.RSP)
				si.rsp, si.rspFrom = e.RSP, fmt.Sprintf("RSP interrupted by %s (seq %d); current RSP %s", target.VectorName(e.Vector), e.Seq, mon.symbolized(rsp))
			} else {
				return si, fmt.Errorf("stack: page-table scan around RSP: %w", err)
			}
		}
	}
	if si.task != nil && si.task.Current && !(si.rsp >= si.bottom-4096 && si.rsp <= si.top) {
		// RSP is elsewhere (an IST stack during #DF): report the RSP the
		// last exception interrupted on this stack.
		if e := lastEventNear(mon.m.Events(), func(a uint64) bool { return a >= si.bottom-4096 && a <= si.top }); e != nil {
			si.rsp, si.rspFrom = e.RSP, fmt.Sprintf("RSP interrupted by %s (seq %d); current RSP %s is not on this stack",
				target.VectorName(e.Vector), e.Seq, mon.symbolized(rsp))
		}
	}
	var mapped bool
	si.guardMap, mapped = mon.mapping(st.CR3, si.bottom-4096)
	if mapped {
		si.guardMap = "no guard page: the page below the stack is " + si.guardMap
	}
	return si, nil
}

// lastEventNear returns the newest event whose interrupted RSP satisfies
// ok.
func lastEventNear(evs []cpu.Event, ok func(uint64) bool) *cpu.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if ok(evs[i].RSP) {
			return &evs[i]
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (mon *Monitor) cmdStack(args []string, out io.Writer) error {
	if err := tooMany("stack", args, 1); err != nil {
		return err
	}
	arg := ""
	if len(args) == 1 {
		arg = args[0]
	}
	si, err := mon.stackOf(arg)
	if err != nil {
		return err
	}
	st := mon.state()
	line := func(k, v string) { keyValue(out, k, v) }
	if si.task != nil {
		cur := ""
		if si.task.Current {
			cur = "  [current]"
		}
		line("task", fmt.Sprintf("%q pid %d (task_struct %s)%s", si.task.Comm, si.task.Pid, hex16(si.task.Addr), cur))
	} else {
		line("task", "unknown (no kernel symbols)")
	}
	line("source", si.source)
	size := si.top - si.bottom
	line("stack", fmt.Sprintf("%s-%s  %s", hex16(si.bottom), hex16(si.top), fmtSize(size)))
	line("bottom", hex16(si.bottom))
	line("top", hex16(si.top))
	line("size", fmt.Sprintf("%s (%d bytes)", fmtSize(size), size))
	line("rsp", fmt.Sprintf("%s  (%s)", hex16(si.rsp), si.rspFrom))
	g0, g1 := si.bottom-4096, si.bottom
	switch {
	case si.rsp >= si.bottom && si.rsp <= si.top:
		used, left := si.top-si.rsp, si.rsp-si.bottom
		line("used", fmt.Sprintf("%d bytes", used))
		line("left", fmt.Sprintf("%d bytes", left))
	case si.rsp < si.bottom && si.rsp >= g0:
		line("used", fmt.Sprintf("%d bytes: overflowed by %d bytes", si.top-si.rsp, si.bottom-si.rsp))
		line("left", "0 bytes")
	default:
		line("used", "unknown: RSP is not on this stack")
		line("left", "unknown")
	}
	line("guard page", fmt.Sprintf("%s-%s  %s", hex16(g0), hex16(g1), si.guardMap))
	line("rsp in guard page", yesNo(si.rsp >= g0 && si.rsp < g1))
	cr2In := st.CR2 >= g0 && st.CR2 < g1
	cr2 := yesNo(cr2In)
	if cr2In {
		cr2 += fmt.Sprintf(" (CR2 %s, %d bytes below the stack)", hex16(st.CR2), si.bottom-st.CR2)
	} else {
		cr2 += fmt.Sprintf(" (CR2 %s)", hex16(st.CR2))
	}
	line("cr2 in guard page", cr2)
	return nil
}

// lastPF is the newest #PF in the history.
func lastPF(evs []cpu.Event) *cpu.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Vector == 14 && evs[i].Kind == cpu.EventException {
			return &evs[i]
		}
	}
	return nil
}

// explainPF spells a #PF error code out (SDM Vol. 3A 4.7): "0x2 (W:
// not-present page, write, supervisor mode)".
func explainPF(code uint64) string {
	return fmt.Sprintf("%#x (%s: %s)", code, paging.DecodeErrorCode(uint32(code)), pfWords(code))
}

// pfWords is the meaning of the error-code bits as words.
func pfWords(code uint64) string {
	w := []string{"not-present page"}
	if code&paging.ErrP != 0 {
		w[0] = "protection violation"
	}
	if code&paging.ErrW != 0 {
		w = append(w, "write")
	} else {
		w = append(w, "read")
	}
	if code&paging.ErrU != 0 {
		w = append(w, "user mode")
	} else {
		w = append(w, "supervisor mode")
	}
	if code&paging.ErrRSVD != 0 {
		w = append(w, "reserved bit set")
	}
	if code&paging.ErrI != 0 {
		w = append(w, "instruction fetch")
	}
	return strings.Join(w, ", ")
}

func (mon *Monitor) cmdCR2(args []string, out io.Writer) error {
	if err := tooMany("cr2", args, 0); err != nil {
		return err
	}
	st := mon.state()
	line := func(k, v string) { keyValue(out, k, v) }
	line("CR2", hex16(st.CR2))
	if e := lastPF(mon.m.Events()); e != nil {
		line("last #PF", fmt.Sprintf("seq %d, error code %s", e.Seq, explainPF(e.ErrorCode)))
		line("", fmt.Sprintf("at RIP %s, RSP %s, CR2 %s", mon.symbolized(e.RIP), hex16(e.RSP), hex16(e.CR2)))
		if e.CR2 != st.CR2 {
			line("", "(CR2 has changed since: written by software or a later fault)")
		}
	} else {
		line("last #PF", "none in the exception history")
	}
	where := mon.where(st.CR2)
	m, _ := mon.mapping(st.CR3, st.CR2)
	if where == "" {
		where = "nothing the kernel's symbols name"
	}
	line("points at", where)
	line("mapping", m)
	return nil
}

func (mon *Monitor) cmdTasks(args []string, out io.Writer) error {
	if err := tooMany("tasks", args, 0); err != nil {
		return err
	}
	tasks, err := mon.tasks()
	if err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	nameW, stateW, mmW := 4, 5, 2
	for _, t := range tasks {
		nameW = max(nameW, len(t.Comm)+2)
		stateW = max(stateW, len(t.StateName))
		mmW = max(mmW, len(t.MMName))
	}
	fmt.Fprintf(out, "  %4s  %-*s  %-*s  %-37s  %-18s  %-*s  %-10s  %s\n", "pid", nameW, "name", stateW, "state", "stack", "saved sp", mmW, "mm", "cr3", "task_struct")
	st := mon.state()
	var cur *kernelsym.Task
	for i, t := range tasks {
		mark := " "
		if t.Current {
			mark = "*"
			cur = &tasks[i]
		}
		mm := t.MMName
		if mm == "" {
			mm = "-"
		}
		fmt.Fprintf(out, "%s %4d  %-*s  %-*s  %s-%s  %s  %-*s  %-10s  %s\n", mark, t.Pid, nameW, fmt.Sprintf("%q", t.Comm), stateW, t.StateName,
			hex16(t.Stack), hex16(t.StackEnd), hex16(t.SP), mmW, mm, mmCR3(mon, st.CR3, t.PGD), hex16(t.Addr))
	}
	if cur != nil {
		fmt.Fprintf(out, "* current task (its saved sp is stale while it runs; RSP is %s)\n", hex16(mon.state().GPR[cpu.RSP]))
	}
	return nil
}

// mmCR3 is the CR3 of an address space: the physical address of its
// top-level table (mm->pgd is a virtual, direct-map address), for `pt CR3`.
func mmCR3(mon *Monitor, cr3, pgd uint64) string {
	if pgd == 0 {
		return "-"
	}
	if p, ok := mon.cpu().Translate(cr3, pgd); ok {
		return fmt.Sprintf("%#x", p)
	}
	return "?"
}

// DescribeStop turns a stop into the message the debugger shows (the gdb
// adapter sends it as an O packet). A break-on #DF says which exception
// could not be delivered and where CR2 points, e.g.
//
//	#DF: #PF (error 0x2, CR2=0xffffc90000003ff8) could not be delivered at RIP=0xffffffff801021fe RSP=0xffffc90000004000; CR2 is 8 bytes below the stack of task "recurse" (0xffffc90000004000-0xffffc90000008000)
//
// k may be nil (it is then loaded from the machine's kernel).
func DescribeStop(m *target.Machine, k kernelsym.Kernel, st target.Stop) string {
	return New(m, k).DescribeStop(st)
}

// DescribeStop is the package function with the monitor's kernel.
func (mon *Monitor) DescribeStop(st target.Stop) (msg string) {
	// As Run: a bug in a view, or guest data a view did not expect, must
	// not take the debugger down; the machine's own description remains.
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("%s (monitor: internal error describing it: %v)", st.String(), r)
		}
	}()
	mon.k.Sync(mon.memory())
	switch st.Kind {
	case target.StopBreakOn:
		if st.Event != nil {
			return mon.DescribeEvent(st.Event)
		}
	case target.StopTripleFault:
		s := st.String()
		// The first #PF of the chain is the one that could not be
		// delivered; its CR2 says why.
		for i := range st.Chain {
			if st.Chain[i].Vector == 14 {
				s += "; " + mon.cr2Clause(st.Chain[i].CR2)
				break
			}
		}
		return s
	}
	return st.String()
}

// DescribeEvent describes one delivery for a person: for a #DF, the
// exception it was raised delivering and where CR2 points; for a #PF,
// the error code and where CR2 points; otherwise target.DescribeEvent.
func (mon *Monitor) DescribeEvent(e *cpu.Event) string {
	switch e.Vector {
	case 8:
		inner := mon.nestedOf(e)
		if inner == nil {
			return fmt.Sprintf("#DF (error %#x) at RIP=%s RSP=%s", e.ErrorCode, hex16(e.RIP), hex16(e.RSP))
		}
		via := ""
		if outer := mon.nestedOf(inner); outer != nil {
			via = " while delivering " + eventName(outer)
		}
		if inner.Vector == 14 {
			s := fmt.Sprintf("#DF: #PF (error %#x, CR2=%s) could not be delivered at RIP=%s RSP=%s%s; %s",
				inner.ErrorCode, hex16(inner.CR2), hex16(inner.RIP), hex16(inner.RSP), via, mon.cr2Clause(inner.CR2))
			if cr2 := mon.state().CR2; cr2 != inner.CR2 {
				s += fmt.Sprintf("; CR2 is now %s (a second #PF while pushing the frame)", hex16(cr2))
			}
			return s
		}
		errc := ""
		if inner.HasError {
			errc = fmt.Sprintf(" (error %#x)", inner.ErrorCode)
		}
		return fmt.Sprintf("#DF: %s%s could not be delivered at RIP=%s RSP=%s%s",
			eventName(inner), errc, hex16(inner.RIP), hex16(inner.RSP), via)
	case 14:
		return fmt.Sprintf("#PF (error %#x: %s; CR2=%s) at RIP=%s RSP=%s; %s",
			e.ErrorCode, pfWords(e.ErrorCode), hex16(e.CR2), hex16(e.RIP), hex16(e.RSP), mon.cr2Clause(e.CR2))
	}
	return target.DescribeEvent(e)
}

// nestedOf finds the delivery e was raised during.
func (mon *Monitor) nestedOf(e *cpu.Event) *cpu.Event {
	if e.Nested == 0 {
		return nil
	}
	evs := mon.m.Events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Seq == e.Nested {
			return &evs[i]
		}
	}
	return nil
}

// cr2Clause says where a fault address lies, as a sentence fragment
// starting with "CR2".
func (mon *Monitor) cr2Clause(cr2 uint64) string {
	st := mon.state()
	m, _ := mon.mapping(st.CR3, cr2)
	tasks, _ := mon.tasks()
	for _, t := range tasks {
		if t.Stack < 4096 {
			continue
		}
		g0, _ := t.GuardPage()
		if cr2 >= g0 && cr2 < t.Stack {
			return fmt.Sprintf("CR2 is %d bytes below the stack of task %q (%s-%s): its guard page (%s)",
				t.Stack-cr2, t.Comm, hex16(t.Stack), hex16(t.StackEnd), m)
		}
		if cr2 >= t.Stack && cr2 < t.StackEnd {
			return fmt.Sprintf("CR2 is inside the stack of task %q (%s-%s), not in a guard page (%s in this address space)",
				t.Comm, hex16(t.Stack), hex16(t.StackEnd), m)
		}
	}
	stacks, _ := mon.k.Stacks(mon.memory())
	for _, s := range stacks {
		g0, _ := s.GuardPage()
		if s.Guard && cr2 >= g0 && cr2 < s.Begin {
			return fmt.Sprintf("CR2 is %d bytes below the %s stack (%s-%s): its guard page (%s)",
				s.Begin-cr2, s.Name, hex16(s.Begin), hex16(s.End), m)
		}
		if cr2 >= s.Begin && cr2 < s.End {
			return fmt.Sprintf("CR2 is inside the %s stack (%s-%s), not in a guard page (%s)", s.Name, hex16(s.Begin), hex16(s.End), m)
		}
	}
	if d := mon.k.Describe(cr2); d != "" {
		return fmt.Sprintf("CR2 is at <%s>, not in a guard page (%s)", d, m)
	}
	if mon.k.TaskModel() != nil {
		// No symbols: a vmalloc address whose page is unmapped but whose
		// next page is mapped looks like a guard page.
		if !strings.HasPrefix(m, "present") {
			page := cr2&^0xfff + 4096
			if _, ok := mon.cpu().Translate(st.CR3, page); ok {
				return fmt.Sprintf("CR2 is %d bytes below mapped memory at %s: a guard page? (%s; no kernel symbols to name the task)", page-cr2, hex16(page), m)
			}
		}
	}
	return fmt.Sprintf("CR2 is not in a guard page (%s)", m)
}
