// Package devices implements the PC devices the machine needs: a 16550
// UART for COM1, the two cascaded 8259A PICs, the 8254 PIT (with port
// 0x61), QEMU's isa-debug-exit, the CMOS/RTC, and harmless handlers for
// ports a firmware-less boot touches. A Bus routes port I/O to them and
// implements cpu.Bus.
//
// Devices are driven from the machine's goroutine only; the one exception
// is UART.Feed, which is safe from any goroutine (stdin readers). Time
// never comes from the host clock: the PIT and the RTC read the
// instruction count through a func the machine gives them (1 instruction
// = 1 ns of virtual time).
package devices

import "fmt"

// Device handles port I/O on the ports it was registered for. size is 1,
// 2 or 4; a read returns the value in the low size bytes.
type Device interface {
	In(port uint16, size int) uint32
	Out(port uint16, size int, val uint32)
}

// Bus dispatches port I/O to devices. Ports nobody handles read as all
// ones and ignore writes, as on an ISA bus with nothing answering; the
// Unhandled hook sees those accesses (for logging).
type Bus struct {
	// Unhandled, when set, is called for every access to a port no device
	// claims (write reports the direction; val is 0 for reads).
	Unhandled func(port uint16, size int, write bool, val uint32)

	devs []busDev
	// slot maps a port to 1 + its index in devs (0: unhandled).
	slot [1 << 16]uint8
}

type busDev struct {
	d     Device
	first uint16
	last  uint16
	wide  bool // the device takes 16/32-bit accesses itself
}

// NewBus returns a bus with no devices.
func NewBus() *Bus { return &Bus{} }

// Register routes ports first..last (inclusive) to d. A byte-wide device
// (wide=false) sees a 16- or 32-bit access as consecutive byte accesses
// at port, port+1, ..., as an 8-bit ISA device does; a wide device gets
// the access whole, at the port it was addressed to. Overlapping an
// earlier registration is an error.
func (b *Bus) Register(first, last uint16, d Device, wide bool) error {
	if last < first {
		return fmt.Errorf("register ports %#x-%#x: empty range", first, last)
	}
	if len(b.devs) == 255 {
		return fmt.Errorf("register ports %#x-%#x: too many devices", first, last)
	}
	for p := int(first); p <= int(last); p++ {
		if s := b.slot[p]; s != 0 {
			o := b.devs[s-1]
			return fmt.Errorf("register ports %#x-%#x: port %#x already taken by %#x-%#x", first, last, p, o.first, o.last)
		}
	}
	b.devs = append(b.devs, busDev{d: d, first: first, last: last, wide: wide})
	for p := int(first); p <= int(last); p++ {
		b.slot[p] = uint8(len(b.devs))
	}
	return nil
}

// ones is the all-ones value of an access of size bytes.
func ones(size int) uint32 {
	switch size {
	case 1:
		return 0xff
	case 2:
		return 0xffff
	}
	return 0xffffffff
}

// claimedAfter reports whether a port of port+1..port+size-1 has a device.
func (b *Bus) claimedAfter(port uint16, size int) bool {
	for i := 1; i < size; i++ {
		if b.slot[port+uint16(i)] != 0 {
			return true
		}
	}
	return false
}

// In implements cpu.Bus.
func (b *Bus) In(port uint16, size int) uint32 {
	if s := b.slot[port]; s != 0 {
		d := &b.devs[s-1]
		if size == 1 || d.wide {
			return d.d.In(port, size) & ones(size)
		}
	} else if size == 1 || !b.claimedAfter(port, size) {
		if b.Unhandled != nil {
			b.Unhandled(port, size, false, 0)
		}
		return ones(size)
	}
	// Split into byte cycles, as the ISA bus does for 8-bit devices.
	var v uint32
	for i := 0; i < size; i++ {
		p := port + uint16(i)
		var x uint32 = 0xff
		if s := b.slot[p]; s != 0 {
			x = b.devs[s-1].d.In(p, 1) & 0xff
		} else if b.Unhandled != nil {
			b.Unhandled(p, 1, false, 0)
		}
		v |= x << (8 * i)
	}
	return v
}

// Out implements cpu.Bus.
func (b *Bus) Out(port uint16, size int, val uint32) {
	val &= ones(size)
	if s := b.slot[port]; s != 0 {
		d := &b.devs[s-1]
		if size == 1 || d.wide {
			d.d.Out(port, size, val)
			return
		}
	} else if size == 1 || !b.claimedAfter(port, size) {
		if b.Unhandled != nil {
			b.Unhandled(port, size, true, val)
		}
		return
	}
	for i := 0; i < size; i++ {
		p := port + uint16(i)
		x := val >> (8 * i) & 0xff
		if s := b.slot[p]; s != 0 {
			b.devs[s-1].d.Out(p, 1, x)
		} else if b.Unhandled != nil {
			b.Unhandled(p, 1, true, x)
		}
	}
}
