package devices

// Ports of the two 8259As and the ELCR (edge/level control registers of
// the PIIX/ICH, which QEMU also models).
const (
	PICMaster = 0x20 // 0x20-0x21
	PICSlave  = 0xa0 // 0xa0-0xa1
	ELCR      = 0x4d0
)

// pic8259 is one 8259A, programmed as in the Intel 8259A datasheet
// (ICW1-ICW4, OCW1-OCW3). Its register model follows QEMU's
// hw/intc/i8259.c, which the same kernel meets under QEMU.
type pic8259 struct {
	irr, imr, isr uint8
	// lastIRR holds the line levels, for edge detection.
	lastIRR     uint8
	priorityAdd uint8 // the IRQ with the lowest priority is priorityAdd-1
	irqBase     uint8
	readISR     bool // OCW3 RR/RIS: reads of the command port return ISR
	poll        bool
	specialMask bool
	initState   int // 0: operational; 1-3: expecting ICW2-ICW4
	autoEOI     bool
	rotateAEOI  bool
	sfnm        bool // special fully nested mode (ICW4 bit 4)
	init4       bool
	single      bool
	elcr        uint8 // level-triggered inputs
	elcrMask    uint8 // ELCR bits that exist
}

func (c *pic8259) reset() {
	*c = pic8259{elcr: c.elcr, elcrMask: c.elcrMask}
}

// priority returns the priority (0 highest) of the best IRQ in mask, or 8.
func (c *pic8259) priority(mask uint8) int {
	if mask == 0 {
		return 8
	}
	p := 0
	for mask&(1<<((p+int(c.priorityAdd))&7)) == 0 {
		p++
	}
	return p
}

// pending returns the IRQ this chip would raise INT for, or -1: the best
// unmasked request with higher priority than every in-service IRQ.
func (c *pic8259) pending(master bool) int {
	p := c.priority(c.irr &^ c.imr)
	if p == 8 {
		return -1
	}
	inService := c.isr
	if c.specialMask {
		// Special mask mode: masked in-service levels do not inhibit.
		inService &^= c.imr
	}
	if master && c.sfnm {
		// Special fully nested: the slave's in-service bit does not block
		// more requests from the slave.
		inService &^= 1 << 2
	}
	if p < c.priority(inService) {
		return (p + int(c.priorityAdd)) & 7
	}
	return -1
}

func (c *pic8259) setLine(irq int, level bool) {
	m := uint8(1) << irq
	if c.elcr&m != 0 {
		// Level-triggered: the request follows the line.
		if level {
			c.irr |= m
			c.lastIRR |= m
		} else {
			c.irr &^= m
			c.lastIRR &^= m
		}
		return
	}
	if level {
		if c.lastIRR&m == 0 {
			c.irr |= m // rising edge
		}
		c.lastIRR |= m
	} else {
		c.lastIRR &^= m
	}
}

// ack is the chip's part of the INTA cycle for irq.
func (c *pic8259) ack(irq int) {
	m := uint8(1) << irq
	if c.autoEOI {
		if c.rotateAEOI {
			c.priorityAdd = uint8(irq+1) & 7
		}
	} else {
		c.isr |= m
	}
	if c.elcr&m == 0 {
		c.irr &^= m
	}
}

func (c *pic8259) writeCommand(v uint8) {
	switch {
	case v&0x10 != 0: // ICW1
		c.reset()
		c.initState = 1
		c.init4 = v&1 != 0
		c.single = v&2 != 0
		// Bit 3 (LTIM, level mode for all inputs) is ignored as in QEMU:
		// PCs use the ELCR instead.
	case v&0x08 != 0: // OCW3
		if v&0x04 != 0 {
			c.poll = true
		}
		if v&0x02 != 0 {
			c.readISR = v&1 != 0
		}
		if v&0x40 != 0 {
			c.specialMask = v&0x20 != 0
		}
	default: // OCW2
		switch v >> 5 {
		case 0: // rotate in automatic EOI mode: clear
			c.rotateAEOI = false
		case 4: // set
			c.rotateAEOI = true
		case 1, 5: // non-specific EOI, rotate on non-specific EOI
			if p := c.priority(c.isr); p != 8 {
				irq := (p + int(c.priorityAdd)) & 7
				c.isr &^= 1 << irq
				if v>>5 == 5 {
					c.priorityAdd = uint8(irq+1) & 7
				}
			}
		case 3: // specific EOI
			c.isr &^= 1 << (v & 7)
		case 6: // set priority: v&7 becomes the lowest
			c.priorityAdd = (v + 1) & 7
		case 7: // rotate on specific EOI
			c.isr &^= 1 << (v & 7)
			c.priorityAdd = (v + 1) & 7
		}
	}
}

func (c *pic8259) writeData(v uint8) {
	switch c.initState {
	case 0: // OCW1
		c.imr = v
	case 1: // ICW2: vector base (T7-T3)
		c.irqBase = v & 0xf8
		switch {
		case !c.single:
			c.initState = 2
		case c.init4:
			c.initState = 3
		default:
			c.initState = 0
		}
	case 2: // ICW3: cascade wiring, fixed on a PC
		if c.init4 {
			c.initState = 3
		} else {
			c.initState = 0
		}
	case 3: // ICW4
		c.sfnm = v&0x10 != 0
		c.autoEOI = v&0x02 != 0
		c.initState = 0
	}
}

// PIC is the PC's pair of cascaded 8259As: the slave's INT drives the
// master's IRQ2. It implements cpu.InterruptController.
type PIC struct {
	master, slave pic8259
	intr          bool
	onINTR        func(level bool)

	// SpuriousIRQ7, when true, makes Ack with nothing pending return the
	// master's IRQ7 vector with ok=true, as the 8259A datasheet describes
	// (the request went away before INTA; ISR is not set). When false
	// (the default, cpu.InterruptController's contract) Ack returns
	// ok=false and the CPU delivers nothing.
	SpuriousIRQ7 bool
}

// NewPIC returns both chips in their reset state (QEMU's: everything
// clear, IMR 0, vector base 0; the guest initialises them with ICW1-4).
// onINTR, when non-nil, is called with the new INTR level each time it
// changes; the machine wires it to cpu.SetIRQ.
func NewPIC(onINTR func(level bool)) *PIC {
	p := &PIC{onINTR: onINTR}
	// ELCR bits that exist on a PIIX3 (QEMU's elcr_mask): IRQ 0, 1, 2, 8
	// and 13 are always edge-triggered.
	p.master.elcrMask = 0xf8
	p.slave.elcrMask = 0xde
	return p
}

// Output reports the INTR level.
func (p *PIC) Output() bool { return p.intr }

// update recomputes the cascade and INTR.
func (p *PIC) update() {
	p.master.setLine(2, p.slave.pending(false) >= 0)
	level := p.master.pending(true) >= 0
	if level != p.intr {
		p.intr = level
		if p.onINTR != nil {
			p.onINTR(level)
		}
	}
}

// SetIRQ drives line n (0-15) to level. Lines are edge-triggered unless
// the ELCR says otherwise: a request latches on a rising edge. Out of
// range lines are ignored.
func (p *PIC) SetIRQ(n int, level bool) {
	switch {
	case n >= 0 && n < 8:
		p.master.setLine(n, level)
	case n >= 8 && n < 16:
		p.slave.setLine(n-8, level)
	default:
		return
	}
	p.update()
}

// RaiseIRQ sets line n high.
func (p *PIC) RaiseIRQ(n int) { p.SetIRQ(n, true) }

// LowerIRQ sets line n low.
func (p *PIC) LowerIRQ(n int) { p.SetIRQ(n, false) }

// PulseIRQ raises and lowers line n: one edge, as the PIT's OUT0 gives.
func (p *PIC) PulseIRQ(n int) {
	p.SetIRQ(n, true)
	p.SetIRQ(n, false)
}

// Ack performs the interrupt-acknowledge cycle (cpu.InterruptController).
func (p *PIC) Ack() (vector uint8, ok bool) {
	irq := p.master.pending(true)
	if irq < 0 {
		if !p.SpuriousIRQ7 {
			return 0, false
		}
		return p.master.irqBase + 7, true
	}
	p.master.ack(irq)
	if irq != 2 {
		vector = p.master.irqBase + uint8(irq)
	} else {
		irq2 := p.slave.pending(false)
		if irq2 >= 0 {
			p.slave.ack(irq2)
		} else {
			irq2 = 7 // the slave's request went away: its spurious IRQ7
		}
		vector = p.slave.irqBase + uint8(irq2)
	}
	p.update()
	return vector, true
}

// Vector bases and masks, for the monitor and tests.
func (p *PIC) Bases() (master, slave uint8) { return p.master.irqBase, p.slave.irqBase }

// Registers returns IRR, ISR and IMR of both chips, slave in the high byte.
func (p *PIC) Registers() (irr, isr, imr uint16) {
	return uint16(p.master.irr) | uint16(p.slave.irr)<<8,
		uint16(p.master.isr) | uint16(p.slave.isr)<<8,
		uint16(p.master.imr) | uint16(p.slave.imr)<<8
}

func (p *PIC) chip(port uint16) (*pic8259, bool) {
	if port&^1 == PICSlave {
		return &p.slave, false
	}
	return &p.master, true
}

// In reads 0x20/0x21, 0xa0/0xa1 or the ELCR at 0x4d0/0x4d1.
func (p *PIC) In(port uint16, size int) uint32 {
	switch port {
	case ELCR:
		return uint32(p.master.elcr)
	case ELCR + 1:
		return uint32(p.slave.elcr)
	}
	c, master := p.chip(port)
	if c.poll {
		// Poll command (OCW3 P=1): the next read of either port is an
		// acknowledge: bit 7 set with the IRQ number, or 0.
		c.poll = false
		irq := c.pending(master)
		if irq < 0 {
			return 0
		}
		c.ack(irq)
		p.update()
		return 0x80 | uint32(irq)
	}
	if port&1 == 1 {
		return uint32(c.imr)
	}
	if c.readISR {
		return uint32(c.isr)
	}
	return uint32(c.irr)
}

// Out writes 0x20/0x21, 0xa0/0xa1 or the ELCR.
func (p *PIC) Out(port uint16, size int, val uint32) {
	v := uint8(val)
	switch port {
	case ELCR:
		p.master.elcr = v & p.master.elcrMask
	case ELCR + 1:
		p.slave.elcr = v & p.slave.elcrMask
	default:
		c, _ := p.chip(port)
		if port&1 == 0 {
			c.writeCommand(v)
		} else {
			c.writeData(v)
		}
	}
	p.update()
}
