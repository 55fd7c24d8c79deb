package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"vmapstack/target"
)

// options are the parsed command-line flags (docs/design.md §5).
type options struct {
	Kernel   string // path; "" means the embedded kernel
	Initrd   string // path; "" means none
	Symbols  string // path of a vmlinux with symbols (and DWARF) for a Linux kernel; "" means none
	Append   string
	Listen   string // host:port, unix:PATH or "none"
	Wait     bool
	BreakOn  target.BreakOnSet
	Serial   string        // "stdio", "none" or a file path
	Memory   uint64        // bytes
	TraceInt string        // file path, "" for none
	Native   bool          // the native tier (--native)
	BusyPoll time.Duration // --busy-poll: how long a read polls the debugger's socket before parking; 0 never
}

const (
	defaultAppend  = "scenario=overflow"
	defaultListen  = "127.0.0.1:1234"
	defaultBreakOn = "triple"
	defaultMemory  = "128M"
	maxBusyPoll    = 10 * time.Millisecond
	minMemory      = 2 << 20
	maxMemory      = 0xe0000000 // QEMU pc's below-4G RAM limit; the PVH loader refuses more
)

// errHelp is returned by parseArgs when -h/--help was given; the usage
// has been written.
var errHelp = pflag.ErrHelp

// parseArgs parses args (without the program name). Usage and errors go
// to out.
func parseArgs(args []string, out io.Writer) (options, error) {
	var o options
	fs := pflag.NewFlagSet("stub", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.StringVar(&o.Kernel, "kernel", "", "the kernel at `PATH`: an ELF with a PVH entry note, or a Linux bzImage such as /boot/vmlinuz-* (default: the embedded mini kernel)")
	fs.StringVar(&o.Initrd, "initrd", "", "the initramfs at `PATH` for a Linux kernel, as QEMU's -initrd")
	fs.StringVar(&o.Symbols, "symbols", "", "a vmlinux at `PATH` with symbols and DWARF for the Linux kernel (Debian's -dbg package): gdb gets it as the exec file (default: an ELF the stub builds from the kernel's kallsyms)")
	fs.StringVar(&o.Append, "append", defaultAppend, "`STRING` passed as the kernel command line: scenario=NAME plus flags nosync, noprobe, noist")
	fs.StringVar(&o.Listen, "listen", defaultListen, "debugger address `ADDR`: host:port (port 0: a free one, named in the banner) or unix:PATH; \"none\" runs the kernel to its end with no debugger")
	fs.BoolVar(&o.Wait, "wait", true, "start halted until a debugger resumes (--wait=false: run at once, attach later)")
	breakOn := fs.String("break-on", defaultBreakOn, "comma-separated `LIST` of deliveries that stop the machine and notify the debugger:\n"+
		target.BreakOnNames()+", a vector number (14, 0x20), or none")
	fs.StringVar(&o.Serial, "serial", "stdio", "`DEST` of COM1: \"stdio\" (output to stdout, stdin to the guest; on a terminal, raw mode where Ctrl-a x quits), a file path for the output, or \"none\"")
	memory := fs.String("memory", defaultMemory, "guest RAM `SIZE` with a K, M or G suffix (a bare number is MiB, as QEMU's -m)")
	fs.StringVar(&o.TraceInt, "trace-int", "", "write every exception/interrupt delivery to `FILE` in QEMU's -d int line format")
	fs.BoolVar(&o.Native, "native", true, "run straight runs of integer instructions as host code where the host is linux/amd64 (--native=false: interpret every instruction)")
	fs.DurationVar(&o.BusyPoll, "busy-poll", 0, "poll the debugger's socket up to `DURATION` (e.g. 300us) before sleeping, for faster stepping on\n"+
		"a host with a core to spare; on a busy host it slows stepping (default 0: off; at most 10ms; Linux only)")
	fs.Usage = func() {
		fmt.Fprintf(out, "stub: a GDB remote stub for an emulated x86-64 PC booting the embedded mini kernel (PVH), or Linux (--kernel vmlinuz --initrd ...)\n\n")
		fmt.Fprintf(out, "usage: stub [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(out, "\nWith --listen none the exit status is the kernel's isa-debug-exit code (0 success, 1 panic);\n"+
			"a triple fault exits 3 with a message on stderr; other failures exit 2.\n")
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q (all options are flags; see --help)", fs.Arg(0))
	}
	var err error
	if o.BreakOn, err = target.ParseBreakOn(*breakOn); err != nil {
		return options{}, fmt.Errorf("--break-on: %w", err)
	}
	if o.Memory, err = parseSize(*memory); err != nil {
		return options{}, fmt.Errorf("--memory: %w", err)
	}
	if o.Memory < minMemory || o.Memory > maxMemory {
		return options{}, fmt.Errorf("--memory: %s is out of range (2M to 3584M)", *memory)
	}
	if o.Memory%4096 != 0 {
		return options{}, fmt.Errorf("--memory: %s is not a multiple of 4 KiB", *memory)
	}
	if o.BusyPoll < 0 || o.BusyPoll > maxBusyPoll {
		return options{}, fmt.Errorf("--busy-poll: %v is out of range (0 to %v)", o.BusyPoll, maxBusyPoll)
	}
	if o.Listen == "" {
		return options{}, errors.New(`--listen: empty address (use host:port, unix:PATH or "none")`)
	}
	if o.Serial == "" {
		return options{}, errors.New(`--serial: empty (use "stdio", a file path or "none")`)
	}
	return o, nil
}

// parseSize parses a memory size: a number with an optional K, M, G or T
// suffix (binary units; "KiB", "MB" and the like are accepted too). A bare
// number is MiB, as for QEMU's -m.
func parseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty size")
	}
	u := strings.ToUpper(t)
	u = strings.TrimSuffix(u, "IB")
	u = strings.TrimSuffix(u, "B")
	mult := uint64(1 << 20)
	if n := len(u); n > 0 {
		switch u[n-1] {
		case 'K':
			mult, u = 1<<10, u[:n-1]
		case 'M':
			mult, u = 1<<20, u[:n-1]
		case 'G':
			mult, u = 1<<30, u[:n-1]
		case 'T':
			mult, u = 1<<40, u[:n-1]
		}
	}
	v, err := strconv.ParseUint(u, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q (want e.g. 128M, 1G)", s)
	}
	if v > math.MaxUint64/mult {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return v * mult, nil
}
