package cpu

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

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

// mulAccLoop is the inner loop of a multi-precision multiply-accumulate,
// dst[j] += src[j] * limb with the carry in RSI, in the form GCC gives the
// portable C (the 128-bit product from four 32x32 IMULs, carries by
// compare, SETB and ADC): the shape of the loops that are half of a
// Debian kernel's boot (its MPI code, in the crypto self-tests), all
// register forms but three memory operands and one branch. The operands:
// EDI counts up from -n (RBP holds -n too), R11 and R10 point at src and
// dst, R8 and R9 hold the low and high halves of the limb, RBX is 1<<32.
//
//	1: movslq %edi,%rax           48 63 c7
//	   sub    %rbp,%rax           48 29 e8
//	   mov    (%r11,%rax,8),%rcx  49 8b 0c c3
//	   lea    0x0(,%rax,8),%r12   4c 8d 24 c5 00 00 00 00
//	   mov    %rcx,%rdx           48 89 ca
//	   mov    %ecx,%ecx           89 c9
//	   shr    $0x20,%rdx          48 c1 ea 20
//	   mov    %rcx,%rax           48 89 c8
//	   imul   %r8,%rax            49 0f af c0
//	   mov    %rdx,%r13           49 89 d5
//	   imul   %r8,%r13            4d 0f af e8
//	   imul   %r9,%rcx            49 0f af c9
//	   imul   %r9,%rdx            49 0f af d1
//	   mov    %rax,%r14           49 89 c6
//	   mov    %eax,%eax           89 c0
//	   shr    $0x20,%r14          49 c1 ee 20
//	   add    %r13,%rcx           4c 01 e9
//	   add    %r14,%rcx           4c 01 f1
//	   mov    %rdx,%r14           49 89 d6
//	   add    %rbx,%rdx           48 01 da
//	   cmp    %r13,%rcx           4c 39 e9
//	   mov    %rcx,%r13           49 89 cd
//	   cmovae %r14,%rdx           49 0f 43 d6
//	   add    %rsi,%rax           48 01 f0
//	   shl    $0x20,%r13          49 c1 e5 20
//	   add    %r13,%rax           4c 01 e8
//	   cmp    %rsi,%rax           48 39 f0
//	   setb   %sil                40 0f 92 c6
//	   add    %r10,%r12           4d 01 d4
//	   shr    $0x20,%rcx          48 c1 e9 20
//	   movzbl %sil,%esi           40 0f b6 f6
//	   add    (%r12),%rax         49 03 04 24
//	   adc    %rcx,%rsi           48 11 ce
//	   mov    %rax,(%r12)         49 89 04 24
//	   add    %rdx,%rsi           48 01 d6
//	   add    $0x1,%edi           83 c7 01
//	   jne    1b                  75 81
var mulAccLoop = []byte{
	0x48, 0x63, 0xc7, 0x48, 0x29, 0xe8, 0x49, 0x8b, 0x0c, 0xc3,
	0x4c, 0x8d, 0x24, 0xc5, 0x00, 0x00, 0x00, 0x00, 0x48, 0x89, 0xca,
	0x89, 0xc9, 0x48, 0xc1, 0xea, 0x20, 0x48, 0x89, 0xc8, 0x49, 0x0f, 0xaf, 0xc0,
	0x49, 0x89, 0xd5, 0x4d, 0x0f, 0xaf, 0xe8, 0x49, 0x0f, 0xaf, 0xc9,
	0x49, 0x0f, 0xaf, 0xd1, 0x49, 0x89, 0xc6, 0x89, 0xc0, 0x49, 0xc1, 0xee, 0x20,
	0x4c, 0x01, 0xe9, 0x4c, 0x01, 0xf1, 0x49, 0x89, 0xd6, 0x48, 0x01, 0xda,
	0x4c, 0x39, 0xe9, 0x49, 0x89, 0xcd, 0x49, 0x0f, 0x43, 0xd6, 0x48, 0x01, 0xf0,
	0x49, 0xc1, 0xe5, 0x20, 0x4c, 0x01, 0xe8, 0x48, 0x39, 0xf0,
	0x40, 0x0f, 0x92, 0xc6, 0x4d, 0x01, 0xd4, 0x48, 0xc1, 0xe9, 0x20,
	0x40, 0x0f, 0xb6, 0xf6, 0x49, 0x03, 0x04, 0x24, 0x48, 0x11, 0xce,
	0x49, 0x89, 0x04, 0x24, 0x48, 0x01, 0xd6, 0x83, 0xc7, 0x01, 0x75, 0x81,
}

// mulAccSetup points the loop at n limbs of src (wbData) and dst
// (wbData+0x10000) and sets the limb.
func mulAccSetup(c *CPU, n int, limb uint64) {
	c.SetReg(RDI, uint64(uint32(-n)))
	c.SetReg(RBP, uint64(-n))
	c.SetReg(R11, wbData)
	c.SetReg(R10, wbData+0x10000)
	c.SetReg(R8, limb&0xffffffff)
	c.SetReg(R9, limb>>32)
	c.SetReg(RBX, 1<<32)
	c.SetReg(RSI, 0)
}

// TestMulAccLoopRuns checks the loop's arithmetic against math/bits, so
// the benchmark below measures a loop that computes the right thing, in
// runLinked and in single steps.
func TestMulAccLoopRuns(t *testing.T) {
	const n = 16
	const limb = 0xfedcba9876543210
	for _, linked := range []bool{true, false} {
		c, ram := newWB(t, append(append([]byte{}, mulAccLoop...), 0xf4))
		src, dst := make([]uint64, n), make([]uint64, n)
		x := uint64(0x9e3779b97f4a7c15)
		for j := range src {
			x = x*6364136223846793005 + 1442695040888963407
			src[j] = x
			x = x*6364136223846793005 + 1442695040888963407
			dst[j] = x
			binary.LittleEndian.PutUint64(ram[wbData+8*j:], src[j])
			binary.LittleEndian.PutUint64(ram[wbData+0x10000+8*j:], dst[j])
		}
		mulAccSetup(c, n, limb)
		if linked {
			if ex := c.Run(1 << 20); ex.Kind != ExitHalt {
				t.Fatalf("exit %v at %#x", ex.Kind, c.RIP())
			}
		} else {
			for i := 0; i < 1<<20 && ram[c.RIP()] != 0xf4; i++ {
				if ex := c.Step(); ex.Kind != ExitStep {
					t.Fatalf("step: exit %v at %#x", ex.Kind, c.RIP())
				}
			}
		}
		var carry uint64
		for j := range dst {
			hi, lo := bits.Mul64(src[j], limb)
			var cy uint64
			lo, cy = bits.Add64(lo, carry, 0)
			hi += cy
			dst[j], cy = bits.Add64(dst[j], lo, 0)
			carry = hi + cy
			if got := binary.LittleEndian.Uint64(ram[wbData+0x10000+8*j:]); got != dst[j] {
				t.Errorf("linked=%v: dst[%d] = %#x, want %#x", linked, j, got, dst[j])
			}
		}
		if got := c.Reg(RSI); got != carry {
			t.Errorf("linked=%v: carry %#x, want %#x", linked, got, carry)
		}
		want := uint64(n * 37) // 37 instructions a limb, and the HLT when run
		if linked {
			want++
		}
		if c.Instret() != want {
			t.Errorf("linked=%v: instret %d, want %d", linked, c.Instret(), want)
		}
	}
}

// BenchmarkRunMulAcc reports guest instructions per second on
// mulAccLoop, restarted over 64 limbs.
func BenchmarkRunMulAcc(b *testing.B) {
	// mov $-64,%edi; mov $-64,%rbp; the loop; jmp back to the first mov.
	code := []byte{0xbf, 0xc0, 0xff, 0xff, 0xff, 0x48, 0xc7, 0xc5, 0xc0, 0xff, 0xff, 0xff}
	code = append(code, mulAccLoop...)
	code = append(code, 0xe9)
	code = binary.LittleEndian.AppendUint32(code, uint32(-(len(code) + 4)))
	c, _ := newWB(b, code)
	mulAccSetup(c, 64, 0xfedcba9876543210)
	const chunk = 1 << 20
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ex := c.Run(c.Instret() + chunk); ex.Kind != ExitLimit {
			b.Fatalf("exit %v at %#x", ex.Kind, c.RIP())
		}
	}
	b.ReportMetric(float64(b.N)*chunk/b.Elapsed().Seconds(), "instr/s")
}
