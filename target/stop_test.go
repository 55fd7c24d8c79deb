package target

import (
	"bytes"
	"strings"
	"testing"

	"vmapstack/target/cpu"
)

func TestFormatIntLine(t *testing.T) {
	tests := []struct {
		name  string
		count int
		ev    cpu.Event
		want  string
	}{
		{
			name:  "page fault shows CR2",
			count: 0,
			ev: cpu.Event{Kind: cpu.EventException, Vector: 14, HasError: true, ErrorCode: 2,
				CR2: 0xffffc90000003ff8, CS: 0x10, RIP: 0xffffffff80001234, SS: 0x18, RSP: 0xffffc90000004000},
			want: "     0: v=0e e=0002 i=0 cpl=0 IP=0010:ffffffff80001234 pc=ffffffff80001234 SP=0018:ffffc90000004000 CR2=ffffc90000003ff8\n",
		},
		{
			name:  "double fault shows EAX",
			count: 1,
			ev:    cpu.Event{Kind: cpu.EventException, Vector: 8, HasError: true, CS: 0x10, RIP: 0xffffffff80001234, SS: 0x18, RSP: 0xffffc90000004000, RAX: 0x3d},
			want:  "     1: v=08 e=0000 i=0 cpl=0 IP=0010:ffffffff80001234 pc=ffffffff80001234 SP=0018:ffffc90000004000 env->regs[R_EAX]=000000000000003d\n",
		},
		{
			name:  "software interrupt from user mode",
			count: 123456,
			ev:    cpu.Event{Kind: cpu.EventSoftware, Vector: 0x80, CS: 0x33, RIP: 0x401000, SS: 0x2b, RSP: 0x7ffe0000, CPL: 3},
			want:  "123456: v=80 e=0000 i=1 cpl=3 IP=0033:0000000000401000 pc=0000000000401000 SP=002b:000000007ffe0000 env->regs[R_EAX]=0000000000000000\n",
		},
		{
			name:  "timer interrupt, wide error field",
			count: 7,
			ev:    cpu.Event{Kind: cpu.EventInterrupt, Vector: 0x20, CS: 0x10, RIP: 0x100000, SS: 0x18, RSP: 0x8000},
			want:  "     7: v=20 e=0000 i=0 cpl=0 IP=0010:0000000000100000 pc=0000000000100000 SP=0018:0000000000008000 env->regs[R_EAX]=0000000000000000\n",
		},
		{
			name:  "gp with selector error code",
			count: 2,
			ev:    cpu.Event{Kind: cpu.EventException, Vector: 13, HasError: true, ErrorCode: 0x12345, CS: 0x10, RIP: 1, SS: 0x18, RSP: 2},
			want:  "     2: v=0d e=12345 i=0 cpl=0 IP=0010:0000000000000001 pc=0000000000000001 SP=0018:0000000000000002 env->regs[R_EAX]=0000000000000000\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatIntLine(tc.count, &tc.ev); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestIntTracerDrain(t *testing.T) {
	var b bytes.Buffer
	tr := &intTracer{w: &b}
	ev := func(seq uint64, v uint8) cpu.Event {
		k := cpu.EventInterrupt
		if v < 32 {
			k = cpu.EventException
		}
		return cpu.Event{Seq: seq, Vector: v, Kind: k}
	}
	// First drain: events 1 and 2.
	if err := tr.drain([]cpu.Event{ev(1, 0x20), ev(2, 0x21)}); err != nil {
		t.Fatal(err)
	}
	// Second drain sees the ring again with one new event: only it is written.
	if err := tr.drain([]cpu.Event{ev(1, 0x20), ev(2, 0x21), ev(3, 0x0e)}); err != nil {
		t.Fatal(err)
	}
	// A gap (events 4..5 fell out of the ring) is reported.
	if err := tr.drain([]cpu.Event{ev(6, 0x08)}); err != nil {
		t.Fatal(err)
	}
	// A #PF raised while delivering that #DF (a triple fault) has no
	// line, as in QEMU.
	if err := tr.drain([]cpu.Event{ev(6, 0x08), {Seq: 7, Vector: 14, Nested: 6}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{"     0: v=20 ", "     1: v=21 ", "     2: v=0e ", "# 2 deliveries not traced", "     3: v=08 "}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if tr.lost != 2 {
		t.Errorf("lost = %d", tr.lost)
	}
}

func TestTripleChainAndMessage(t *testing.T) {
	// The vmapped-stack overflow with no IST for #DF: the #PF on the guard
	// page cannot be pushed, the #DF cannot be pushed either, and pushing
	// the #DF frame faults again.
	evs := []cpu.Event{
		{Seq: 5, Kind: cpu.EventInterrupt, Vector: 0x20, Delivered: true},
		{Seq: 6, Kind: cpu.EventException, Vector: 14, HasError: true, ErrorCode: 2, CR2: 0xffffc90000003ff8, RIP: 0xffffffff80001000, RSP: 0xffffc90000004000},
		{Seq: 7, Kind: cpu.EventException, Vector: 8, HasError: true, Nested: 6, RIP: 0xffffffff80001000, RSP: 0xffffc90000004000},
		{Seq: 8, Kind: cpu.EventException, Vector: 14, HasError: true, ErrorCode: 2, CR2: 0xffffc90000003ff8, Nested: 7},
	}
	df := evs[2]
	chain := tripleChain(evs, &df)
	if len(chain) != 3 || chain[0].Vector != 14 || chain[1].Vector != 8 || chain[2].Seq != 8 {
		t.Fatalf("chain = %+v", chain)
	}
	st := Stop{Kind: StopTripleFault, Event: &df, Chain: chain}
	msg := st.String()
	want := "triple fault: #PF (error 0x2, CR2=0xffffc90000003ff8) at RIP=0xffffffff80001000 RSP=0xffffc90000004000 could not be delivered" +
		": #DF could not be delivered either: #PF (error 0x2, CR2=0xffffc90000003ff8) raised while delivering #DF [#PF -> #DF -> #PF -> shutdown]"
	if msg != want {
		t.Errorf("message\n got %q\nwant %q", msg, want)
	}
	// Without the final fault in the history the chain ends at the #DF.
	if c := tripleChain(evs[:3], &df); len(c) != 2 {
		t.Errorf("chain without the last fault = %+v", c)
	}
	// An event whose Nested is not in the history ends the chain there.
	orphan := cpu.Event{Seq: 9, Vector: 8, Nested: 3}
	if c := nestedChain(evs, &orphan); len(c) != 1 {
		t.Errorf("orphan chain = %+v", c)
	}
}

func TestStopStrings(t *testing.T) {
	tests := []struct {
		st   Stop
		want string
	}{
		{Stop{Kind: StopDebugExit, Code: 1}, "isa-debug-exit with code 1"},
		{Stop{Kind: StopBreakpoint, Addr: 0xffffffff80000000}, "breakpoint at 0xffffffff80000000"},
		{Stop{Kind: StopWatchpoint, Addr: 0x1000, Watch: cpu.WatchWrite}, "write watchpoint at 0x0000000000001000"},
		{Stop{Kind: StopHaltedForever}, "halted with no interrupt that can wake the CPU"},
		{Stop{Kind: StopBreakOn, Event: &cpu.Event{Vector: 13, HasError: true, ErrorCode: 0x18, RIP: 0x10, RSP: 0x20}}, "break-on: #GP (error 0x18) at RIP=0x0000000000000010 RSP=0x0000000000000020"},
		{Stop{Kind: StopRequested}, "stop-requested"},
	}
	for _, tc := range tests {
		if got := tc.st.String(); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.st.Kind, got, tc.want)
		}
	}
}

func TestParseBreakOn(t *testing.T) {
	tests := []struct {
		in      string
		vectors []int
		wantErr string
		str     string
	}{
		{in: "triple", str: "triple"},
		{in: "df,pf", vectors: []int{8, 14}, str: "df,pf,triple"},
		{in: "DF, #GP ,ss", vectors: []int{8, 12, 13}, str: "df,ss,gp,triple"},
		{in: "14,0x20,triple", vectors: []int{14, 32}, str: "pf,32,triple"},
		{in: "nmi,db,bp,ud,de,np,ts,mf,ac", vectors: []int{0, 1, 2, 3, 6, 10, 11, 16, 17}, str: "de,db,nmi,bp,ud,ts,np,mf,ac,triple"},
		{in: "", str: "triple"},
		{in: "none", str: "triple"},
		{in: "pf,xx", wantErr: `unknown exception "xx"`},
		{in: "256", wantErr: `unknown exception "256"`},
		{in: "pf,", wantErr: `unknown exception ""`},
		{in: "-1", wantErr: "unknown exception"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := ParseBreakOn(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want [256]bool
			for _, v := range tc.vectors {
				want[v] = true
			}
			if s.Vectors != want {
				t.Errorf("got %v", s)
			}
			if got := s.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			// String round-trips through ParseBreakOn.
			back, err := ParseBreakOn(s.String())
			if err != nil || back != s {
				t.Errorf("round trip of %q: %v %v", s.String(), back, err)
			}
		})
	}
}

func TestConsoleRing(t *testing.T) {
	r := newConsoleRing(8)
	for _, b := range []byte("hello") {
		r.writeByte(b)
	}
	if got := string(r.bytes()); got != "hello" {
		t.Errorf("got %q", got)
	}
	c := r.clone()
	for _, b := range []byte(", world") {
		r.writeByte(b)
	}
	if got := string(r.bytes()); got != "o, world" {
		t.Errorf("after wrap got %q", got)
	}
	if r.total != 12 {
		t.Errorf("total = %d", r.total)
	}
	if got := string(c.bytes()); got != "hello" {
		t.Errorf("clone changed: %q", got)
	}
}
