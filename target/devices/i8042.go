package devices

// Ports of the 8042 keyboard controller.
const (
	I8042Data   = 0x60 // read: output buffer; write: data to the keyboard or a command's parameter
	I8042Status = 0x64 // read: status register; write: controller command
)

// IRQ lines of the two PS/2 ports.
const (
	I8042KbdIRQ = 1
	I8042AuxIRQ = 12
)

// Status register bits.
const (
	i8042StatOBF      = 0x01 // output buffer full
	i8042StatIBF      = 0x02 // input buffer full (never: commands complete at once)
	i8042StatSys      = 0x04 // system flag, set by the self-test command
	i8042StatCmd      = 0x08 // last write was a command (QEMU keeps it set)
	i8042StatUnlocked = 0x10 // keyboard not inhibited by the keylock
	i8042StatAuxOBF   = 0x20 // the output buffer holds AUX data
)

// Command byte (CTR) bits.
const (
	i8042CtrKbdInt   = 0x01 // keyboard data raises IRQ1
	i8042CtrAuxInt   = 0x02 // AUX data raises IRQ12
	i8042CtrSys      = 0x04
	i8042CtrNoLock   = 0x08
	i8042CtrKbdDis   = 0x10 // keyboard interface disabled
	i8042CtrAuxDis   = 0x20 // AUX interface disabled
	i8042CtrTranslat = 0x40 // translate scan codes to set 1
)

// Output port (P2) bits.
const (
	i8042OutReset  = 0x01 // 0 holds the CPU in reset
	i8042OutA20    = 0x02
	i8042OutOBF    = 0x10
	i8042OutAuxOBF = 0x20
	i8042OutOnes   = 0xcc // QEMU's default for the bits it does not model
)

// Controller commands (writes to port 0x64).
const (
	i8042CmdReadCTR     = 0x20
	i8042CmdWriteCTR    = 0x60
	i8042CmdAuxDisable  = 0xa7
	i8042CmdAuxEnable   = 0xa8
	i8042CmdAuxTest     = 0xa9
	i8042CmdSelfTest    = 0xaa
	i8042CmdKbdTest     = 0xab
	i8042CmdKbdDisable  = 0xad
	i8042CmdKbdEnable   = 0xae
	i8042CmdReadInput   = 0xc0
	i8042CmdReadOutput  = 0xd0
	i8042CmdWriteOutput = 0xd1
	i8042CmdWriteKbdOB  = 0xd2 // next data byte appears as keyboard output
	i8042CmdWriteAuxOB  = 0xd3 // next data byte appears as AUX output (loopback)
	i8042CmdWriteAux    = 0xd4 // next data byte goes to the AUX device
	i8042CmdDisableA20  = 0xdd
	i8042CmdEnableA20   = 0xdf
	i8042CmdPulse       = 0xf0 // 0xf0-0xff: pulse output port bits 3-0 (0 = pulse)
	i8042CmdReset       = 0xfe // pulse bit 0: CPU reset
	i8042CmdNop         = 0xff
)

// Sources of the output buffer's byte, and the pending-data bits. The
// KBD/AUX pending bits equal the CTR's disable bits so that a disabled
// interface masks its device's data, as in QEMU's kbd_pending.
const (
	i8042SrcKbd  = 1
	i8042SrcAux  = 2
	i8042SrcCtrl = 4

	i8042PendCtrlKbd = 0x04 // a controller reply, presented as keyboard data
	i8042PendCtrlAux = 0x08 // a controller reply presented as AUX data (0xd3)
	i8042PendKbd     = i8042CtrKbdDis
	i8042PendAux     = i8042CtrAuxDis
)

// I8042 is the PC's 8042 keyboard controller with a PS/2 keyboard on its
// KBD port and a PS/2 mouse on its AUX port. It behaves as QEMU 7.2's
// i8042 (hw/input/pckbd.c with extended-state, the pc machine's
// default, and no kbd-throttle) and its PS/2 devices (hw/input/ps2.c):
//
//   - One output buffer, refilled as the guest reads port 0x60. The
//     controller's own replies come first, then keyboard data, then AUX
//     data; a device's data waits while its interface is disabled in the
//     CTR. OBF and AUXOBF say what the buffer holds; reading port 0x60
//     with OBF clear returns the last byte again.
//   - IRQ1 is high while the buffer holds keyboard-port data (controller
//     replies included) and the CTR enables it and does not disable the
//     keyboard interface; IRQ12 while it holds AUX data and the CTR
//     enables it. Each refill after a read makes a new rising edge.
//   - Commands complete at once: IBF is never set.
//   - Writing a byte to a device (port 0x60, or 0xd4 then a byte) clears
//     that interface's disable bit, as QEMU does.
//   - 0xfe, any 0xf0-0xff pulse with bit 0 clear, and an output-port
//     write (0xd1) with bit 0 clear reset the machine (OnReset).
//
// The initial state is the one SeaBIOS leaves for the kernel under QEMU
// (src/hw/ps2port.c ps2_keyboard_setup: self-test, keyboard reset, scan
// set 2, CTR = AUX disabled | translate | keyboard interrupt, keyboard
// enabled), since this machine boots without firmware: CTR 0x61, status
// 0x1c (system flag from the self-test), translation on. That is what
// makes Linux name the keyboard "AT Translated Set 2".
//
// There is no keystroke input: the console is the serial port.
type I8042 struct {
	status   uint8
	ctr      uint8
	outport  uint8
	writeCmd uint8 // command waiting for its data byte (0: none)
	pending  uint8
	obsrc    uint8
	obdata   uint8 // the byte in (or last read from) the output buffer
	cbdata   uint8 // the controller's pending reply

	kbd   ps2Keyboard
	mouse ps2Mouse

	setIRQ  func(irq int, level bool)
	onReset func(source string)
}

// NewI8042 returns the controller in the state SeaBIOS leaves it in.
// setIRQ drives the PIC's lines (IRQ1 and IRQ12); onReset is called when
// the guest pulses the reset line. Either may be nil.
func NewI8042(setIRQ func(irq int, level bool), onReset func(source string)) *I8042 {
	c := &I8042{
		status:  i8042StatSys | i8042StatCmd | i8042StatUnlocked,
		ctr:     i8042CtrAuxDis | i8042CtrTranslat | i8042CtrKbdInt,
		outport: i8042OutReset | i8042OutA20 | i8042OutOnes,
		obdata:  ps2ACK, // SeaBIOS's last read: the ACK of ATKBD_CMD_ENABLE
		setIRQ:  setIRQ,
		onReset: onReset,
	}
	c.kbd = ps2Keyboard{ps2Port: newPS2Port(c.kbdLine), scanEnabled: true, scancodeSet: 2, translate: true}
	c.mouse = ps2Mouse{ps2Port: newPS2Port(c.auxLine)}
	return c
}

// CTR returns the command byte (for tests and the monitor).
func (c *I8042) CTR() uint8 { return c.ctr }

// In reads the status register (0x64) or the output buffer (0x60).
func (c *I8042) In(port uint16, size int) uint32 {
	if port == I8042Status {
		return uint32(c.status)
	}
	return uint32(c.readData())
}

// Out writes a command (0x64) or data (0x60).
func (c *I8042) Out(port uint16, size int, val uint32) {
	if port == I8042Status {
		c.writeCommand(uint8(val))
		return
	}
	c.writeData(uint8(val))
}

// visiblePending is the pending set with the data of disabled interfaces
// masked out (QEMU's kbd_pending with extended state).
func (c *I8042) visiblePending() uint8 {
	return c.pending & (^c.ctr | ^uint8(i8042PendKbd|i8042PendAux))
}

// updateLines drives IRQ1/IRQ12 from the status and the CTR.
func (c *I8042) updateLines() {
	kbd, aux := false, false
	if c.status&i8042StatOBF != 0 {
		if c.status&i8042StatAuxOBF != 0 {
			aux = c.ctr&i8042CtrAuxInt != 0
		} else {
			kbd = c.ctr&i8042CtrKbdInt != 0 && c.ctr&i8042CtrKbdDis == 0
		}
	}
	if c.setIRQ != nil {
		c.setIRQ(I8042KbdIRQ, kbd)
		c.setIRQ(I8042AuxIRQ, aux)
	}
}

// deassert empties the output buffer's flags and lowers the lines.
func (c *I8042) deassert() {
	c.status &^= i8042StatOBF | i8042StatAuxOBF
	c.outport &^= i8042OutOBF | i8042OutAuxOBF
	c.updateLines()
}

// fill chooses the source of the next output byte by priority and sets
// OBF/AUXOBF (QEMU's kbd_update_irq).
func (c *I8042) fill() {
	p := c.visiblePending()
	c.status &^= i8042StatOBF | i8042StatAuxOBF
	c.outport &^= i8042OutOBF | i8042OutAuxOBF
	if p != 0 {
		c.status |= i8042StatOBF
		c.outport |= i8042OutOBF
		aux := false
		switch {
		case p&i8042PendCtrlKbd != 0:
			c.obsrc = i8042SrcCtrl
		case p&i8042PendCtrlAux != 0:
			c.obsrc, aux = i8042SrcCtrl, true
		case p&i8042PendKbd != 0:
			c.obsrc = i8042SrcKbd
		default:
			c.obsrc, aux = i8042SrcAux, true
		}
		if aux {
			c.status |= i8042StatAuxOBF
			c.outport |= i8042OutAuxOBF
		}
	}
	c.updateLines()
}

// safeFill refills the output buffer only if it is empty.
func (c *I8042) safeFill() {
	if c.status&i8042StatOBF != 0 {
		return
	}
	if c.visiblePending() != 0 {
		c.fill()
	}
}

// kbdLine and auxLine are the PS/2 devices' "data available" outputs.
func (c *I8042) kbdLine(level bool) { c.devLine(i8042PendKbd, level) }
func (c *I8042) auxLine(level bool) { c.devLine(i8042PendAux, level) }

func (c *I8042) devLine(bit uint8, level bool) {
	if level {
		c.pending |= bit
	} else {
		c.pending &^= bit
	}
	c.safeFill()
}

// reply queues a controller reply byte (one at a time: a new reply
// replaces an unread one, as in QEMU).
func (c *I8042) reply(b uint8, aux bool) {
	c.cbdata = b
	c.pending &^= i8042PendCtrlKbd | i8042PendCtrlAux
	if aux {
		c.pending |= i8042PendCtrlAux
	} else {
		c.pending |= i8042PendCtrlKbd
	}
	c.safeFill()
}

func (c *I8042) readData() uint8 {
	if c.status&i8042StatOBF == 0 {
		return c.obdata
	}
	c.deassert()
	switch c.obsrc {
	case i8042SrcKbd:
		c.obdata = c.kbd.read()
	case i8042SrcAux:
		c.obdata = c.mouse.read()
	case i8042SrcCtrl:
		c.obdata = c.cbdata
		c.pending &^= i8042PendCtrlKbd | i8042PendCtrlAux
		if c.visiblePending() != 0 {
			c.fill()
		}
	}
	return c.obdata
}

func (c *I8042) reset() {
	if c.onReset != nil {
		c.onReset("keyboard controller")
	}
}

func (c *I8042) writeCommand(v uint8) {
	if v&i8042CmdPulse == i8042CmdPulse {
		// Pulse output port bits 3-0 low for ~6 µs; only bit 0 (reset)
		// has an effect.
		if v&1 == 0 {
			v = i8042CmdReset
		} else {
			v = i8042CmdNop
		}
	}
	switch v {
	case i8042CmdReadCTR:
		c.reply(c.ctr, false)
	case i8042CmdWriteCTR, i8042CmdWriteKbdOB, i8042CmdWriteAuxOB, i8042CmdWriteAux, i8042CmdWriteOutput:
		c.writeCmd = v
	case i8042CmdAuxDisable:
		c.ctr |= i8042CtrAuxDis
	case i8042CmdAuxEnable:
		c.ctr &^= i8042CtrAuxDis
		c.safeFill()
	case i8042CmdAuxTest, i8042CmdKbdTest:
		c.reply(0x00, false) // interface OK
	case i8042CmdSelfTest:
		c.status |= i8042StatSys
		c.reply(0x55, false)
	case i8042CmdKbdDisable:
		c.ctr |= i8042CtrKbdDis
	case i8042CmdKbdEnable:
		c.ctr &^= i8042CtrKbdDis
		c.safeFill()
	case i8042CmdReadInput:
		c.reply(0x80, false) // keyboard not inhibited
	case i8042CmdReadOutput:
		c.reply(c.outport, false)
	case i8042CmdEnableA20:
		c.outport |= i8042OutA20 // A20 is always enabled in this machine
	case i8042CmdDisableA20:
		c.outport &^= i8042OutA20
	case i8042CmdReset:
		c.reset()
	}
	// Other commands are ignored, as QEMU does (it logs a guest error).
}

func (c *I8042) writeData(v uint8) {
	cmd := c.writeCmd
	c.writeCmd = 0
	switch cmd {
	case 0:
		c.kbd.write(v)
		// Sending data to the keyboard re-enables its interface.
		c.ctr &^= i8042CtrKbdDis
		c.safeFill()
	case i8042CmdWriteCTR:
		c.ctr = v
		c.kbd.translate = v&i8042CtrTranslat != 0
		// The interrupt-enable bits act on the lines at once; clearing a
		// disable bit may present data that was waiting.
		c.updateLines()
		c.safeFill()
	case i8042CmdWriteKbdOB:
		c.reply(v, false)
	case i8042CmdWriteAuxOB:
		c.reply(v, true)
	case i8042CmdWriteOutput:
		c.outport = v
		if v&i8042OutReset == 0 {
			c.reset()
		}
	case i8042CmdWriteAux:
		c.mouse.write(v)
		c.ctr &^= i8042CtrAuxDis
		c.safeFill()
	}
}
