package devices

import (
	"math"
	"math/big"
	"testing"
)

func TestPITTimeConversion(t *testing.T) {
	tests := []struct {
		instret, ticks uint64
	}{
		{0, 0},
		{837, 0}, // one tick is 838.095 ns
		{839, 1},
		{1_000_000_000, PITHz},
		{3_600_000_000_000, 3600 * PITHz},
	}
	// The top of the range, checked with big integers.
	for _, n := range []uint64{math.MaxUint64, math.MaxUint64 / 3, 1 << 50} {
		var v big.Int
		v.SetUint64(n)
		v.Mul(&v, big.NewInt(PITHz))
		v.Div(&v, big.NewInt(1e9))
		tests = append(tests, struct{ instret, ticks uint64 }{n, v.Uint64()})
	}
	for _, tc := range tests {
		if got := PITTicks(tc.instret); got != tc.ticks {
			t.Errorf("PITTicks(%d) = %d, want %d", tc.instret, got, tc.ticks)
		}
	}
	for _, ticks := range []uint64{0, 1, 2, 1193, 65536, PITHz, 1 << 40, PITTicks(math.MaxUint64)} {
		n := InstretAt(ticks)
		if PITTicks(n) != ticks || (n > 0 && PITTicks(n-1) >= ticks) {
			t.Errorf("InstretAt(%d) = %d: ticks there %d, one before %d", ticks, n, PITTicks(n), PITTicks(n-1))
		}
	}
	if InstretAt(math.MaxUint64) != math.MaxUint64 {
		t.Errorf("InstretAt does not saturate")
	}
}

// pitRig is a PIT with a settable clock and a pulse counter.
type pitRig struct {
	now    uint64
	pulses int
	p      *PIT
}

func newPITRig() *pitRig {
	r := &pitRig{}
	r.p = NewPIT(func() uint64 { return r.now }, func() { r.pulses++ })
	return r
}

// program writes a control word and a lohi count to channel ch.
func (r *pitRig) program(ch int, mode uint8, count uint16) {
	r.p.Out(PITBase+3, 1, uint32(ch)<<6|0x30|uint32(mode)<<1)
	r.p.Out(PITBase+uint16(ch), 1, uint32(count&0xff))
	r.p.Out(PITBase+uint16(ch), 1, uint32(count>>8))
}

func TestPITResetState(t *testing.T) {
	r := newPITRig()
	d, ok := r.p.NextDeadline(0)
	if !ok || d != InstretAt(65536) {
		t.Fatalf("reset deadline %d %v, want %d (18.2 Hz)", d, ok, InstretAt(65536))
	}
}

func TestPITPeriodic(t *testing.T) {
	for _, mode := range []uint8{2, 3} {
		r := newPITRig()
		r.now = 5000
		const count = 1193 // ~1 kHz
		r.program(0, mode, count)
		start := PITTicks(5000)
		for k := uint64(1); k <= 5; k++ {
			d, ok := r.p.NextDeadline(r.now)
			want := InstretAt(start + k*count)
			if !ok || d != want {
				t.Fatalf("mode %d period %d: deadline %d %v, want %d", mode, k, d, ok, want)
			}
			if n := r.p.Advance(d - 1); n != 0 || r.pulses != int(k-1) {
				t.Fatalf("mode %d: an edge before the deadline (n=%d pulses=%d)", mode, n, r.pulses)
			}
			r.now = d
			if n := r.p.Advance(d); n != 1 || r.pulses != int(k) {
				t.Fatalf("mode %d: no edge at the deadline (n=%d pulses=%d)", mode, n, r.pulses)
			}
		}
		// Skipping ten periods at once gives one pulse and nine lost ticks.
		r.now += InstretAt(10*count) + 1
		if n := r.p.Advance(r.now); n != 10 || r.pulses != 6 {
			t.Fatalf("mode %d: skip: n=%d pulses=%d", mode, n, r.pulses)
		}
		if pulses, lost := r.p.Stats(); pulses != 6 || lost != 9 {
			t.Errorf("mode %d: stats %d %d", mode, pulses, lost)
		}
		// Time going back is ignored.
		if n := r.p.Advance(0); n != 0 {
			t.Errorf("mode %d: Advance into the past gave %d", mode, n)
		}
	}
}

func TestPITOneShot(t *testing.T) {
	r := newPITRig()
	r.program(0, 0, 100)
	d, ok := r.p.NextDeadline(0)
	if !ok || d != InstretAt(100) {
		t.Fatalf("deadline %d %v", d, ok)
	}
	r.now = d + 1_000_000
	if n := r.p.Advance(r.now); n != 1 || r.pulses != 1 {
		t.Fatalf("n=%d pulses=%d", n, r.pulses)
	}
	if _, ok := r.p.NextDeadline(r.now); ok {
		t.Errorf("mode 0 fires again")
	}
	// A control word stops channel 0 until a count is written.
	r.p.Out(PITBase+3, 1, 0x34)
	if _, ok := r.p.NextDeadline(r.now); ok {
		t.Errorf("deadline while waiting for a count")
	}
	r.p.Out(PITBase, 1, 0x10)
	if _, ok := r.p.NextDeadline(r.now); ok {
		t.Errorf("deadline after half a count")
	}
	r.p.Out(PITBase, 1, 0x00)
	if d, ok := r.p.NextDeadline(r.now); !ok || d != InstretAt(PITTicks(r.now)+16) {
		t.Errorf("deadline %d %v after reprogramming", d, ok)
	}
}

// TestPITStrobe is Linux's oneshot PIT clockevent: control word 0x38
// (mode 4), then a count per event; one IRQ0 edge each, at terminal
// count (QEMU's timing).
func TestPITStrobe(t *testing.T) {
	r := newPITRig()
	for i, count := range []uint16{100, 1193, 2} {
		start := PITTicks(r.now)
		r.program(0, 4, count)
		d, ok := r.p.NextDeadline(r.now)
		if want := InstretAt(start + uint64(count)); !ok || d != want {
			t.Fatalf("event %d: deadline %d %v, want %d", i, d, ok, want)
		}
		r.now = d
		if n := r.p.Advance(r.now); n != 1 || r.pulses != i+1 {
			t.Fatalf("event %d: n=%d pulses=%d", i, n, r.pulses)
		}
		if _, ok := r.p.NextDeadline(r.now); ok {
			t.Errorf("event %d: mode 4 strobes again", i)
		}
		r.now += 1_000_000
		if n := r.p.Advance(r.now); n != 0 {
			t.Errorf("event %d: second edge", i)
		}
	}
	// A new count before the strobe restarts the countdown.
	r.program(0, 4, 50)
	r.now += InstretAt(20)
	start := PITTicks(r.now)
	r.p.Out(PITBase, 1, 30)
	r.p.Out(PITBase, 1, 0)
	if d, ok := r.p.NextDeadline(r.now); !ok || d != InstretAt(start+30) {
		t.Errorf("reloaded deadline %d %v, want %d", d, ok, InstretAt(start+30))
	}
}

func TestPITDueDeadline(t *testing.T) {
	r := newPITRig()
	r.program(0, 2, 10)
	late := InstretAt(25)
	if d, ok := r.p.NextDeadline(late); !ok || d != late {
		t.Errorf("overdue deadline %d %v, want now (%d)", d, ok, late)
	}
}

func TestPITCounterRead(t *testing.T) {
	tests := []struct {
		name  string
		mode  uint8
		count uint16
		ticks uint64 // elapsed
		want  uint16
	}{
		{"mode 2 start", 2, 1000, 0, 1000},
		{"mode 2", 2, 1000, 250, 750},
		{"mode 2 wraps", 2, 1000, 1250, 750},
		{"mode 3 counts by two", 3, 1000, 250, 500},
		{"mode 0 down", 0, 1000, 999, 1},
		{"mode 0 past terminal count", 0, 1000, 1001, 0xffff},
		{"count 0 is 65536", 2, 0, 1, 65535},
	}
	for _, tc := range tests {
		r := newPITRig()
		r.program(0, tc.mode, tc.count)
		r.now = InstretAt(tc.ticks)
		// Latch command, then two reads (lohi).
		r.p.Out(PITBase+3, 1, 0x00)
		r.now += 5000 // the latched value must not move
		lo := r.p.In(PITBase, 1)
		hi := r.p.In(PITBase, 1)
		if got := uint16(lo | hi<<8); got != tc.want {
			t.Errorf("%s: latched %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestPITAccessModesAndReadBack(t *testing.T) {
	r := newPITRig()
	// Channel 1, LSB only, mode 2, count 0x80.
	r.p.Out(PITBase+3, 1, 0x54)
	r.p.Out(PITBase+1, 1, 0x80)
	r.now = InstretAt(0x10)
	if got := r.p.In(PITBase+1, 1); got != 0x70 {
		t.Errorf("LSB-only read %#x", got)
	}
	// MSB only: count 0x0200.
	r.p.Out(PITBase+3, 1, 0x64)
	r.p.Out(PITBase+1, 1, 0x02)
	if got := r.p.In(PITBase+1, 1); got != 0x02 {
		t.Errorf("MSB-only read %#x", got)
	}
	// Read-back: status and count of channel 1.
	r.p.Out(PITBase+3, 1, 0xc4) // 11 0 0 010 0: latch count and status, counter 1
	status := r.p.In(PITBase+1, 1)
	if status&0x3f != 0x24 || status&0x40 != 0 {
		t.Errorf("status %#x, want access MSB (2<<4) mode 2 (2<<1), not null", status)
	}
	if got := r.p.In(PITBase+1, 1); got != 0x02 {
		t.Errorf("read-back count MSB %#x", got)
	}
	// BCD: count 0x0100 in BCD is 100.
	r.p.Out(PITBase+3, 1, 0x35) // ch0 lohi mode 2 BCD
	r.p.Out(PITBase, 1, 0x00)
	r.p.Out(PITBase, 1, 0x01)
	if d, ok := r.p.NextDeadline(r.now); !ok || d != InstretAt(PITTicks(r.now)+100) {
		t.Errorf("BCD period: deadline %d %v", d, ok)
	}
	r.now = InstretAt(PITTicks(r.now) + 1)
	lo, hi := r.p.In(PITBase, 1), r.p.In(PITBase, 1)
	if lo != 0x99 || hi != 0x00 {
		t.Errorf("BCD read %#x %#x, want 0x0099", hi, lo)
	}
	if got := r.p.In(PITBase+3, 1); got != 0xff {
		t.Errorf("control port read %#x", got)
	}
}

// TestPITPortBCalibration runs the loop Linux's pit_calibrate_tsc uses:
// gate channel 2 on, speaker off, mode 0 count, poll port 0x61 bit 5.
func TestPITPortBCalibration(t *testing.T) {
	r := newPITRig()
	r.p.Out(PortB, 1, (r.p.In(PortB, 1)&^0x02)|0x01)
	r.p.Out(PITBase+3, 1, 0xb0)
	const count = 11932 // 10 ms
	r.p.Out(PITBase+2, 1, count&0xff)
	r.p.Out(PITBase+2, 1, count>>8)
	start := r.now
	polls := 0
	for r.p.In(PortB, 1)&0x20 == 0 {
		r.now += 1000 // each loop iteration costs 1000 instructions
		polls++
		if polls > 1_000_000 {
			t.Fatal("OUT2 never went high")
		}
	}
	elapsed := r.now - start
	if elapsed < InstretAt(count) || elapsed > InstretAt(count)+1000 {
		t.Errorf("OUT2 rose after %d instructions, want ~%d", elapsed, InstretAt(count))
	}
	if got := r.p.In(PortB, 1) & 0x03; got != 0x01 {
		t.Errorf("port B gate/speaker bits %#x", got)
	}
	if r.pulses != 0 {
		t.Errorf("channel 2 raised IRQ0")
	}
	// The refresh bit toggles every 15085 ns of virtual time.
	r.now = 0
	a := r.p.In(PortB, 1) & 0x10
	r.now = refreshPeriod
	b := r.p.In(PortB, 1) & 0x10
	if a == b {
		t.Errorf("refresh bit did not toggle")
	}
}

func TestPITOut(t *testing.T) {
	tests := []struct {
		mode  uint8
		count uint16
		ticks []uint64
		want  []bool
	}{
		{0, 10, []uint64{0, 9, 10, 50}, []bool{false, false, true, true}},
		{1, 10, []uint64{0, 9, 10}, []bool{false, false, true}},
		{2, 10, []uint64{0, 8, 9, 10, 19}, []bool{true, true, false, true, false}},
		{3, 10, []uint64{0, 4, 5, 9, 10}, []bool{true, true, false, false, true}},
		{4, 10, []uint64{0, 10, 11}, []bool{true, false, true}},
		{5, 10, []uint64{0, 10, 11}, []bool{true, false, true}},
	}
	for _, tc := range tests {
		r := newPITRig()
		r.p.Out(PortB, 1, 1) // gate 2 high
		r.program(2, tc.mode, tc.count)
		for i, tk := range tc.ticks {
			r.now = InstretAt(tk)
			if got := r.p.In(PortB, 1)&0x20 != 0; got != tc.want[i] {
				t.Errorf("mode %d tick %d: OUT %v, want %v", tc.mode, tk, got, tc.want[i])
			}
		}
	}
	// Before a count is written OUT is low in mode 0, high otherwise.
	r := newPITRig()
	r.p.Out(PITBase+3, 1, 0xb0)
	if r.p.In(PortB, 1)&0x20 != 0 {
		t.Errorf("mode 0 OUT high before the count")
	}
	r.p.Out(PITBase+3, 1, 0xb4)
	if r.p.In(PortB, 1)&0x20 == 0 {
		t.Errorf("mode 2 OUT low before the count")
	}
}

func TestPITGateRetrigger(t *testing.T) {
	r := newPITRig()
	r.p.Out(PortB, 1, 1)
	r.program(2, 2, 100)
	r.now = InstretAt(40)
	r.p.Out(PortB, 1, 0) // gate low
	r.p.Out(PortB, 1, 1) // rising: restart from the full count
	r.p.Out(PITBase+3, 1, 0x80)
	lo, hi := r.p.In(PITBase+2, 1), r.p.In(PITBase+2, 1)
	if got := lo | hi<<8; got != 100 {
		t.Errorf("count after the gate edge %d, want 100", got)
	}
}

func TestPITDoubleLatch(t *testing.T) {
	r := newPITRig()
	r.program(0, 2, 1000)
	r.now = InstretAt(100)
	r.p.Out(PITBase+3, 1, 0x00)
	r.now = InstretAt(200)
	r.p.Out(PITBase+3, 1, 0x00) // ignored: the first latch is unread
	lo, hi := r.p.In(PITBase, 1), r.p.In(PITBase, 1)
	if got := lo | hi<<8; got != 900 {
		t.Errorf("latched %d, want 900 (the first latch)", got)
	}
	// Unlatched reads follow time.
	lo, hi = r.p.In(PITBase, 1), r.p.In(PITBase, 1)
	if got := lo | hi<<8; got != 800 {
		t.Errorf("live read %d, want 800", got)
	}
}
