package cpu_test

import (
	"context"
	"testing"

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
