package cpu

import (
	"fmt"
	"testing"
)

// nativeSelfLoop is a loop whose block chains to itself: its final JMP
// (exit 1) goes back to its own head.
func nativeSelfLoop() []byte {
	code := []byte{0xeb, 0x00} // jmp +0: marks the head
	for i := 0; i < 6; i++ {
		code = append(code, 0x48, 0x01, 0xd8) // add rax, rbx
	}
	code = append(code, 0x48, 0x01, 0xc2) // add rdx, rax
	return append(code, 0xeb, byte(2-(len(code)+2)))
}

// TestNativeChainStopsOnLimit: blocks chained in host code stop where Run's
// limit says, to the instruction: a chain entry refuses a block that
// would pass the budget, and the interpreter runs what is left.
func TestNativeChainStopsOnLimit(t *testing.T) {
	requireNativeTier(t)
	c, _ := newWB(t, nativeSelfLoop())
	c.SetReg(RBX, 3)
	for limit, i := uint64(1), uint64(0); limit < 5000; limit, i = limit+1+i%61, i+1 {
		if ex := c.Run(limit); ex.Kind != ExitLimit || c.Instret() != limit {
			t.Fatalf("Run(%d): exit %v, instret %d", limit, ex.Kind, c.Instret())
		}
	}
	n := c.Instret()
	// The first instruction is the JMP +0; then rounds of 6 adds, an
	// add to RDX and the JMP.
	adds := (n - 1) / 8 * 6
	if r := (n - 1) % 8; r > 0 {
		adds += min(r, 6)
	}
	if c.Reg(RAX) != 3*adds {
		t.Errorf("rax %d after %d instructions, want %d", c.Reg(RAX), n, 3*adds)
	}
	if c.native.chained == 0 {
		t.Errorf("no block was entered from another (runs %d)", c.native.runs)
	}
}

// TestNativeChainStops: RequestStop ends a loop of chained blocks, which
// never come back to Go on their own.
func TestNativeChainStops(t *testing.T) {
	requireNativeTier(t)
	c, _ := newWB(t, nativeSelfLoop())
	c.SetReg(RBX, 3)
	c.Run(100) // the head marked and translated
	runUntilStopped(t, c)
	if c.native.chained == 0 {
		t.Errorf("no block was entered from another (runs %d)", c.native.runs)
	}
}

// BenchmarkNativeChain runs a block that chains to itself: a loop of k
// register adds and the JMP back, so each round is one exit and one
// chain entry in host code (compare BenchmarkNativeBlock, where each
// round comes back to Go).
func BenchmarkNativeChain(b *testing.B) {
	for _, k := range []int{2, 6, 26} {
		b.Run(fmt.Sprintf("adds=%d", k), func(b *testing.B) {
			code := []byte{0xeb, 0x00}
			for i := 0; i < k; i++ {
				code = append(code, 0x48, 0x01, 0xd8) // add rax, rbx
			}
			code = append(code, 0xeb, byte(2-(len(code)+2)))
			c, _ := newWB(b, code)
			benchLoops(b, c, uint64(k+1))
		})
	}
}
