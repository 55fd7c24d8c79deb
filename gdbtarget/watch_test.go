package gdbtarget

import (
	"context"
	"testing"

	"vmapstack/gdbproto"
	"vmapstack/kernelimg"
	"vmapstack/kernelsym"
	"vmapstack/target"
	"vmapstack/target/cpu"
)

// TestWatchReasonFollowsAccess: with a write and a read watchpoint on the
// same variable, each stop names the watchpoint of the access that fired
// (watch for a store, rwatch for a load), and two runs give the same
// sequence: the reason must not depend on map iteration order.
func TestWatchReasonFollowsAccess(t *testing.T) {
	k, err := kernelsym.Load(kernelimg.ELF)
	if err != nil {
		t.Fatal(err)
	}
	sym, ok := k.Lookup("current_task")
	if !ok {
		t.Fatal("no current_task in the kernel's symbols")
	}
	run := func() []gdbproto.StopReason {
		m, err := target.New(target.Config{Kernel: kernelimg.ELF, Append: "scenario=tasks"})
		if err != nil {
			t.Fatal(err)
		}
		tg := New(m, Config{})
		for _, kind := range []gdbproto.WatchKind{gdbproto.WatchWrite, gdbproto.WatchRead} {
			if err := tg.SetWatchpoint(kind, sym.Addr, 8); err != nil {
				t.Fatal(err)
			}
		}
		var reasons []gdbproto.StopReason
		for i := 0; i < 16; i++ {
			ev, err := tg.Resume(context.Background(), gdbproto.Action{})
			if err != nil {
				t.Fatal(err)
			}
			if ev.Exited() {
				break
			}
			st := tg.LastStop()
			want := gdbproto.StopRWatch
			if st.Watch == cpu.WatchWrite {
				want = gdbproto.StopWatch
			}
			if ev.Reason != want || ev.WatchAddr != sym.Addr {
				t.Fatalf("stop %d: %v at %#x for a %v access; want %v at %#x", i, ev.Reason, ev.WatchAddr, st.Watch, want, sym.Addr)
			}
			reasons = append(reasons, ev.Reason)
		}
		return reasons
	}
	a, b := run(), run()
	if len(a) < 4 {
		t.Fatalf("only %d watchpoint stops: %v", len(a), a)
	}
	sawWrite, sawRead := false, false
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			t.Fatalf("two runs differ: %v vs %v", a, b)
		}
		sawWrite = sawWrite || a[i] == gdbproto.StopWatch
		sawRead = sawRead || a[i] == gdbproto.StopRWatch
	}
	if !sawWrite || !sawRead {
		t.Errorf("want both kinds of stop among %v", a)
	}
}

// TestZeroLengthWatchpointIsAnError: gdb takes the empty reply as "Z2 not
// supported" for the rest of the session; a bad length is an error.
func TestZeroLengthWatchpointIsAnError(t *testing.T) {
	m, err := target.New(target.Config{Kernel: kernelimg.ELF, Append: "scenario=tasks"})
	if err != nil {
		t.Fatal(err)
	}
	err = New(m, Config{}).SetWatchpoint(gdbproto.WatchWrite, 0x1000, 0)
	if err == nil || err == gdbproto.ErrUnsupported {
		t.Errorf("zero-length watchpoint: %v; want an error other than ErrUnsupported", err)
	}
}
