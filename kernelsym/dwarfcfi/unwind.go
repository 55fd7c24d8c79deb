package dwarfcfi

import (
	"errors"
	"fmt"
)

// Regs is a register set in DWARF numbering (RAX … R15, RIP).
type Regs struct {
	R [NumRegs]uint64
	// Unknown has bit n set when R[n] is not known: the CFI says the
	// register cannot be recovered in this frame, or it was recovered from
	// one that could not be. The zero value means every register is
	// known, as for the registers of a stopped CPU.
	Unknown uint32
}

// Known tells whether register n has a value.
func (r *Regs) Known(n int) bool { return n >= 0 && n < NumRegs && r.Unknown&(1<<n) == 0 }

// Set gives register n a known value.
func (r *Regs) Set(n int, v uint64) {
	r.R[n] = v
	r.Unknown &^= 1 << n
}

// forget marks register n unknown.
func (r *Regs) forget(n int) {
	r.R[n] = 0
	r.Unknown |= 1 << n
}

// RegsFromISA converts the 16 general registers in the order of the
// instruction encoding (rax rcx rdx rbx rsp rbp rsi rdi r8 … r15, the
// order of target/cpu's State.GPR) and RIP to a complete Regs.
func RegsFromISA(gpr [16]uint64, rip uint64) Regs {
	dwarf := [16]int{RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15}
	var r Regs
	for i, n := range dwarf {
		r.R[n] = gpr[i]
	}
	r.R[RIP] = rip
	return r
}

// Frame is one frame of an unwound stack, innermost first.
type Frame struct {
	// PC is the frame's RIP: where the first frame stopped, the return
	// address of a call, or (after a signal frame) the interrupted
	// instruction.
	PC uint64
	// LookupPC is the address whose CFI describes the frame: PC, or PC-1
	// when PC is a return address, because a call may be the last
	// instruction of its function (a call to a noreturn function) and
	// the return address then belongs to the next one. gdb's rule
	// (get_frame_address_in_block). Name the frame by the function that
	// holds LookupPC, with PC's offset in it, as Linux's %pB does.
	LookupPC uint64
	// CFA is the Canonical Frame Address (DWARF 4 §6.4): the caller's
	// stack pointer at the call, or the address above the frame the CPU
	// pushed for an exception. 0 when the frame has no FDE.
	CFA uint64
	// SP is RSP in this frame.
	SP uint64
	// Signal is set for a frame whose CIE has the 'S' augmentation: an
	// exception or interrupt entry. Its caller's PC is the interrupted
	// instruction, and its caller may be on another stack (the #DF runs
	// on IST 1).
	Signal bool
	// FDE describes the frame; nil when none covers LookupPC (then the
	// frame is the last).
	FDE *FDE
	// Regs holds the registers in this frame: start for the first, the
	// values the callee's CFI recovered for the others.
	Regs Regs
	// End is set on the last frame only: why there is no frame after it.
	End Reason
}

// Reason says why unwinding stopped after a frame.
type Reason uint8

const (
	// NotLast is the End of every frame but the last.
	NotLast Reason = iota
	// EndNoFDE: no FDE covers the frame's PC. For code with CFI this is
	// the end of the stack (an entry point written without CFI);
	// otherwise the stack goes on through code the table does not
	// describe.
	EndNoFDE
	// EndUndefinedRA: the CFI marks the return address undefined, as the
	// outermost frame of a task does (ret_from_fork's
	// .cfi_undefined rip).
	EndUndefinedRA
	// EndZeroRA: the return address is 0.
	EndZeroRA
	// StopCFANotIncreasing: the caller's CFA is not above this frame's on
	// the same stack (both frames are ordinary calls): a corrupt stack
	// or CFI. gdb: "previous frame inner to this frame (corrupt
	// stack?)".
	StopCFANotIncreasing
	// StopRead: memory the CFI points at could not be read.
	StopRead
	// StopBadCFI: the CFI could not be used (an unsupported op, a rule
	// on an unknown register, a malformed expression).
	StopBadCFI
	// StopMaxFrames: the stack has more frames than Unwind was allowed.
	StopMaxFrames
)

func (r Reason) String() string {
	switch r {
	case NotLast:
		return "not the last frame"
	case EndNoFDE:
		return "no FDE for the pc"
	case EndUndefinedRA:
		return "return address undefined (outermost frame)"
	case EndZeroRA:
		return "return address 0"
	case StopCFANotIncreasing:
		return "CFA not increasing (corrupt stack?)"
	case StopRead:
		return "memory read failed"
	case StopBadCFI:
		return "unusable CFI"
	case StopMaxFrames:
		return "too many frames"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Clean tells whether the reason is a normal end of the stack.
func (r Reason) Clean() bool { return r == EndNoFDE || r == EndUndefinedRA || r == EndZeroRA }

// StopError is the error Unwind returns when it stopped for a reason
// that is not a normal end of the stack.
type StopError struct {
	Reason Reason
	Frame  int    // the index of the last frame returned (-1: none, the start registers were unusable)
	PC     uint64 // its PC
	Err    error
}

func (e *StopError) Error() string {
	if e.Frame < 0 {
		return fmt.Sprintf("dwarfcfi: cannot unwind: %v", e.Err)
	}
	return fmt.Sprintf("dwarfcfi: unwinding stopped after frame #%d (pc %#x): %v: %v", e.Frame, e.PC, e.Reason, e.Err)
}

func (e *StopError) Unwrap() error { return e.Err }

// DefaultMaxFrames is the frame limit of Unwind when max <= 0: more than
// a 16 KiB stack of 8-byte frames plus the exception stacks can hold.
const DefaultMaxFrames = 4096

// readError marks a failed target memory read, so that Unwind can tell
// StopRead from StopBadCFI when an expression dereferences.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// Unwind walks the stack from the registers of a stopped CPU (start:
// RIP and the general registers; Unknown may mark some unknown), reading
// target memory with read (a short read is a failure). It returns the
// frames, innermost first; the last frame's End says why the walk
// stopped. The error is nil when the walk reached the end of the stack
// (End.Clean()) and a *StopError otherwise; the frames found before
// are returned either way. max bounds the number of frames
// (DefaultMaxFrames when max <= 0).
//
// Frames after the first are looked up with PC-1 unless the frame before
// is a signal frame: then PC is the interrupted instruction itself (it
// has not run, and may be a function's first). This is the rule of DWARF
// 4 §6.4.4's note on return addresses and of gdb.
func (t *Table) Unwind(read func(addr uint64, buf []byte) (int, error), start Regs, max int) ([]Frame, error) {
	if max <= 0 {
		max = DefaultMaxFrames
	}
	if !start.Known(RIP) || !start.Known(RSP) {
		return nil, &StopError{Reason: StopBadCFI, Frame: -1, Err: errors.New("the start registers lack RIP or RSP")}
	}
	env := exprEnv{read: read, order: t.order}
	var frames []Frame
	stop := func(r Reason, err error) ([]Frame, error) {
		last := &frames[len(frames)-1]
		last.End = r
		if r.Clean() {
			return frames, nil
		}
		return frames, &StopError{Reason: r, Frame: len(frames) - 1, PC: last.PC, Err: err}
	}
	regs := start
	for {
		if len(frames) == max {
			return stop(StopMaxFrames, fmt.Errorf("more than %d frames", max))
		}
		fr := Frame{PC: regs.R[RIP], SP: regs.R[RSP], Regs: regs}
		fr.LookupPC = fr.PC
		afterCall := len(frames) > 0 && !frames[len(frames)-1].Signal
		if afterCall {
			fr.LookupPC--
		}
		fde := t.Find(fr.LookupPC)
		if fde != nil && fde.CIE.Signal && afterCall {
			// gdb tries its signal-frame unwinder with the PC itself:
			// a return into an entry stub (common_entry's call of the
			// C handler) is described by the row at the PC.
			if f := t.Find(fr.PC); f != nil && f.CIE.Signal {
				fde, fr.LookupPC = f, fr.PC
			}
		}
		if fde == nil {
			frames = append(frames, fr)
			return stop(EndNoFDE, nil)
		}
		fr.FDE, fr.Signal = fde, fde.CIE.Signal
		row, err := fde.Row(fr.LookupPC)
		if err == nil {
			env.regs = &fr.Regs
			fr.CFA, err = cfa(&row, &env)
			if err != nil {
				err = fmt.Errorf("CFA at pc %#x (%v): %w", fr.LookupPC, fde, err)
			}
		}
		if err != nil {
			frames = append(frames, fr)
			return stop(reasonOf(err), err)
		}
		if n := len(frames); n > 0 {
			prev := &frames[n-1]
			// Ordinary frames on one stack have strictly increasing
			// CFAs; a signal frame may switch stacks (IST, or an
			// interrupt on another stack), so the check skips it, as
			// gdb's does. The same PC and CFA twice is a loop either way.
			if !prev.Signal && !fr.Signal && fr.CFA <= prev.CFA || fr.PC == prev.PC && fr.CFA == prev.CFA {
				return stop(StopCFANotIncreasing, fmt.Errorf("caller at pc %#x has CFA %#x, not above the CFA %#x of the frame at pc %#x",
					fr.PC, fr.CFA, prev.CFA, prev.PC))
			}
		}
		frames = append(frames, fr)
		caller, err := callerRegs(&row, &frames[len(frames)-1], &env)
		if err != nil {
			return stop(reasonOf(err), err)
		}
		if !caller.Known(RIP) {
			return stop(EndUndefinedRA, nil)
		}
		if caller.R[RIP] == 0 {
			return stop(EndZeroRA, nil)
		}
		regs = caller
	}
}

func reasonOf(err error) Reason {
	var re *readError
	if errors.As(err, &re) {
		return StopRead
	}
	return StopBadCFI
}

// cfa computes the frame's CFA from its row.
func cfa(row *Row, env *exprEnv) (uint64, error) {
	c := row.CFA
	switch {
	case !c.Defined:
		return 0, errors.New("no CFA rule")
	case c.IsExpr:
		return env.eval(c.Expr)
	}
	v, err := env.reg(c.Reg)
	if err != nil {
		return 0, err
	}
	return v + uint64(c.Offset), nil
}

// callerRegs applies the row's register rules (DWARF 4 §6.4.1) to the
// frame: the registers as they were in the caller.
func callerRegs(row *Row, fr *Frame, env *exprEnv) (Regs, error) {
	c := fr.FDE.CIE
	where := func(n int) string {
		return fmt.Sprintf("frame at pc %#x (%v): %s", fr.PC, fr.FDE, RegName(uint64(n)))
	}
	if c.RAColumn >= NumRegs {
		return Regs{}, fmt.Errorf("frame at pc %#x (%v): return address column %d is not a register of x86-64", fr.PC, fr.FDE, c.RAColumn)
	}
	if row.Regs[c.RAColumn].Kind == RuleUnspecified {
		// A same-value return address would make the caller this frame
		// again; no toolchain leaves it out but by mistake.
		return Regs{}, fmt.Errorf("%s: the CFI has no rule for the return address", where(int(c.RAColumn)))
	}
	var out Regs
	for n := 0; n < NumRegs; n++ {
		rule := row.Regs[n]
		var v uint64
		var err error
		switch rule.Kind {
		case RuleUnspecified:
			if n == RSP {
				// DWARF 4 §6.4: the CFA is the caller's stack pointer.
				out.Set(n, fr.CFA)
				continue
			}
			fallthrough
		case RuleSameValue:
			out.R[n] = fr.Regs.R[n]
			if !fr.Regs.Known(n) {
				out.forget(n)
			}
			continue
		case RuleUndefined:
			out.forget(n)
			continue
		case RuleRegister:
			if rule.Reg >= NumRegs || !fr.Regs.Known(int(rule.Reg)) {
				out.forget(n)
				continue
			}
			v = fr.Regs.R[rule.Reg]
		case RuleOffset:
			v, err = readSaved(env, fr.CFA+uint64(rule.Offset))
		case RuleValOffset:
			v = fr.CFA + uint64(rule.Offset)
		case RuleExpression:
			if v, err = env.eval(rule.Expr, fr.CFA); err == nil {
				v, err = readSaved(env, v)
			}
		case RuleValExpression:
			v, err = env.eval(rule.Expr, fr.CFA)
		default:
			err = fmt.Errorf("rule %v", rule.Kind)
		}
		if err != nil {
			return Regs{}, fmt.Errorf("%s: %w", where(n), err)
		}
		out.Set(n, v)
	}
	if c.RAColumn != RIP {
		out.R[RIP] = out.R[c.RAColumn]
		out.Unknown = out.Unknown&^(1<<RIP) | (out.Unknown>>c.RAColumn&1)<<RIP
	}
	return out, nil
}

// readSaved reads a saved 8-byte register.
func readSaved(env *exprEnv, addr uint64) (uint64, error) {
	v, err := readUint(env.read, env.order, addr, 8)
	if err != nil {
		return 0, &readError{err}
	}
	return v, nil
}
