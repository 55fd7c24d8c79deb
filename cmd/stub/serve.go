package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"vmapstack/gdbproto"
	"vmapstack/gdbtarget"
	"vmapstack/kernelsym"
	"vmapstack/monitor"
	"vmapstack/target"
)

// serveDebugger listens on o.Listen and serves gdb/lldb sessions for m, one
// at a time, until a debugger kills the machine (exit 0, as QEMU), the
// kernel exits through isa-debug-exit (its code), or the stub is
// interrupted. It returns the exit status.
func serveDebugger(ctx context.Context, o options, m *target.Machine, symbols []byte, s stdio) int {
	if !strings.HasPrefix(o.Listen, "unix:") && !gdbproto.IsLoopback(o.Listen) {
		fmt.Fprintf(s.err, "stub: warning: listening on %s, which is not a loopback address: "+
			"whoever connects can run arbitrary code in this machine and read its memory\n", o.Listen)
	}
	l, err := gdbproto.Listen(o.Listen)
	if err != nil {
		fmt.Fprintf(s.err, "stub: %v\n", err)
		return exitFailure
	}
	path, _ := m.Kernel()
	mon := monitor.New(m, nil) // the kernel's model, chosen from its file (kernelsym.ForImage)
	ef := execFile(o, mon, symbols, s)
	if ef != nil {
		// Build it now, before the banner says we are ready: for a
		// Linux bzImage that is an unpack and a kallsyms search (0.6 s
		// on a quiet 2-core AMD EPYC), and gdb's first packet waits for
		// it (qSupported offers qXfer:exec-file only when there is a
		// file). On a loaded host that wait could pass gdb's
		// remotetimeout (2 s) and garble the handshake.
		ef()
		if ctx.Err() != nil { // ^C while it was built: no banner
			return exitInterrupted
		}
	}
	t := gdbtarget.New(m, gdbtarget.Config{
		ExecPath:     execPath(o.Kernel),
		ExecFile:     ef,
		Monitor:      mon.Run,
		DescribeStop: mon.DescribeStop,
		MemoryRegion: func(addr uint64) (gdbproto.MemoryRegion, error) {
			r, err := mon.MemoryRegionAt(addr)
			return gdbproto.MemoryRegion{Start: r.Start, Size: r.Size, Mapped: r.Mapped, Write: r.Write, Exec: r.Exec}, err
		},
	})
	// "monitor phys on" and Qqemu.PhyMemMode switch the same mode.
	mon.OnPhys = func(on bool) { t.SetPhysMemMode(on) }
	mon.RunTime = t.RunTime
	opts := []gdbproto.Option{
		gdbproto.WithLogf(func(format string, args ...any) {
			fmt.Fprintf(s.err, "stub: "+strings.TrimPrefix(format, "gdbproto: ")+"\n", args...)
		}),
		gdbproto.WithUnattendedStop(func(ev gdbproto.StopEvent) {
			if ev.Message != "" {
				fmt.Fprintf(s.err, "stub: with no debugger attached: %s", ev.Message)
			}
		}),
	}
	// Off by default: polling up to 300 µs made gdb's stepi 8% faster
	// on an idle 2-core AMD EPYC and 37% slower with another program busy
	// on one core, where it held the core gdb needed (docs/speed.md,
	// "Sixth round").
	if o.BusyPoll > 0 {
		opts = append(opts, gdbproto.WithBusyPoll(o.BusyPoll))
	}
	if !o.Wait {
		opts = append(opts, gdbproto.WithStartRunning())
	}
	srv := gdbproto.NewServer(t, opts...)
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()

	// The port bound: with port 0 (--listen 127.0.0.1:0) the system picks
	// a free one, which only the banner tells (what scripts and tests use,
	// free of a probe-then-bind race). The host stays as the user wrote
	// it: ":1234" is what gdb's target remote takes, "[::]:1234" is not.
	listen := o.Listen
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		if host, _, err := net.SplitHostPort(o.Listen); err == nil {
			listen = net.JoinHostPort(host, strconv.Itoa(a.Port))
		}
	}
	// One write: a script (or test) that waits for "waiting for a
	// debugger" then finds the attach commands too, not half the banner.
	fmt.Fprintf(s.err, "stub: %s booted with %q; waiting for a debugger on %s\n"+
		"stub: attach with:  gdb -ex 'target remote %s'\n"+
		"stub:          or:  lldb -o '%s'\n",
		path, o.Append, listen, gdbAddress(listen), lldbConnect(listen))

	err = srv.Serve(l)
	var exit *gdbproto.ExitError
	switch {
	case errors.Is(err, gdbproto.ErrKilled):
		fmt.Fprintln(s.err, "stub: killed by the debugger")
		return 0
	case errors.As(err, &exit):
		if exit.Stop.Reason == gdbproto.StopExited {
			return exit.Stop.ExitCode
		}
		return exitFailure
	case errors.Is(err, gdbproto.ErrServerClosed):
		return exitInterrupted
	default:
		fmt.Fprintf(s.err, "stub: %v\n", err)
		return exitFailure
	}
}

// execFile says what gdb gets as its exec file when the kernel's own
// file will not do: the --symbols file as it is, or for a Linux kernel
// an ELF of its kallsyms (kernelsym.Linux.SymbolFile; docs/linux-boot.md
// says which addresses it has when). nil serves the kernel file.
func execFile(o options, mon *monitor.Monitor, symbols []byte, s stdio) func() (string, []byte) {
	if symbols != nil {
		p := execPath(o.Symbols)
		return func() (string, []byte) { return p, symbols }
	}
	if _, ok := mon.Kernel().(*kernelsym.Linux); !ok {
		return nil
	}
	var said string
	return func() (string, []byte) {
		l := mon.Kernel().(*kernelsym.Linux)
		p, data, err := l.SymbolFile()
		if err != nil {
			if msg := err.Error(); msg != said {
				said = msg
				fmt.Fprintf(s.err, "stub: no symbol file for gdb: %v\n", err)
			}
			return "", nil
		}
		return p, data
	}
}

// execPath is the name the kernel ELF is served under (qXfer:exec-file,
// vFile). gdb fetches the exec file from the target only for an absolute
// path (a relative one it looks up on the host and gives up), so the
// embedded kernel gets a fixed absolute name and --kernel's path is made
// absolute.
func execPath(kernelFlag string) string {
	if kernelFlag == "" {
		return "/vmapstack/embedded/kernel.elf"
	}
	if p, err := filepath.Abs(kernelFlag); err == nil {
		return p
	}
	return kernelFlag
}

// gdbAddress is what to type after gdb's "target remote": gdb takes a
// unix socket as a bare path.
func gdbAddress(listen string) string {
	if p, ok := strings.CutPrefix(listen, "unix:"); ok {
		return p
	}
	return listen
}

// lldbConnect is the lldb command that attaches: "gdb-remote" takes only
// [host:]port, so a unix socket needs "process connect" with a URL.
func lldbConnect(listen string) string {
	if p, ok := strings.CutPrefix(listen, "unix:"); ok {
		return "process connect unix-connect://" + p
	}
	return "gdb-remote " + listen
}
