package cpu

import (
	"sync/atomic"
)

// Stats are the CPU's performance counters, for the monitor's `stats`.
type Stats struct {
	Instructions uint64 // retired instructions (Instret)
	DecodeHits   uint64 // decoded-instruction cache hits
	DecodeMisses uint64 // instructions decoded by x86asm
	DecodePages  int    // physical pages currently holding decoded code
	Invalidates  uint64 // decoded pages dropped because they were written
	TLBMisses    uint64 // walks done through paging.Translate
	TLBFlushes   uint64 // full flushes (CR3 writes, paging-mode changes)

	// The native tier (native.go): blocks translated, blocks run (of
	// which NativeChained were entered from another block in host code),
	// and the guest instructions they retired.
	NativeBlocks, NativeRuns, NativeChained, NativeInstructions uint64
}

// CPU is one x86-64 logical processor. It is not safe for concurrent use,
// except RequestStop which may be called from any goroutine.
type CPU struct {
	// Log, when set, receives one line per noteworthy emulator event (an
	// unimplemented instruction the guest executed).
	Log func(string)

	ram []byte
	bus Bus
	pic InterruptController

	gpr  [16]uint64
	rip  uint64 // address of the instruction being executed
	next uint64 // address of the following instruction (while executing)

	// flags holds RFLAGS with the arithmetic flags (CF PF AF ZF SF OF)
	// valid only when lz.op == lzNone; see flags.go.
	flags uint64
	lz    lazy

	native nativeTier // blocks of register code run as host code (native.go)

	seg        [6]Seg
	ldtr, tr   Seg
	gdtr, idtr DTR

	cr0, cr2, cr3, cr4, cr8 uint64
	efer, kernelGSBase      uint64
	apicBase                uint64
	dr                      [8]uint64

	// x87/SSE state kept only for the debugger's register file.
	fpu fpuState

	stepTakesIRQ bool // Step delivers a pending interrupt (SetStepTakesInterrupts)

	mode          int       // 16, 32 or 64: the code size of CS
	cpl           int       // current privilege level (CS.Sel & 3)
	ushift        uint8     // 3 at CPL 3: selects the user bits of tlbEntry.perm
	segBase       [6]uint64 // bases that apply in this mode (0 for ES CS SS DS in 64-bit mode)
	shadowAt      uint64    // interrupts are blocked while Instret() == shadowAt (STI, MOV SS)
	tscOffset     uint64
	msrs          map[uint32]uint64 // MSRs stored but without effect (STAR, LSTAR, PAT...)
	softDelivered bool              // an INT n delivered inside exec: check break-on
	tripleEvent   *Event
	paging        bool // CR0.PG
	instret       uint64
	halted        bool
	curSeg        uint8 // segment of the executing instruction's memory operand
	brk           bool  // leave the fast loop: something the per-instruction checks look at changed
	irq           bool
	shut          bool // triple fault: shut down until SetState

	stop atomic.Bool

	tlb [tlbSize]tlbEntry

	// the code page of the last fetch, by linear page number
	fetchLin  uint64
	fetchPage *codePage

	code  []*codePage // decoded instructions per physical page of RAM
	ncode int

	// debugger state
	bps      map[uint64]bool
	bpFilter [bpFilterWords]uint64 // bit (addr & 0xffff) set for every breakpoint
	bpCount  []uint32              // breakpoints per filter slot (addr & 0xffff); allocated with the first
	nbps     int
	skipBP   bool // resume: the instruction at RIP runs despite a breakpoint
	watches  []watch
	watching bool
	watchHit bool
	// oneIteration makes a REP string instruction stop after one
	// iteration: set while the debugger single-steps (Step) or the guest
	// has RFLAGS.TF set.
	oneIteration bool
	watchAddr    uint64
	watchKind    WatchKind
	breakOn      [256]bool
	breakHit     bool
	breakEvent   *Event

	events  [eventRing]Event
	nevents uint64 // deliveries recorded since reset (= last Seq)

	stats  Stats
	logged map[uint64]bool // RIPs of unimplemented instructions already logged
}

type fpuState struct {
	ST                              [8][10]byte
	FCTRL, FSTAT, FTAG              uint32
	FISEG, FIOFF, FOSEG, FOOFF, FOP uint32
	XMM                             [16][16]byte
	MXCSR                           uint32
}

type watch struct {
	addr, length uint64
	kind         WatchKind
}

const eventRing = 256

// New returns a CPU in the state after INIT (SDM Vol. 3A 9.1.2, Table
// 9-1) except that RIP is 0 and the segments are real-mode style with
// base 0: the loader sets the state it wants with SetState.
func New(ram []byte, bus Bus, pic InterruptController) *CPU {
	c := &CPU{ram: ram, bus: bus, pic: pic, stepTakesIRQ: true}
	c.native.on = nativeSupported
	c.code = make([]*codePage, (uint64(len(ram))+pageSize-1)/pageSize)
	c.reset()
	return c
}

func (c *CPU) reset() {
	c.gpr = [16]uint64{}
	c.rip = 0
	c.flags = 2
	c.lz = lazy{}
	for i := range c.seg {
		c.seg[i] = Seg{Limit: 0xffff, Attr: 0x93}
	}
	c.seg[CS].Attr = 0x9b
	c.ldtr = Seg{Limit: 0xffff, Attr: 0x82}
	c.tr = Seg{Limit: 0xffff, Attr: 0x8b}
	c.gdtr = DTR{Limit: 0xffff}
	c.idtr = DTR{Limit: 0xffff}
	c.cr0 = 0x60000010
	c.cr2, c.cr3, c.cr4, c.cr8, c.efer = 0, 0, 0, 0, 0
	c.dr = [8]uint64{6: dr6Fixed1, 7: dr7Fixed1}
	c.apicBase = 0xfee00900
	c.resetMSRs()
	c.fpu = fpuState{FCTRL: 0x37f, FTAG: 0xffff, MXCSR: 0x1f80}
	c.halted, c.irq, c.shut = false, false, false
	c.shadowAt = ^uint64(0)
	c.updateMode()
	c.flushTLB(true)
}

// Reg returns general-purpose register i (RAX..R15).
func (c *CPU) Reg(i int) uint64 {
	if i < 0 || i >= 16 {
		return 0
	}
	return c.gpr[i]
}

// SetReg sets general-purpose register i.
func (c *CPU) SetReg(i int, v uint64) {
	if i >= 0 && i < 16 {
		c.gpr[i] = v
	}
}

// RIP returns the instruction pointer.
func (c *CPU) RIP() uint64 { return c.rip }

// SetRIP sets the instruction pointer (the debugger's `jump`).
func (c *CPU) SetRIP(v uint64) { c.rip = v; c.skipBP = false }

// Instret is the number of retired instructions since reset: the clock.
func (c *CPU) Instret() uint64 { return c.instret }

// AdvanceTo moves a halted CPU's clock forward to n (time passes in HLT).
func (c *CPU) AdvanceTo(n uint64) {
	if n > c.instret {
		c.instret = n
	}
}

// Halted reports whether the CPU is waiting in HLT.
func (c *CPU) Halted() bool { return c.halted }

// SetIRQ drives the INTR pin.
func (c *CPU) SetIRQ(level bool) {
	c.irq = level
	if level {
		c.brk = true
	}
}

// RequestStop makes Run return ExitStopRequest before the next
// instruction. Safe from any goroutine.
func (c *CPU) RequestStop() { c.stop.Store(true) }

// SetBreakOn selects whether delivering vector stops Run with ExitBreakOn.
func (c *CPU) SetBreakOn(vector uint8, on bool) { c.breakOn[vector] = on }

// BreakOn reports whether vector is selected by SetBreakOn.
func (c *CPU) BreakOn(vector uint8) bool { return c.breakOn[vector] }

// Stats returns the performance counters.
func (c *CPU) Stats() Stats {
	s := c.stats
	s.Instructions = c.instret
	s.DecodePages = c.ncode
	s.NativeBlocks, s.NativeRuns, s.NativeInstructions = c.native.made, c.native.runs+c.native.chained, c.native.instrs
	s.NativeChained = c.native.chained
	if c.instret > s.DecodeMisses {
		// Hits are not counted on the fast path: every retired
		// instruction that was not decoded came from the cache.
		s.DecodeHits = c.instret - s.DecodeMisses
	}
	return s
}
