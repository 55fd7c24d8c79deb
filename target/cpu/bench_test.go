package cpu

import "testing"

// benchLoop is a hand-assembled 64-bit loop, run with paging on:
//
//	1: add  $1, %rax            48 83 c0 01
//	   xor  %rax, %rbx          48 31 c3
//	   mov  %rbx, -8(%rsp)      48 89 5c 24 f8
//	   mov  -8(%rsp), %rcx      48 8b 4c 24 f8
//	   lea  (%rcx,%rax,2), %rsi 48 8d 34 41
//	   cmp  %rsi, %rdi          48 39 f7
//	   dec  %rdx                48 ff ca
//	   jnz  1b                  75 e4
var benchLoop = []byte{
	0x48, 0x83, 0xc0, 0x01,
	0x48, 0x31, 0xc3,
	0x48, 0x89, 0x5c, 0x24, 0xf8,
	0x48, 0x8b, 0x4c, 0x24, 0xf8,
	0x48, 0x8d, 0x34, 0x41,
	0x48, 0x39, 0xf7,
	0x48, 0xff, 0xca,
	0x75, 0xe4,
}

func TestBenchLoopRuns(t *testing.T) {
	c, _ := newWB(t, append(append([]byte{}, benchLoop...), 0xf4))
	c.SetReg(RDX, 100)
	ex := c.Run(10000)
	if ex.Kind != ExitHalt {
		t.Fatalf("exit %v at rip %#x", ex.Kind, c.RIP())
	}
	if c.Reg(RAX) != 100 || c.Instret() != 100*8+1 {
		t.Fatalf("rax %d instret %d, want 100 and 801", c.Reg(RAX), c.Instret())
	}
}

// BenchmarkRunLoop reports guest instructions per second on benchLoop.
func BenchmarkRunLoop(b *testing.B) {
	c, _ := newWB(b, benchLoop)
	c.SetReg(RDX, 1<<62)
	const chunk = 1 << 20
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ex := c.Run(c.Instret() + chunk); ex.Kind != ExitLimit {
			b.Fatalf("exit %v", ex.Kind)
		}
	}
	b.ReportMetric(float64(b.N)*chunk/b.Elapsed().Seconds(), "instr/s")
}
