package monitor

import (
	"fmt"
	"io"

	"vmapstack/kernelsym"
	"vmapstack/target/cpu"
)

// maxBTFrames bounds `bt`: a 16 KiB stack of small recursive frames
// holds a few hundred, and the path that led there comes after them.
const maxBTFrames = 2048

// cmdBT unwinds a kernel stack with the kernel's own unwind tables and
// prints it as Linux's show_stack does: one function+offset/size per
// frame, the module in brackets, and <#DF>…</#DF> around the frames on
// each stack other than the task's.
func (mon *Monitor) cmdBT(args []string, out io.Writer) error {
	if err := tooMany("bt", args, 1); err != nil {
		return err
	}
	u, ok := mon.k.(kernelsym.Unwinder)
	if !ok {
		return fmt.Errorf("bt: this kernel model cannot unwind stacks")
	}
	if err := mon.k.TaskModel(); err != nil {
		return fmt.Errorf("bt: %w", err)
	}
	st := mon.state()
	start := kernelsym.UnwindStart{GPR: st.GPR, RIP: st.RIP, RFLAGS: st.RFLAGS,
		CS: uint64(st.Seg[cpu.CS].Sel), SS: uint64(st.Seg[cpu.SS].Sel)}
	var who string
	if len(args) == 1 {
		t, err := mon.findTask(args[0])
		if err != nil {
			return fmt.Errorf("bt: %w", err)
		}
		who = fmt.Sprintf("task %q pid %d", t.Comm, t.Pid)
		if !t.Current {
			start.FromSwitch, start.SwitchedTask = true, t
			who += fmt.Sprintf(", switched out: from its saved sp %s", hex16(t.SP))
		} else {
			who += ", current: from the stopped CPU's registers"
		}
	} else {
		who = "the stopped CPU's registers"
		if t, err := mon.k.Current(mon.memory()); err == nil {
			who = fmt.Sprintf("current task %q pid %d, from the stopped CPU's registers", t.Comm, t.Pid)
		}
	}
	frames, err := u.Unwind(mon.memory(), start, maxBTFrames)
	fmt.Fprintf(out, "Call Trace (%s; %s):\n", u.UnwindMethod(), who)
	open := ""
	for i := 0; i < len(frames); i++ {
		f := frames[i]
		if f.Stack != open {
			if open != "" && open != "TASK" {
				fmt.Fprintf(out, " </%s>\n", open)
			}
			if f.Stack != "" {
				fmt.Fprintf(out, " <%s>\n", f.Stack)
			}
			open = f.Stack
		}
		mark := ""
		if f.Exception {
			mark = "  (interrupted here)"
		}
		if !f.Reliable {
			mark += "  ?"
		}
		// A recursion is hundreds of identical frames: print a run of
		// them as one line with its count and SP range.
		j := i
		for j+1 < len(frames) && sameFrame(frames[j+1], f) {
			j++
		}
		if j-i >= 2 {
			fmt.Fprintf(out, " #%d-#%d  %s  %-48s sp %s-%s  (%d frames)%s\n", i, j, hex16(f.PC), mon.frameName(f),
				hex16(f.SP), hex16(frames[j].SP), j-i+1, mark)
			i = j
			continue
		}
		fmt.Fprintf(out, " #%-3d %s  %-48s sp %s%s\n", i, hex16(f.PC), mon.frameName(f), hex16(f.SP), mark)
	}
	if open != "" {
		fmt.Fprintf(out, " </%s>\n", open)
	}
	if err != nil {
		fmt.Fprintf(out, "unwind stopped: %v\n", err)
	} else {
		fmt.Fprintf(out, "end of stack (%d frames)\n", len(frames))
	}
	return nil
}

// frameName names a frame's function as Linux's %pB (a return address:
// the call is at PC-1) or %pS (an exact PC) does: name+0xoff/0xsize,
// then [module].
func (mon *Monitor) frameName(f kernelsym.Frame) string {
	look := f.PC
	if !f.Exact && look > 0 {
		look--
	}
	s, _, ok := mon.k.Symbolize(look)
	if !ok {
		if f.PC < 1<<47 {
			return "(user mode)"
		}
		return "?"
	}
	name := fmt.Sprintf("%s+%#x/%#x", s.Name, f.PC-s.Addr, s.Size)
	if s.Module != "" {
		name += " [" + s.Module + "]"
	}
	return name
}

// sameFrame reports whether b repeats a (a recursion): same PC, same
// kind, same stack.
func sameFrame(a, b kernelsym.Frame) bool {
	return a.PC == b.PC && a.Exact == b.Exact && a.Stack == b.Stack && a.Exception == b.Exception && a.Reliable == b.Reliable
}
