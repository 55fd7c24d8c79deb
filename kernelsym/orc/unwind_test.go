package orc

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// The synthetic machine: three stacks as Linux has them on x86-64, and
// functions whose ORC entries the tests choose.
const (
	taskBegin = 0xffffc90000004000
	taskEnd   = 0xffffc90000008000
	irqBegin  = 0xffff88807fc00000
	irqEnd    = 0xffff88807fc04000
	dfBegin   = 0xfffffe0000011000
	dfEnd     = 0xfffffe0000012000

	fA      = 0xffffffff81001000 // leaf: two words pushed
	fB      = 0xffffffff81002000 // a frame-pointer function
	fC      = 0xffffffff81003000 // call_on_irqstack's caller
	fD      = 0xffffffff81004000 // ret_from_fork: the end of the stack
	dfEntry = 0xffffffff81005000 // asm_exc_double_fault
	sysc    = 0xffffffff81006000 // entry_SYSCALL_64
	fE      = 0xffffffff81007000
	fF      = 0xffffffff81008000 // a DRAP function: the CFA in R10
	fLoop   = 0xffffffff81009000 // bad data: the CFA does not move
	textEnd = 0xffffffff81010000

	kernelCS, kernelSS = 0x10, 0x18
	userCS, userSS     = 0x33, 0x2b
)

var (
	call8     = Entry{SPOffset: 8, SPReg: RegSP, Type: TypeCall}
	call16    = Entry{SPOffset: 16, SPReg: RegSP, Type: TypeCall}
	frameBP   = Entry{SPOffset: 16, SPReg: RegBP, BPOffset: -16, BPReg: RegPrevSP, Type: TypeCall}
	irqSwitch = Entry{SPOffset: 0x18, SPReg: RegSPIndirect, Type: TypeCall}
	stackEnd  = Entry{End: true}
)

// synthRows are the synthetic kernel's ORC entries, sorted.
func synthRows() []row {
	return []row{
		{fA, call16},
		{fB, call8},
		{fB + 0x10, frameBP}, // after push %rbp; mov %rsp,%rbp
		{fB + 0x100, Entry{}},
		{fC, call8},
		{fC + 0x20, irqSwitch},
		{fC + 0x40, Entry{SPOffset: 0x18, SPReg: RegSP, Type: TypeCall}},
		{fD, stackEnd},
		{dfEntry, Entry{SPOffset: 8, SPReg: RegSP, Type: TypeRegsPartial}}, // UNWIND_HINT_IRET_REGS offset=8
		{sysc, stackEnd}, // UNWIND_HINT_EMPTY
		{sysc + 0x51, Entry{SPReg: RegSP, Type: TypeRegs}}, // UNWIND_HINT_REGS after PUSH_AND_CLEAR_REGS
		{fE, call8},
		{fF, Entry{SPReg: RegR10, Type: TypeCall}},
		{fLoop, Entry{SPReg: RegSP, Type: TypeCall}},
		{fLoop + 0x10, Entry{SPOffset: 8, SPReg: RegSP, Type: 3}},
		{fLoop + 0x20, Entry{SPOffset: 8, SPReg: RegPrevSP, Type: TypeCall}},
		{fLoop + 0x30, Entry{SPOffset: 8, SPReg: RegSP, BPReg: RegSP, Type: TypeCall}},
		{fLoop + 0x40, Entry{SPOffset: 8, SPReg: RegSP, BPReg: RegBP, BPOffset: 8, Type: TypeCall}},
		{fLoop + 0x50, Entry{SPOffset: 0x1000, SPReg: RegSP, Type: TypeCall}},
		{textEnd, Entry{}},
	}
}

// machine is the synthetic stacks' memory.
type machine struct {
	task, irq, df []byte
}

func newMachine() *machine {
	return &machine{task: make([]byte, taskEnd-taskBegin), irq: make([]byte, irqEnd-irqBegin), df: make([]byte, dfEnd-dfBegin)}
}

func (m *machine) mem() memory {
	return memory{{taskBegin, m.task}, {irqBegin, m.irq}, {dfBegin, m.df}}
}

func (m *machine) put(addr uint64, vs ...uint64) {
	for _, r := range m.mem() {
		if addr >= r.base && addr-r.base < uint64(len(r.b)) {
			for i, v := range vs {
				binary.LittleEndian.PutUint64(r.b[addr-r.base+uint64(8*i):], v)
			}
			return
		}
	}
	panic("put outside the stacks")
}

// putRegs writes a struct pt_regs at addr.
func (m *machine) putRegs(addr uint64, r Regs) {
	m.put(addr, r.R15, r.R14, r.R13, r.R12, r.BP, r.BX, r.R11, r.R10, r.R9, r.R8,
		r.AX, r.CX, r.DX, r.SI, r.DI, r.OrigAX, r.IP, r.CS, r.Flags, r.SP, r.SS)
}

func (m *machine) unwinder(t testing.TB) *Unwinder {
	return &Unwinder{
		Mem:    m.mem().read,
		Tables: buildTable(t, synthRows()...),
		Stacks: Stacks(m.mem().read,
			Stack{Begin: taskBegin, End: taskEnd, Kind: KindTask},
			Stack{Begin: irqBegin, End: irqEnd, Kind: KindIRQ},
			Stack{Begin: dfBegin, End: dfEnd, Kind: KindDF}),
	}
}

// brief is what the tests compare of a frame.
type brief struct {
	PC, SP, BP, RetAddr uint64
	Exact               bool
	Kind                string
	RegsAddr            uint64
	Partial, Reliable   bool
}

func briefs(fs []Frame) []brief {
	var b []brief
	for _, f := range fs {
		b = append(b, brief{f.PC, f.SP, f.BP, f.RetAddr, f.Exact, f.Stack.Kind, f.RegsAddr, f.Partial, f.Reliable})
	}
	return b
}

func checkFrames(t *testing.T, got []Frame, want []brief) {
	t.Helper()
	g := briefs(got)
	if len(g) != len(want) {
		t.Errorf("%d frames, want %d", len(g), len(want))
	}
	for i := range min(len(g), len(want)) {
		if g[i] != want[i] {
			t.Errorf("frame %d:\n got %+v\nwant %+v", i, g[i], want[i])
		}
	}
}

// TestUnwindDoubleFaultOnIRQStack: a #DF delivered on its IST stack while
// an interrupt handler ran on the IRQ stack, which call_on_irqstack
// entered from a task: the IRET frame takes the unwind from #DF to the
// IRQ stack, a leaf and a frame-pointer frame follow, the word at the
// IRQ stack's top leads back to the task stack, and ret_from_fork's
// entry ends it.
func TestUnwindDoubleFaultOnIRQStack(t *testing.T) {
	m := newMachine()
	const (
		s1    = irqEnd - 0x38
		x     = 0xffffc90000007e00 // RSP in fC when it switched stacks
		oldBP = 0xffffc90000007f00
	)
	// The CPU's #DF frame: error code, then the IRET frame.
	m.put(dfEnd-48, 0, fA+0x10, kernelCS, 0x46, s1, kernelSS)
	m.put(s1+8, fB+0x25)           // fA's return address
	m.put(s1+0x20, oldBP, fC+0x30) // fB's saved RBP and return address
	m.put(irqEnd-8, x)             // call_on_irqstack's saved RSP
	m.put(x+0x10, fD+5)            // fC's return address, on the task stack
	start := Regs{IP: dfEntry, SP: dfEnd - 48, BP: s1 + 0x20, CS: kernelCS, SS: kernelSS}
	frames, err := m.unwinder(t).Unwind(start)
	if err != nil {
		t.Fatalf("error %v", err)
	}
	checkFrames(t, frames, []brief{
		{PC: dfEntry, SP: dfEnd - 48, BP: s1 + 0x20, Exact: true, Kind: KindDF, Reliable: true},
		// The interrupted context; RBP comes from the full registers
		// before the partial ones (get_reg's prev_regs).
		{PC: fA + 0x10, SP: s1, BP: s1 + 0x20, RetAddr: dfEnd - 40, Exact: true, Kind: KindIRQ, RegsAddr: dfEnd - 40 - IretFrameOffset, Partial: true, Reliable: true},
		{PC: fB + 0x25, SP: s1 + 16, BP: s1 + 0x20, RetAddr: s1 + 8, Kind: KindIRQ, Reliable: true},
		{PC: fC + 0x30, SP: irqEnd - 8, BP: oldBP, RetAddr: s1 + 0x28, Kind: KindIRQ, Reliable: true},
		{PC: fD + 5, SP: x + 0x18, BP: oldBP, RetAddr: x + 0x10, Kind: KindTask, Reliable: true},
	})
	if r := frames[1].Regs; r == nil || *r != (Regs{IP: fA + 0x10, CS: kernelCS, Flags: 0x46, SP: s1, SS: kernelSS}) {
		t.Errorf("frame 1 regs %+v", r)
	}
	// Stack.Next, for printers that hop stacks as show_trace_log_lvl.
	if n := frames[0].Stack.Next; n != s1 {
		t.Errorf("#DF stack's Next = %#x, want the interrupted RSP %#x", n, uint64(s1))
	}
	if n := frames[1].Stack.Next; n != x {
		t.Errorf("IRQ stack's Next = %#x, want the saved RSP %#x", n, uint64(x))
	}
	if n := frames[4].Stack.Next; n != 0 {
		t.Errorf("task stack's Next = %#x", n)
	}
}

// TestUnwindSyscall: a function called by do_syscall_64 from
// entry_SYSCALL_64: the return address into the entry code finds its
// UNWIND_HINT_REGS entry, the pt_regs at the top of the task stack gives
// the user context, and the unwind ends there without error.
func TestUnwindSyscall(t *testing.T) {
	m := newMachine()
	const regsAt = taskEnd - PtRegsSize
	user := Regs{R15: 15, R14: 14, R13: 13, R12: 12, BP: 0x7ffd0000, BX: 5, R11: 0x246, R10: 10, R9: 9, R8: 8,
		AX: 0xffffffffffffffda, CX: 0x401002, DX: 2, SI: 1, DI: 3, OrigAX: 39, IP: 0x401002, CS: userCS, Flags: 0x246, SP: 0x7ffc0000, SS: userSS}
	m.putRegs(regsAt, user)
	m.put(regsAt-8, sysc+0x56) // call do_syscall_64 ends at +0x56
	frames, err := m.unwinder(t).Unwind(Regs{IP: fE + 3, SP: regsAt - 8, BP: 0x5555, CS: kernelCS})
	if err != nil {
		t.Fatalf("error %v", err)
	}
	checkFrames(t, frames, []brief{
		{PC: fE + 3, SP: regsAt - 8, BP: 0x5555, Exact: true, Kind: KindTask, Reliable: true},
		{PC: sysc + 0x56, SP: regsAt, BP: 0x5555, RetAddr: regsAt - 8, Kind: KindTask, Reliable: true},
		// The user context: its SP is on no kernel stack, the frame
		// keeps the task's.
		{PC: 0x401002, SP: 0x7ffc0000, BP: 0x7ffd0000, RetAddr: regsAt + IretFrameOffset, Exact: true, Kind: KindTask, RegsAddr: regsAt, Reliable: true},
	})
	if r := frames[2].Regs; r == nil || *r != user || !r.UserMode() {
		t.Errorf("frame 2 regs %+v, want %+v", r, user)
	}
}

// TestUnwindSleepingTask starts as __unwind_start does for a task that is
// not running: from its saved return address, not exact.
func TestUnwindSleepingTask(t *testing.T) {
	m := newMachine()
	const sp = taskEnd - 0x200
	m.put(sp+8, fD+5)
	u := m.unwinder(t)
	frames, err := u.UnwindFrom(fA+0x21, sp, 0x1234, false)
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames, []brief{
		{PC: fA + 0x21, SP: sp, BP: 0x1234, Kind: KindTask, Reliable: true},
		{PC: fD + 5, SP: sp + 16, BP: 0x1234, RetAddr: sp + 8, Kind: KindTask, Reliable: true},
	})
	// A new task: ret_from_fork's first instruction is exact and ends
	// the stack at once.
	frames, err = u.UnwindFrom(fD, sp, 0, true)
	if err != nil || len(frames) != 1 {
		t.Errorf("from ret_from_fork: %d frames, %v", len(frames), err)
	}
	// The same address as a return address is looked up at ip-1, in
	// fC's last entry (CFA sp+0x18, whose return address slot holds 0
	// here), not as the end of the stack.
	frames, err = u.UnwindFrom(fD, sp, 0, false)
	var se *StopError
	if !errors.As(err, &se) || se.Reason != ReasonNoEntry || len(frames) != 2 || frames[1].SP != sp+0x18 {
		t.Errorf("from fD as a return address: %+v, %v", briefs(frames), err)
	}
}

// TestUnwindDRAP: an entry whose CFA is in R10, known from the start
// registers and unknown without them.
func TestUnwindDRAP(t *testing.T) {
	m := newMachine()
	const sp, cfa = taskEnd - 0x300, taskEnd - 0x200
	m.put(cfa-8, fD+1)
	u := m.unwinder(t)
	frames, err := u.Unwind(Regs{IP: fF + 2, SP: sp, R10: cfa})
	if err != nil || len(frames) != 2 || frames[1].PC != fD+1 || frames[1].SP != cfa {
		t.Errorf("%+v, %v", briefs(frames), err)
	}
	_, err = u.UnwindFrom(fF+2, sp, 0, true)
	var se *StopError
	if !errors.As(err, &se) || se.Reason != ReasonMissingReg || !strings.Contains(err.Error(), "missing r10 value") {
		t.Errorf("without registers: %v", err)
	}
}

// TestUnwindStops: each kind of bad frame stops the unwind with its
// reason, after the good frames.
func TestUnwindStops(t *testing.T) {
	const sp = taskEnd - 0x400
	for _, tc := range []struct {
		name    string
		start   Regs
		stack   map[uint64]uint64
		max     int
		guess   bool
		frames  int
		reason  Reason
		message string
	}{
		{name: "no entry", start: Regs{IP: 0xffffffff80000000, SP: sp}, frames: 1, reason: ReasonNoEntry,
			message: "orc: unwinding from pc 0xffffffff80000000 sp 0xffffc90000007c00: no ORC entry for 0xffffffff80000000"},
		{name: "no entry after a call", start: Regs{IP: fA, SP: sp}, stack: map[uint64]uint64{sp + 8: 0xffffffffa0000010}, frames: 2, reason: ReasonNoEntry,
			message: "from pc 0xffffffffa0000010 sp 0xffffc90000007c10: no ORC entry for 0xffffffffa000000f"},
		{name: "terminator", start: Regs{IP: fB + 0x100, SP: sp}, frames: 1, reason: ReasonUndefinedSP,
			message: "ORC entry for 0xffffffff81002100 (type:call sp:(und) bp:(und) end:0) has no SP"},
		{name: "unknown type", start: Regs{IP: fLoop + 0x10, SP: sp}, stack: map[uint64]uint64{sp: fD + 1}, frames: 1, reason: ReasonUnknownType},
		{name: "prev_sp as SP base", start: Regs{IP: fLoop + 0x20, SP: sp}, frames: 1, reason: ReasonUnknownReg,
			message: "unknown SP base reg 1"},
		{name: "unknown BP base", start: Regs{IP: fLoop + 0x30, SP: sp}, stack: map[uint64]uint64{sp: fD + 1}, frames: 1, reason: ReasonUnknownReg,
			message: "unknown BP base reg 5"},
		{name: "wrong direction", start: Regs{IP: fLoop, SP: sp}, stack: map[uint64]uint64{sp - 8: fLoop + 1}, frames: 1, reason: ReasonWrongDirection,
			message: "stack going in the wrong direction"},
		{name: "off stack", start: Regs{IP: fE, SP: taskEnd - 0x10}, stack: map[uint64]uint64{taskEnd - 0x10: fLoop + 0x51}, frames: 2, reason: ReasonOffStack,
			message: "0xffffc90000008ff0 is not on a known stack"},
		{name: "straddles the end", start: Regs{IP: fE, SP: taskEnd - 0x28}, stack: map[uint64]uint64{taskEnd - 0x28: sysc + 0x52}, frames: 2, reason: ReasonOffStack,
			message: "168 bytes at 0xffffc90000007fe0 run past the end of the TASK stack"},
		{name: "BP on no stack", start: Regs{IP: fLoop + 0x40, SP: sp, BP: 0x1000}, stack: map[uint64]uint64{sp: fD + 1}, frames: 1, reason: ReasonOffStack,
			message: "0x1008 is not on a known stack"},
		{name: "start off stack", start: Regs{IP: fE, SP: 0x1000}, frames: 1, reason: ReasonOffStack,
			message: "start SP 0x1000 is not on a known stack"},
		{name: "back to a stack left", start: Regs{IP: fC + 0x30, SP: irqEnd - 8}, frames: 2, reason: ReasonStackRevisited,
			stack:   map[uint64]uint64{irqEnd - 8: sp, sp + 0x10: fC + 0x30, sp + 0x18: irqEnd - 0x100},
			message: "0xffff88807fc03f10 is on the IRQ stack 0xffff88807fc00000-0xffff88807fc04000 again"},
		{name: "too many frames", start: Regs{IP: fE, SP: sp}, max: 3, frames: 3, reason: ReasonTooManyFrames,
			stack:   map[uint64]uint64{sp: fE + 1, sp + 8: fE + 1, sp + 16: fE + 1, sp + 24: fD + 1},
			message: "more than 3 frames"},
		{name: "exactly max frames", start: Regs{IP: fE, SP: sp}, max: 4, frames: 4,
			stack: map[uint64]uint64{sp: fE + 1, sp + 8: fE + 1, sp + 16: fD + 1}},
		{name: "call through NULL", start: Regs{IP: 0, SP: sp}, stack: map[uint64]uint64{sp: fD + 1}, frames: 2},
		{name: "user mode start", start: Regs{IP: 0x401000, SP: 0x7ffc0000, CS: userCS}, frames: 1},
		{name: "guess a frame pointer", guess: true, start: Regs{IP: 0xffffffffa0000010, SP: sp, BP: sp + 0x20},
			stack: map[uint64]uint64{sp + 0x20: 0xabcd, sp + 0x28: fD + 1}, frames: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine()
			for a, v := range tc.stack {
				m.put(a, v)
			}
			u := m.unwinder(t)
			u.Max, u.GuessFP = tc.max, tc.guess
			frames, err := u.Unwind(tc.start)
			if len(frames) != tc.frames {
				t.Errorf("%d frames, want %d: %+v", len(frames), tc.frames, briefs(frames))
			}
			if tc.reason == 0 {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			var se *StopError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *StopError", err)
			}
			if se.Reason != tc.reason {
				t.Errorf("reason %v, want %v (%v)", se.Reason, tc.reason, err)
			}
			if last := frames[len(frames)-1]; se.PC != last.PC || se.SP != last.SP {
				t.Errorf("error names pc %#x sp %#x, the last frame is pc %#x sp %#x", se.PC, se.SP, last.PC, last.SP)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q, want it to contain %q", err, tc.message)
			}
		})
	}
}

// TestUnwindGuesses: what is guessed is not reliable.
func TestUnwindGuesses(t *testing.T) {
	m := newMachine()
	const sp = taskEnd - 0x400
	m.put(sp+0x20, 0xabcd, fA+0x21)
	m.put(sp+0x38, fD+1)
	u := m.unwinder(t)
	u.GuessFP = true
	frames, err := u.Unwind(Regs{IP: 0xffffffffa0000010, SP: sp, BP: sp + 0x20})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames, []brief{
		{PC: 0xffffffffa0000010, SP: sp, BP: sp + 0x20, Exact: true, Kind: KindTask, Reliable: true},
		{PC: fA + 0x21, SP: sp + 0x30, BP: 0xabcd, RetAddr: sp + 0x28, Kind: KindTask},
		{PC: fD + 1, SP: sp + 0x40, BP: 0xabcd, RetAddr: sp + 0x38, Kind: KindTask},
	})

	// A start SP in the guard page below the task stack: the page above
	// is tried, and the unwind is a guess from then on.
	m.put(taskBegin, fD+1)
	frames, err = m.unwinder(t).Unwind(Regs{IP: fA, SP: taskBegin - 8})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames, []brief{
		{PC: fA, SP: taskBegin - 8, Exact: true, Kind: KindTask},
		{PC: fD + 1, SP: taskBegin + 8, RetAddr: taskBegin, Kind: KindTask},
	})
}

func TestUnwindReadFailure(t *testing.T) {
	m := newMachine()
	u := m.unwinder(t)
	inner := u.Mem
	u.Mem = func(addr uint64, buf []byte) (int, error) {
		if addr >= irqBegin && addr < irqEnd {
			return 0, errors.New("page not present")
		}
		return inner(addr, buf)
	}
	const sp = taskEnd - 0x100
	m.put(sp, fC+0x30)
	frames, err := u.Unwind(Regs{IP: fE, SP: sp})
	var se *StopError
	if !errors.As(err, &se) || se.Reason != ReasonOffStack || len(frames) != 2 {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	// That return into fC found its saved RSP (0) on the task stack;
	// on the IRQ stack, where it belongs, the read fails.
	frames, err = u.Unwind(Regs{IP: fC + 0x20, SP: irqEnd - 8})
	if !errors.As(err, &se) || se.Reason != ReasonReadFailed || len(frames) != 1 ||
		!strings.Contains(err.Error(), "can't read the IRQ stack at 0xffff88807fc03ff8: page not present") {
		t.Errorf("%d frames, %v", len(frames), err)
	}
	if !errors.Is(err, se.Err) || se.Err == nil {
		t.Errorf("StopError does not wrap its cause")
	}
}

func TestUnwindNeedsItsInputs(t *testing.T) {
	for _, u := range []*Unwinder{{}, {Mem: newMachine().mem().read}, {Mem: newMachine().mem().read, Tables: TableSet{}}} {
		if frames, err := u.Unwind(Regs{}); err == nil || frames != nil {
			t.Errorf("%+v: %v, %v", u, frames, err)
		}
	}
}

func TestReasonString(t *testing.T) {
	for r := ReasonNoEntry; r <= ReasonTooManyFrames; r++ {
		if s := r.String(); s == "" || strings.HasPrefix(s, "reason ") {
			t.Errorf("Reason(%d).String() = %q", int(r), s)
		}
	}
	if s := Reason(99).String(); s != "reason 99" {
		t.Errorf("Reason(99).String() = %q", s)
	}
}

// FuzzUnwind: random entries over random stack bytes never panic and
// give at most Max frames.
func FuzzUnwind(f *testing.F) {
	f.Add([]byte{8, 0, 0, 0, 5, 0}, []byte{0x10, 0x10, 0, 0x81, 0xff, 0xff, 0xff, 0xff}, uint16(0), uint16(0))
	f.Add([]byte{0, 0, 0, 0, 5, 1, 8, 0, 0, 0, 5, 2, 0x18, 0, 0, 0, 9, 0}, make([]byte, 512), uint16(8), uint16(3))
	f.Add([]byte{0x10, 0, 0xf0, 0xff, 0x14, 0, 0, 0, 0, 0, 0x46, 0}, make([]byte, 64), uint16(40), uint16(1))
	f.Fuzz(func(t *testing.T, orc, stack []byte, sp, pc uint16) {
		// Entries at every 16 bytes of a small text; the stack bytes
		// make two stacks (so that switches happen) with text addresses
		// sprinkled in as return addresses.
		const text = 0xffffffff81000000
		n := len(orc) / EntrySize
		if n == 0 || n > 64 || len(stack) > 1<<16 {
			return
		}
		var rows []row
		for i := range n {
			e, _ := DecodeEntry(orc[i*EntrySize:])
			rows = append(rows, row{text + uint64(16*i), e})
		}
		half := uint64(len(stack) / 2 &^ 7)
		words := append([]byte(nil), stack...)
		for i := 0; i+8 <= len(words); i += 8 {
			if words[i]&1 == 0 {
				binary.LittleEndian.PutUint64(words[i:], text+uint64(binary.LittleEndian.Uint16(words[i+1:]))%uint64(16*n+16))
			}
		}
		const base = 0xffffc90000000000
		mem := memory{{base, words}}
		u := &Unwinder{
			Mem:    mem.read,
			Tables: buildTable(t, rows...),
			Stacks: Stacks(mem.read,
				Stack{Begin: base, End: base + half, Kind: KindTask},
				Stack{Begin: base + half, End: base + uint64(len(words)), Kind: KindIRQ}),
			Max:     32,
			GuessFP: pc&1 != 0,
		}
		start := Regs{IP: text + uint64(pc)%uint64(16*n+16), SP: base + uint64(sp), BP: base + uint64(sp)/2, R10: base + uint64(pc), CS: uint64(pc>>8) & 3}
		frames, err := u.Unwind(start)
		if len(frames) == 0 || len(frames) > u.Max {
			t.Fatalf("%d frames", len(frames))
		}
		var se *StopError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error %v is not a *StopError", err)
		}
		frames, _ = u.UnwindFrom(start.IP, start.SP, start.BP, pc&2 != 0)
		if len(frames) == 0 || len(frames) > u.Max {
			t.Fatalf("%d frames", len(frames))
		}
	})
}
