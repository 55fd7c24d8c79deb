// Package target is the emulated machine: RAM, the x86-64 CPU, the PC
// devices (COM1, PIC, PIT, isa-debug-exit) and the kernel loaders (PVH, the
// Linux boot protocol), driven in
// virtual time (the instruction count is the only clock; 1 instruction =
// 1 ns for the PIT). It knows nothing of gdb's wire format: the debugger
// adapter drives it through Run/RunUntil/Step, the CPU's register and
// memory access, breakpoints and the exception history.
package target

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"vmapstack/target/boot"
	"vmapstack/target/cpu"
	"vmapstack/target/devices"
	"vmapstack/target/linuxboot"
	"vmapstack/target/paging"
	"vmapstack/target/pvh"
	"vmapstack/target/x86"
)

// DefaultMemory is QEMU's default -m: 128 MiB.
const DefaultMemory = 128 << 20

// While --trace-int is on, run slices are bounded so that the CPU's
// 256-entry history does not overflow between two drains. The bound adapts:
// it starts small, doubles while few deliveries happen, and drops back to
// the minimum when a slice saw many (a fault storm). A gap, should one
// happen anyway, is written to the trace, never silently skipped.
const (
	traceSliceMin  = 64
	traceSliceMax  = 8192
	traceBusySlice = 32 // deliveries in one slice that make the next one short
)

// Config describes the machine to build.
type Config struct {
	Kernel      []byte // the kernel: an ELF with a PVH entry note, or a Linux bzImage
	KernelPath  string // its name, for messages and the debugger's exec-file
	Initrd      []byte // the initramfs (nil: none), as QEMU's -initrd
	InitrdPath  string
	Append      string // the kernel command line
	MemoryBytes uint64 // guest RAM; 0 means DefaultMemory
	// Interpret runs every instruction in the interpreter: no native
	// tier (target/cpu/native.go), which is on by default where the host
	// has one (linux/amd64).
	Interpret bool
	// RAM is the memory for guest RAM, MemoryBytes long (DefaultMemory
	// when that is 0) and zeroed, which the machine uses for its life
	// (MapRAM gives such memory, outside the Go heap); nil: the machine
	// allocates it on the Go heap. New may have written into it even
	// when it fails: it is not for another machine.
	RAM []byte

	Serial   io.Writer // COM1 output (nil: kept only in the console ring)
	SerialIn io.Reader // COM1 input, read by a goroutine until EOF (optional)
	TraceInt io.Writer // QEMU `-d int` style delivery log (optional)
	Log      func(string)
}

// Machine is one emulated PC. All its state lives in this struct and the
// objects it owns (no globals). It is not safe for concurrent use, except
// RequestStop, which any goroutine may call.
type Machine struct {
	cfg  Config
	ram  []byte
	cpu  *cpu.CPU
	pc   *devices.PC
	boot *boot.Image

	breakOn BreakOnSet
	console consoleRing
	serial  *serialSink
	trace   *intTracer

	unknownPorts [1 << 16 / 64]uint64 // ports already logged as unhandled
	resetBy      string               // how the guest reset the machine ("" while it has not)
	timerWritten bool                 // the guest reprogrammed the PIT during this slice

	userStop atomic.Bool   // RequestStop was called
	wake     chan struct{} // RequestStop's signal to a HLT waiting for input

	inputMu    sync.Mutex
	inputLive  bool          // SerialIn has not reached EOF
	inputReady chan struct{} // signalled when SerialIn bytes were fed
}

// New builds the machine and loads the kernel with the loader its format
// calls for (PVH or the Linux boot protocol): nothing has executed yet,
// the CPU is in the state that protocol promises at the entry point.
func New(cfg Config) (*Machine, error) {
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = DefaultMemory
	}
	if cfg.KernelPath == "" {
		cfg.KernelPath = "kernel"
	}
	if cfg.MemoryBytes < 1<<20 {
		return nil, fmt.Errorf("memory size %d is below the 1 MiB every loader needs", cfg.MemoryBytes)
	}
	if cfg.MemoryBytes%4096 != 0 {
		return nil, fmt.Errorf("memory size %d is not a multiple of 4 KiB", cfg.MemoryBytes)
	}
	if cfg.MemoryBytes > boot.MaxMemory {
		return nil, fmt.Errorf("memory size %#x is above the supported %#x", cfg.MemoryBytes, uint64(boot.MaxMemory))
	}
	m := &Machine{cfg: cfg, console: newConsoleRing(consoleRingSize), wake: make(chan struct{}, 1)}
	switch {
	case cfg.RAM == nil:
		m.ram = make([]byte, cfg.MemoryBytes)
	case uint64(len(cfg.RAM)) != cfg.MemoryBytes:
		return nil, fmt.Errorf("guest RAM of %d bytes given for a memory size of %d", len(cfg.RAM), cfg.MemoryBytes)
	default:
		m.ram = cfg.RAM
	}
	m.serial = &serialSink{m: m, w: cfg.Serial}
	if cfg.TraceInt != nil {
		m.trace = &intTracer{w: cfg.TraceInt, slice: traceSliceMin}
	}
	pc, err := devices.NewPC(devices.PCConfig{
		Serial:  m.serial,
		Clock:   m.clock,
		RAMSize: cfg.MemoryBytes,
		OnINTR:  m.setINTR,
		OnExit:  func(int) { m.cpu.RequestStop() },
		OnReset: func(source string) {
			if m.resetBy == "" {
				m.resetBy = source
			}
			m.cpu.RequestStop()
		},
	})
	if err != nil {
		return nil, err
	}
	m.pc = pc
	pc.Bus.Unhandled = m.unhandledPort
	m.cpu = cpu.New(m.ram, portBus{m}, pc.PIC)
	m.cpu.Log = m.log
	if cfg.Interpret {
		m.cpu.SetNativeTier(false)
	}

	img, err := boot.Load(m.ram, boot.Files{
		Kernel: cfg.Kernel, KernelName: cfg.KernelPath,
		Initrd: cfg.Initrd, InitrdName: cfg.InitrdPath,
		Cmdline: cfg.Append,
	}, pvh.Loader{}, linuxboot.Loader{})
	if err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	m.boot = img
	boot.WriteSMBIOS(m.ram)
	for n, v := range boot.FirmwareMSRs(cfg.MemoryBytes, paging.MaxPhysAddr) {
		if err := m.cpu.WriteMSR(n, v); err != nil {
			return nil, fmt.Errorf("firmware state: %w", err)
		}
	}
	st := img.EntryState(m.cpu.State())
	m.cpu.SetState(&st)
	m.SetBreakOn(BreakOnSet{})

	if cfg.SerialIn != nil {
		m.inputLive = true
		m.inputReady = make(chan struct{}, 1)
		go m.readInput(cfg.SerialIn, pc.UART)
	}
	return m, nil
}

// clock is the devices' time source.
func (m *Machine) clock() uint64 {
	if m.cpu == nil {
		return 0
	}
	return m.cpu.Instret()
}

func (m *Machine) setINTR(level bool) {
	if m.cpu != nil {
		m.cpu.SetIRQ(level)
	}
}

func (m *Machine) log(msg string) {
	if m.cfg.Log != nil {
		m.cfg.Log(msg)
	}
}

// unhandledPort logs the first access to each port nobody claims; the
// bus itself answers reads with all ones and drops writes.
func (m *Machine) unhandledPort(port uint16, size int, write bool, val uint32) {
	w, bit := port/64, uint64(1)<<(port%64)
	if m.unknownPorts[w]&bit != 0 {
		return
	}
	m.unknownPorts[w] |= bit
	if write {
		m.log(fmt.Sprintf("unhandled port write: out %#x <- %#x (size %d), ignored (logged once per port)", port, val, size))
	} else {
		m.log(fmt.Sprintf("unhandled port read: in %#x (size %d) reads all ones (logged once per port)", port, size))
	}
}

// portBus is the CPU's view of the I/O ports: the devices' bus, plus a
// hook on PIT writes. A run slice ends at the timer deadline computed
// before it started; when the guest reprograms the PIT the slice must end
// at once so that the new deadline is used (otherwise the first interrupt
// after programming a 1 kHz timer would come at the 18.2 Hz reset
// period's deadline).
type portBus struct{ m *Machine }

func (b portBus) In(port uint16, size int) uint32 { return b.m.pc.Bus.In(port, size) }

func (b portBus) Out(port uint16, size int, val uint32) {
	b.m.pc.Bus.Out(port, size, val)
	if port >= devices.PITBase && port <= devices.PITBase+3 {
		b.m.timerWritten = true
		b.m.cpu.RequestStop()
	}
}

// readInput feeds SerialIn to the UART until EOF or an error.
func (m *Machine) readInput(r io.Reader, u *devices.UART) {
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			u.Feed(buf[:n])
			select {
			case m.inputReady <- struct{}{}:
			default:
			}
		}
		if err != nil {
			m.inputMu.Lock()
			m.inputLive = false
			m.inputMu.Unlock()
			select {
			case m.inputReady <- struct{}{}:
			default:
			}
			return
		}
	}
}

func (m *Machine) inputPossible() bool {
	if m.inputReady == nil {
		return false
	}
	m.inputMu.Lock()
	defer m.inputMu.Unlock()
	return m.inputLive
}

// CPU returns the processor, for register and memory access, breakpoints
// and watchpoints (cpu.CPU's methods). Do not call its Run or Step
// directly: the machine's run loop advances the devices with it.
func (m *Machine) CPU() *cpu.CPU { return m.cpu }

// RAM returns guest physical memory (the slice itself; writes through it
// bypass the decoded-code invalidation: use CPU().WritePhys to write).
func (m *Machine) RAM() []byte { return m.ram }

// Devices returns the PC devices (PIC and PIT state for the monitor).
func (m *Machine) Devices() *devices.PC { return m.pc }

// Boot returns what the loader did: protocol, entry, loaded ranges, initrd.
func (m *Machine) Boot() *boot.Image { return m.boot }

// Kernel returns the kernel ELF and its path (for the debugger's
// exec-file and symbol lookups).
func (m *Machine) Kernel() (path string, data []byte) { return m.cfg.KernelPath, m.cfg.Kernel }

// Cmdline is the kernel command line.
func (m *Machine) Cmdline() string { return m.cfg.Append }

// MemoryBytes is the size of guest RAM.
func (m *Machine) MemoryBytes() uint64 { return uint64(len(m.ram)) }

// Instret is the number of retired instructions: the machine's clock.
func (m *Machine) Instret() uint64 { return m.cpu.Instret() }

// Events returns the CPU's exception history, oldest first.
func (m *Machine) Events() []cpu.Event { return m.cpu.Events() }

// Stats returns the CPU's counters.
func (m *Machine) Stats() cpu.Stats { return m.cpu.Stats() }

// Console returns a copy of the last 64 KiB the guest wrote to COM1.
func (m *Machine) Console() []byte { return m.console.bytes() }

// ConsoleTotal is the number of bytes the guest ever wrote to COM1.
func (m *Machine) ConsoleTotal() uint64 { return m.console.total }

// Exited reports whether the guest wrote to isa-debug-exit, and the code.
func (m *Machine) Exited() (code int, ok bool) { return m.pc.Exit.Exited() }

// SetBreakOn selects the vectors whose delivery stops the machine.
func (m *Machine) SetBreakOn(s BreakOnSet) {
	m.breakOn = s
	for v := 0; v < 256; v++ {
		m.cpu.SetBreakOn(uint8(v), s.Vectors[v])
	}
}

// BreakOn returns the current break-on set.
func (m *Machine) BreakOn() BreakOnSet { return m.breakOn }

// RequestStop makes a running Run/RunUntil return StopRequested soon
// (gdb's ^C). Safe from any goroutine.
func (m *Machine) RequestStop() {
	m.userStop.Store(true)
	m.cpu.RequestStop()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run runs until something stops the machine (see StopKind). Cancelling
// ctx stops it with StopRequested.
func (m *Machine) Run(ctx context.Context) Stop {
	return m.run(ctx, ^uint64(0), false)
}

// RunUntil is Run that also stops (StopLimit) when the instruction count
// reaches limit.
func (m *Machine) RunUntil(ctx context.Context, limit uint64) Stop {
	return m.run(ctx, limit, false)
}

// Step executes one instruction, or delivers one pending interrupt or
// exception (stopping at the handler's first instruction). A halted CPU
// waits (in virtual time) for its next interrupt.
func (m *Machine) Step(ctx context.Context) Stop {
	return m.run(ctx, ^uint64(0), true)
}

func (m *Machine) run(ctx context.Context, limit uint64, step bool) (st Stop) {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Done() != nil {
		fired := make(chan struct{})
		stopWatch := context.AfterFunc(ctx, func() {
			m.cpu.RequestStop()
			close(fired)
		})
		defer func() {
			if !stopWatch() {
				<-fired
			}
		}()
	}
	defer func() {
		m.serial.flush()
		st.Instret = m.cpu.Instret()
	}()
	for {
		if code, ok := m.pc.Exit.Exited(); ok {
			return Stop{Kind: StopDebugExit, Code: code}
		}
		if m.resetBy != "" {
			// As QEMU with -no-reboot: a reset ends the run, and every
			// later Run says so again.
			return Stop{Kind: StopReset, Reset: m.resetBy}
		}
		if ctx.Err() != nil || m.userStop.Swap(false) {
			return Stop{Kind: StopRequested}
		}
		now := m.cpu.Instret()
		if now >= limit {
			return Stop{Kind: StopLimit}
		}
		m.pc.UART.Poll()
		m.pc.PIT.Advance(now)
		slice := limit
		deadline, timerArmed := m.pc.PIT.NextDeadline(now)
		if timerArmed && deadline < slice {
			slice = deadline
		}
		if m.trace != nil && slice-now > m.trace.slice {
			slice = now + m.trace.slice
		}
		if slice <= now {
			slice = now + 1
		}
		var ex cpu.Exit
		if step {
			ex = m.cpu.Step()
		} else {
			ex = m.cpu.Run(slice)
		}
		if err := m.drainTrace(); err != nil {
			return Stop{Kind: StopInternal, Err: fmt.Errorf("--trace-int: %w", err)}
		}
		switch ex.Kind {
		case cpu.ExitLimit:
			continue
		case cpu.ExitStep:
			m.pc.PIT.Advance(m.cpu.Instret())
			return Stop{Kind: StopStep}
		case cpu.ExitHalt:
			if st, stop := m.halted(ctx, limit); stop {
				return st
			}
			continue
		case cpu.ExitStopRequest:
			if code, ok := m.pc.Exit.Exited(); ok {
				return Stop{Kind: StopDebugExit, Code: code}
			}
			if m.resetBy != "" {
				return Stop{Kind: StopReset, Reset: m.resetBy}
			}
			if m.userStop.Swap(false) || ctx.Err() != nil {
				return Stop{Kind: StopRequested}
			}
			// The PIT was reprogrammed (recompute the deadline), or a
			// request was left over from an earlier run whose context was
			// cancelled after it had stopped: go on.
			m.timerWritten = false
			continue
		case cpu.ExitBreakpoint:
			return Stop{Kind: StopBreakpoint, Addr: ex.Addr}
		case cpu.ExitWatchpoint:
			return Stop{Kind: StopWatchpoint, Addr: ex.Addr, Watch: ex.Watch}
		case cpu.ExitBreakOn:
			e := copyEvent(ex.Event)
			return Stop{Kind: StopBreakOn, Event: e, Chain: nestedChain(m.cpu.Events(), e)}
		case cpu.ExitTripleFault:
			e := copyEvent(ex.Event)
			return Stop{Kind: StopTripleFault, Event: e, Chain: tripleChain(m.cpu.Events(), e)}
		case cpu.ExitInternal:
			return Stop{Kind: StopInternal, Err: ex.Err}
		default:
			return Stop{Kind: StopInternal, Err: fmt.Errorf("cpu returned unknown exit kind %d", ex.Kind)}
		}
	}
}

// copyEvent detaches an event from the CPU's own storage.
func copyEvent(e *cpu.Event) *cpu.Event {
	if e == nil {
		return nil
	}
	c := *e
	return &c
}

// halted handles HLT: time jumps to the next timer interrupt, or the
// machine waits for serial input, or nothing can ever wake the CPU.
func (m *Machine) halted(ctx context.Context, limit uint64) (Stop, bool) {
	now := m.cpu.Instret()
	st := m.cpu.State()
	if st.RFLAGS&x86.FlagIF == 0 {
		// HLT with IF=0: only NMI, SMI or INIT could resume it, and this
		// machine has none (SDM Vol. 2A HLT).
		return Stop{Kind: StopHaltedForever}, true
	}
	deadline, armed := m.pc.PIT.NextDeadline(now)
	_, _, imr := m.pc.PIC.Registers()
	if armed && imr&1 == 0 {
		if deadline > limit {
			m.cpu.AdvanceTo(limit)
			return Stop{Kind: StopLimit}, true
		}
		m.cpu.AdvanceTo(deadline)
		return Stop{}, false
	}
	if m.inputPossible() && imr&(1<<4) == 0 {
		// Only the serial port can wake the CPU: wait for the host.
		m.serial.flush()
		select {
		case <-m.inputReady:
			return Stop{}, false
		case <-ctx.Done():
			return Stop{Kind: StopRequested}, true
		case <-m.wake:
			m.userStop.Store(false)
			return Stop{Kind: StopRequested}, true
		}
	}
	return Stop{Kind: StopHaltedForever}, true
}

func (m *Machine) drainTrace() error {
	if m.trace == nil {
		return nil
	}
	before := m.trace.lastSeq
	err := m.trace.drain(m.cpu.Events())
	if m.trace.lastSeq-before > traceBusySlice {
		m.trace.slice = traceSliceMin
	} else {
		m.trace.slice = min(m.trace.slice*2, traceSliceMax)
	}
	return err
}

// serialSink receives COM1's bytes: it keeps them in the console ring and
// passes them to the configured writer, a line at a time (and whatever is
// pending at the end of each run).
type serialSink struct {
	m      *Machine
	w      io.Writer
	buf    []byte
	err    error
	logged bool
}

func (s *serialSink) Write(p []byte) (int, error) {
	for _, b := range p {
		s.m.console.writeByte(b)
	}
	if s.w == nil {
		return len(p), nil
	}
	s.buf = append(s.buf, p...)
	if len(s.buf) >= 4096 || (len(p) > 0 && p[len(p)-1] == '\n') {
		s.flush()
	}
	return len(p), nil
}

func (s *serialSink) flush() {
	if s.w == nil || len(s.buf) == 0 {
		return
	}
	if s.err == nil {
		_, s.err = s.w.Write(s.buf)
		if s.err != nil && !s.logged {
			s.logged = true
			s.m.log(fmt.Sprintf("serial output: %v (further output is dropped)", s.err))
		}
	}
	s.buf = s.buf[:0]
}
