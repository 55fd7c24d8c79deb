package devices

import (
	"io"
	"sync"
)

// COM1 is the I/O base of the first serial port; a UART occupies 8 ports.
const COM1 = 0x3f8

// 16550 registers (offsets from the base) and bits, per the National
// Semiconductor PC16550D datasheet.
const (
	uartRBR = 0 // read: receiver buffer; write: THR; DLAB=1: DLL
	uartIER = 1 // DLAB=1: DLM
	uartIIR = 2 // read: IIR; write: FCR
	uartLCR = 3
	uartMCR = 4
	uartLSR = 5
	uartMSR = 6
	uartSCR = 7

	ierRDA  = 0x01 // received data available
	ierTHRE = 0x02 // transmitter holding register empty
	ierRLS  = 0x04 // receiver line status
	ierMS   = 0x08 // modem status

	iirNone    = 0x01
	iirRLS     = 0x06
	iirRDA     = 0x04
	iirTHRE    = 0x02
	iirMSI     = 0x00
	iirFIFOs   = 0xc0 // FIFOs enabled (FCR bit 0)
	fcrEnable  = 0x01
	fcrClearRX = 0x02

	lcrDLAB = 0x80

	mcrDTR  = 0x01
	mcrRTS  = 0x02
	mcrOUT1 = 0x04
	mcrOUT2 = 0x08
	mcrLoop = 0x10

	lsrDR   = 0x01
	lsrTHRE = 0x20
	lsrTEMT = 0x40

	msrCTS = 0x10
	msrDSR = 0x20
	msrRI  = 0x40
	msrDCD = 0x80
)

// UART is a 16550A. Transmission is instantaneous: every byte written to
// THR goes to the writer at once, so LSR always shows THRE|TEMT. Received
// bytes queue without limit (Feed); DR is set while any is queued.
//
// The interrupt line follows QEMU's serial model: it is the OR of the
// enabled sources (received data, THR empty) and is not gated by MCR.OUT2.
// The THR-empty source is raised when IER enables it or a byte has been
// sent, and cleared by reading IIR while it is the reported source or by
// writing THR (PC16550D, Table IV).
type UART struct {
	base uint16
	out  io.Writer
	irq  func(level bool)

	mu    sync.Mutex // guards inbox, the only state Feed touches
	inbox []byte

	rx                   []byte
	dll, dlm             uint8
	ier, lcr, mcr, scr   uint8
	fcr                  uint8
	thrPending, irqLevel bool
	err                  error
}

// NewUART returns a UART at base (COM1 = 0x3f8) sending to out (nil:
// discard). irq, when non-nil, is called with the new level of the
// interrupt line (IRQ4 for COM1) each time it changes.
func NewUART(base uint16, out io.Writer, irq func(level bool)) *UART {
	if out == nil {
		out = io.Discard
	}
	// Divisor 12 (9600 baud) and 8N1, an arbitrary but common reset value.
	return &UART{base: base, out: out, irq: irq, dll: 12, lcr: 0x03}
}

// Feed queues bytes for the guest to receive. It is safe to call from any
// goroutine; the bytes become visible to the guest at its next UART
// access or the next Poll.
func (u *UART) Feed(b []byte) {
	u.mu.Lock()
	u.inbox = append(u.inbox, b...)
	u.mu.Unlock()
}

// Poll moves fed bytes into the receive FIFO and updates the interrupt
// line; the machine calls it between runs so an interrupt-driven guest
// sees input without polling LSR.
func (u *UART) Poll() {
	u.mu.Lock()
	if len(u.inbox) > 0 {
		u.rx = append(u.rx, u.inbox...)
		u.inbox = u.inbox[:0]
	}
	u.mu.Unlock()
	u.update()
}

// Err returns the first error the writer returned (the guest cannot be
// told about it).
func (u *UART) Err() error { return u.err }

// IRQ reports the interrupt line's level.
func (u *UART) IRQ() bool { return u.irqLevel }

func (u *UART) iir() uint8 {
	var v uint8 = iirNone
	switch {
	case u.ier&ierRDA != 0 && len(u.rx) > 0:
		v = iirRDA
	case u.ier&ierTHRE != 0 && u.thrPending:
		v = iirTHRE
	}
	if u.fcr&fcrEnable != 0 {
		v |= iirFIFOs
	}
	return v
}

func (u *UART) update() {
	level := u.iir()&iirNone == 0
	if level != u.irqLevel {
		u.irqLevel = level
		if u.irq != nil {
			u.irq(level)
		}
	}
}

func (u *UART) msr() uint8 {
	if u.mcr&mcrLoop != 0 {
		// Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
		var v uint8
		if u.mcr&mcrDTR != 0 {
			v |= msrDSR
		}
		if u.mcr&mcrRTS != 0 {
			v |= msrCTS
		}
		if u.mcr&mcrOUT1 != 0 {
			v |= msrRI
		}
		if u.mcr&mcrOUT2 != 0 {
			v |= msrDCD
		}
		return v
	}
	// A connected terminal: carrier, data set ready, clear to send.
	return msrDCD | msrDSR | msrCTS
}

// In reads a register; only the low byte of the access is meaningful.
func (u *UART) In(port uint16, size int) uint32 {
	u.Poll()
	var v uint8
	switch (port - u.base) & 7 {
	case uartRBR:
		if u.lcr&lcrDLAB != 0 {
			v = u.dll
			break
		}
		if len(u.rx) > 0 {
			v = u.rx[0]
			u.rx = u.rx[1:]
			if len(u.rx) == 0 {
				u.rx = nil
			}
			u.update()
		}
	case uartIER:
		if u.lcr&lcrDLAB != 0 {
			v = u.dlm
		} else {
			v = u.ier
		}
	case uartIIR:
		v = u.iir()
		if v&0x0f == iirTHRE {
			u.thrPending = false
			u.update()
		}
	case uartLCR:
		v = u.lcr
	case uartMCR:
		v = u.mcr
	case uartLSR:
		v = lsrTHRE | lsrTEMT
		if len(u.rx) > 0 {
			v |= lsrDR
		}
	case uartMSR:
		v = u.msr()
	case uartSCR:
		v = u.scr
	}
	return uint32(v)
}

// Out writes a register; only the low byte of the access is used.
func (u *UART) Out(port uint16, size int, val uint32) {
	u.Poll()
	b := uint8(val)
	switch (port - u.base) & 7 {
	case uartRBR:
		if u.lcr&lcrDLAB != 0 {
			u.dll = b
			return
		}
		if u.mcr&mcrLoop != 0 {
			u.rx = append(u.rx, b)
		} else if _, err := u.out.Write([]byte{b}); err != nil && u.err == nil {
			u.err = err
		}
		// The byte left at once: THR is empty again.
		u.thrPending = true
	case uartIER:
		if u.lcr&lcrDLAB != 0 {
			u.dlm = b
			return
		}
		old := u.ier
		u.ier = b & 0x0f
		if u.ier&ierTHRE != 0 && old&ierTHRE == 0 {
			u.thrPending = true // THR is empty (PC16550D: enabling ETBEI with THRE set interrupts)
		}
	case uartIIR: // FCR
		if b&fcrClearRX != 0 {
			u.rx = nil
		}
		u.fcr = b & 0xc9
	case uartLCR:
		u.lcr = b
	case uartMCR:
		u.mcr = b & 0x1f
	case uartSCR:
		u.scr = b
	}
	u.update()
}
