package devices

import (
	"fmt"
	"io"
)

// PC is the set of devices of the emulated machine, wired as on a PC:
// COM1 on IRQ4, the PIT's counter 0 on IRQ0, the i8042's ports on IRQ1
// and IRQ12, all on one Bus.
type PC struct {
	Bus     *Bus
	UART    *UART
	PIC     *PIC
	PIT     *PIT
	Exit    *DebugExit
	CMOS    *CMOS
	POST    *POST
	SysCtrl *SysCtrl
	I8042   *I8042
	PCI     *PCI
}

// PCConfig says what the devices connect to. Every func may be nil.
type PCConfig struct {
	Serial  io.Writer           // COM1 output
	Clock   func() uint64       // the instruction count (cpu.Instret)
	RAMSize uint64              // for the CMOS memory-size bytes
	OnINTR  func(level bool)    // the PIC's INTR pin (cpu.SetIRQ)
	OnExit  func(code int)      // isa-debug-exit written (stop the CPU)
	OnReset func(source string) // the guest reset the machine (source says how, e.g. "port 0x92")
}

// NewPC builds and wires the devices.
func NewPC(cfg PCConfig) (*PC, error) {
	pc := &PC{Bus: NewBus(), PIC: NewPIC(cfg.OnINTR)}
	pc.UART = NewUART(COM1, cfg.Serial, func(level bool) { pc.PIC.SetIRQ(4, level) })
	pc.PIT = NewPIT(cfg.Clock, func() { pc.PIC.PulseIRQ(0) })
	pc.Exit = NewDebugExit(cfg.OnExit)
	pc.CMOS = NewCMOS(cfg.Clock, cfg.RAMSize)
	pc.POST = &POST{}
	pc.SysCtrl = NewSysCtrl(cfg.OnReset)
	pc.I8042 = NewI8042(pc.PIC.SetIRQ, cfg.OnReset)
	pc.PCI = NewPCI(cfg.RAMSize, cfg.OnReset)
	regs := []struct {
		first, last uint16
		d           Device
		wide        bool
	}{
		{COM1, COM1 + 7, pc.UART, false},
		{PICMaster, PICMaster + 1, pc.PIC, false},
		{PICSlave, PICSlave + 1, pc.PIC, false},
		{ELCR, ELCR + 1, pc.PIC, false},
		{PITBase, PITBase + 3, pc.PIT, false},
		{PortB, PortB, pc.PIT, false},
		{DebugExitPort, DebugExitPort + 1, pc.Exit, true},
		{POSTPort, POSTPort, pc.POST, false},
		{SysCtrlA, SysCtrlA, pc.SysCtrl, false},
		{CMOSIndex, CMOSData, pc.CMOS, false},
		{I8042Data, I8042Data, pc.I8042, false},
		{I8042Status, I8042Status, pc.I8042, false},
		{PCIConfigAddress, PCIConfigData + 3, pc.PCI, true},
	}
	for _, r := range regs {
		if err := pc.Bus.Register(r.first, r.last, r.d, r.wide); err != nil {
			return nil, fmt.Errorf("new pc: %w", err)
		}
	}
	return pc, nil
}
