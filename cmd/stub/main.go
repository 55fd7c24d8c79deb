// Command stub is a GDB remote stub whose target is an emulated x86-64
// machine booting the vmapstack mini kernel through PVH (docs/design.md §5).
//
//	stub [--kernel PATH] [--initrd PATH] [--symbols PATH] [--append STRING]
//	     [--listen ADDR|none] [--wait] [--break-on LIST]
//	     [--serial stdio|PATH|none] [--memory SIZE] [--trace-int FILE]
//	     [--native=false] [--busy-poll DURATION]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"vmapstack/target"
)

// stubGCPercent is the stub's GOGC (see main).
const stubGCPercent = 25

func main() {
	opts, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, errHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stub: %v\n", err)
		os.Exit(2)
	}
	// The heap is the decoded code and the native tier's blocks (the
	// guest's RAM is mapped outside it, target.MapRAM); at the default
	// GOGC their garbage may grow as large again before a collection. A
	// Debian boot in 256 MB (AMD EPYC): 228 MB resident at 100, 211 MB
	// at 50, 206 MB at 25 (QEMU's: 229 MB), in the same time. GOGC in
	// the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(stubGCPercent)
	}
	// SIGTERM as ^C: close the listener (removing a unix socket) and exit.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// The machine lives as long as the process: its RAM is mapped
	// outside the Go heap, for huge pages.
	code := run(ctx, opts, stdio{os.Stdin, os.Stdout, os.Stderr, target.MapRAM})
	cancel()
	os.Exit(code)
}
