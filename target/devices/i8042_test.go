package devices

import (
	"fmt"
	"testing"
)

// kbcStep is one guest access to the controller, or a check of the IRQ
// lines. The sequences below are the ones Linux 6.1 sends: i8042_init's
// controller check and init, i8042_check_aux, i8042_check_mux,
// i8042_enable_{aux,kbd}_port (drivers/input/serio/i8042.c), atkbd_probe,
// atkbd_reset_state and atkbd_activate (drivers/input/keyboard/atkbd.c),
// and the reboot path (arch/x86/kernel/reboot.c).
type kbcStep struct {
	op  string // "w64", "w60": write; "r64", "r60", "r60again": read and compare; "irq": line levels; "edges": rising edges so far
	val uint8
	// for "irq": the expected levels of IRQ1 and IRQ12; for "edges": the
	// counts of rising edges on IRQ1 and IRQ12 since the sequence began.
	a, b int
}

func w64(v uint8) kbcStep       { return kbcStep{op: "w64", val: v} }
func w60(v uint8) kbcStep       { return kbcStep{op: "w60", val: v} }
func r64(v uint8) kbcStep       { return kbcStep{op: "r64", val: v} }
func r60(v uint8) kbcStep       { return kbcStep{op: "r60", val: v} }
func irqs(kbd, aux int) kbcStep { return kbcStep{op: "irq", a: kbd, b: aux} }
func edges(kbd, aux int) kbcStep {
	return kbcStep{op: "edges", a: kbd, b: aux}
}

// cmd is i8042_command: the command, its parameters, then each reply
// read after checking OBF.
func cmd(c uint8, params []uint8, replies ...uint8) []kbcStep {
	s := []kbcStep{w64(c)}
	for _, p := range params {
		s = append(s, w60(p))
	}
	for _, r := range replies {
		s = append(s, r60(r))
	}
	return s
}

func seq(parts ...any) []kbcStep {
	var s []kbcStep
	for _, p := range parts {
		switch p := p.(type) {
		case kbcStep:
			s = append(s, p)
		case []kbcStep:
			s = append(s, p...)
		default:
			panic(fmt.Sprintf("seq: %T", p))
		}
	}
	return s
}

// kbcRig is a controller with recorded IRQ lines and resets.
type kbcRig struct {
	c      *I8042
	level  [16]bool
	rises  [16]int
	resets []string
}

func newKBCRig() *kbcRig {
	r := &kbcRig{}
	r.c = NewI8042(func(irq int, l bool) {
		if l && !r.level[irq] {
			r.rises[irq]++
		}
		r.level[irq] = l
	}, func(src string) { r.resets = append(r.resets, src) })
	return r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *kbcRig) run(t *testing.T, name string, steps []kbcStep) {
	t.Helper()
	for i, s := range steps {
		switch s.op {
		case "w64":
			r.c.Out(I8042Status, 1, uint32(s.val))
		case "w60":
			r.c.Out(I8042Data, 1, uint32(s.val))
		case "r64":
			if got := uint8(r.c.In(I8042Status, 1)); got != s.val {
				t.Fatalf("%s: step %d: status %#02x, want %#02x", name, i, got, s.val)
			}
		case "r60again": // read with OBF clear: the last byte again
			if st := r.c.In(I8042Status, 1); st&i8042StatOBF != 0 {
				t.Fatalf("%s: step %d: OBF set (status %#02x)", name, i, st)
			}
			if got := uint8(r.c.In(I8042Data, 1)); got != s.val {
				t.Fatalf("%s: step %d: data %#02x, want %#02x", name, i, got, s.val)
			}
		case "r60":
			if st := r.c.In(I8042Status, 1); st&i8042StatOBF == 0 {
				t.Fatalf("%s: step %d: reading %#02x with OBF clear (status %#02x)", name, i, s.val, st)
			}
			if got := uint8(r.c.In(I8042Data, 1)); got != s.val {
				t.Fatalf("%s: step %d: data %#02x, want %#02x", name, i, got, s.val)
			}
		case "irq":
			if got1, got12 := b2i(r.level[1]), b2i(r.level[12]); got1 != s.a || got12 != s.b {
				t.Fatalf("%s: step %d: IRQ1=%d IRQ12=%d, want %d %d", name, i, got1, got12, s.a, s.b)
			}
		case "edges":
			if r.rises[1] != s.a || r.rises[12] != s.b {
				t.Fatalf("%s: step %d: rising edges IRQ1=%d IRQ12=%d, want %d %d", name, i, r.rises[1], r.rises[12], s.a, s.b)
			}
		}
	}
}

// linuxProbe is i8042_init up to the registered ports, from the state
// SeaBIOS leaves (CTR 0x61, status 0x1c).
func linuxProbe() []kbcStep {
	return seq(
		// i8042_controller_check: i8042_flush finds nothing.
		r64(0x1c),
		// i8042_controller_init: two stable CTR reads. The reply raises IRQ1
		// (keyboard interrupts enabled, interface enabled) until read.
		w64(0x20), r64(0x1d), irqs(1, 0), r60(0x61), irqs(0, 0), r64(0x1c),
		cmd(0x20, nil, 0x61),
		// Keyboard interface and interrupt off; translation kept.
		cmd(0x60, []uint8{0x70}), r64(0x1c), irqs(0, 0),
		// i8042_check_aux: loopback 0x5a comes back as AUX data, no IRQ12
		// (AUX interrupt disabled).
		w64(0xd3), w60(0x5a), r64(0x3d), irqs(0, 0), r60(0x5a), r64(0x1c),
		// i8042_toggle_aux(false) then (true), checked through the CTR.
		w64(0xa7), cmd(0x20, nil, 0x70),
		w64(0xa8), cmd(0x20, nil, 0x50),
		// AUX IRQ delivery test: enable AUX port + interrupt, loop 0xa5
		// without reading; the IRQ12 handler reads it.
		cmd(0x60, []uint8{0x52}),
		w64(0xd3), w60(0xa5), irqs(0, 1), r64(0x3d), r60(0xa5), irqs(0, 0), r64(0x1c),
		// Disable AUX again.
		cmd(0x60, []uint8{0x70}),
		// i8042_check_mux: 0xf0, 0x56, 0xa4 loop back unchanged, so no
		// active multiplexer (the third byte would be its version).
		cmd(0xd3, []uint8{0xf0}, 0xf0), cmd(0xd3, []uint8{0x56}, 0x56), cmd(0xd3, []uint8{0xa4}, 0xa4),
		// i8042_enable_aux_port, i8042_enable_kbd_port.
		cmd(0x60, []uint8{0x52}),
		cmd(0x60, []uint8{0x43}),
		r64(0x1c), irqs(0, 0),
		// IRQ1 rose for the two CTR reads made while the keyboard interrupt
		// was enabled, IRQ12 for the delivery test only.
		edges(2, 1),
	)
}

// atkbdProbe is atkbd_probe, atkbd_reset_state and atkbd_activate on a
// translated port: every byte through IRQ1 (libps2 reads them in the
// interrupt handler), one rising edge per byte.
func atkbdProbe() []kbcStep {
	return seq(
		// ATKBD_CMD_GETID: ACK, then AB 41 (translated MF2 ID).
		w60(0xf2), irqs(1, 0), r64(0x1d), r60(0xfa), irqs(1, 0), r60(0xab), r60(0x41), irqs(0, 0), r64(0x1c),
		// atkbd_deactivate: ATKBD_CMD_RESET_DIS.
		w60(0xf5), r60(0xfa),
		// atkbd_reset_state: LEDs off, fastest repeat.
		w60(0xed), r60(0xfa), w60(0x00), r60(0xfa),
		w60(0xf3), r60(0xfa), w60(0x00), r60(0xfa),
		// atkbd_activate: ATKBD_CMD_ENABLE.
		w60(0xf4), r60(0xfa), irqs(0, 0), r64(0x1c),
	)
}

func TestI8042Linux(t *testing.T) {
	r := newKBCRig()
	r.run(t, "probe", linuxProbe())
	r.run(t, "atkbd", seq(atkbdProbe(), edges(2+9, 1)))
	if r.c.CTR() != 0x43 {
		t.Errorf("CTR %#02x, want 0x43", r.c.CTR())
	}
	if len(r.resets) != 0 {
		t.Errorf("resets during probe: %v", r.resets)
	}
}

func TestI8042Sequences(t *testing.T) {
	// ready: the state after Linux's probe (CTR 0x43: both ports and
	// their interrupts enabled, translation on) unless noted.
	tests := []struct {
		name  string
		fresh bool // start from the SeaBIOS state instead
		steps []kbcStep
	}{
		{"self-test and interface tests", true, seq(
			cmd(0xaa, nil, 0x55), r64(0x1c), // system flag stays set
			cmd(0xab, nil, 0x00), cmd(0xa9, nil, 0x00),
			cmd(0xc0, nil, 0x80),
			cmd(0xd0, nil, 0xcf), // output port: reset, A20, QEMU's ones
		)},
		{"keyboard reset", false, seq(
			w60(0xff), r60(0xfa), r60(0xaa), r64(0x1c),
		)},
		{"untranslated ID", false, seq(
			cmd(0x60, []uint8{0x03}), // translation off
			w60(0xf2), r60(0xfa), r60(0xab), r60(0x83),
			cmd(0x60, []uint8{0x43}),
			w60(0xf2), r60(0xfa), r60(0xab), r60(0x41),
		)},
		{"scan code set", false, seq(
			w60(0xf0), r60(0xfa), w60(0x00), r60(0xfa), r60(0x41), // set 2, translated
			w60(0xf0), r60(0xfa), w60(0x01), r60(0xfa),
			cmd(0x60, []uint8{0x03}),
			w60(0xf0), r60(0xfa), w60(0x00), r60(0xfa), r60(0x01),
			w60(0xf0), r60(0xfa), w60(0x07), r60(0xfe), // no such set
		)},
		{"echo, resend and unknown", false, seq(
			w60(0xee), r60(0xee),
			w60(0x05), r60(0xfe),
			w60(0x00), r60(0xfa),
			w60(0xf6), r60(0xfa),
			w60(0xfa), r60(0xfa),
			w60(0xfc), r60(0xfa), w60(0x10), r60(0xfa),
			w60(0x42), r60(0xfe),
		)},
		{"new command drops unread replies", false, seq(
			w60(0xf2), r60(0xfa), // AB 41 left unread
			w60(0xf4), r60(0xfa), r64(0x1c),
		)},
		{"controller reply goes first", false, seq(
			w60(0xf2), // ACK already in the output buffer
			w64(0x20), // the CTR reply waits
			r60(0xfa), r60(0x43), r60(0xab), r60(0x41), r64(0x1c),
		)},
		{"read with OBF clear repeats", false, seq(
			cmd(0x20, nil, 0x43), r64(0x1c),
			kbcStep{op: "r60again", val: 0x43}, kbcStep{op: "r60again", val: 0x43},
		)},
		{"disabled keyboard interface holds data, no IRQ1", false, seq(
			w64(0xad), w64(0xd2), w60(0x99), // controller-written byte
			r64(0x1d), irqs(0, 0), r60(0x99), // no IRQ while the port is off
			w64(0xae), cmd(0x20, nil, 0x43), irqs(0, 0),
			// Writing to the keyboard re-enables its interface (QEMU).
			w64(0xad), w60(0xf4), irqs(1, 0), r60(0xfa), irqs(0, 0), cmd(0x20, nil, 0x43),
		)},
		{"keyboard data waits while its interface is disabled", false, seq(
			w60(0xf2), r60(0xfa), // AB now in the output buffer, 41 queued
			w64(0xad), irqs(1, 0), // disabling does not touch the line (QEMU)
			r60(0xab), irqs(0, 0), r64(0x1c), // 41 held back
			w64(0xae), irqs(1, 0), r64(0x1d), r60(0x41), irqs(0, 0),
		)},
		{"AUX data with the keyboard interface disabled", false, seq(
			cmd(0x60, []uint8{0x53}), // kbd disabled, both interrupts on
			w64(0xd4), w60(0xf2),     // AUX get ID: FA 00 arrives
			r64(0x3d), irqs(0, 1), r60(0xfa), r60(0x00), irqs(0, 0),
			cmd(0x60, []uint8{0x43}),
		)},
		{"write to keyboard output buffer", false, seq(
			w64(0xd2), w60(0x5c), irqs(1, 0), r64(0x1d), r60(0x5c), irqs(0, 0),
		)},
		{"mouse basics", false, seq(
			// psmouse: reset, get ID, status request.
			w64(0xd4), w60(0xff), irqs(0, 1), r64(0x3d), r60(0xfa), r60(0xaa), r60(0x00), irqs(0, 0), r64(0x1c),
			w64(0xd4), w60(0xf2), r60(0xfa), r60(0x00),
			w64(0xd4), w60(0xe9), r60(0xfa), r60(0x00), r60(0x02), r60(0x64),
			w64(0xd4), w60(0xf5), r60(0xfa),
			w64(0xd4), w60(0xe8), r60(0xfa), w64(0xd4), w60(0x03), r60(0xfa),
			w64(0xd4), w60(0xe7), r60(0xfa),
			w64(0xd4), w60(0xea), r60(0xfa),
			w64(0xd4), w60(0xf4), r60(0xfa),
			w64(0xd4), w60(0xe9), r60(0xfa), r60(0x30), r60(0x03), r60(0x64), // enabled, 2:1, res 3
			w64(0xd4), w60(0xe6), r60(0xfa),
			w64(0xd4), w60(0xf6), r60(0xfa),
			w64(0xd4), w60(0xe9), r60(0xfa), r60(0x00), r60(0x02), r60(0x64),
			w64(0xd4), w60(0xeb), r60(0xfa), r60(0x08), r60(0x00), r60(0x00), // poll: no movement
			w64(0xd4), w60(0x12), r64(0x1c), // unknown: no answer
		)},
		{"mouse IntelliMouse knock", false, seq(
			w64(0xd4), w60(0xf3), r60(0xfa), w64(0xd4), w60(200), r60(0xfa),
			w64(0xd4), w60(0xf3), r60(0xfa), w64(0xd4), w60(100), r60(0xfa),
			w64(0xd4), w60(0xf3), r60(0xfa), w64(0xd4), w60(80), r60(0xfa),
			w64(0xd4), w60(0xf2), r60(0xfa), r60(0x03),
			w64(0xd4), w60(0xf3), r60(0xfa), w64(0xd4), w60(200), r60(0xfa),
			w64(0xd4), w60(0xf3), r60(0xfa), w64(0xd4), w60(200), r60(0xfa),
			w64(0xd4), w60(0xf3), r60(0xfa), w64(0xd4), w60(80), r60(0xfa),
			w64(0xd4), w60(0xf2), r60(0xfa), r60(0x04),
			w64(0xd4), w60(0xeb), r60(0xfa), r60(0x08), r60(0x00), r60(0x00), r60(0x00),
			w64(0xd4), w60(0xff), r60(0xfa), r60(0xaa), r60(0x00),
		)},
		{"mouse wrap mode", false, seq(
			w64(0xd4), w60(0xee), r60(0xfa),
			w64(0xd4), w60(0x37), r60(0x37),
			w64(0xd4), w60(0xf2), r60(0xf2),
			w64(0xd4), w60(0xec), r60(0xfa),
			w64(0xd4), w60(0xf2), r60(0xfa), r60(0x00),
		)},
		{"AUX interrupt off: no IRQ12", false, seq(
			cmd(0x60, []uint8{0x41}),
			w64(0xd4), w60(0xf2), r64(0x3d), irqs(0, 0), r60(0xfa), r60(0x00),
			cmd(0x60, []uint8{0x43}),
		)},
		{"CTR write raises a pending line", false, seq(
			cmd(0x60, []uint8{0x41}), // AUX interrupt off
			w64(0xd3), w60(0x11), irqs(0, 0),
			cmd(0x60, []uint8{0x43}), // back on: IRQ12 at once
			irqs(0, 1), r60(0x11), irqs(0, 0),
		)},
		{"A20 commands", false, seq(
			w64(0xdd), cmd(0xd0, nil, 0xcd),
			w64(0xdf), cmd(0xd0, nil, 0xcf),
		)},
		{"ignored commands", false, seq(
			w64(0xa1), w64(0x21), w64(0xc1), w64(0xe0), w64(0xf1), w64(0xff), r64(0x1c),
		)},
	}
	for _, tc := range tests {
		r := newKBCRig()
		if !tc.fresh {
			r.run(t, tc.name+" (probe)", linuxProbe())
			r.run(t, tc.name+" (atkbd)", atkbdProbe())
		}
		r.run(t, tc.name, tc.steps)
		if len(r.resets) != 0 {
			t.Errorf("%s: unexpected resets %v", tc.name, r.resets)
		}
	}
}

func TestI8042Reset(t *testing.T) {
	tests := []struct {
		name   string
		steps  []kbcStep
		resets int
	}{
		// native_machine_emergency_restart, BOOT_KBD: kb_wait, then 0xfe
		// to port 0x64, ten times (the machine stops at the first).
		{"0xfe", seq(r64(0x1c), w64(0xfe)), 1},
		{"0xfe ten times", seq(w64(0xfe), w64(0xfe), w64(0xfe), w64(0xfe), w64(0xfe),
			w64(0xfe), w64(0xfe), w64(0xfe), w64(0xfe), w64(0xfe)), 10},
		{"pulse 0xf0", seq(w64(0xf0)), 1},
		{"pulse 0xfa", seq(w64(0xfa)), 1},
		{"pulse bit 0 kept", seq(w64(0xf1), w64(0xf3), w64(0xfd), w64(0xff)), 0},
		{"output port bit 0 clear", seq(w64(0xd1), w60(0xce)), 1},
		{"output port bit 0 set", seq(w64(0xd1), w60(0xcf), cmd(0xd0, nil, 0xcf)), 0},
	}
	for _, tc := range tests {
		r := newKBCRig()
		r.run(t, tc.name, tc.steps)
		if len(r.resets) != tc.resets {
			t.Errorf("%s: %d resets, want %d", tc.name, len(r.resets), tc.resets)
		}
		for _, s := range r.resets {
			if s != "keyboard controller" {
				t.Errorf("%s: reset source %q", tc.name, s)
			}
		}
	}
	// No OnReset wired: nothing happens, nothing panics.
	c := NewI8042(nil, nil)
	c.Out(I8042Status, 1, 0xfe)
	c.Out(I8042Data, 1, 0xf2)
	if c.In(I8042Data, 1) != 0xfa {
		t.Errorf("controller without callbacks")
	}
}

// TestI8042AnyBytes writes every command with every data byte and reads
// the results back: no panic, the queues stay bounded, OBF clears after
// at most a few hundred reads.
func TestI8042AnyBytes(t *testing.T) {
	c := NewI8042(func(int, bool) {}, func(string) {})
	for cmdb := 0; cmdb < 256; cmdb++ {
		for data := 0; data < 256; data += 7 {
			c.Out(I8042Status, 1, uint32(cmdb))
			c.Out(I8042Data, 1, uint32(data))
			c.Out(I8042Data, 1, uint32(data^0xff))
			for n := 0; c.In(I8042Status, 1)&i8042StatOBF != 0; n++ {
				if n > 300 {
					t.Fatalf("command %#x data %#x: output never drains", cmdb, data)
				}
				c.In(I8042Data, 1)
			}
		}
	}
	// Mouse and keyboard parameter commands with every byte.
	for _, pre := range []uint8{0xf3, 0xe8, 0xee, 0xf0, 0xed} {
		for v := 0; v < 256; v++ {
			c.Out(I8042Status, 1, 0xd4)
			c.Out(I8042Data, 1, uint32(pre))
			c.Out(I8042Status, 1, 0xd4)
			c.Out(I8042Data, 1, uint32(v))
			c.Out(I8042Data, 1, uint32(pre))
			c.Out(I8042Data, 1, uint32(v))
			for n := 0; c.In(I8042Status, 1)&i8042StatOBF != 0; n++ {
				if n > 300 {
					t.Fatalf("prefix %#x value %#x: output never drains", pre, v)
				}
				c.In(I8042Data, 1)
			}
		}
	}
}
