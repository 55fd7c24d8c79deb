package devices

import (
	"bytes"
	"testing"
)

// TestPC drives the wired machine through its bus as the kernel would:
// print on COM1, initialise the PICs, program the PIT at 100 Hz, take
// timer interrupts, then exit through isa-debug-exit.
func TestPC(t *testing.T) {
	var (
		serial bytes.Buffer
		now    uint64
		intr   bool
		exit   = -1
	)
	pc, err := NewPC(PCConfig{
		Serial:  &serial,
		Clock:   func() uint64 { return now },
		RAMSize: 128 << 20,
		OnINTR:  func(l bool) { intr = l },
		OnExit:  func(c int) { exit = c },
	})
	if err != nil {
		t.Fatal(err)
	}
	b := pc.Bus
	for _, c := range []byte("ok\n") {
		for b.In(COM1+5, 1)&0x20 == 0 {
		}
		b.Out(COM1, 1, uint32(c))
	}
	if serial.String() != "ok\n" {
		t.Errorf("serial %q", serial.String())
	}
	for _, w := range [][2]uint32{{0x20, 0x11}, {0xa0, 0x11}, {0x21, 0x20}, {0xa1, 0x28}, {0x21, 4}, {0xa1, 2}, {0x21, 1}, {0xa1, 1}, {0x21, 0xfe}, {0xa1, 0xff}} {
		b.Out(uint16(w[0]), 1, w[1])
	}
	const div = PITHz / 100
	b.Out(0x43, 1, 0x34)
	b.Out(0x40, 1, div&0xff)
	b.Out(0x40, 1, div>>8)
	if intr {
		t.Fatal("INTR before the first tick")
	}
	for tick := 1; tick <= 3; tick++ {
		d, ok := pc.PIT.NextDeadline(now)
		if !ok {
			t.Fatal("no timer deadline")
		}
		now = d
		pc.PIT.Advance(now)
		if !intr {
			t.Fatalf("tick %d: no INTR", tick)
		}
		if v, ok := pc.PIC.Ack(); !ok || v != 0x20 {
			t.Fatalf("tick %d: vector %#x %v", tick, v, ok)
		}
		b.Out(0x20, 1, 0x20)
		if intr {
			t.Fatalf("tick %d: INTR after EOI", tick)
		}
	}
	if want := InstretAt(3 * div); now != want {
		t.Errorf("third tick at %d, want %d (~30 ms)", now, want)
	}
	// COM1 receive interrupt on IRQ4.
	b.Out(0x21, 1, 0xee)     // unmask IRQ0 and IRQ4
	b.Out(COM1+1, 1, ierRDA) // enable received-data interrupts
	pc.UART.Feed([]byte("k"))
	pc.UART.Poll()
	if v, ok := pc.PIC.Ack(); !ok || v != 0x24 {
		t.Fatalf("serial interrupt: %#x %v", v, ok)
	}
	if got := b.In(COM1, 1); got != 'k' {
		t.Errorf("received %#x", got)
	}
	b.Out(0x20, 1, 0x20)
	// Unknown ports float high; CMOS and port 0x61 answer.
	if b.In(0x1234, 1) != 0xff {
		t.Errorf("unhandled port not all ones")
	}
	b.Out(0x70, 1, 0x32)
	if b.In(0x71, 1) != 0x20 {
		t.Errorf("CMOS century")
	}
	b.Out(0x80, 1, 0)
	b.Out(0x501, 2, 1)
	if code, ok := pc.Exit.Exited(); !ok || code != 1 || exit != 1 {
		t.Errorf("exit %d %v callback %d", code, ok, exit)
	}
}
