package gdbproto

import (
	"context"
	"errors"
	"io"
)

// Target is what the server drives. It knows nothing of the wire format;
// the server knows nothing of the architecture. Every method is called from
// one goroutine at a time (the session's, or the free-running goroutine
// after a detach), never concurrently, except that Resume's context may be
// cancelled from another goroutine.
//
// Optional protocol features are optional interfaces the Target may also
// implement, found by type assertion (the design of Rust's gdbstub crate):
// TargetDescription, HWBreakpoints, Watchpoints, WatchpointSlots, Monitor,
// ExecFile, HostInfoProvider, RegisterInfoProvider, ExpeditedRegisters,
// PhysMemMode, ThreadExtraInfo, ConsoleOutput, Detacher, Killer.
type Target interface {
	// ReadRegisters returns every register in the order and byte layout of
	// the 'g' packet (the target's register numbering, target byte order).
	ReadRegisters() ([]byte, error)
	// WriteRegisters takes the same layout ('G'). A short buffer writes the
	// leading registers only.
	WriteRegisters(data []byte) error
	// ReadRegister returns register n ('p'), ErrNoRegister if n is not a
	// register.
	ReadRegister(n int) ([]byte, error)
	// WriteRegister writes register n ('P').
	WriteRegister(n int, val []byte) error

	// ReadMemory fills buf from addr and returns how many leading bytes it
	// could read; err explains a short count. Addresses are virtual unless
	// PhysMemMode is on.
	ReadMemory(addr uint64, buf []byte) (int, error)
	// WriteMemory writes data at addr and returns how many leading bytes it
	// wrote.
	WriteMemory(addr uint64, data []byte) (int, error)

	// Resume runs (or single-steps) the target until it stops and says why.
	// It must return promptly once ctx is cancelled (the debugger sent the
	// 0x03 interrupt byte, or vanished, or a new debugger attaches to a
	// free-running target), normally with Signal SIGINT (2). A non-nil error
	// means the target could not run at all; the debugger is told with an
	// O message and a SIGABRT stop.
	Resume(ctx context.Context, a Action) (StopEvent, error)

	// SetBreakpoint and ClearBreakpoint handle Z0/z0 software breakpoints.
	// kind is the gdb breakpoint kind (on most targets the instruction
	// length, e.g. 1 for an x86 int3). The target checks them as it
	// executes; the server never patches memory. Return ErrUnsupported to
	// make the server reply with the empty (not supported) packet.
	SetBreakpoint(addr uint64, kind int) error
	ClearBreakpoint(addr uint64, kind int) error
}

// Action says how Resume should run the target.
type Action struct {
	Step   bool    // execute one instruction then stop (s, S, vCont;s)
	Signal int     // signal to deliver (C, S, vCont;C); 0 for none
	Addr   *uint64 // resume at this address (c ADDR, s ADDR); nil: where it stopped
}

// StopReason classifies a StopEvent.
type StopReason int

const (
	// StopSignal: the target stopped with Signal (end of a step: SIGTRAP 5,
	// interrupt: SIGINT 2, a fault the target reports: SIGSEGV 11 ...).
	StopSignal StopReason = iota
	// StopSWBreak: a software breakpoint (Z0) was hit; reported as swbreak.
	StopSWBreak
	// StopHWBreak: a hardware breakpoint (Z1) was hit; reported as hwbreak.
	StopHWBreak
	// StopWatch, StopRWatch, StopAWatch: a write, read or access watchpoint
	// (Z2, Z3, Z4) triggered at WatchAddr.
	StopWatch
	StopRWatch
	StopAWatch
	// StopExited: the target exited with ExitCode ('W' packet).
	StopExited
	// StopTerminated: the target was terminated by Signal ('X' packet).
	StopTerminated
)

func (r StopReason) String() string {
	switch r {
	case StopSignal:
		return "signal"
	case StopSWBreak:
		return "swbreak"
	case StopHWBreak:
		return "hwbreak"
	case StopWatch:
		return "watch"
	case StopRWatch:
		return "rwatch"
	case StopAWatch:
		return "awatch"
	case StopExited:
		return "exited"
	case StopTerminated:
		return "terminated"
	}
	return "unknown"
}

// Common gdb signal numbers (gdb's own numbering, include/gdb/signals.def).
const (
	SIGINT  = 2
	SIGILL  = 4
	SIGTRAP = 5
	SIGABRT = 6
	SIGBUS  = 7
	SIGFPE  = 8
	SIGKILL = 9
	SIGSEGV = 11
)

// StopEvent is why the target stopped.
type StopEvent struct {
	Reason    StopReason
	Signal    int    // for StopSignal, breakpoints and watchpoints (0 means SIGTRAP), and StopTerminated
	ExitCode  int    // for StopExited
	WatchAddr uint64 // for the watchpoint reasons
	// Message, when not empty, is shown in the debugger's console (as O
	// packets) before the stop reply, e.g. "triple fault: ...".
	Message string
	// Thread is the thread that stopped; 0 means thread 1, the only one.
	Thread int
}

// Exited reports whether the event ends the target (W or X).
func (e StopEvent) Exited() bool {
	return e.Reason == StopExited || e.Reason == StopTerminated
}

// ErrUnsupported, returned by an optional method, makes the server answer
// the packet with the empty reply ("not supported") instead of an error.
var ErrUnsupported = errors.New("gdbproto: not supported")

// ErrNoRegister is returned by ReadRegister/WriteRegister for a register
// number the target does not have.
var ErrNoRegister = errors.New("gdbproto: no such register")

// TargetDescription serves qXfer:features:read. Annex "target.xml" is the
// root; it may xi:include other annexes. ok is false for an unknown annex.
type TargetDescription interface {
	TargetXML(annex string) (data []byte, ok bool)
}

// HWBreakpoints handles Z1/z1. The target checks them in the emulator.
type HWBreakpoints interface {
	SetHWBreakpoint(addr uint64, kind int) error
	ClearHWBreakpoint(addr uint64, kind int) error
}

// WatchKind is the access a watchpoint catches.
type WatchKind int

const (
	WatchWrite  WatchKind = 2 // Z2
	WatchRead   WatchKind = 3 // Z3
	WatchAccess WatchKind = 4 // Z4
)

// Watchpoints handles Z2/Z3/Z4 and their z counterparts.
type Watchpoints interface {
	SetWatchpoint(kind WatchKind, addr, length uint64) error
	ClearWatchpoint(kind WatchKind, addr, length uint64) error
}

// WatchpointSlots says how many watchpoints the target can hold, for lldb's
// qWatchpointSupportInfo.
type WatchpointSlots interface {
	WatchpointSlots() int
}

// Monitor runs "monitor CMD" (gdb) / "process plugin packet monitor CMD"
// (lldb) commands (qRcmd). Text written to out reaches the debugger's
// console. A non-nil error is printed after the output and gdb reports the
// command as failed. The target sees every command, "help" included.
type Monitor interface {
	Rcmd(cmd string, out io.Writer) error
}

// ExecFile offers the program being debugged (e.g. the kernel ELF) so that a
// bare "target remote" loads its symbols: qXfer:exec-file:read answers path,
// and vFile:open/pread/fstat/close serve data read-only under that path.
type ExecFile interface {
	ExecFile() (path string, data []byte)
}

// HostInfo describes the target for lldb's qHostInfo and qProcessInfo.
type HostInfo struct {
	Triple  string // e.g. "x86_64-pc-none-elf"; sent hex-encoded
	PtrSize int    // bytes
	Endian  string // "little" or "big"
	OSType  string // e.g. "none"
	Vendor  string // e.g. "pc"
}

// HostInfoProvider enables qHostInfo and qProcessInfo.
type HostInfoProvider interface {
	HostInfo() HostInfo
}

// RegisterInfo describes one register for lldb's qRegisterInfoN. The index
// in the returned slice is the register number used by p/P and in stop
// replies.
type RegisterInfo struct {
	Name     string
	AltName  string // optional
	BitSize  int
	Offset   int    // byte offset in the g packet
	Encoding string // uint, sint, ieee754, vector
	Format   string // hex, decimal, float, vector-uint8, ...
	Set      string // e.g. "General Purpose Registers"
	EHFrame  int    // eh_frame (gcc) number, -1 for none
	DWARF    int    // DWARF number, -1 for none
	Generic  string // pc, sp, fp, ra, flags, arg1..arg8, or ""
}

// RegisterInfoProvider enables qRegisterInfoN.
type RegisterInfoProvider interface {
	RegisterInfo() []RegisterInfo
}

// ExpeditedRegisters lists the register numbers sent with every T stop reply
// (e.g. pc, sp, fp) so the debugger need not ask for them.
type ExpeditedRegisters interface {
	ExpeditedRegisters() []int
}

// PhysMemMode switches memory packets between virtual and physical
// addresses (Qqemu.PhyMemMode:1/0, read with qqemu.PhyMemMode).
type PhysMemMode interface {
	SetPhysMemMode(on bool) error
	PhysMemMode() bool
}

// MemoryRegions answers lldb's qMemoryRegionInfo:ADDR (which QEMU's stub
// does not): the region around addr with one set of permissions, or the
// unmapped gap up to the next region, so "memory region ADDR" works.
type MemoryRegions interface {
	MemoryRegion(addr uint64) (MemoryRegion, error)
}

// MemoryRegion is one answer of MemoryRegions: [Start, Start+Size), with
// permissions when Mapped.
type MemoryRegion struct {
	Start, Size uint64
	Mapped      bool
	Write, Exec bool // reading is implied by Mapped
}

// SingleStepFlags is QEMU's single-step mode (qqemu.sstepbits,
// qqemu.sstep, Qqemu.sstep=FLAGS): front ends written for QEMU's stub
// detect it by these packets. The bits are QEMU's: StepEnable, StepNoIRQ
// (no interrupt is taken during a step), StepNoTimer (timers do not fire
// during a step).
type SingleStepFlags interface {
	SingleStepFlags() uint32
	SetSingleStepFlags(flags uint32) error
}

// QEMU's single-step flag bits (gdbstub's SSTEP_*).
const (
	StepEnable  = 1
	StepNoIRQ   = 2
	StepNoTimer = 4
)

// ThreadExtraInfo gives the text of qThreadExtraInfo (gdb's "info threads").
type ThreadExtraInfo interface {
	ThreadExtraInfo() string
}

// ConsoleOutput lets the target's console (e.g. its serial port) reach the
// debugger's console while the target runs: whatever arrives on the channel
// during a Resume is sent as O packets (gdb prints it as it comes). Nothing
// is read while the target is halted, so the target must not block on a
// full channel (drop or buffer instead).
type ConsoleOutput interface {
	ConsoleOutput() <-chan []byte
}

// Detacher is told that the debugger detached (D), before the server lets
// the target run free (as QEMU does), and that a debugger vanished without
// detaching (the target then stays halted). Typical use: drop every
// breakpoint and watchpoint the debugger left, so none stops the machine
// for a debugger that did not set it.
type Detacher interface {
	Detach() error
}

// Killer is told that the debugger killed the target (k, vKill); Serve then
// returns ErrKilled and the caller is expected to exit.
type Killer interface {
	Kill() error
}
