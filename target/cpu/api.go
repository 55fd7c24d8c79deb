// Package cpu emulates the x86-64 processor the mini kernel runs on: 32-bit
// protected mode (the PVH entry), the switch to long mode and 64-bit mode,
// with 4-level paging, exception delivery per Intel SDM Vol. 3A ch. 6 and
// the debug facilities a gdb stub needs (breakpoints and watchpoints checked
// by the emulator, an exception history, break-on-vector stops).
//
// The package knows nothing of gdb or of the devices of a PC: port I/O goes
// to a Bus, interrupts come from an InterruptController, physical memory is
// the RAM slice handed to New. Time is the count of retired instructions.
//
// This file is the contract between the CPU and the machine that drives it
// (package target); the semantics live in files grouped by instruction
// family.
package cpu

// Bus receives port I/O (IN/OUT/INS/OUTS). size is 1, 2 or 4 bytes.
type Bus interface {
	In(port uint16, size int) uint32
	Out(port uint16, size int, val uint32)
}

// InterruptController is the other end of the INTR pin (an 8259 PIC).
type InterruptController interface {
	// Ack performs the interrupt-acknowledge cycle: it returns the vector
	// of the highest-priority pending request, or ok=false when nothing is
	// pending any more (the CPU then delivers nothing).
	Ack() (vector uint8, ok bool)
}

// General-purpose register numbers, in the encoding order of the ISA.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// Segment register numbers, in the encoding order of the ISA (Sreg field).
const (
	ES = iota
	CS
	SS
	DS
	FS
	GS
)

// Seg is a segment register: the visible selector and the hidden
// descriptor cache (SDM Vol. 3A 3.4.3). FS and GS bases in 64-bit mode
// live in Base (IA32_FS_BASE / IA32_GS_BASE alias it).
type Seg struct {
	Sel   uint16
	Base  uint64
	Limit uint32 // byte granular (already scaled when G=1)
	// Attr holds descriptor bits 40-47 in bits 0-7 (type, S, DPL, P) and
	// bits 52-55 in bits 12-15 (AVL, L, D/B, G), the layout of VMX access
	// rights, so 64-bit code is Attr&0x2000 != 0.
	Attr uint16
}

// DTR is GDTR or IDTR.
type DTR struct {
	Base  uint64
	Limit uint16
}

// State is the architectural state a debugger reads and writes. RFLAGS is
// materialised from the lazy flags when State is taken.
type State struct {
	GPR    [16]uint64
	RIP    uint64
	RFLAGS uint64
	Seg    [6]Seg
	LDTR   Seg
	TR     Seg
	GDTR   DTR
	IDTR   DTR

	CR0, CR2, CR3, CR4, CR8 uint64
	EFER                    uint64
	KernelGSBase            uint64 // IA32_KERNEL_GS_BASE, swapped by SWAPGS

	// x87 and SSE state exist only for the debugger's register file: the
	// kernel is built with -mgeneral-regs-only and never touches them.
	ST                              [8][10]byte
	FCTRL, FSTAT, FTAG              uint32
	FISEG, FIOFF, FOSEG, FOOFF, FOP uint32
	XMM                             [16][16]byte
	MXCSR                           uint32
}

// ExitKind says why Run or Step returned.
type ExitKind int

const (
	ExitLimit       ExitKind = iota // the instruction count reached the limit given to Run
	ExitStep                        // Step executed one instruction (or delivered one event)
	ExitHalt                        // HLT with no deliverable interrupt: the machine should advance time
	ExitStopRequest                 // RequestStop was called (gdb's ^C, isa-debug-exit)
	ExitBreakpoint                  // RIP reached a breakpoint; the instruction there has not run
	ExitWatchpoint                  // an instruction accessed a watched range; it has completed
	ExitBreakOn                     // an exception selected by SetBreakOn was delivered; RIP is the handler's first instruction
	ExitTripleFault                 // a fault while delivering #DF: the CPU is shut down (SDM 6.15, interrupt 8)
	ExitInternal                    // an emulator limitation the guest hit (unimplemented instruction with no #UD possible); Err says which
)

// WatchKind is the access a watchpoint fires on.
type WatchKind int

const (
	WatchWrite  WatchKind = 1
	WatchRead   WatchKind = 2
	WatchAccess WatchKind = 3 // read or write
)

// Exit describes why execution stopped.
type Exit struct {
	Kind ExitKind
	// Addr is the breakpoint address, or for a watchpoint the watched
	// address given to AddWatchpoint.
	Addr  uint64
	Watch WatchKind // for ExitWatchpoint: the kind of access that fired
	// Event is the delivery that caused ExitBreakOn or ExitTripleFault (an
	// index into Events' numbering, see Event.Seq).
	Event *Event
	Err   error
}

// EventKind classifies an entry of the exception history.
type EventKind int

const (
	EventException EventKind = iota // a fault, trap or abort raised by an instruction
	EventInterrupt                  // an external interrupt through INTR
	EventSoftware                   // INT n, INT3, INTO
)

// Event is one entry of the exception history: one delivery attempt.
type Event struct {
	Seq       uint64 // increasing number of this delivery attempt since reset
	Instret   uint64 // instruction count when it happened
	Kind      EventKind
	Vector    uint8
	HasError  bool
	ErrorCode uint64
	CR2       uint64 // CR2 after the event (set for #PF)
	CS        uint16 // interrupted context
	// RIP is the faulting instruction for a fault, the INT instruction
	// for INT n/INT3/INTO (as QEMU's -d int shows it; the frame holds the
	// next one), and the next instruction for an external interrupt.
	RIP uint64
	SS  uint16
	RSP uint64
	CPL int
	RAX uint64 // RAX of the interrupted context (QEMU's -d int line shows it)
	// Nested is the Seq of the delivery during which this one was raised
	// (e.g. the #PF whose delivery faulted, for a #DF), or 0.
	Nested uint64
	// Delivered is false when delivering this event raised another one
	// (it then appears as Nested of the next event).
	Delivered bool
	// IST is the IST index used (0: none); NewRSP the handler's RSP after
	// the frame was pushed (valid when Delivered).
	IST    int
	NewRSP uint64
}

// The rest of the exported API, implemented by *CPU:
//
//	func New(ram []byte, bus Bus, pic InterruptController) *CPU
//	    A CPU in the state after INIT with paging off (SDM 9.1.2), RIP 0.
//	func (c *CPU) State() State
//	func (c *CPU) SetState(s *State)       // flushes TLB and decode cache as needed
//	func (c *CPU) Reg(i int) uint64 / SetReg(i int, v uint64) // GPRs, for cheap access
//	func (c *CPU) RIP() uint64 / SetRIP(v uint64)
//	func (c *CPU) Run(limit uint64) Exit   // runs until Instret() >= limit or an event
//	func (c *CPU) Step() Exit              // one instruction (or one event delivery)
//	func (c *CPU) Instret() uint64         // retired instructions since reset: the clock
//	func (c *CPU) AdvanceTo(n uint64)      // a halted CPU's clock jumps to n (HLT waits for the next tick)
//	func (c *CPU) Halted() bool
//	func (c *CPU) SetIRQ(level bool)       // the INTR pin, driven by the PIC
//	func (c *CPU) RequestStop()            // safe from any goroutine
//	func (c *CPU) SetBreakpoint(linear uint64, on bool)
//	func (c *CPU) AddWatchpoint(linear, length uint64, kind WatchKind) / RemoveWatchpoint(...)
//	func (c *CPU) SetBreakOn(vector uint8, on bool) / BreakOn(vector uint8) bool
//	func (c *CPU) Events() []Event         // the last 256 deliveries, oldest first
//	func (c *CPU) EventCount() uint64      // Seq of the newest event (0: none yet)
//	func (c *CPU) ReadLinear(addr uint64, buf []byte) (int, error)  // debugger access: no A/D updates, no faults raised
//	func (c *CPU) WriteLinear(addr uint64, buf []byte) (int, error) // invalidates decoded code on those pages
//	func (c *CPU) WritePhys(addr uint64, buf []byte) (int, error)   // likewise; reads can use the RAM slice
//	func (c *CPU) Translate(cr3, linear uint64) (phys uint64, ok bool)
//	func (c *CPU) Stats() Stats            // instructions, decode-cache and TLB figures
//
//	CPU.Log func(string) // optional: "cpu: unimplemented instruction at 0x…: <bytes> (<disassembly>)"
//	                     // (once per address; the guest gets #UD), unknown MSRs
