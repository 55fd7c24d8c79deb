package orc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Regs is x86-64 struct pt_regs (arch/x86/include/asm/ptrace.h), field
// for field in its order: the registers an entry to the kernel saved on
// the stack, and the register set an unwind starts from.
type Regs struct {
	R15, R14, R13, R12, BP, BX, R11, R10, R9, R8 uint64
	AX, CX, DX, SI, DI                           uint64
	OrigAX                                       uint64 // the syscall number, or the exception's error code
	IP, CS, Flags, SP, SS                        uint64 // the IRET frame the CPU pushed
}

// The layout of struct pt_regs on x86-64.
const (
	PtRegsSize = 21 * 8 // sizeof(struct pt_regs)
	// IretFrameOffset is offsetof(struct pt_regs, ip) (IRET_FRAME_OFFSET):
	// an ORC_TYPE_REGS_PARTIAL CFA points this far into a pt_regs.
	IretFrameOffset = 16 * 8
	// IretFrameSize is the IRET frame's size (IRET_FRAME_SIZE): ip, cs,
	// flags, sp, ss.
	IretFrameSize = PtRegsSize - IretFrameOffset
)

// UserMode reports whether the registers are user mode's (user_mode():
// CS's RPL is not 0), where a kernel stack ends.
func (r *Regs) UserMode() bool { return r.CS&3 != 0 }

func decodePtRegs(b []byte) *Regs {
	var w [21]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return &Regs{
		R15: w[0], R14: w[1], R13: w[2], R12: w[3], BP: w[4], BX: w[5], R11: w[6], R10: w[7], R9: w[8], R8: w[9],
		AX: w[10], CX: w[11], DX: w[12], SI: w[13], DI: w[14], OrigAX: w[15],
		IP: w[16], CS: w[17], Flags: w[18], SP: w[19], SS: w[20],
	}
}

func decodeIretFrame(b []byte) *Regs {
	le := binary.LittleEndian
	return &Regs{IP: le.Uint64(b), CS: le.Uint64(b[8:]), Flags: le.Uint64(b[16:]), SP: le.Uint64(b[24:]), SS: le.Uint64(b[32:])}
}

// The stack kinds, as Linux's stack_type_name names them (and
// show_trace_log_lvl prints them: "<IRQ>", "</#DF>").
const (
	KindTask            = "TASK"
	KindIRQ             = "IRQ"
	KindSoftIRQ         = "SOFTIRQ"
	KindEntryTrampoline = "ENTRY_TRAMPOLINE" // cpu_entry_area's entry stack
	KindDF              = "#DF"              // the IST stacks, exception_stack_names
	KindNMI             = "NMI"
	KindDB              = "#DB"
	KindMC              = "#MC"
	KindVC              = "#VC"
	KindVC2             = "#VC2"
)

// Stack is one kernel stack, as Linux's struct stack_info describes it.
type Stack struct {
	Begin, End uint64 // [Begin, End)
	Kind       string // KindTask, KindIRQ, KindDF, …: the name show_trace_log_lvl prints
	// Next is where the code that switched to this stack left its own
	// stack (stack_info.next_sp): the word at the top of an IRQ stack,
	// the interrupted RSP in the pt_regs at the top of an IST stack, 0
	// for a task stack. The unwinder does not need it (the ORC entries
	// say how each switch is undone); a printer that scans every stack
	// word as show_trace_log_lvl does goes on there.
	Next uint64
}

func (s Stack) on(addr, n uint64) bool {
	return s.Begin <= addr && addr < s.End && s.End-addr >= n
}

// StackInfo says which stack addr is on (get_stack_info), and false when
// it is on none: the unwinder reads stack memory only inside the stacks
// it returns, and enters each stack once.
type StackInfo func(addr uint64) (Stack, bool)

// Stacks is a StackInfo over a fixed list, with Next filled as Linux's
// get_stack_info does for each kind (dumpstack_64.c): an IRQ stack's
// next_sp is the word at its top (call_on_irqstack stores the old RSP
// there), an IST stack's is the sp of the pt_regs at its top
// (in_exception_stack); a Next already set is kept. mem may be nil when
// the list's Next fields are all set or not wanted.
func Stacks(mem Read, list ...Stack) StackInfo {
	return func(addr uint64) (Stack, bool) {
		for _, s := range list {
			if !s.on(addr, 1) {
				continue
			}
			if s.Next == 0 && mem != nil {
				s.Next = nextSP(mem, s)
			}
			return s, true
		}
		return Stack{}, false
	}
}

func nextSP(mem Read, s Stack) uint64 {
	var at uint64
	switch s.Kind {
	case KindIRQ, KindSoftIRQ:
		at = s.End - 8
	case KindDF, KindNMI, KindDB, KindMC, KindVC, KindVC2:
		at = s.End - PtRegsSize + 19*8 // ((struct pt_regs *)end - 1)->sp
	default:
		return 0
	}
	var b [8]byte
	if n, err := mem(at, b[:]); err != nil || n < len(b) {
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}

// Frame is one frame of an unwound stack, innermost first.
type Frame struct {
	PC, SP uint64
	BP     uint64 // what the unwinder knows of RBP here (ORC's bp_reg rules); may be stale where ORC leaves it undefined
	// Exact: PC is the very instruction (the start, or the one a pt_regs
	// says was interrupted): name it as is, as %pS does. Otherwise PC is
	// a return address, just after the CALL: name PC-1's function, with
	// PC's offset, as %pB does (unwind_orc.c looks up ip - 1 then).
	Exact bool
	// Stack is the stack SP is on; when SP is on none (the user RSP of a
	// syscall's pt_regs), the stack the frame was read from. A printer
	// opens "<IRQ>"/"<#DF>" where Stack.Kind changes and closes it with
	// "</IRQ>" as show_trace_log_lvl does.
	Stack Stack
	// RetAddr is where PC was read from (unwind_get_return_address_ptr):
	// SP-8 for a call frame, &regs->ip for a pt_regs frame; 0 for the
	// first frame. A stack scan prints the word there without "?".
	RetAddr uint64
	// Regs is set on an interrupt, exception or syscall boundary: this
	// frame is the context the pt_regs at RegsAddr saved (the entry's
	// ORC_TYPE_REGS or ORC_TYPE_REGS_PARTIAL entry). Partial: only the
	// IRET frame (IP, CS, Flags, SP, SS) is there, RegsAddr is still
	// where struct pt_regs would begin (IRET frame - IretFrameOffset),
	// as Linux's show_iret_regs has it.
	Regs     *Regs
	RegsAddr uint64
	Partial  bool
	// Reliable is false once the unwind has guessed: the start SP was
	// not on a stack but the page above it was (a stack that overflowed
	// into its guard page), or a frame without ORC entry was unwound as
	// a frame-pointer frame (Unwinder.GuessFP) — unwind_orc.c's
	// state->error.
	Reliable bool
}

// DefaultMaxFrames bounds an unwind when Unwinder.Max is 0.
const DefaultMaxFrames = 256

// Unwinder unwinds kernel stacks with ORC tables. Mem, Tables and Stacks
// are required.
type Unwinder struct {
	Mem    Read
	Tables Tables
	Stacks StackInfo
	Max    int // the most frames returned; 0: DefaultMaxFrames
	// GuessFP unwinds a PC that no table knows (BPF or other generated
	// code) as a frame-pointer frame, as unwind_orc.c does with
	// orc_fp_entry, and marks it and the frames after it unreliable;
	// without it the unwind stops there with ReasonNoEntry.
	GuessFP bool
}

// Unwind is (&Unwinder{Mem: mem, Tables: t, Stacks: stacks, Max:
// maxFrames}).Unwind(start).
func Unwind(mem Read, t Tables, stacks StackInfo, start Regs, maxFrames int) ([]Frame, error) {
	return (&Unwinder{Mem: mem, Tables: t, Stacks: stacks, Max: maxFrames}).Unwind(start)
}

// Unwind unwinds from a full register set: the registers of a stopped
// CPU, or a pt_regs (as __unwind_start does when given regs): IP is
// exact, and the general registers are there for ORC entries based on
// R10, R13, DI or DX. The first frame is the start itself (Linux prints
// it as the "RIP:" line of its register dump, and its Call Trace starts
// at the second: __unwind_start skips the regs frame). Registers of user
// mode give that one frame.
//
// The unwind ends without error at the end of the stack: a pt_regs of
// user mode (the last frame is then the user context, Regs set), or an
// ORC entry that marks the end (a kernel thread's ret_from_fork, an idle
// task's start). Otherwise it returns the frames so far and a
// *StopError that says why it could not go on.
func (u *Unwinder) Unwind(start Regs) ([]Frame, error) {
	r := start
	return u.unwind(&state{ip: r.IP, sp: r.SP, bp: r.BP, signal: true, regs: &r, full: true})
}

// UnwindFrom unwinds from only a PC, SP and BP, as __unwind_start does
// for a task that is not running, from what __switch_to_asm left at its
// thread.sp (struct inactive_task_frame): sp = thread.sp +
// sizeof(inactive_task_frame), bp = frame->bp, pc = frame->ret_addr and
// exact = (pc == ret_from_fork), a new task's first instruction; other
// return addresses are not exact.
func (u *Unwinder) UnwindFrom(pc, sp, bp uint64, exact bool) ([]Frame, error) {
	return u.unwind(&state{ip: pc, sp: sp, bp: bp, signal: exact})
}

// state is unwind_orc.c's struct unwind_state.
type state struct {
	u          *Unwinder
	ip, sp, bp uint64
	signal     bool  // ip is exact, not a return address
	regs       *Regs // the pt_regs this frame came from (or the start registers)
	full       bool  // regs is full, not only an IRET frame
	prevRegs   *Regs // a full regs a partial one followed, for get_reg
	cur        Stack // the stack of the last access (state->stack_info)
	haveCur    bool
	visited    []uint64 // Begin of each stack entered (state->stack_mask)
	guessed    bool     // state->error: a guess was made
	frame      Frame    // the last frame returned, which the next step starts from
}

func (u *Unwinder) unwind(s *state) ([]Frame, error) {
	if u.Mem == nil || u.Tables == nil || u.Stacks == nil {
		return nil, errors.New("orc: the Unwinder needs Mem, Tables and Stacks")
	}
	s.u = u
	limit := u.Max
	if limit <= 0 {
		limit = DefaultMaxFrames
	}
	first := Frame{PC: s.ip, SP: s.sp, BP: s.bp, Exact: s.signal}
	s.frame = first
	if s.regs != nil && s.regs.UserMode() {
		// __unwind_start: nothing of the kernel's to unwind.
		first.Reliable = true
		return []Frame{first}, nil
	}
	// __unwind_start: the start SP must be on a stack; if it is not, it
	// may have overflowed into the guard page below one, so try the page
	// above it, and call what follows a guess.
	if !s.enter(s.sp) {
		if !s.enter((s.sp + 4095) &^ 4095) {
			return []Frame{first}, s.stop(ReasonOffStack, s.sp, nil, "start SP %#x is not on a known stack", s.sp)
		}
		s.guessed = true
	}
	first.Stack, first.Reliable = s.cur, !s.guessed
	s.frame = first
	frames := []Frame{first}
	for {
		f, end, err := s.next()
		if err != nil {
			return frames, err
		}
		if end {
			return frames, nil
		}
		if len(frames) == limit {
			return frames, s.stop(ReasonTooManyFrames, 0, nil, "more than %d frames", limit)
		}
		frames = append(frames, f)
		s.frame = f
	}
}

// enter makes the stack addr is on the current one if it is on a stack
// not entered before.
func (s *state) enter(addr uint64) bool {
	st, ok := s.u.Stacks(addr)
	if !ok || !st.on(addr, 8) || s.wasVisited(st.Begin) {
		return false
	}
	s.cur, s.haveCur = st, true
	s.visited = append(s.visited, st.Begin)
	return true
}

func (s *state) wasVisited(begin uint64) bool {
	for _, b := range s.visited {
		if b == begin {
			return true
		}
	}
	return false
}

// access is stack_access_ok: [addr, addr+n) must be on the current
// stack, or on another one entered now for the first time (get_stack_info
// refuses a stack seen before: a loop through stacks).
func (s *state) access(addr, n uint64) *StopError {
	if s.haveCur && s.cur.on(addr, n) {
		return nil
	}
	st, ok := s.u.Stacks(addr)
	switch {
	case !ok:
		return s.stop(ReasonOffStack, addr, nil, "%#x is not on a known stack", addr)
	case s.haveCur && st.Begin == s.cur.Begin || !st.on(addr, n):
		return s.stop(ReasonOffStack, addr, nil, "%d bytes at %#x run past the end of the %s stack %#x-%#x", n, addr, st.Kind, st.Begin, st.End)
	case s.wasVisited(st.Begin):
		return s.stop(ReasonStackRevisited, addr, nil, "%#x is on the %s stack %#x-%#x again (stack recursion)", addr, st.Kind, st.Begin, st.End)
	}
	s.cur, s.haveCur = st, true
	s.visited = append(s.visited, st.Begin)
	return nil
}

// read reads n bytes of stack at addr after access's check.
func (s *state) read(addr uint64, n int) ([]byte, *StopError) {
	if err := s.access(addr, uint64(n)); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	got, err := s.u.Mem(addr, b)
	if err == nil && got < n {
		err = fmt.Errorf("read %d of %d bytes", max(got, 0), n)
	}
	if err != nil {
		return nil, s.stop(ReasonReadFailed, addr, err, "can't read the %s stack at %#x", s.cur.Kind, addr)
	}
	return b, nil
}

// deref is deref_stack_reg: the word at addr, on a stack.
func (s *state) deref(addr uint64) (uint64, *StopError) {
	b, err := s.read(addr, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// getReg is get_reg: a register saved in the pt_regs the current frame
// came from (or the start registers), known only from a full pt_regs or
// the full one before a partial one.
func (s *state) getReg(f func(*Regs) uint64) (uint64, bool) {
	switch {
	case s.regs == nil:
		return 0, false
	case s.full:
		return f(s.regs), true
	case s.prevRegs != nil:
		return f(s.prevRegs), true
	}
	return 0, false
}

// nullEntry is null_orc_entry, what orc_find gives for ip 0 (a call
// through a NULL function pointer: the return address is at SP).
func nullEntry() Entry {
	return Entry{SPOffset: 8, SPReg: RegSP, BPReg: RegUndefined, Type: TypeCall}
}

// fpEntry is orc_fp_entry: a frame-pointer frame, "push %rbp; mov
// %rsp,%rbp", the guess for code no table knows.
func fpEntry() Entry {
	return Entry{Type: TypeCall, SPReg: RegBP, SPOffset: 16, BPReg: RegPrevSP, BPOffset: -16}
}

// next is unwind_next_frame: it steps from the current frame to its
// caller, or to the context a pt_regs saved, and returns that frame; end
// reports the end of the stack instead.
func (s *state) next() (f Frame, end bool, stop *StopError) {
	// The end of a task's kernel stack: the user context of a syscall
	// or an interrupt from user mode.
	if s.regs != nil && s.regs.UserMode() {
		return f, true, nil
	}
	// A call frame's ip is the return address, the instruction after the
	// CALL, whose stack layout can differ from the call's (a call to a
	// noreturn function is a function's last instruction): look up the
	// call itself. An exact ip is looked up as is.
	ip := s.ip
	if !s.signal {
		ip--
	}
	e, ok := nullEntry(), true
	if ip != 0 {
		e, ok = s.u.Tables.Find(ip)
	}
	if !ok {
		if !s.u.GuessFP {
			return f, false, s.stop(ReasonNoEntry, ip, nil, "no ORC entry for %#x", ip)
		}
		e, s.guessed = fpEntry(), true
	}
	// The end of a kernel thread's stack (UNWIND_HINT_EMPTY), or no
	// unwind information (a terminator).
	if e.SPReg == RegUndefined {
		if e.End {
			return f, true, nil
		}
		return f, false, s.stop(ReasonUndefinedSP, ip, nil, "ORC entry for %#x (%v) has no SP", ip, e)
	}

	// The previous frame's SP, the CFA.
	var sp uint64
	indirect := false
	off := uint64(int64(e.SPOffset))
	switch e.SPReg {
	case RegSP:
		sp = s.sp + off
	case RegBP:
		sp = s.bp + off
	case RegSPIndirect:
		sp, indirect = s.sp, true
	case RegBPIndirect:
		sp, indirect = s.bp+off, true
	case RegR10, RegR13, RegDI, RegDX:
		var ok bool
		if sp, ok = s.getReg(e.SPReg.saved); !ok {
			return f, false, s.stop(ReasonMissingReg, ip, nil, "missing %v value for the ORC entry of %#x (%v): no pt_regs", e.SPReg, ip, e)
		}
	default:
		return f, false, s.stop(ReasonUnknownReg, ip, nil, "unknown SP base reg %d in the ORC entry of %#x", e.SPReg, ip)
	}
	if indirect {
		var err *StopError
		if sp, err = s.deref(sp); err != nil {
			return f, false, err
		}
		if e.SPReg == RegSPIndirect {
			sp += off
		}
	}

	prevSP, prevStack := s.sp, s.cur.Begin
	switch e.Type {
	case TypeCall:
		f.RetAddr = sp - 8
		v, err := s.deref(f.RetAddr)
		if err != nil {
			return f, false, err
		}
		s.ip, s.sp = v, sp
		s.regs, s.prevRegs, s.signal = nil, nil, false
	case TypeRegs:
		b, err := s.read(sp, PtRegsSize)
		if err != nil {
			return f, false, err
		}
		r := decodePtRegs(b)
		s.ip, s.sp = r.IP, r.SP
		s.regs, s.prevRegs, s.full, s.signal = r, nil, true, true
		f.RetAddr, f.Regs, f.RegsAddr = sp+IretFrameOffset, r, sp
	case TypeRegsPartial:
		b, err := s.read(sp, IretFrameSize)
		if err != nil {
			return f, false, err
		}
		r := decodeIretFrame(b)
		s.ip, s.sp = r.IP, r.SP
		if s.full {
			s.prevRegs = s.regs
		}
		s.regs, s.full, s.signal = r, false, true
		f.RetAddr, f.Regs, f.RegsAddr, f.Partial = sp, r, sp-IretFrameOffset, true
	default:
		return f, false, s.stop(ReasonUnknownType, ip, nil, "unknown .orc_unwind entry type %d at %#x", e.Type, ip)
	}

	// The previous frame's BP.
	switch e.BPReg {
	case RegUndefined:
		if v, ok := s.getReg(RegBP.saved); ok {
			s.bp = v
		}
	case RegPrevSP, RegBP:
		base := sp
		if e.BPReg == RegBP {
			base = s.bp
		}
		v, err := s.deref(base + uint64(int64(e.BPOffset)))
		if err != nil {
			return f, false, err
		}
		s.bp = v
	default:
		return f, false, s.stop(ReasonUnknownReg, ip, nil, "unknown BP base reg %d in the ORC entry of %#x", e.BPReg, ip)
	}

	// Bad ORC data must not loop: on the same stack, SP grows.
	if s.haveCur && s.cur.Begin == prevStack && s.cur.on(s.sp, 8) && s.sp <= prevSP {
		return f, false, s.stop(ReasonWrongDirection, s.sp, nil, "stack going in the wrong direction: SP %#x after %#x (ORC entry of %#x: %v)", s.sp, prevSP, ip, e)
	}

	// The frame's stack is the one its SP is on (the next step enters
	// it anyway); an SP on no stack (user mode) keeps the last one.
	if !s.cur.on(s.sp, 8) {
		s.enter(s.sp)
	}
	f.PC, f.SP, f.BP, f.Exact = s.ip, s.sp, s.bp, s.signal
	f.Stack, f.Reliable = s.cur, !s.guessed
	return f, false, nil
}

// saved is the value of the general register r in a pt_regs.
func (r Reg) saved(regs *Regs) uint64 {
	switch r {
	case RegR10:
		return regs.R10
	case RegR13:
		return regs.R13
	case RegDI:
		return regs.DI
	case RegDX:
		return regs.DX
	case RegBP:
		return regs.BP
	case RegSP:
		return regs.SP
	}
	return 0
}

// Reason is why an unwind stopped before the end of the stack.
type Reason int

// The reasons, after unwind_orc.c's warnings.
const (
	ReasonNoEntry        Reason = iota + 1 // no table has an ORC entry for the PC
	ReasonUndefinedSP                      // the entry has no SP and is not an end (objtool's terminator, unreachable code)
	ReasonUnknownReg                       // the entry names an SP or BP base register ORC does not have
	ReasonMissingReg                       // the entry's SP is in R10, R13, DI or DX, and no pt_regs says what it was
	ReasonUnknownType                      // the entry's type is not call, regs or regs (partial)
	ReasonOffStack                         // an address the entry leads to is not on a known stack
	ReasonStackRevisited                   // the unwind came back to a stack it had left
	ReasonReadFailed                       // stack memory could not be read
	ReasonWrongDirection                   // SP did not grow on the same stack: bad data, a loop
	ReasonTooManyFrames                    // the frame limit was reached
)

func (r Reason) String() string {
	switch r {
	case ReasonNoEntry:
		return "no ORC entry"
	case ReasonUndefinedSP:
		return "undefined SP"
	case ReasonUnknownReg:
		return "unknown register"
	case ReasonMissingReg:
		return "missing register"
	case ReasonUnknownType:
		return "unknown entry type"
	case ReasonOffStack:
		return "off stack"
	case ReasonStackRevisited:
		return "stack revisited"
	case ReasonReadFailed:
		return "read failed"
	case ReasonWrongDirection:
		return "wrong direction"
	case ReasonTooManyFrames:
		return "too many frames"
	}
	return fmt.Sprintf("reason %d", int(r))
}

// StopError says why an unwind stopped on a bad frame.
type StopError struct {
	Reason Reason
	PC, SP uint64 // the frame the unwind stepped from: the last one returned
	Addr   uint64 // the address at fault (the looked-up ip, the stack address), when there is one
	Detail string // what happened, in words
	Err    error  // the cause, for ReasonReadFailed
}

func (e *StopError) Error() string {
	msg := fmt.Sprintf("orc: unwinding from pc %#x sp %#x: %s", e.PC, e.SP, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *StopError) Unwrap() error { return e.Err }

// stop builds the StopError for the frame s is stepping from.
func (s *state) stop(r Reason, addr uint64, err error, format string, args ...any) *StopError {
	return &StopError{Reason: r, PC: s.frame.PC, SP: s.frame.SP, Addr: addr, Detail: fmt.Sprintf(format, args...), Err: err}
}
