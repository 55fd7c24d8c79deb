// Command stub is a GDB remote stub whose target is an emulated x86-64
// machine booting the vmapstack mini kernel through PVH (docs/design.md §5).
//
//	stub [--kernel PATH] [--append STRING] [--listen ADDR|none] [--wait]
//	     [--break-on LIST] [--serial stdio|PATH|none] [--memory SIZE]
//	     [--trace-int FILE]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, errHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stub: %v\n", err)
		os.Exit(2)
	}
	// SIGTERM as ^C: close the listener (removing a unix socket) and exit.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	code := run(ctx, opts, stdio{os.Stdin, os.Stdout, os.Stderr})
	cancel()
	os.Exit(code)
}
