package cpu

import (
	"math"
	"testing"

	"vmapstack/target/x86"
)

// sseBenchLoop is the shape of glibc's SSE2 string loops plus scalar
// double arithmetic, run with the default MXCSR:
//
//	1: movdqa   (%rax), %xmm1    66 0f 6f 08
//	   pcmpeqb  %xmm0, %xmm1     66 0f 74 c8
//	   pmovmskb %xmm1, %ecx      66 0f d7 c9
//	   pminub   %xmm1, %xmm2     66 0f da d1
//	   por      %xmm1, %xmm2     66 0f eb d1
//	   addsd    %xmm3, %xmm4     f2 0f 58 e3
//	   mulsd    %xmm3, %xmm4     f2 0f 59 e3
//	   dec      %rdx             48 ff ca
//	   jnz      1b               75 df
var sseBenchLoop = []byte{
	0x66, 0x0f, 0x6f, 0x08, 0x66, 0x0f, 0x74, 0xc8, 0x66, 0x0f, 0xd7, 0xc9,
	0x66, 0x0f, 0xda, 0xd1, 0x66, 0x0f, 0xeb, 0xd1, 0xf2, 0x0f, 0x58, 0xe3,
	0xf2, 0x0f, 0x59, 0xe3, 0x48, 0xff, 0xca, 0x75, 0xdf,
}

// BenchmarkSSELoop reports guest instructions per second on sseBenchLoop.
func BenchmarkSSELoop(b *testing.B) {
	c, _ := newWB(b, sseBenchLoop)
	c.cr4 |= x86.CR4OSFXSR | x86.CR4OSXMMEXCPT
	c.SetReg(RAX, wbData)
	c.SetReg(RDX, 1<<62)
	c.setXMM(3, math.Float64bits(1.0000001), 0)
	c.setXMM(4, math.Float64bits(1.5), 0)
	const chunk = 1 << 20
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ex := c.Run(c.Instret() + chunk); ex.Kind != ExitLimit {
			b.Fatalf("exit %v at %#x", ex.Kind, c.RIP())
		}
		c.setXMM(4, math.Float64bits(1.5), 0) // keep the product finite
	}
	b.ReportMetric(float64(b.N)*chunk/b.Elapsed().Seconds(), "instr/s")
}
