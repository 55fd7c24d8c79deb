// Command guestprof profiles a Debian boot from the guest's side: where,
// in the guest's code, the host's time goes. It boots Debian's kernel with
// the workload initramfs of the Linux boot tests (as
// scripts/bench/linux-boot.sh does, plus nokaslr so that the addresses are
// the image's own), stops every -every instructions, and charges the wall
// time of each slice to the kernel function (by the image's kallsyms) or
// to user space, at the RIP where the slice ended: a sampling profile with
// host nanoseconds per guest instruction for each function, next to the
// TLB misses, decodes and code invalidations of its slices. Go's pprof
// says which of our functions cost; this says on which guest code.
//
// Usage: go run ./internal/linuxtest/cmd/guestprof [-every N] [-top K]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"vmapstack/internal/linuxtest"
	"vmapstack/kernelsym/bzimage"
	"vmapstack/kernelsym/kallsyms"
	"vmapstack/target"
	"vmapstack/target/cpu"
)

func main() {
	every := flag.Uint64("every", 1<<20, "guest instructions per sample")
	top := flag.Int("top", 30, "functions to print")
	flag.Parse()
	if err := run(*every, *top); err != nil {
		fmt.Fprintf(os.Stderr, "guestprof: %v\n", err)
		os.Exit(1)
	}
}

// bucket is what the slices that ended in one function cost.
type bucket struct {
	name    string
	wall    time.Duration
	samples int
	delta   cpu.Stats // summed over the slices
}

func run(every uint64, top int) error {
	if every == 0 {
		return fmt.Errorf("-every must be at least 1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f, err := linuxtest.Prepare(ctx, "")
	if err != nil {
		return err
	}
	kernel, err := os.ReadFile(f.Kernel)
	if err != nil {
		return err
	}
	initrd, err := os.ReadFile(f.Initrd)
	if err != nil {
		return err
	}
	vmlinux, err := bzimage.Vmlinux(kernel)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Kernel, err)
	}
	syms, _, err := kallsyms.FindInImage(vmlinux)
	if err != nil {
		return fmt.Errorf("%s: kallsyms: %w", f.Kernel, err)
	}
	syms = textSymbols(syms)
	m, err := target.New(target.Config{
		Kernel: kernel, KernelPath: f.Kernel, Initrd: initrd, InitrdPath: f.Initrd,
		Append: linuxtest.Append + " nokaslr", MemoryBytes: linuxtest.MemoryMiB << 20,
	})
	if err != nil {
		return err
	}
	buckets := map[string]*bucket{}
	prev := m.Stats()
	start := time.Now()
	var stop target.Stop
	for {
		t := time.Now()
		stop = m.RunUntil(ctx, m.Instret()+every)
		wall := time.Since(t)
		s := m.Stats()
		name := functionAt(syms, m.CPU().State().RIP)
		b := buckets[name]
		if b == nil {
			b = &bucket{name: name}
			buckets[name] = b
		}
		b.wall += wall
		b.samples++
		b.delta.Instructions += s.Instructions - prev.Instructions
		b.delta.TLBMisses += s.TLBMisses - prev.TLBMisses
		b.delta.DecodeMisses += s.DecodeMisses - prev.DecodeMisses
		b.delta.Invalidates += s.Invalidates - prev.Invalidates
		b.delta.TLBFlushes += s.TLBFlushes - prev.TLBFlushes
		prev = s
		if stop.Kind != target.StopLimit {
			break
		}
	}
	total := time.Since(start)
	fmt.Printf("%s: %d instructions in %.3f s, ended: %v\n", f.Release, m.Instret(), total.Seconds(), stop)
	list := make([]*bucket, 0, len(buckets))
	for _, b := range buckets {
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].wall > list[j].wall })
	fmt.Printf("%-36s %8s %6s %8s %9s %8s %7s %6s\n", "function", "wall s", "wall%", "samples", "ns/instr", "TLBmiss", "decode", "inval")
	for _, b := range list[:min(top, len(list))] {
		nsPer := 0.0
		if b.delta.Instructions > 0 {
			nsPer = float64(b.wall.Nanoseconds()) / float64(b.delta.Instructions)
		}
		fmt.Printf("%-36.36s %8.3f %5.1f%% %8d %9.2f %8d %7d %6d\n", b.name, b.wall.Seconds(),
			100*b.wall.Seconds()/total.Seconds(), b.samples, nsPer,
			b.delta.TLBMisses, b.delta.DecodeMisses, b.delta.Invalidates)
	}
	return nil
}

// textSymbols keeps the code symbols, sorted by address.
func textSymbols(syms []kallsyms.Symbol) []kallsyms.Symbol {
	var text []kallsyms.Symbol
	for _, s := range syms {
		switch s.Type {
		case 'T', 't', 'W', 'w':
			text = append(text, s)
		}
	}
	sort.Slice(text, func(i, j int) bool { return text[i].Addr < text[j].Addr })
	return text
}

// functionAt names the function holding rip: "user" below the kernel half.
func functionAt(syms []kallsyms.Symbol, rip uint64) string {
	if rip < 1<<63 {
		return "(user)"
	}
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > rip }) - 1
	if i < 0 {
		return fmt.Sprintf("(%#x)", rip)
	}
	return syms[i].Name
}
