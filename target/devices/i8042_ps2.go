package devices

// The PS/2 keyboard and mouse behind the i8042, as QEMU 7.2's
// hw/input/ps2.c answers the commands Linux's atkbd, psmouse and i8042
// drivers send. Their replies wait in a 16-byte queue that the
// controller empties one byte per read of port 0x60.

// PS/2 replies.
const (
	ps2ACK    = 0xfa
	ps2Resend = 0xfe
	ps2BATOK  = 0xaa // power-on/reset self-test passed
	ps2KbdID  = 0xab // first ID byte of an MF2 keyboard
)

// Keyboard commands.
const (
	kbdCmdSetLEDs      = 0xed
	kbdCmdEcho         = 0xee
	kbdCmdScancode     = 0xf0
	kbdCmdGetID        = 0xf2
	kbdCmdSetRate      = 0xf3
	kbdCmdEnable       = 0xf4
	kbdCmdResetDisable = 0xf5
	kbdCmdResetEnable  = 0xf6
	kbdCmdSetTypematic = 0xfa
	kbdCmdSetMakeBreak = 0xfc
	kbdCmdReset        = 0xff
)

// Mouse commands.
const (
	auxSetScale11 = 0xe6
	auxSetScale21 = 0xe7
	auxSetRes     = 0xe8
	auxGetScale   = 0xe9 // status request: ACK + status, resolution, rate
	auxSetStream  = 0xea
	auxPoll       = 0xeb
	auxResetWrap  = 0xec
	auxSetWrap    = 0xee
	auxSetRemote  = 0xf0
	auxGetType    = 0xf2
	auxSetSample  = 0xf3
	auxEnable     = 0xf4
	auxDisable    = 0xf5
	auxSetDefault = 0xf6
	auxReset      = 0xff

	mouseStatusRemote  = 0x40
	mouseStatusEnabled = 0x20
	mouseStatusScale21 = 0x10
)

// ps2Queue sizes: the device queue holds 16 bytes (the PS/2 protocol's
// buffer) in a 256-byte ring; command replies may go in front of queued
// data beyond that (QEMU's PS2_QUEUE_HEADROOM).
const (
	ps2QueueSize  = 16
	ps2BufferSize = 256
)

// ps2Port is the part common to both devices: the output queue, a
// command waiting for its parameter byte, and the "data available" line
// to the controller.
type ps2Port struct {
	data   [ps2BufferSize]uint8
	rptr   int
	wptr   int
	cwptr  int // end of the command replies in front of the data, -1: none
	count  int
	cmd    int // command waiting for its parameter, -1: none
	notify func(level bool)
}

func newPS2Port(notify func(level bool)) ps2Port {
	return ps2Port{cwptr: -1, cmd: -1, notify: notify}
}

func (p *ps2Port) line(level bool) {
	if p.notify != nil {
		p.notify(level)
	}
}

func (p *ps2Port) resetQueue() {
	p.rptr, p.wptr, p.cwptr, p.count = 0, 0, -1, 0
}

// queue appends bytes to the device's data if they all fit, then raises
// the line (QEMU's ps2_queue_N).
func (p *ps2Port) queue(bs ...uint8) {
	if ps2QueueSize-p.count < len(bs) {
		return
	}
	for _, b := range bs {
		p.data[p.wptr] = b
		p.wptr = (p.wptr + 1) % ps2BufferSize
		p.count++
	}
	p.line(true)
}

// cqueue puts a command reply in front of any queued data (QEMU's
// ps2_cqueue_N).
func (p *ps2Port) cqueue(bs ...uint8) {
	p.rptr = (p.rptr - len(bs) + ps2BufferSize) % ps2BufferSize
	p.cwptr = p.rptr
	for _, b := range bs {
		p.data[p.cwptr] = b
		p.cwptr = (p.cwptr + 1) % ps2BufferSize
		p.count++
	}
	p.line(true)
}

// cqueueReset drops unread replies to an earlier command: a new command
// aborts the previous one.
func (p *ps2Port) cqueueReset() {
	if p.cwptr == -1 {
		return
	}
	n := (p.cwptr - p.rptr + ps2BufferSize) % ps2BufferSize
	p.count -= n
	p.rptr = p.cwptr
	p.cwptr = -1
}

// read takes the next byte. With nothing queued it returns the last byte
// again.
func (p *ps2Port) read() uint8 {
	if p.count == 0 {
		return p.data[(p.rptr-1+ps2BufferSize)%ps2BufferSize]
	}
	v := p.data[p.rptr]
	p.rptr = (p.rptr + 1) % ps2BufferSize
	p.count--
	if p.rptr == p.cwptr {
		p.cwptr = -1
	}
	p.line(false)
	if p.count != 0 {
		p.line(true)
	}
	return v
}

// ps2Keyboard is an MF2 keyboard. It never produces scan codes here (no
// keystroke input), only replies to commands.
type ps2Keyboard struct {
	ps2Port
	scanEnabled bool
	translate   bool // the controller translates to set 1: ID reads AB 41
	scancodeSet int
	leds        uint8
}

func (k *ps2Keyboard) resetKeyboard() {
	k.scanEnabled = true
	k.scancodeSet = 2
	k.resetQueue()
	k.leds = 0
}

// translatedSet is what 0xf0 0x00 reports for scan code set n while the
// controller translates: the byte n becomes through the set 2 to set 1
// translation table (QEMU's translate_table[1..3]).
func translatedSet(n int) uint8 {
	switch n {
	case 1:
		return 0x43
	case 2:
		return 0x41
	case 3:
		return 0x3f
	}
	return 0xff
}

func (k *ps2Keyboard) write(v uint8) {
	k.cqueueReset()
	cmd := k.cmd
	k.cmd = -1
	switch cmd {
	case kbdCmdSetMakeBreak:
		k.cqueue(ps2ACK)
	case kbdCmdScancode:
		switch {
		case v == 0:
			set := uint8(k.scancodeSet)
			if k.translate {
				set = translatedSet(k.scancodeSet)
			}
			k.cqueue(ps2ACK, set)
		case v <= 3:
			k.scancodeSet = int(v)
			k.cqueue(ps2ACK)
		default:
			k.cqueue(ps2Resend)
		}
	case kbdCmdSetLEDs:
		k.leds = v
		k.cqueue(ps2ACK)
	case kbdCmdSetRate:
		k.cqueue(ps2ACK)
	default:
		k.command(v)
	}
}

func (k *ps2Keyboard) command(v uint8) {
	switch v {
	case 0x00:
		k.cqueue(ps2ACK)
	case 0x05:
		k.cqueue(ps2Resend)
	case kbdCmdGetID:
		id2 := uint8(0x83)
		if k.translate {
			id2 = 0x41
		}
		k.cqueue(ps2ACK, ps2KbdID, id2)
	case kbdCmdEcho:
		k.cqueue(kbdCmdEcho)
	case kbdCmdEnable:
		k.scanEnabled = true
		k.cqueue(ps2ACK)
	case kbdCmdScancode, kbdCmdSetLEDs, kbdCmdSetRate, kbdCmdSetMakeBreak:
		k.cmd = int(v)
		k.cqueue(ps2ACK)
	case kbdCmdResetDisable:
		k.resetKeyboard()
		k.scanEnabled = false
		k.cqueue(ps2ACK)
	case kbdCmdResetEnable:
		k.resetKeyboard()
		k.cqueue(ps2ACK)
	case kbdCmdReset:
		k.resetKeyboard()
		k.cqueue(ps2ACK, ps2BATOK)
	case kbdCmdSetTypematic:
		k.cqueue(ps2ACK)
	default:
		k.cqueue(ps2Resend)
	}
}

// ps2Mouse is a standard PS/2 mouse that becomes an IntelliMouse (type
// 3) or IntelliMouse Explorer (type 4) after the usual sample-rate
// knocks. It never moves.
type ps2Mouse struct {
	ps2Port
	status      uint8
	resolution  uint8
	sampleRate  uint8
	wrap        bool
	mouseType   uint8
	detectState int
}

// sendPacket queues a movement packet (all zero: the mouse never moves).
func (m *ps2Mouse) sendPacket() {
	if m.mouseType != 0 {
		m.queue(0x08, 0, 0, 0)
	} else {
		m.queue(0x08, 0, 0)
	}
}

func (m *ps2Mouse) write(v uint8) {
	switch m.cmd {
	case auxSetSample:
		m.sampleRate = v
		// IntelliMouse detection: rates 200, 100, 80 (type 3) or 200,
		// 200, 80 (type 4).
		switch m.detectState {
		case 1:
			switch v {
			case 100:
				m.detectState = 2
			case 200:
				m.detectState = 3
			default:
				m.detectState = 0
			}
		case 2:
			if v == 80 {
				m.mouseType = 3
			}
			m.detectState = 0
		case 3:
			if v == 80 {
				m.mouseType = 4
			}
			m.detectState = 0
		default:
			if v == 200 {
				m.detectState = 1
			}
		}
		m.queue(ps2ACK)
		m.cmd = -1
		return
	case auxSetRes:
		m.resolution = v
		m.queue(ps2ACK)
		m.cmd = -1
		return
	}
	if m.wrap {
		// Wrap (echo) mode: everything but reset and reset-wrap comes back.
		if v == auxResetWrap {
			m.wrap = false
			m.queue(ps2ACK)
			return
		}
		if v != auxReset {
			m.queue(v)
			return
		}
	}
	switch v {
	case auxSetScale11:
		m.status &^= mouseStatusScale21
		m.queue(ps2ACK)
	case auxSetScale21:
		m.status |= mouseStatusScale21
		m.queue(ps2ACK)
	case auxSetStream:
		m.status &^= mouseStatusRemote
		m.queue(ps2ACK)
	case auxSetWrap:
		m.wrap = true
		m.queue(ps2ACK)
	case auxSetRemote:
		m.status |= mouseStatusRemote
		m.queue(ps2ACK)
	case auxGetType:
		m.queue(ps2ACK, m.mouseType)
	case auxSetRes, auxSetSample:
		m.cmd = int(v)
		m.queue(ps2ACK)
	case auxGetScale:
		m.queue(ps2ACK, m.status, m.resolution, m.sampleRate)
	case auxPoll:
		m.queue(ps2ACK)
		m.sendPacket()
	case auxEnable:
		m.status |= mouseStatusEnabled
		m.queue(ps2ACK)
	case auxDisable:
		m.status &^= mouseStatusEnabled
		m.queue(ps2ACK)
	case auxSetDefault:
		m.sampleRate, m.resolution, m.status = 100, 2, 0
		m.queue(ps2ACK)
	case auxReset:
		m.sampleRate, m.resolution, m.status, m.mouseType = 100, 2, 0, 0
		m.resetQueue()
		m.queue(ps2ACK, ps2BATOK, m.mouseType)
	}
	// Other bytes get no answer, as from QEMU's mouse.
}
