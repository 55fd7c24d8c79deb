package kernelsym

import (
	"errors"
	"fmt"

	"vmapstack/kernelsym/orc"
)

// UnwindMethod names Linux's unwinder.
func (l *Linux) UnwindMethod() string { return "ORC" }

// orcTables returns the kernel's ORC table (loaded once) and the loaded
// modules' (loaded once per module), in orc_find's order.
func (l *Linux) orcTables(mem Memory) (orc.Tables, error) {
	if l.orcKernel == nil {
		ip, ok1 := l.syms.Lookup("__start_orc_unwind_ip")
		ipEnd, ok2 := l.syms.Lookup("__stop_orc_unwind_ip")
		u, ok3 := l.syms.Lookup("__start_orc_unwind")
		if !ok1 || !ok2 || !ok3 {
			return nil, errors.New("kallsyms has no __start_orc_unwind_ip, __stop_orc_unwind_ip or __start_orc_unwind: the kernel has no ORC tables (CONFIG_UNWINDER_ORC)")
		}
		if ipEnd.Addr < ip.Addr || (ipEnd.Addr-ip.Addr)/4 > orc.MaxEntries {
			return nil, fmt.Errorf("ORC ip table %#x..%#x: implausible size", ip.Addr, ipEnd.Addr)
		}
		t, err := orc.LoadTable(orc.Read(mem.Read), ip.Addr, u.Addr, int((ipEnd.Addr-ip.Addr)/4))
		if err != nil {
			return nil, fmt.Errorf("kernel ORC table: %w", err)
		}
		// orc_find asks the vmlinux table only for the kernel's text
		// and its init text (freed after boot, but then nothing runs
		// there).
		for _, r := range [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}} {
			a, ok1 := l.syms.Lookup(r[0])
			b, ok2 := l.syms.Lookup(r[1])
			if ok1 && ok2 && b.Addr > a.Addr {
				t.Text = append(t.Text, orc.Range{Start: a.Addr, End: b.Addr})
			}
		}
		l.orcKernel = t
	}
	set := orc.TableSet{l.orcKernel}
	if l.orcModules == nil {
		l.orcModules = map[Module]*orc.Table{}
	}
	for _, m := range l.modules {
		if m.NumORC == 0 || m.NumORC > orc.MaxEntries {
			continue
		}
		t, ok := l.orcModules[m]
		if !ok {
			var err error
			if t, err = orc.LoadTable(orc.Read(mem.Read), m.ORCUnwindIP, m.ORCUnwind, int(m.NumORC)); err != nil {
				continue // the module's frames will stop the unwind with "no ORC entry"
			}
			t.Text = []orc.Range{{Start: m.Base, End: m.Base + m.Size}}
			if m.InitSize != 0 {
				t.Text = append(t.Text, orc.Range{Start: m.InitBase, End: m.InitBase + m.InitSize})
			}
			l.orcModules[m] = t
		}
		set = append(set, t)
	}
	return set, nil
}

// stackInfo lists every stack the unwinder may walk: the tasks' and
// the IRQ and exception stacks.
func (l *Linux) stackInfo(mem Memory) orc.StackInfo {
	var list []orc.Stack
	tasks, _ := l.Tasks(mem)
	if cur, err := l.Current(mem); err == nil {
		// The current task even if the lists missed it (a corrupt list,
		// or one cut at maxTasks): the unwind starts on its stack.
		tasks = append(tasks, cur)
	}
	seen := map[uint64]bool{}
	for _, t := range tasks {
		if t.Stack != 0 && !seen[t.Stack] {
			seen[t.Stack] = true
			list = append(list, orc.Stack{Begin: t.Stack, End: t.StackEnd, Kind: orc.KindTask})
		}
	}
	stacks, _ := l.Stacks(mem)
	for _, s := range stacks {
		list = append(list, orc.Stack{Begin: s.Begin, End: s.End, Kind: s.Name})
	}
	return orc.Stacks(orc.Read(mem.Read), list...)
}

// Unwind unwinds a Linux stack with ORC, as show_stack does: from the
// stopped CPU's registers, or, for a switched-out task, from the
// inactive_task_frame at thread.sp (__switch_to_asm pushed it; the
// unwinder starts at its return address, as unwind_start does for a
// task that is not current).
func (l *Linux) Unwind(mem Memory, start UnwindStart, max int) ([]Frame, error) {
	if err := l.TaskModel(); err != nil {
		return nil, err
	}
	tables, err := l.orcTables(mem)
	if err != nil {
		return nil, err
	}
	u := &orc.Unwinder{Mem: orc.Read(mem.Read), Tables: tables, Stacks: l.stackInfo(mem), Max: max}
	var frames []orc.Frame
	if start.FromSwitch {
		f := l.layout.inactiveFrame
		if f.size == 0 {
			return nil, errors.New("BTF has no struct inactive_task_frame: cannot start from a switched-out task")
		}
		sp := start.SwitchedTask.SP
		bp, err := readUint(mem.Read, sp+f.bp, 8, "inactive_task_frame.bp")
		if err != nil {
			return nil, err
		}
		ret, err := readUint(mem.Read, sp+f.retAddr, 8, "inactive_task_frame.ret_addr")
		if err != nil {
			return nil, err
		}
		// ret_from_fork's entry is exact (a new task has not run yet).
		exact := false
		if s, ok := l.syms.Lookup("ret_from_fork"); ok && s.Addr == ret {
			exact = true
		}
		frames, err = u.UnwindFrom(ret, sp+f.size, bp, exact)
		return convertORCFrames(frames), err
	}
	r := orc.Regs{
		AX: start.GPR[0], CX: start.GPR[1], DX: start.GPR[2], BX: start.GPR[3], SP: start.GPR[4], BP: start.GPR[5],
		SI: start.GPR[6], DI: start.GPR[7], R8: start.GPR[8], R9: start.GPR[9], R10: start.GPR[10], R11: start.GPR[11],
		R12: start.GPR[12], R13: start.GPR[13], R14: start.GPR[14], R15: start.GPR[15],
		IP: start.RIP, Flags: start.RFLAGS, CS: start.CS, SS: start.SS,
	}
	frames, err = u.Unwind(r)
	return convertORCFrames(frames), err
}

func convertORCFrames(in []orc.Frame) []Frame {
	out := make([]Frame, len(in))
	for i, f := range in {
		out[i] = Frame{PC: f.PC, SP: f.SP, Exact: f.Exact, Stack: f.Stack.Kind, Exception: f.Regs != nil, Reliable: f.Reliable}
	}
	return out
}
