package cpu

import (
	"testing"

	"vmapstack/target/x86"
)

// irqBus raises INTR when the guest writes port 0x80.
type irqBus struct{ c *CPU }

func (b *irqBus) In(port uint16, size int) uint32 { return 0 }
func (b *irqBus) Out(port uint16, size int, v uint32) {
	if port == 0x80 {
		b.c.SetIRQ(true)
	}
}

// onePIC hands out one vector, then lowers INTR.
type onePIC struct {
	c      *CPU
	vector uint8
	acks   int
}

func (p *onePIC) Ack() (uint8, bool) {
	p.acks++
	p.c.SetIRQ(false)
	return p.vector, true
}

// withIDT gives every vector a 64-bit interrupt gate to a HLT at
// 0x9000+16*v.
func withIDT(c *CPU, ram []byte) {
	for v := uint64(0); v < 256; v++ {
		h := 0x9000 + 16*v
		ram[h] = 0xf4
		lo := h&0xffff | 8<<16 | uint64(0x8e00)<<32 | (h>>16&0xffff)<<48
		le64(ram, 0x7000+16*v, lo)
		le64(ram, 0x7000+16*v+8, h>>32)
	}
	s := c.State()
	s.IDTR = DTR{Base: 0x7000, Limit: 0xfff}
	c.SetState(&s)
}

func TestInterruptRaisedByOutIsTakenAfterIt(t *testing.T) {
	// out %al,$0x80; nop; nop; hlt
	c, ram := newWB(t, []byte{0xe6, 0x80, 0x90, 0x90, 0xf4})
	withIDT(c, ram)
	pic := &onePIC{c: c, vector: 0x30}
	c.bus, c.pic = &irqBus{c}, pic
	s := c.State()
	s.RFLAGS |= x86.FlagIF
	c.SetState(&s)
	ex := c.Run(100)
	if ex.Kind != ExitHalt || c.RIP() != 0x9000+16*0x30+1 {
		t.Fatalf("exit %v rip %#x, want halt in the 0x30 handler", ex.Kind, c.RIP())
	}
	ev := c.Events()
	if len(ev) != 1 || ev[0].Vector != 0x30 || ev[0].RIP != wbCode+2 || ev[0].Instret != 1 || !ev[0].Delivered {
		t.Fatalf("events %+v, want vector 0x30 at rip %#x after 1 instruction", ev, wbCode+2)
	}
}

func TestInterruptShadowAfterSTI(t *testing.T) {
	// sti; nop; nop; hlt with INTR already high: the interrupt comes after
	// the instruction following STI (SDM Vol. 2 STI).
	c, ram := newWB(t, []byte{0xfb, 0x90, 0x90, 0xf4})
	withIDT(c, ram)
	pic := &onePIC{c: c, vector: 0x31}
	c.pic = pic
	c.SetIRQ(true)
	c.Run(100)
	ev := c.Events()
	if len(ev) != 1 || ev[0].RIP != wbCode+2 || ev[0].Instret != 2 {
		t.Fatalf("events %+v, want the interrupt at rip %#x after 2 instructions", ev, wbCode+2)
	}
}

func TestInterruptAfterPopfSetsIF(t *testing.T) {
	// push $0x202; popfq; nop; hlt: no shadow after POPF.
	c, ram := newWB(t, []byte{0x68, 0x02, 0x02, 0, 0, 0x9d, 0x90, 0xf4})
	withIDT(c, ram)
	c.pic = &onePIC{c: c, vector: 0x32}
	c.SetIRQ(true)
	c.Run(100)
	ev := c.Events()
	if len(ev) != 1 || ev[0].RIP != wbCode+6 || ev[0].Instret != 2 {
		t.Fatalf("events %+v, want the interrupt at rip %#x after 2 instructions", ev, wbCode+6)
	}
}

func TestHaltWakesOnInterrupt(t *testing.T) {
	// sti; hlt; nop
	c, ram := newWB(t, []byte{0xfb, 0xf4, 0x90})
	withIDT(c, ram)
	c.pic = &onePIC{c: c, vector: 0x33}
	if ex := c.Run(100); ex.Kind != ExitHalt || !c.Halted() || c.RIP() != wbCode+2 {
		t.Fatalf("exit %v halted %v rip %#x", ex.Kind, c.Halted(), c.RIP())
	}
	c.AdvanceTo(1000)
	c.SetIRQ(true)
	c.Run(2000)
	ev := c.Events()
	if len(ev) != 1 || ev[0].RIP != wbCode+2 || ev[0].Instret != 1000 {
		t.Fatalf("events %+v, want the interrupt at the instruction after HLT at time 1000", ev)
	}
	// The frame's RIP is the instruction after HLT.
	if ret := c.read(c.Reg(RSP), 8); ret != wbCode+2 {
		t.Fatalf("frame rip %#x, want %#x", ret, wbCode+2)
	}
}

func TestWatchpointOnExceptionFrame(t *testing.T) {
	// ud2 with a write watchpoint on the stack slot the frame's RIP goes
	// to: Run stops at the handler with ExitWatchpoint.
	c, ram := newWB(t, []byte{0x0f, 0x0b})
	withIDT(c, ram)
	c.AddWatchpoint(wbStackTop-40, 8, WatchWrite)
	ex := c.Run(100)
	if ex.Kind != ExitWatchpoint || ex.Addr != wbStackTop-40 || ex.Watch != WatchWrite {
		t.Fatalf("exit %+v, want a write watchpoint at %#x", ex, wbStackTop-40)
	}
	if c.RIP() != 0x9000+16*x86.VecUD || c.Instret() != 0 {
		t.Fatalf("rip %#x instret %d, want the #UD handler, nothing retired", c.RIP(), c.Instret())
	}
}

func TestNestedEventsAndTripleFault(t *testing.T) {
	// push with RSP at an unmapped page: #PF; its delivery pushes on the
	// same unmapped stack and faults (#PF during #PF) -> #DF; the #DF gate
	// has no IST, so its delivery faults too: triple fault. Three events:
	// the #PF, the #DF nested in it, the #PF that killed the #DF.
	c, ram := newWB(t, []byte{0x50})
	withIDT(c, ram)
	le64(ram, wbPT+8*0x7f, 0) // page 0x7f000 not present
	c.SetReg(RSP, 0x80000)
	ex := c.Run(10)
	if ex.Kind != ExitTripleFault || ex.Event == nil || ex.Event.Vector != x86.VecDF {
		t.Fatalf("exit %+v, want a triple fault naming the #DF", ex)
	}
	ev := c.Events()
	if len(ev) != 3 {
		t.Fatalf("%d events, want #PF #DF #PF: %+v", len(ev), ev)
	}
	want := []struct {
		vec       uint8
		nested    uint64
		delivered bool
	}{{x86.VecPF, 0, false}, {x86.VecDF, 1, false}, {x86.VecPF, 2, false}}
	for i, w := range want {
		e := ev[i]
		if e.Vector != w.vec || e.Nested != w.nested || e.Delivered != w.delivered || e.Seq != uint64(i+1) || e.RIP != wbCode {
			t.Fatalf("event %d = %+v, want vector %d nested %d", i, e, w.vec, w.nested)
		}
	}
	if ev[0].CR2 != 0x7fff8 || ev[0].ErrorCode != 2 {
		t.Fatalf("first #PF cr2 %#x error %#x, want 0x7fff8 and W", ev[0].CR2, ev[0].ErrorCode)
	}
	// Shut down until SetState.
	if ex := c.Run(20); ex.Kind != ExitTripleFault {
		t.Fatalf("second Run: %v", ex.Kind)
	}
	s := c.State()
	s.GPR[RSP] = 0x70000 // a mapped stack: the push now succeeds
	c.SetState(&s)
	if ex := c.Step(); ex.Kind != ExitStep || c.Reg(RSP) != 0x70000-8 {
		t.Fatalf("after SetState: exit %v rsp %#x, want the push executed", ex.Kind, c.Reg(RSP))
	}
}

func TestDoubleFaultOnIST(t *testing.T) {
	// As above, but the #DF gate uses IST1 on a mapped stack: #DF is
	// delivered there, RSP aligned to 16, and break-on #DF stops at it.
	c, ram := newWB(t, []byte{0x50})
	withIDT(c, ram)
	le64(ram, wbPT+8*0x7f, 0)
	ram[0x7000+16*x86.VecDF+4] = 1  // IST 1
	le64(ram, 0x8000+0x24, 0x60008) // TSS.IST1 (not 16-aligned)
	s := c.State()
	s.TR = Seg{Sel: 0x30, Base: 0x8000, Limit: 0x67, Attr: 0x8b}
	s.GPR[RSP] = 0x80000
	c.SetState(&s)
	c.SetBreakOn(x86.VecDF, true)
	ex := c.Run(10)
	if ex.Kind != ExitBreakOn || ex.Event == nil || ex.Event.Vector != x86.VecDF || !ex.Event.Delivered || ex.Event.IST != 1 {
		t.Fatalf("exit %+v event %+v, want break-on #DF delivered on IST1", ex, ex.Event)
	}
	if want := uint64(0x60000 - 48); c.Reg(RSP) != want || ex.Event.NewRSP != want {
		t.Fatalf("rsp %#x NewRSP %#x, want %#x (aligned, 6 slots)", c.Reg(RSP), ex.Event.NewRSP, want)
	}
	if c.RIP() != 0x9000+16*x86.VecDF {
		t.Fatalf("rip %#x, want the #DF handler", c.RIP())
	}
	// The frame: error code 0, RIP of the push, CS, RFLAGS, old RSP, SS.
	frame := []uint64{0, wbCode, 8}
	for i, w := range frame {
		if v := c.read(c.Reg(RSP)+8*uint64(i), 8); v != w {
			t.Fatalf("frame slot %d = %#x, want %#x", i, v, w)
		}
	}
	if v := c.read(c.Reg(RSP)+24+8, 8); v != 0x80000 {
		t.Fatalf("frame RSP %#x, want 0x80000", v)
	}
}

func TestTrapFlagSingleStep(t *testing.T) {
	// pushf; orq $0x100,(%rsp); popf; nop; nop — the #DB trap comes after
	// the first instruction that ran with TF=1 (the nop after POPF), its
	// frame holding the next instruction.
	c, ram := newWB(t, []byte{0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90, 0xf4})
	withIDT(c, ram)
	c.Run(100)
	ev := c.Events()
	if len(ev) != 1 || ev[0].Vector != x86.VecDB || ev[0].RIP != wbCode+11 || ev[0].Instret != 4 {
		t.Fatalf("events %+v, want one #DB at rip %#x after 4 instructions", ev, wbCode+11)
	}
	if c.dr[6]&(1<<14) == 0 {
		t.Fatalf("DR6 %#x: BS not set", c.dr[6])
	}
	if c.RIP() != 0x9000+16*x86.VecDB+1 || c.rflags()&x86.FlagTF != 0 {
		t.Fatalf("rip %#x rflags %#x: want the #DB handler with TF clear", c.RIP(), c.rflags())
	}
}
