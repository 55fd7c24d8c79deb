package devices

import "math/bits"

// Ports of the 8254 and of the PC's port B (NMI status and control).
const (
	PITBase = 0x40 // counters 0-2 at 0x40-0x42, control word at 0x43
	PortB   = 0x61
)

// PITHz is the 8254's input clock, 1.193182 MHz.
const PITHz = 1193182

// nsPerSecond: virtual time is the instruction count, one instruction per
// nanosecond (a 1 GHz CPU).
const nsPerSecond = 1_000_000_000

// refreshPeriod is the period of port B's refresh-request toggle (bit 4)
// in ns, as QEMU models it (PIT_REFRESH_PERIOD_NS in hw/audio/pcspk.c):
// guests use it for short delays.
const refreshPeriod = 15085

// PITTicks converts an instruction count to elapsed PIT input ticks,
// floor(instret * 1193182 / 1e9), without overflow.
func PITTicks(instret uint64) uint64 {
	hi, lo := bits.Mul64(instret, PITHz)
	q, _ := bits.Div64(hi, lo, nsPerSecond) // hi < 1e9 for any uint64 instret
	return q
}

// InstretAt is the smallest instruction count at which PITTicks reaches
// ticks, ceil(ticks * 1e9 / 1193182), saturating at the top of uint64.
func InstretAt(ticks uint64) uint64 {
	hi, lo := bits.Mul64(ticks, nsPerSecond)
	if hi >= PITHz {
		return ^uint64(0)
	}
	q, r := bits.Div64(hi, lo, PITHz)
	if r != 0 {
		if q == ^uint64(0) {
			return q
		}
		q++
	}
	return q
}

// pitChannel is one counter. The count is not decremented tick by tick:
// like QEMU's hw/timer/i8254.c the state is the reload value and the tick
// at which it was loaded, and the counter and OUT are functions of time.
type pitChannel struct {
	count    uint32 // reload value, 1..0x10000 (0 written means 0x10000)
	loadTick uint64 // tick at which counting (re)started
	armed    bool   // a full count has been written since the control word
	gate     bool
	mode     uint8 // 0-5
	rwMode   uint8 // 1 LSB, 2 MSB, 3 LSB then MSB
	bcd      bool

	readState, writeState uint8 // which byte comes next (lohi toggles)
	writeLatch            uint8 // the LSB of a lohi write
	latched               bool  // a latch command froze the count
	latchedCount          uint16
	latchedState          uint8
	statusLatched         bool
	status                uint8
}

// Read/write states: rwMode values, plus the second byte of a lohi pair.
const (
	rwLSB   = 1
	rwMSB   = 2
	rwWord  = 3
	rwWord1 = 4 // lohi: the MSB comes next
)

// value returns the counter's current value at tick now (SDM-free: the
// 8254 datasheet's mode descriptions, as QEMU computes them).
func (c *pitChannel) value(now uint64) uint16 {
	if !c.armed {
		return uint16(c.count)
	}
	d := now - c.loadTick
	n := uint64(c.count)
	switch c.mode {
	case 0, 1, 4, 5:
		return uint16(n - d) // wraps through 0xffff after terminal count
	case 3:
		// Decrements by two; both half periods are counted down.
		return uint16(n - (2*d)%n)
	default: // 2
		return uint16(n - d%n)
	}
}

// out returns the OUT pin at tick now.
func (c *pitChannel) out(now uint64) bool {
	if !c.armed {
		// After a control word OUT goes to its initial state: low in
		// mode 0, high otherwise (8254 datasheet, mode definitions).
		return c.mode != 0
	}
	d := now - c.loadTick
	n := uint64(c.count)
	switch c.mode {
	case 0:
		return d >= n
	case 1:
		return d >= n
	case 2:
		// Low for one clock when the count reaches 1.
		return d%n != n-1
	case 3:
		return d%n < (n+1)/2
	case 4, 5:
		return d != n
	}
	return true
}

// nextEdge returns the first tick > after at which channel 0's interrupt
// edge happens: the rising edge of OUT in mode 0 (terminal count, once)
// and mode 4 (the end of the strobe, once), the start of each period in
// modes 2 and 3 (one IRQ per period). The
// one-clock offsets of the real OUT waveforms are ignored.
func (c *pitChannel) nextEdge(after uint64) (uint64, bool) {
	if !c.armed || !c.gate {
		return 0, false
	}
	n := uint64(c.count)
	switch c.mode {
	case 0:
		t := c.loadTick + n
		return t, t > after
	case 4:
		// Software-triggered strobe: one pulse on OUT at terminal count,
		// once. QEMU's i8254 (pit_get_out: out = d == count) raises IRQ0
		// at count, as it does at each period boundary in mode 2. Linux's
		// oneshot PIT clockevent (pit_set_oneshot, control word 0x38)
		// counts in this mode once high-resolution timers are on.
		t := c.loadTick + n
		return t, t > after
	case 2, 3:
		if after < c.loadTick {
			return c.loadTick + n, true
		}
		k := (after-c.loadTick)/n + 1
		return c.loadTick + k*n, true
	}
	return 0, false
}

func (c *pitChannel) load(v uint32, now uint64) {
	if v == 0 {
		v = 0x10000
	}
	if c.bcd {
		v = fromBCD(v)
	}
	c.count = v
	c.loadTick = now
	c.armed = true
}

// fromBCD converts a 4-digit BCD count; 0 stands for 10000.
func fromBCD(v uint32) uint32 {
	if v == 0x10000 {
		return 10000
	}
	n := (v>>12&15)*1000 + (v>>8&15)*100 + (v>>4&15)*10 + v&15
	if n == 0 {
		return 10000
	}
	return n
}

func toBCD(v uint16) uint16 {
	v %= 10000
	return v/1000<<12 | v/100%10<<8 | v/10%10<<4 | v%10
}

// PIT is the 8254 with the PC's wiring: counter 0 drives IRQ0, counter
// 1 (DRAM refresh) just counts, counter 2's gate and OUT are in port B.
// Time is the instruction count read through the clock func.
type PIT struct {
	ch    [3]pitChannel
	clock func() uint64
	irq0  func()

	// lastTick is the tick up to which channel 0 edges were delivered.
	lastTick   uint64
	speakerOn  bool
	lostEdges  uint64
	edgesFired uint64
}

// NewPIT returns a PIT in QEMU's reset state: every counter in mode 3
// with count 0x10000 loaded at time 0, gates high except counter 2's.
// So channel 0 ticks at 18.2 Hz until the guest reprograms it (the PIC
// keeps IRQ0 from the CPU until it is initialised and unmasked). clock
// returns the current instruction count; irq0 is called once for each
// IRQ0 edge (the machine pulses PIC line 0).
func NewPIT(clock func() uint64, irq0 func()) *PIT {
	p := &PIT{clock: clock, irq0: irq0}
	for i := range p.ch {
		c := &p.ch[i]
		c.mode, c.rwMode, c.readState, c.writeState = 3, rwWord, rwWord, rwWord
		c.gate = i != 2
		c.load(0, 0)
	}
	return p
}

// Advance delivers the IRQ0 edges that happen up to instruction count
// instret (inclusive) and returns how many period boundaries were
// crossed. irq0 is called once even when several were: the edges of one
// Advance would only set the same edge-triggered IRR bit again, so the
// extra ones are lost ticks, as on real hardware when interrupts stay
// masked (counted in Stats). Time does not go back: an instret below one
// already seen is ignored.
func (p *PIT) Advance(instret uint64) int {
	now := PITTicks(instret)
	if now < p.lastTick {
		return 0
	}
	c := &p.ch[0]
	n := 0
	if t, ok := c.nextEdge(p.lastTick); ok && t <= now {
		n = 1
		if c.mode == 2 || c.mode == 3 {
			// The further whole periods up to now.
			n += int(min((now-t)/uint64(c.count), 1<<30))
		}
	}
	p.lastTick = now
	if n > 0 {
		p.edgesFired++
		p.lostEdges += uint64(n - 1)
		if p.irq0 != nil {
			p.irq0()
		}
	}
	return n
}

// NextDeadline returns the instruction count at which the next IRQ0 edge
// happens (after the ones Advance delivered), so the machine can run the
// CPU exactly that far and let HLT skip to it. It returns instret itself
// when an edge is already due, and ok=false when channel 0 will not
// interrupt (modes 0 and 4 after their edge, not armed, or modes 1 and 5,
// whose gate never rises on channel 0).
func (p *PIT) NextDeadline(instret uint64) (uint64, bool) {
	t, ok := p.ch[0].nextEdge(p.lastTick)
	if !ok {
		return 0, false
	}
	d := InstretAt(t)
	return max(d, instret), true
}

// Stats returns the number of IRQ0 pulses given and of edges merged into
// them (lost ticks).
func (p *PIT) Stats() (pulses, lost uint64) { return p.edgesFired, p.lostEdges }

func (p *PIT) now() uint64 {
	if p.clock == nil {
		return p.lastTick
	}
	return PITTicks(p.clock())
}

// In reads a counter (0x40-0x42) or port B (0x61). Reading 0x43 returns
// 0xff: the control register is write-only.
func (p *PIT) In(port uint16, size int) uint32 {
	now := p.now()
	if port == PortB {
		c := &p.ch[2]
		var v uint32
		if c.gate {
			v |= 0x01
		}
		if p.speakerOn {
			v |= 0x02
		}
		// Refresh toggle from virtual time: 1 ns per instruction.
		if p.clock != nil && (p.clock()/refreshPeriod)&1 != 0 {
			v |= 0x10
		}
		if c.out(now) {
			v |= 0x20
		}
		return v
	}
	if port < PITBase || port > PITBase+2 {
		return 0xff
	}
	c := &p.ch[port-PITBase]
	if c.statusLatched {
		c.statusLatched = false
		return uint32(c.status)
	}
	var val uint16
	state := &c.readState
	if c.latched {
		val = c.latchedCount
		state = &c.latchedState
	} else {
		val = c.value(now)
		if c.bcd {
			val = toBCD(val)
		}
	}
	var b uint8
	switch *state {
	case rwLSB:
		b = uint8(val)
		c.latched = false
	case rwMSB:
		b = uint8(val >> 8)
		c.latched = false
	case rwWord:
		b = uint8(val)
		*state = rwWord1
	case rwWord1:
		b = uint8(val >> 8)
		*state = rwWord
		c.latched = false
	}
	return uint32(b)
}

// Out writes a counter, the control word (0x43) or port B.
func (p *PIT) Out(port uint16, size int, val uint32) {
	// Deliver the edges due before the guest changes anything, so a
	// reprogramming takes effect from now.
	if p.clock != nil {
		p.Advance(p.clock())
	}
	now := p.now()
	v := uint8(val)
	switch {
	case port == PortB:
		c := &p.ch[2]
		gate := v&1 != 0
		if gate && !c.gate && c.armed && c.mode != 0 && c.mode != 4 {
			// A rising gate (re)triggers modes 1 and 5 and restarts 2 and 3.
			c.loadTick = now
		}
		c.gate = gate
		p.speakerOn = v&2 != 0
	case port == PITBase+3:
		p.control(v, now)
	case port >= PITBase && port <= PITBase+2:
		c := &p.ch[port-PITBase]
		switch c.writeState {
		case rwLSB:
			c.load(uint32(v), now)
		case rwMSB:
			c.load(uint32(v)<<8, now)
		case rwWord:
			c.writeLatch = v
			c.writeState = rwWord1
			// Writing the first byte stops a mode 0 count (datasheet).
			if c.mode == 0 {
				c.armed = false
			}
		case rwWord1:
			c.load(uint32(c.writeLatch)|uint32(v)<<8, now)
			c.writeState = rwWord
		}
		if port == PITBase {
			// A new count restarts the period: edges count from now.
			p.lastTick = now
		}
	}
}

func (p *PIT) control(v uint8, now uint64) {
	sel := v >> 6
	if sel == 3 {
		// Read-back command: bit 5 clear latches counts, bit 4 clear
		// latches status, for the counters selected by bits 1-3.
		for i := range p.ch {
			if v&(2<<i) == 0 {
				continue
			}
			c := &p.ch[i]
			if v&0x20 == 0 {
				p.latch(c, now)
			}
			if v&0x10 == 0 && !c.statusLatched {
				c.status = c.mode<<1 | c.rwMode<<4
				if c.bcd {
					c.status |= 1
				}
				if c.out(now) {
					c.status |= 0x80
				}
				if !c.armed {
					c.status |= 0x40 // null count
				}
				c.statusLatched = true
			}
		}
		return
	}
	c := &p.ch[sel]
	access := v >> 4 & 3
	if access == 0 {
		p.latch(c, now)
		return
	}
	c.rwMode, c.readState, c.writeState = access, access, access
	c.mode = v >> 1 & 7
	if c.mode > 5 {
		c.mode -= 4 // 6 and 7 are aliases of 2 and 3
	}
	c.bcd = v&1 != 0
	c.latched = false
	// A control word resets the counter: nothing counts (and channel 0
	// raises no edge) until a count is written.
	c.armed = false
}

// latch freezes the current count until it has been read (a second latch
// before then is ignored, per the datasheet).
func (p *PIT) latch(c *pitChannel, now uint64) {
	if c.latched {
		return
	}
	c.latchedCount = c.value(now)
	if c.bcd {
		c.latchedCount = toBCD(c.latchedCount)
	}
	c.latchedState = c.rwMode
	c.latched = true
}
