package cpu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
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
	// Runs longer than a call's budget: several calls into host code.
	runs, start := c.native.runs, c.Instret()
	for _, step := range []uint64{nativeCallBudget - 1, nativeCallBudget, nativeCallBudget + 1, 2*nativeCallBudget + 7, 5*nativeCallBudget - 3} {
		limit := c.Instret() + step
		if ex := c.Run(limit); ex.Kind != ExitLimit || c.Instret() != limit {
			t.Fatalf("Run(%d): exit %v, instret %d", limit, ex.Kind, c.Instret())
		}
	}
	if n := c.Instret() - start; c.native.runs-runs < n/nativeCallBudget {
		t.Errorf("%d calls into host code for %d instructions, at most %d each", c.native.runs-runs, n, nativeCallBudget)
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

// TestNativeChainLetsGCRun: a garbage collection while the CPU runs a
// block chained to itself, with no limit, completes, and RequestStop
// then ends the run: host code must come back to Go now and then
// (nativeCallBudget), or the collection's stop-the-world waits for it
// forever. Run in a child process, which the parent kills if it hangs.
// (From an independent review's reproducer.)
func TestNativeChainLetsGCRun(t *testing.T) {
	requireNativeTier(t)
	if os.Getenv("VMAPSTACK_GC_CHILD") == "1" {
		c, _ := newWB(t, nativeSelfLoop())
		c.SetReg(RBX, 3)
		c.Run(100) // the head marked, translated, chained to itself
		done := make(chan Exit)
		go func() { done <- c.Run(^uint64(0)) }()
		time.Sleep(200 * time.Millisecond) // in the chain by now
		runtime.GC()                       // needs the CPU's goroutine at a safe point
		c.RequestStop()
		if ex := <-done; ex.Kind != ExitStopRequest {
			t.Fatalf("exit %v, want a stop request", ex.Kind)
		}
		if c.native.chained == 0 {
			t.Fatal("no block was entered from another")
		}
		return
	}
	// A safety net, not a timing: the child takes a fraction of a second.
	// Within the test's own deadline, so that the child is never left
	// spinning.
	deadline := time.Now().Add(time.Minute)
	if d, ok := t.Deadline(); ok && d.Add(-5*time.Second).Before(deadline) {
		deadline = d.Add(-5 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestNativeChainLetsGCRun$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "VMAPSTACK_GC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("runtime.GC while a block ran chained to itself: the process hung (killed at %v)\n%s", deadline.Format(time.TimeOnly), out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNativeChainLetsGCRun") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
