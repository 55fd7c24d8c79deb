package cpu

import "testing"

// bpSled is a run of NOPs ending in HLT, for breakpoint tests.
func bpSled(n int) []byte {
	code := make([]byte, n+1)
	for i := range code[:n] {
		code[i] = 0x90
	}
	code[n] = 0xf4
	return code
}

// runHits runs from the start of the sled of n NOPs to its HLT (where a
// breakpoint ends the run: an executed HLT would leave the CPU halted) and
// returns the addresses where other breakpoints stopped it.
func runHits(t *testing.T, c *CPU, n uint64) []uint64 {
	t.Helper()
	c.SetBreakpoint(wbCode+n, true)
	defer c.SetBreakpoint(wbCode+n, false)
	s := c.State()
	s.RIP = wbCode
	c.SetState(&s)
	var hits []uint64
	for {
		ex := c.Run(c.Instret() + 1<<20)
		switch ex.Kind {
		case ExitBreakpoint:
			if ex.Addr == wbCode+n {
				return hits
			}
			hits = append(hits, ex.Addr)
		default:
			t.Fatalf("exit %+v at %#x", ex, c.RIP())
		}
	}
}

// TestManyBreakpoints inserts and removes thousands of breakpoints,
// several sharing each filter slot (addresses 64 KiB apart, never
// reached), and checks that each one set stops the run and each one
// removed no longer does.
func TestManyBreakpoints(t *testing.T) {
	const n = 0x8000
	c, _ := newWB(t, bpSled(n))
	var want []uint64
	for a := uint64(wbCode); a < wbCode+n; a += 4 {
		c.SetBreakpoint(a, true)
		c.SetBreakpoint(a, true) // setting twice is setting once
		for k := uint64(1); k <= 2; k++ {
			c.SetBreakpoint(a+k<<16+1<<40, true) // same slot, unreachable
		}
		want = append(want, a)
	}
	check := func(what string) {
		t.Helper()
		got := runHits(t, c, n)
		if len(got) != len(want) {
			t.Fatalf("%s: %d hits, want %d", what, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: hit %d at %#x, want %#x", what, i, got[i], want[i])
			}
		}
	}
	check("all set")

	// Remove every other reachable breakpoint; their slots keep the
	// unreachable ones.
	want = want[:0]
	for a := uint64(wbCode); a < wbCode+n; a += 4 {
		if (a-wbCode)%8 == 0 {
			c.SetBreakpoint(a, false)
			c.SetBreakpoint(a, false) // clearing twice is clearing once
		} else {
			want = append(want, a)
		}
	}
	check("half removed")

	// Remove the unreachable ones: the remaining reachable ones, alone in
	// their slots now, still stop the run.
	for a := uint64(wbCode); a < wbCode+n; a += 4 {
		for k := uint64(1); k <= 2; k++ {
			c.SetBreakpoint(a+k<<16+1<<40, false)
		}
	}
	check("colliders removed")
	// A breakpoint set again after its slot emptied stops the run again.
	c.SetBreakpoint(wbCode, true)
	want = append([]uint64{wbCode}, want...)
	check("one set again")

	for _, a := range want {
		c.SetBreakpoint(a, false)
	}
	want = nil
	check("all removed")
	if c.nbps != 0 {
		t.Fatalf("nbps = %d after removing every breakpoint", c.nbps)
	}
	for i, w := range c.bpFilter {
		if w != 0 {
			t.Fatalf("filter word %d = %#x after removing every breakpoint", i, w)
		}
	}
}

// BenchmarkBreakpointInsertRemove inserts and removes 60,000 breakpoints
// (a debugger script's Z0/z0 burst); before insert and remove were O(1)
// it took tens of seconds.
func BenchmarkBreakpointInsertRemove(b *testing.B) {
	c, _ := newWB(b, bpSled(16))
	const n = 60000
	for i := 0; i < b.N; i++ {
		for a := uint64(0); a < n; a++ {
			c.SetBreakpoint(0xffffffff81000000+a*3, true)
		}
		for a := uint64(0); a < n; a++ {
			c.SetBreakpoint(0xffffffff81000000+a*3, false)
		}
	}
}
