package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"

	"vmapstack/target"
)

// Exit statuses of the stub with --listen none (docs/design.md §5): the kernel's
// isa-debug-exit code (0 success, 1 panic) when it exits that way.
const (
	exitTripleFault = 3
	exitFailure     = 2 // bad flags, a kernel that does not load, a hang, an emulator error
	exitInterrupted = 130
)

// stdio are the process's standard streams, replaceable in tests.
type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
	// mapRAM gives the guest's RAM: target.MapRAM in main, whose
	// process ends with its machine; nil: the Go heap, for the tests,
	// which run many machines in one process and would keep each
	// mapping.
	mapRAM func(size uint64) ([]byte, error)
}

// run builds the machine from the options and either serves a debugger or
// runs the kernel to its end. It returns the process exit status.
func run(ctx context.Context, o options, s stdio) int {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	code := runMachine(ctx, o, s, func() { cancel(errQuit) })
	if errors.Is(context.Cause(ctx), errQuit) {
		// QEMU's Ctrl-a x ends the run with success.
		fmt.Fprintf(s.err, "\r\nstub: terminated (Ctrl-a x)\r\n")
		return 0
	}
	return code
}

// errQuit is the cause of the context's end when the user typed Ctrl-a x.
var errQuit = errors.New("quit from the console")

// runMachine builds the machine from the options and either serves a
// debugger or runs the kernel to its end; quit is what Ctrl-a x calls.
func runMachine(ctx context.Context, o options, s stdio, quit func()) int {
	cfg, closeAll, err := machineConfig(o, s)
	if err != nil {
		fmt.Fprintf(s.err, "stub: %v\n", err)
		return exitFailure
	}
	defer closeAll()
	if o.Serial == "stdio" {
		// Only once the files are known good: a bad flag must not leave
		// the terminal raw, even for a moment.
		in, restore, err := consoleInput(s.in, s.err, quit)
		if err != nil {
			fmt.Fprintf(s.err, "stub: %v\n", err)
			return exitFailure
		}
		defer restore()
		cfg.SerialIn = in
	}
	var symbols []byte
	if o.Symbols != "" {
		if symbols, err = readSymbols(o.Symbols); err != nil {
			fmt.Fprintf(s.err, "stub: --symbols: %v\n", err)
			return exitFailure
		}
	}
	if s.mapRAM != nil {
		if cfg.MemoryBytes == 0 {
			cfg.MemoryBytes = target.DefaultMemory
		}
		if cfg.RAM, err = s.mapRAM(cfg.MemoryBytes); err != nil {
			fmt.Fprintf(s.err, "stub: %v\n", err)
			return exitFailure
		}
	}
	m, err := target.New(cfg)
	if err != nil {
		fmt.Fprintf(s.err, "stub: %v\n", err)
		return exitFailure
	}
	m.SetBreakOn(o.BreakOn)
	if o.Listen == "none" {
		return runStandalone(ctx, m, s.err)
	}
	return serveDebugger(ctx, o, m, symbols, s)
}

// machineConfig turns the options into a target.Config, opening the
// serial and trace files. closeAll flushes and closes them.
func machineConfig(o options, s stdio) (target.Config, func(), error) {
	var closers []io.Closer
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i].Close()
		}
	}
	cfg := target.Config{
		Kernel:      embeddedKernel,
		KernelPath:  embeddedKernelPath,
		Append:      o.Append,
		MemoryBytes: o.Memory,
		Interpret:   !o.Native,
		Log:         func(msg string) { fmt.Fprintf(s.err, "stub: %s\n", msg) },
	}
	if o.Kernel == "" && len(embeddedKernel) == 0 {
		return cfg, closeAll, fmt.Errorf("this build has no embedded kernel: pass --kernel PATH")
	}
	if o.Kernel != "" {
		data, err := readInputFile(o.Kernel, maxKernelBytes)
		if err != nil {
			return cfg, closeAll, fmt.Errorf("--kernel: %w", err)
		}
		cfg.Kernel, cfg.KernelPath = data, o.Kernel
	}
	if o.Initrd != "" {
		data, err := readInputFile(o.Initrd, o.Memory)
		if err != nil {
			return cfg, closeAll, fmt.Errorf("--initrd: %w", err)
		}
		cfg.Initrd, cfg.InitrdPath = data, o.Initrd
	}
	switch o.Serial {
	case "none":
	case "stdio":
		cfg.Serial = s.out
		cfg.SerialIn = s.in
	default:
		f, err := os.Create(o.Serial)
		if err != nil {
			closeAll()
			return cfg, func() {}, fmt.Errorf("--serial: %w", err)
		}
		closers = append(closers, f)
		cfg.Serial = f
	}
	if o.TraceInt != "" {
		f, err := os.Create(o.TraceInt)
		if err != nil {
			closeAll()
			return cfg, func() {}, fmt.Errorf("--trace-int: %w", err)
		}
		closers = append(closers, f)
		cfg.TraceInt = f
	}
	return cfg, closeAll, nil
}

// runStandalone runs the machine with no debugger until the kernel exits,
// the CPU shuts down, or the machine can make no progress. A break-on stop
// prints the delivery on stderr and the machine continues: with no
// debugger there is nobody to hand the stop to.
func runStandalone(ctx context.Context, m *target.Machine, errw io.Writer) int {
	for {
		st := m.Run(ctx)
		switch st.Kind {
		case target.StopDebugExit:
			return st.Code
		case target.StopTripleFault:
			fmt.Fprintf(errw, "stub: %s\n", st)
			return exitTripleFault
		case target.StopReset:
			// Linux's reboot: the run ends with success, as QEMU's
			// -no-reboot does.
			fmt.Fprintf(errw, "stub: %s: the run ends, as QEMU's with -no-reboot\n", st)
			return 0
		case target.StopBreakOn:
			fmt.Fprintf(errw, "stub: %s\n", st)
			continue
		case target.StopBreakpoint, target.StopWatchpoint:
			// Nobody sets these without a debugger; keep going.
			continue
		case target.StopRequested:
			if ctx.Err() != nil {
				fmt.Fprintf(errw, "stub: interrupted after %d instructions\n", m.Instret())
				return exitInterrupted
			}
			continue
		default:
			fmt.Fprintf(errw, "stub: %s (after %d instructions)\n", st, m.Instret())
			return exitFailure
		}
	}
}

// maxSymbolsBytes bounds what --symbols reads: Debian's 6.1 vmlinux
// with DWARF is about 700 MiB.
const maxSymbolsBytes = 4 << 30

// readSymbols reads a --symbols file: a regular file holding an ELF
// with a symbol table (gdb would load it anyway; the stub checks first
// so that a wrong path says so before the machine starts).
func readSymbols(path string) ([]byte, error) {
	data, err := readInputFile(path, maxSymbolsBytes)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is not an ELF file (%w)", path, err)
	}
	defer f.Close()
	if f.Section(".symtab") == nil {
		return nil, fmt.Errorf("%s has no symbol table (a stripped vmlinux, such as the one inside a bzImage, adds nothing to what the stub builds from kallsyms)", path)
	}
	return data, nil
}

// maxKernelBytes bounds what --kernel reads: Debian's bzImage is about
// 8 MiB and a vmlinux with DWARF a few hundred.
const maxKernelBytes = 1 << 30

// readInputFile reads a regular file of at most limit bytes. A device, a
// FIFO or a file larger than the guest could hold is refused before it is
// read, so --kernel /dev/zero says why instead of reading without end.
func readInputFile(path string, limit uint64) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading waits for a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	if uint64(st.Size()) > limit {
		return nil, fmt.Errorf("%s is %d MiB, more than the %d MiB it may be", path, st.Size()>>20, limit>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read what Stat promised and no more: a file that grows meanwhile
	// is cut there rather than read without bound.
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}
