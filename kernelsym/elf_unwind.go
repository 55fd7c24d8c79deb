package kernelsym

import (
	"fmt"

	"vmapstack/kernelsym/dwarfcfi"
)

// UnwindMethod names the mini kernel's unwinder.
func (k *ELFKernel) UnwindMethod() string { return "DWARF CFI" }

// Unwind unwinds the mini kernel's stack with its DWARF CFI: from the
// stopped CPU's registers, or, for a switched-out task, from the frame
// switch_to (kernelimg/src/entry.S) left at thread.sp: r15 r14 r13 r12
// rbx rbp, then the return address into schedule.
func (k *ELFKernel) Unwind(mem Memory, start UnwindStart, max int) ([]Frame, error) {
	if k.cfi == nil {
		if k.cfiErr != nil {
			return nil, fmt.Errorf("DWARF CFI: %w", k.cfiErr)
		}
		return nil, fmt.Errorf("the kernel ELF has no DWARF CFI")
	}
	regs := dwarfcfi.RegsFromISA(start.GPR, start.RIP)
	firstExact := true
	if start.FromSwitch {
		var saved [7]uint64
		sp := start.SwitchedTask.SP
		for i := range saved {
			v, err := readUint(mem.Read, sp+8*uint64(i), 8, "switch_to's frame")
			if err != nil {
				return nil, err
			}
			saved[i] = v
		}
		regs = dwarfcfi.Regs{}
		for i, r := range []int{dwarfcfi.R15, dwarfcfi.R14, dwarfcfi.R13, dwarfcfi.R12, dwarfcfi.RBX, dwarfcfi.RBP, dwarfcfi.RIP} {
			regs.Set(r, saved[i])
		}
		regs.Set(dwarfcfi.RSP, sp+8*7)
		// Only the callee-saved registers are known in a switched-out
		// task.
		for _, r := range []int{dwarfcfi.RAX, dwarfcfi.RDX, dwarfcfi.RCX, dwarfcfi.RSI, dwarfcfi.RDI, dwarfcfi.R8, dwarfcfi.R9, dwarfcfi.R10, dwarfcfi.R11} {
			regs.Unknown |= 1 << r
		}
		firstExact = false
	}
	frames, err := k.cfi.Unwind(mem.Read, regs, max)
	out := make([]Frame, len(frames))
	for i, f := range frames {
		out[i] = Frame{PC: f.PC, SP: f.SP, Exact: f.LookupPC == f.PC, Reliable: true}
		if i > 0 && frames[i-1].Signal {
			out[i].Exception = true
		}
	}
	if len(out) > 0 && !firstExact {
		out[0].Exact = false
	}
	return out, err
}
