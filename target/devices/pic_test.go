package devices

import "testing"

// initPIC programs both chips as Linux and our kernel do: vectors 0x20
// and 0x28, cascade on IRQ2, 8086 mode, everything masked but want.
func initPIC(p *PIC, icw4 uint8, unmasked uint16) {
	p.Out(0x20, 1, 0x11)
	p.Out(0xa0, 1, 0x11)
	p.Out(0x21, 1, 0x20)
	p.Out(0xa1, 1, 0x28)
	p.Out(0x21, 1, 0x04)
	p.Out(0xa1, 1, 0x02)
	p.Out(0x21, 1, uint32(icw4))
	p.Out(0xa1, 1, uint32(icw4))
	p.Out(0x21, 1, uint32(^unmasked&0xff))
	p.Out(0xa1, 1, uint32(^unmasked>>8&0xff))
}

func TestPICInitAndPriority(t *testing.T) {
	var intr []bool
	p := NewPIC(func(l bool) { intr = append(intr, l) })
	initPIC(p, 0x01, 0xffff)
	if m, s := p.Bases(); m != 0x20 || s != 0x28 {
		t.Fatalf("bases %#x %#x", m, s)
	}
	if p.In(0x21, 1) != 0 || p.In(0xa1, 1) != 0 {
		t.Fatalf("IMR not written by OCW1")
	}
	// Raise 1, 3, 12: 1 is served first, then (cascade IRQ2 > 3) 12, then 3.
	p.RaiseIRQ(3)
	p.RaiseIRQ(12)
	p.RaiseIRQ(1)
	if !p.Output() || len(intr) != 1 || !intr[0] {
		t.Fatalf("INTR %v history %v", p.Output(), intr)
	}
	want := []uint8{0x21, 0x2c, 0x23}
	for i, w := range want {
		v, ok := p.Ack()
		if !ok || v != w {
			t.Fatalf("ack %d: %#x %v, want %#x", i, v, ok, w)
		}
		// Nested: with the vector in service, lower ones wait.
		if i < 2 && p.Output() {
			t.Fatalf("ack %d: INTR high while a higher IRQ is in service", i)
		}
		// EOI: slave first for a slave IRQ.
		if w >= 0x28 {
			p.Out(0xa0, 1, 0x20)
		}
		p.Out(0x20, 1, 0x20)
	}
	if p.Output() {
		t.Errorf("INTR high with nothing pending")
	}
	if _, ok := p.Ack(); ok {
		t.Errorf("Ack with nothing pending returned ok")
	}
	irr, isr, _ := p.Registers()
	if irr != 0 || isr != 0 {
		t.Errorf("IRR %#x ISR %#x after EOIs", irr, isr)
	}
}

func TestPICMaskAndEdge(t *testing.T) {
	p := NewPIC(nil)
	initPIC(p, 0x01, 0xfffe) // IRQ0 masked
	p.PulseIRQ(0)
	if p.Output() {
		t.Fatal("masked IRQ raised INTR")
	}
	irr, _, _ := p.Registers()
	if irr&1 == 0 {
		t.Fatal("masked edge not latched in IRR")
	}
	p.Out(0x21, 1, 0x00) // unmask all
	if !p.Output() {
		t.Fatal("unmasking a latched IRQ did not raise INTR")
	}
	if v, ok := p.Ack(); !ok || v != 0x20 {
		t.Fatalf("ack %#x %v", v, ok)
	}
	p.RaiseIRQ(1)
	if p.Output() {
		t.Fatal("IRQ1 interrupts IRQ0 in service")
	}
	p.Out(0x20, 1, 0x20) // non-specific EOI ends IRQ0
	if v, ok := p.Ack(); !ok || v != 0x21 {
		t.Fatalf("ack %#x %v, want 0x21", v, ok)
	}
	p.Out(0x20, 1, 0x20)
	// Edge-triggered: a line held high does not request again.
	if p.Output() {
		t.Fatal("a held line requested twice")
	}
	p.LowerIRQ(1)
	p.RaiseIRQ(1)
	if v, ok := p.Ack(); !ok || v != 0x21 {
		t.Fatalf("new edge not seen: %#x %v", v, ok)
	}
}

func TestPICSpecificEOIAndOCW3(t *testing.T) {
	p := NewPIC(nil)
	initPIC(p, 0x01, 0xffff)
	p.PulseIRQ(5)
	p.PulseIRQ(6)
	p.Out(0x20, 1, 0x0a) // OCW3: read IRR
	if got := p.In(0x20, 1); got != 0x60 {
		t.Errorf("IRR %#x", got)
	}
	p.Ack()              // 5 in service
	p.Out(0x20, 1, 0x0b) // OCW3: read ISR
	if got := p.In(0x20, 1); got != 0x20 {
		t.Errorf("ISR %#x", got)
	}
	p.Out(0x20, 1, 0x60|6) // specific EOI for 6: not in service, no effect on 5
	if got := p.In(0x20, 1); got != 0x20 {
		t.Errorf("ISR after wrong specific EOI %#x", got)
	}
	p.Out(0x20, 1, 0x60|5)
	if got := p.In(0x20, 1); got != 0 {
		t.Errorf("ISR after specific EOI %#x", got)
	}
	if v, ok := p.Ack(); !ok || v != 0x26 {
		t.Errorf("ack %#x %v", v, ok)
	}
}

func TestPICAutoEOIAndRotation(t *testing.T) {
	p := NewPIC(nil)
	initPIC(p, 0x03, 0xffff) // AEOI
	p.PulseIRQ(4)
	if v, ok := p.Ack(); !ok || v != 0x24 {
		t.Fatalf("ack %#x %v", v, ok)
	}
	if _, isr, _ := p.Registers(); isr != 0 {
		t.Errorf("AEOI left ISR %#x", isr)
	}
	// Set priority: IRQ 4 lowest, so 5 now beats 0.
	p.Out(0x20, 1, 0xc0|4)
	p.PulseIRQ(0)
	p.PulseIRQ(5)
	if v, _ := p.Ack(); v != 0x25 {
		t.Errorf("after rotation got %#x, want 0x25", v)
	}
}

func TestPICPoll(t *testing.T) {
	p := NewPIC(nil)
	initPIC(p, 0x01, 0xffff)
	p.Out(0x20, 1, 0x0c) // poll
	if got := p.In(0x20, 1); got != 0 {
		t.Errorf("poll with nothing pending: %#x", got)
	}
	p.PulseIRQ(3)
	p.Out(0x20, 1, 0x0c)
	if got := p.In(0x20, 1); got != 0x83 {
		t.Errorf("poll: %#x", got)
	}
	if _, isr, _ := p.Registers(); isr != 0x08 {
		t.Errorf("poll did not acknowledge: ISR %#x", isr)
	}
}

func TestPICSpurious(t *testing.T) {
	p := NewPIC(nil)
	initPIC(p, 0x01, 0xffff)
	p.SpuriousIRQ7 = true
	if v, ok := p.Ack(); !ok || v != 0x27 {
		t.Errorf("spurious: %#x %v", v, ok)
	}
	if _, isr, _ := p.Registers(); isr != 0 {
		t.Errorf("spurious IRQ7 set ISR %#x", isr)
	}
}

func TestPICLevelAndELCR(t *testing.T) {
	p := NewPIC(nil)
	initPIC(p, 0x01, 0xffff)
	p.Out(ELCR+1, 1, 0xff)
	if got := p.In(ELCR+1, 1); got != 0xde {
		t.Errorf("ELCR2 %#x, want the PIIX mask 0xde", got)
	}
	p.RaiseIRQ(9) // level-triggered
	if v, _ := p.Ack(); v != 0x29 {
		t.Fatalf("ack %#x", v)
	}
	p.Out(0xa0, 1, 0x20)
	p.Out(0x20, 1, 0x20)
	if !p.Output() {
		t.Fatal("a level line still high did not request again")
	}
	// Dropping the level withdraws the slave's request, but the master's
	// IR2 is edge-triggered and already latched: the acknowledge finds
	// nothing on the slave, which answers its spurious IRQ7 (as QEMU and
	// the 8259A datasheet do).
	p.LowerIRQ(9)
	if v, ok := p.Ack(); !ok || v != 0x2f {
		t.Fatalf("ack %#x %v, want the slave's spurious 0x2f", v, ok)
	}
	if _, isr, _ := p.Registers(); isr != 0x04 {
		t.Errorf("ISR %#x, want only the cascade in service", isr)
	}
}

func TestPICOutOfRange(t *testing.T) {
	p := NewPIC(nil)
	p.RaiseIRQ(-1)
	p.RaiseIRQ(16)
	if irr, _, _ := p.Registers(); irr != 0 {
		t.Errorf("IRR %#x", irr)
	}
}

func TestPICModes(t *testing.T) {
	t.Run("single mode without ICW4", func(t *testing.T) {
		p := NewPIC(nil)
		p.Out(0x20, 1, 0x12) // ICW1: single, no ICW4
		p.Out(0x21, 1, 0x48) // ICW2; no ICW3/ICW4 follow
		p.Out(0x21, 1, 0xfd) // so this is OCW1
		if got := p.In(0x21, 1); got != 0xfd {
			t.Errorf("IMR %#x", got)
		}
		p.PulseIRQ(1)
		if v, ok := p.Ack(); !ok || v != 0x49 {
			t.Errorf("ack %#x %v", v, ok)
		}
	})
	t.Run("cascade without ICW4", func(t *testing.T) {
		p := NewPIC(nil)
		p.Out(0x20, 1, 0x10) // ICW1: cascade, no ICW4
		p.Out(0x21, 1, 0x50) // ICW2
		p.Out(0x21, 1, 0x04) // ICW3
		p.Out(0x21, 1, 0x00) // OCW1
		p.PulseIRQ(3)
		if v, ok := p.Ack(); !ok || v != 0x53 {
			t.Errorf("ack %#x %v", v, ok)
		}
	})
	t.Run("rotate on non-specific EOI", func(t *testing.T) {
		p := NewPIC(nil)
		initPIC(p, 0x01, 0xffff)
		p.PulseIRQ(1)
		p.Ack()
		p.Out(0x20, 1, 0xa0) // rotate on non-specific EOI: 1 becomes lowest
		p.PulseIRQ(1)
		p.PulseIRQ(6)
		if v, _ := p.Ack(); v != 0x26 {
			t.Errorf("after rotation got %#x, want 0x26", v)
		}
		p.Out(0x20, 1, 0xe0|6) // rotate on specific EOI 6: 6 lowest, 7 highest
		p.PulseIRQ(7)
		if v, _ := p.Ack(); v != 0x27 {
			t.Errorf("after specific rotation got %#x, want 0x27", v)
		}
	})
	t.Run("rotate in AEOI", func(t *testing.T) {
		p := NewPIC(nil)
		initPIC(p, 0x03, 0xffff)
		p.Out(0x20, 1, 0x80) // set rotate in AEOI
		p.PulseIRQ(0)
		p.Ack() // 0 becomes lowest
		p.PulseIRQ(0)
		p.PulseIRQ(5)
		if v, _ := p.Ack(); v != 0x25 {
			t.Errorf("got %#x, want 0x25", v)
		}
		p.Out(0x20, 1, 0x00) // clear rotate in AEOI
		p.Out(0x20, 1, 0xc7) // 7 lowest: 0 highest again
		p.PulseIRQ(3)
		if v, _ := p.Ack(); v != 0x20 {
			t.Errorf("got %#x, want 0x20", v)
		}
	})
	t.Run("special mask mode", func(t *testing.T) {
		p := NewPIC(nil)
		initPIC(p, 0x01, 0xffff)
		p.PulseIRQ(4)
		p.Ack()              // 4 in service blocks 5
		p.Out(0x21, 1, 0x10) // mask 4
		p.Out(0x20, 1, 0x68) // set special mask
		p.PulseIRQ(5)
		if v, ok := p.Ack(); !ok || v != 0x25 {
			t.Errorf("special mask: %#x %v", v, ok)
		}
		p.Out(0x20, 1, 0x48) // reset special mask
		p.Out(0x20, 1, 0x65) // EOI 5
		p.PulseIRQ(6)
		if _, ok := p.Ack(); ok {
			t.Errorf("6 got through with 4 in service")
		}
	})
	t.Run("special fully nested", func(t *testing.T) {
		p := NewPIC(nil)
		initPIC(p, 0x11, 0xffff) // SFNM
		p.PulseIRQ(12)
		if v, _ := p.Ack(); v != 0x2c {
			t.Fatalf("ack %#x", v)
		}
		p.PulseIRQ(9) // higher priority on the slave, cascade in service
		if v, ok := p.Ack(); !ok || v != 0x29 {
			t.Errorf("SFNM: %#x %v", v, ok)
		}
	})
}
