package cpu_test

import (
	"context"
	"os"
	"testing"

	"vmapstack/internal/linuxtest"
	"vmapstack/kernelimg"
	"vmapstack/target"
)

// BenchmarkKernelBench boots the mini kernel's `bench` scenario (compute
// and context switches) and reports guest instructions per second.
func BenchmarkKernelBench(b *testing.B) {
	elf := kernelimg.ELF
	var instr uint64
	for i := 0; i < b.N; i++ {
		m, err := target.New(target.Config{Kernel: elf, Append: "scenario=bench"})
		if err != nil {
			b.Fatal(err)
		}
		st := m.Run(context.Background())
		if code, ok := m.Exited(); !ok || code != 0 {
			b.Fatalf("bench did not exit cleanly: %+v", st)
		}
		instr += m.Instret()
	}
	b.ReportMetric(float64(instr)/b.Elapsed().Seconds(), "instr/s")
	b.ReportMetric(float64(instr)/float64(b.N), "instr/op")
}

// BenchmarkLinuxBoot boots Debian's kernel with the workload initramfs of
// the Linux boot tests (internal/linuxtest) to its reboot and reports guest
// instructions per second: the profile of real kernel code (run with
// -benchtime 1x -cpuprofile). It skips where the Debian packages cannot be
// fetched.
func BenchmarkLinuxBoot(b *testing.B) {
	f := linuxtest.Require(b)
	kernel, err := os.ReadFile(f.Kernel)
	if err != nil {
		b.Fatal(err)
	}
	initrd, err := os.ReadFile(f.Initrd)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var instr, events, native uint64
	for i := 0; i < b.N; i++ {
		m, err := target.New(target.Config{
			Kernel: kernel, KernelPath: f.Kernel, Initrd: initrd, InitrdPath: f.Initrd,
			Append: linuxtest.Append, MemoryBytes: linuxtest.MemoryMiB << 20,
		})
		if err != nil {
			b.Fatal(err)
		}
		st := m.Run(context.Background())
		if st.Kind != target.StopReset {
			b.Fatalf("boot did not end in a reset: %v", st)
		}
		instr += m.Instret()
		events += m.CPU().EventCount()
		native += m.CPU().Stats().NativeInstructions
	}
	b.ReportMetric(float64(instr)/b.Elapsed().Seconds(), "instr/s")
	b.ReportMetric(float64(instr)/float64(b.N), "instr/op")
	// Exceptions and interrupts delivered: what the fault path costs.
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
	// The share of instructions run as host code (native.go).
	b.ReportMetric(float64(native)/float64(instr), "native/instr")
}
