// Package gdbtarget presents the emulated machine to the gdb protocol server
// the way QEMU presents its x86-64 target: QEMU 7.2's register layout and
// target description, breakpoints and watchpoints checked by the emulator,
// the kernel ELF served as the exec file, lldb's host and register queries,
// and physical-memory mode. It is the only package that knows both the
// machine (package target) and the protocol's Target interface (package
// gdbproto); neither of those knows the other.
package gdbtarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"vmapstack/gdbproto"
	"vmapstack/target"
	"vmapstack/target/cpu"
)

// Config says what the adapter serves beyond the machine itself.
type Config struct {
	// ExecPath is the name under which the kernel ELF is offered through
	// qXfer:exec-file:read and vFile (the embedded kernel has no file).
	ExecPath string
	// ExecFile, when set, gives the exec file instead (path and bytes):
	// for Linux, an ELF of the kernel's symbols that the monitor's model
	// builds from kallsyms. A "" path offers none.
	ExecFile func() (string, []byte)
	// Monitor runs a "monitor" command line; nil answers every command
	// with a pointer to this.
	Monitor func(line string, out io.Writer) error
	// DescribeStop, when set, gives the console message for a stop the
	// machine caused on its own (break-on, triple fault); the default is
	// the machine's own one-line description.
	DescribeStop func(target.Stop) string
	// MemoryRegion, when set, answers lldb's qMemoryRegionInfo from the
	// page tables (the monitor's MemoryRegionAt).
	MemoryRegion func(addr uint64) (gdbproto.MemoryRegion, error)
}

// Target implements gdbproto.Target and its optional interfaces for a
// *target.Machine. gdbproto calls it from one goroutine at a time.
type Target struct {
	sstep uint32 // QEMU single-step flags (gdbproto.StepEnable...)
	m     *target.Machine
	cpu   *cpu.CPU
	cfg   Config
	phys  bool // memory packets address physical memory

	// Breakpoints are checked by the CPU by linear address; gdb may set a
	// software (Z0) and a hardware (Z1) one at the same address, so both
	// are counted and the reply names the kind that was asked for.
	sw, hw  map[uint64]int
	watches map[watchKey]int
	last    target.Stop
	// running is the host time spent in Resume, for "monitor stats"'
	// instructions per second; the machine itself never reads a clock.
	running time.Duration

	// state caches the CPU's registers while the machine is halted: a
	// stop reply reads three, gdb's stepi then a few more, and State
	// materialises everything (flags, x87, 256 bytes of XMM). Dropped on
	// every resume and after monitor commands (which may change state);
	// register writes go through it.
	state      cpu.State
	stateValid bool
}

// regsState returns the cached register state.
func (t *Target) regsState() *cpu.State {
	if !t.stateValid {
		t.state = t.cpu.State()
		t.stateValid = true
	}
	return &t.state
}

// setState writes s to the CPU and the cache.
func (t *Target) setState(s *cpu.State) {
	t.cpu.SetState(s)
	t.stateValid = false
}

type watchKey struct {
	kind      gdbproto.WatchKind
	addr, len uint64
}

// New returns the adapter for m.
func New(m *target.Machine, cfg Config) *Target {
	t := &Target{m: m, cpu: m.CPU(), cfg: cfg,
		sw: map[uint64]int{}, hw: map[uint64]int{}, watches: map[watchKey]int{}}
	t.SetSingleStepFlags(defaultStepFlags)
	return t
}

// defaultStepFlags is QEMU's default single-step mode: a step takes no
// interrupt and no timer fires, so stepi walks the code the user reads.
const defaultStepFlags = gdbproto.StepEnable | gdbproto.StepNoIRQ | gdbproto.StepNoTimer

// Machine is the machine being served.
func (t *Target) Machine() *target.Machine { return t.m }

// RunTime is the host time the machine has spent running or stepping.
func (t *Target) RunTime() time.Duration { return t.running }

// LastStop is the machine's last stop, for the monitor commands.
func (t *Target) LastStop() target.Stop { return t.last }

var (
	_ gdbproto.Target               = (*Target)(nil)
	_ gdbproto.TargetDescription    = (*Target)(nil)
	_ gdbproto.HWBreakpoints        = (*Target)(nil)
	_ gdbproto.Watchpoints          = (*Target)(nil)
	_ gdbproto.WatchpointSlots      = (*Target)(nil)
	_ gdbproto.Monitor              = (*Target)(nil)
	_ gdbproto.ExecFile             = (*Target)(nil)
	_ gdbproto.HostInfoProvider     = (*Target)(nil)
	_ gdbproto.RegisterInfoProvider = (*Target)(nil)
	_ gdbproto.ExpeditedRegisters   = (*Target)(nil)
	_ gdbproto.PhysMemMode          = (*Target)(nil)
	_ gdbproto.SingleStepFlags      = (*Target)(nil)
	_ gdbproto.MemoryRegions        = (*Target)(nil)
	_ gdbproto.ThreadExtraInfo      = (*Target)(nil)
	_ gdbproto.Detacher             = (*Target)(nil)
)

// ReadRegisters is the g packet: QEMU's 608-byte x86-64 layout.
func (t *Target) ReadRegisters() ([]byte, error) {
	return encodeRegisters(t.regsState()), nil
}

// WriteRegisters is the G packet; a short block writes the leading
// registers only.
func (t *Target) WriteRegisters(data []byte) error {
	s := *t.regsState()
	for n := range regs {
		end := regOffsets[n] + regs[n].bits/8
		if end > len(data) {
			break
		}
		decodeRegister(&s, n, data[regOffsets[n]:end])
	}
	t.setState(&s)
	return nil
}

// ReadRegister is the p packet.
func (t *Target) ReadRegister(n int) ([]byte, error) {
	if n < 0 || n >= len(regs) {
		return nil, gdbproto.ErrNoRegister
	}
	b := make([]byte, 16)
	return b[:encodeRegister(t.regsState(), n, b)], nil
}

// WriteRegister is the P packet.
func (t *Target) WriteRegister(n int, val []byte) error {
	if n < 0 || n >= len(regs) {
		return gdbproto.ErrNoRegister
	}
	if len(val) != regs[n].bits/8 {
		return fmt.Errorf("register %s is %d bytes, got %d", regs[n].name, regs[n].bits/8, len(val))
	}
	s := *t.regsState()
	decodeRegister(&s, n, val)
	t.setState(&s)
	return nil
}

// ReadMemory reads linear memory through the current page tables (no
// accessed bits set, no fault raised), or physical memory in phys mode.
func (t *Target) ReadMemory(addr uint64, buf []byte) (int, error) {
	if t.phys {
		ram := t.m.RAM()
		if addr >= uint64(len(ram)) {
			return 0, fmt.Errorf("physical address %#x is beyond RAM (%d MiB)", addr, len(ram)>>20)
		}
		n := copy(buf, ram[addr:])
		if n < len(buf) {
			return n, fmt.Errorf("physical address %#x is beyond RAM", addr+uint64(n))
		}
		return n, nil
	}
	return t.cpu.ReadLinear(addr, buf)
}

// WriteMemory writes linear (or, in phys mode, physical) memory; decoded
// instructions on the written pages are dropped by the CPU.
func (t *Target) WriteMemory(addr uint64, data []byte) (int, error) {
	if t.phys {
		return t.cpu.WritePhys(addr, data)
	}
	return t.cpu.WriteLinear(addr, data)
}

// Resume runs or steps the machine until it stops. Signals are ignored, as
// QEMU ignores them: a machine has no signals to deliver.
func (t *Target) Resume(ctx context.Context, a gdbproto.Action) (gdbproto.StopEvent, error) {
	if a.Addr != nil {
		s := *t.regsState()
		s.RIP = *a.Addr
		t.setState(&s)
	}
	t.stateValid = false
	var st target.Stop
	start := time.Now()
	if a.Step {
		st = t.m.Step(ctx)
	} else {
		st = t.m.Run(ctx)
	}
	t.running += time.Since(start)
	t.last = st
	return t.stopEvent(st), nil
}

// stopEvent turns a machine stop into what gdb is told.
func (t *Target) stopEvent(st target.Stop) gdbproto.StopEvent {
	switch st.Kind {
	case target.StopStep, target.StopLimit:
		return gdbproto.StopEvent{Reason: gdbproto.StopSignal, Signal: gdbproto.SIGTRAP}
	case target.StopRequested:
		return gdbproto.StopEvent{Reason: gdbproto.StopSignal, Signal: gdbproto.SIGINT}
	case target.StopBreakpoint:
		if t.sw[st.Addr] == 0 && t.hw[st.Addr] > 0 {
			return gdbproto.StopEvent{Reason: gdbproto.StopHWBreak, Signal: gdbproto.SIGTRAP}
		}
		return gdbproto.StopEvent{Reason: gdbproto.StopSWBreak, Signal: gdbproto.SIGTRAP}
	case target.StopWatchpoint:
		return gdbproto.StopEvent{Reason: t.watchReason(st), Signal: gdbproto.SIGTRAP, WatchAddr: st.Addr}
	case target.StopDebugExit:
		return gdbproto.StopEvent{Reason: gdbproto.StopExited, ExitCode: st.Code}
	case target.StopReset:
		// The machine does not reboot (QEMU -no-reboot): to the debugger
		// the program exited, with success.
		return gdbproto.StopEvent{Reason: gdbproto.StopExited, ExitCode: 0, Message: t.describe(st)}
	case target.StopBreakOn:
		sig := gdbproto.SIGTRAP
		if st.Event != nil {
			sig = vectorSignal(st.Event.Vector)
		}
		return gdbproto.StopEvent{Reason: gdbproto.StopSignal, Signal: sig, Message: t.describe(st)}
	case target.StopTripleFault:
		// The CPU is shut down; QEMU would reset. We stop and say why.
		return gdbproto.StopEvent{Reason: gdbproto.StopSignal, Signal: gdbproto.SIGSEGV, Message: t.describe(st)}
	case target.StopHaltedForever:
		return gdbproto.StopEvent{Reason: gdbproto.StopSignal, Signal: gdbproto.SIGTRAP, Message: t.describe(st)}
	default:
		return gdbproto.StopEvent{Reason: gdbproto.StopSignal, Signal: gdbproto.SIGABRT, Message: t.describe(st)}
	}
}

func (t *Target) describe(st target.Stop) string {
	var msg string
	if t.cfg.DescribeStop != nil {
		msg = t.cfg.DescribeStop(st)
	} else {
		msg = st.String()
	}
	if msg != "" && msg[len(msg)-1] != '\n' {
		msg += "\n"
	}
	return msg
}

// watchReason names the stop for gdb from the access that fired and the
// kinds gdb asked for at that address: a write reports a write watchpoint
// if there is one, a read a read watchpoint, and otherwise an access
// watchpoint reports either (gdb matches the reason to its own list). The
// result depends only on the set of watchpoints, never on map order.
func (t *Target) watchReason(st target.Stop) gdbproto.StopReason {
	var write, read, access bool
	for k := range t.watches {
		if k.addr != st.Addr {
			continue
		}
		switch k.kind {
		case gdbproto.WatchWrite:
			write = true
		case gdbproto.WatchRead:
			read = true
		case gdbproto.WatchAccess:
			access = true
		}
	}
	wrote := st.Watch&cpu.WatchWrite != 0
	switch {
	case wrote && write:
		return gdbproto.StopWatch
	case !wrote && read:
		return gdbproto.StopRWatch
	case access:
		return gdbproto.StopAWatch
	case read:
		return gdbproto.StopRWatch
	}
	return gdbproto.StopWatch
}

// vectorSignal is the signal gdb sees for a break-on stop, chosen as Linux
// chooses signals for the same exceptions (arch/x86/kernel/traps.c).
func vectorSignal(v uint8) int {
	switch v {
	case 0, 16, 19: // #DE, #MF, #XM
		return gdbproto.SIGFPE
	case 6: // #UD
		return gdbproto.SIGILL
	case 1, 3: // #DB, #BP
		return gdbproto.SIGTRAP
	case 17: // #AC
		return gdbproto.SIGBUS
	case 4, 5, 8, 10, 11, 12, 13, 14: // #OF #BR #DF #TS #NP #SS #GP #PF
		return gdbproto.SIGSEGV
	}
	return gdbproto.SIGTRAP
}

// SetBreakpoint is Z0: the CPU stops before executing at addr; guest
// memory is never patched.
func (t *Target) SetBreakpoint(addr uint64, kind int) error {
	t.sw[addr]++
	t.cpu.SetBreakpoint(addr, true)
	return nil
}

// ClearBreakpoint is z0.
func (t *Target) ClearBreakpoint(addr uint64, kind int) error {
	return t.clear(t.sw, addr)
}

// SetHWBreakpoint is Z1, checked the same way as Z0.
func (t *Target) SetHWBreakpoint(addr uint64, kind int) error {
	t.hw[addr]++
	t.cpu.SetBreakpoint(addr, true)
	return nil
}

// ClearHWBreakpoint is z1.
func (t *Target) ClearHWBreakpoint(addr uint64, kind int) error {
	return t.clear(t.hw, addr)
}

func (t *Target) clear(set map[uint64]int, addr uint64) error {
	if set[addr] == 0 {
		return fmt.Errorf("no breakpoint at %#x", addr)
	}
	if set[addr]--; set[addr] == 0 {
		delete(set, addr)
	}
	if t.sw[addr] == 0 && t.hw[addr] == 0 {
		t.cpu.SetBreakpoint(addr, false)
	}
	return nil
}

var cpuWatch = map[gdbproto.WatchKind]cpu.WatchKind{
	gdbproto.WatchWrite:  cpu.WatchWrite,
	gdbproto.WatchRead:   cpu.WatchRead,
	gdbproto.WatchAccess: cpu.WatchAccess,
}

// SetWatchpoint is Z2/Z3/Z4: the CPU checks every guest data access and
// stops after the accessing instruction completes, as a debug-register
// data breakpoint does (SDM Vol. 3B 17.3.1.2, a trap).
func (t *Target) SetWatchpoint(kind gdbproto.WatchKind, addr, length uint64) error {
	ck, ok := cpuWatch[kind]
	if !ok {
		return gdbproto.ErrUnsupported
	}
	if length == 0 {
		// An error, not "unsupported": gdb would stop using Z2 for the
		// rest of the session.
		return fmt.Errorf("watchpoint at %#x has length 0", addr)
	}
	k := watchKey{kind, addr, length}
	t.watches[k]++
	t.cpu.AddWatchpoint(addr, length, ck)
	return nil
}

// ClearWatchpoint is z2/z3/z4.
func (t *Target) ClearWatchpoint(kind gdbproto.WatchKind, addr, length uint64) error {
	k := watchKey{kind, addr, length}
	if t.watches[k] == 0 {
		return fmt.Errorf("no watchpoint at %#x", addr)
	}
	if t.watches[k]--; t.watches[k] == 0 {
		delete(t.watches, k)
	}
	t.cpu.RemoveWatchpoint(addr, length, cpuWatch[kind])
	return nil
}

// WatchpointSlots: the emulator has no debug-register limit; lldb wants a
// number, and four is what x86 hardware offers.
func (t *Target) WatchpointSlots() int { return 4 }

// TargetXML serves target.xml and QEMU's i386-64bit.xml annex.
func (t *Target) TargetXML(annex string) ([]byte, bool) {
	switch annex {
	case "target.xml":
		return []byte(targetXML), true
	case "i386-64bit.xml":
		return []byte(coreXML()), true
	}
	return nil, false
}

// Rcmd runs a monitor command.
func (t *Target) Rcmd(cmd string, out io.Writer) error {
	if t.cfg.Monitor == nil {
		return errors.New("this stub has no monitor commands")
	}
	t.stateValid = false
	defer func() { t.stateValid = false }()
	return t.cfg.Monitor(cmd, out)
}

// ExecFile offers the kernel ELF so a bare "target remote" loads symbols.
func (t *Target) ExecFile() (string, []byte) {
	if t.cfg.ExecFile != nil {
		return t.cfg.ExecFile()
	}
	_, data := t.m.Kernel()
	return t.cfg.ExecPath, data
}

// HostInfo answers lldb's qHostInfo/qProcessInfo for a bare-metal x86-64.
func (t *Target) HostInfo() gdbproto.HostInfo {
	return gdbproto.HostInfo{Triple: "x86_64-unknown-none-elf", PtrSize: 8, Endian: "little",
		OSType: "none", Vendor: "unknown"}
}

// RegisterInfo describes the registers for lldb's qRegisterInfoN.
func (t *Target) RegisterInfo() []gdbproto.RegisterInfo {
	out := make([]gdbproto.RegisterInfo, len(regs))
	for i, r := range regs {
		out[i] = gdbproto.RegisterInfo{Name: r.name, BitSize: r.bits, Offset: regOffsets[i],
			Encoding: r.encoding, Format: r.format, Set: r.set, EHFrame: r.dwarf, DWARF: r.dwarf,
			Generic: r.generic}
	}
	return out
}

// ExpeditedRegisters: rbp, rsp and rip go with every stop reply.
func (t *Target) ExpeditedRegisters() []int { return []int{regRBP, regRSP, regRIP} }

// SetPhysMemMode is Qqemu.PhyMemMode (and "monitor phys").
func (t *Target) SetPhysMemMode(on bool) error {
	t.phys = on
	return nil
}

// PhysMemMode reports the memory mode.
func (t *Target) PhysMemMode() bool { return t.phys }

// SetSingleStepFlags sets QEMU's single-step mode (Qqemu.sstep). NOIRQ
// keeps a step from taking a pending interrupt (with it clear, a step with
// an interrupt due stops at the handler's first instruction). NOTIMER is
// implied by NOIRQ here: virtual time is the instruction count, so a step
// still advances the timers by one instruction, but their interrupt waits
// for the next continue.
func (t *Target) SetSingleStepFlags(flags uint32) error {
	t.sstep = flags
	t.cpu.SetStepTakesInterrupts(flags&gdbproto.StepNoIRQ == 0)
	return nil
}

// MemoryRegion implements gdbproto.MemoryRegions through Config.MemoryRegion.
func (t *Target) MemoryRegion(addr uint64) (gdbproto.MemoryRegion, error) {
	if t.cfg.MemoryRegion == nil {
		return gdbproto.MemoryRegion{}, gdbproto.ErrUnsupported
	}
	return t.cfg.MemoryRegion(addr)
}

// SingleStepFlags reports the single-step mode (qqemu.sstep).
func (t *Target) SingleStepFlags() uint32 { return t.sstep }

// ThreadExtraInfo names the one vCPU as QEMU does.
func (t *Target) ThreadExtraInfo() string {
	if t.cpu.Halted() {
		return "CPU#0 [halted ]"
	}
	return "CPU#0 [running]"
}

// Detach drops the debugger's breakpoints and watchpoints before the
// machine runs free, so nothing stops it with nobody attached.
func (t *Target) Detach() error {
	for addr := range t.sw {
		t.cpu.SetBreakpoint(addr, false)
	}
	for addr := range t.hw {
		t.cpu.SetBreakpoint(addr, false)
	}
	for k := range t.watches {
		t.cpu.RemoveWatchpoint(k.addr, k.len, cpuWatch[k.kind])
	}
	clear(t.sw)
	clear(t.hw)
	clear(t.watches)
	return nil
}
