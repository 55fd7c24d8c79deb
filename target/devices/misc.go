package devices

// Ports of the small devices.
const (
	DebugExitPort = 0x501 // QEMU's isa-debug-exit default iobase (iosize 2)
	POSTPort      = 0x80
	SysCtrlA      = 0x92 // system control port A: fast A20 gate and reset
	CMOSIndex     = 0x70
	CMOSData      = 0x71
)

// DebugExit is QEMU's isa-debug-exit at 0x501-0x502. QEMU exits with
// status (v<<1)|1 for a written value v; this machine reports v itself,
// the kernel's own code (0 success, 1 panic). The first write wins.
type DebugExit struct {
	code   int
	exited bool
	onExit func(code int)
}

// NewDebugExit returns the device; onExit, when non-nil, is called on the
// first write (the machine stops the CPU there).
func NewDebugExit(onExit func(code int)) *DebugExit { return &DebugExit{onExit: onExit} }

// Exited returns the code written and whether the guest wrote one.
func (d *DebugExit) Exited() (code int, ok bool) { return d.code, d.exited }

// In returns 0: the device has no readable register (QEMU's ops have no
// read callback and answer 0).
func (d *DebugExit) In(port uint16, size int) uint32 { return 0 }

// Out records the exit request.
func (d *DebugExit) Out(port uint16, size int, val uint32) {
	if d.exited {
		return
	}
	d.code, d.exited = int(val&ones(size)), true
	if d.onExit != nil {
		d.onExit(d.code)
	}
}

// POST is port 0x80, written by guests as an I/O delay and for POST
// codes. Reads return 0xff as in QEMU (hw/i386/pc.c ioport80_read).
type POST struct{ Last uint8 }

func (p *POST) In(port uint16, size int) uint32 { return 0xff }

func (p *POST) Out(port uint16, size int, val uint32) { p.Last = uint8(val) }

// SysCtrl is system control port A (0x92): bit 1 gates A20 (reported,
// always enabled in this machine), bit 0 requests a fast reset.
type SysCtrl struct {
	val     uint8
	onReset func(source string)
}

// NewSysCtrl returns port 0x92 with A20 enabled; onReset (may be nil) is
// called when the guest sets bit 0.
func NewSysCtrl(onReset func(source string)) *SysCtrl { return &SysCtrl{val: 0x02, onReset: onReset} }

func (s *SysCtrl) In(port uint16, size int) uint32 { return uint32(s.val) }

func (s *SysCtrl) Out(port uint16, size int, val uint32) {
	// Like QEMU's port92_write, bit 0 is a command and reads back as 0.
	s.val = uint8(val) &^ 1
	if val&1 != 0 && s.onReset != nil {
		s.onReset("port 0x92")
	}
}

// CMOS is the MC146818 RTC and its NVRAM at 0x70/0x71. The clock reads
// a fixed date, 2025-01-01 00:00:00 UTC, plus the virtual time elapsed
// (instructions / 1e9 s): nothing comes from the host, so runs repeat.
// The memory-size bytes are filled as QEMU's pc_cmos_init does.
type CMOS struct {
	index  uint8
	nmiOff bool
	ram    [128]uint8
	clock  func() uint64
}

// CMOS registers.
const (
	rtcSeconds = 0x00
	rtcMinutes = 0x02
	rtcHours   = 0x04
	rtcWeekday = 0x06
	rtcDay     = 0x07
	rtcMonth   = 0x08
	rtcYear    = 0x09
	rtcStatusA = 0x0a
	rtcStatusB = 0x0b
	rtcStatusC = 0x0c
	rtcStatusD = 0x0d
	rtcCentury = 0x32
)

// NewCMOS returns the RTC; clock returns the instruction count (nil: the
// time stays at the fixed date); ramSize fills the memory-size bytes.
func NewCMOS(clock func() uint64, ramSize uint64) *CMOS {
	c := &CMOS{clock: clock}
	c.ram[rtcStatusA] = 0x26 // 32.768 kHz divider, 1024 Hz rate, UIP clear
	c.ram[rtcStatusB] = 0x02 // 24-hour, BCD
	c.ram[rtcStatusD] = 0x80 // valid RAM and time
	// Base memory 640 KiB.
	c.ram[0x15], c.ram[0x16] = 0x80, 0x02
	// Extended memory above 1 MiB in KiB (max 0xffff), twice.
	ext := uint64(0)
	if ramSize > 1<<20 {
		ext = min((ramSize-1<<20)>>10, 0xffff)
	}
	c.ram[0x17], c.ram[0x18] = uint8(ext), uint8(ext>>8)
	c.ram[0x30], c.ram[0x31] = uint8(ext), uint8(ext>>8)
	// Memory between 16 MiB and 4 GiB in 64 KiB units (QEMU caps low
	// memory below the PCI hole; 0xffff at most), then above 4 GiB.
	low := min(ramSize, 0xe000_0000)
	if low > 16<<20 {
		v := min((low-16<<20)>>16, 0xffff)
		c.ram[0x34], c.ram[0x35] = uint8(v), uint8(v>>8)
	}
	if ramSize > 0xe000_0000 {
		v := (ramSize - 0xe000_0000) >> 16
		c.ram[0x5b], c.ram[0x5c], c.ram[0x5d] = uint8(v), uint8(v>>8), uint8(v>>16)
	}
	return c
}

func bcd(v int) uint8 { return uint8(v/10<<4 | v%10) }

// timeReg returns a clock register at the fixed epoch plus virtual time.
func (c *CMOS) timeReg(r uint8) (uint8, bool) {
	var secs uint64
	if c.clock != nil {
		secs = c.clock() / nsPerSecond
	}
	days := int(secs / 86400)
	s := int(secs % 86400)
	// Civil date from days since 2025-01-01 (a Wednesday).
	y, m, d := 2025, 1, 1
	for {
		yl := 365
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			yl = 366
		}
		if days < yl {
			break
		}
		days -= yl
		y++
	}
	mdays := [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		mdays[1] = 29
	}
	for days >= mdays[m-1] {
		days -= mdays[m-1]
		m++
	}
	d += days
	totalDays := int(secs / 86400)
	switch r {
	case rtcSeconds:
		return bcd(s % 60), true
	case rtcMinutes:
		return bcd(s / 60 % 60), true
	case rtcHours:
		return bcd(s / 3600), true
	case rtcWeekday:
		return uint8((totalDays+3)%7 + 1), true // 1 = Sunday; 2025-01-01 is a Wednesday (4)
	case rtcDay:
		return bcd(d), true
	case rtcMonth:
		return bcd(m), true
	case rtcYear:
		return bcd(y % 100), true
	case rtcCentury:
		return bcd(y / 100), true
	}
	return 0, false
}

func (c *CMOS) In(port uint16, size int) uint32 {
	if port == CMOSIndex {
		return 0xff // the index register is write-only
	}
	if v, ok := c.timeReg(c.index); ok {
		return uint32(v)
	}
	v := c.ram[c.index]
	if c.index == rtcStatusC {
		c.ram[rtcStatusC] = 0 // reading C acknowledges RTC interrupts
	}
	return uint32(v)
}

func (c *CMOS) Out(port uint16, size int, val uint32) {
	if port == CMOSIndex {
		c.index = uint8(val) & 0x7f
		c.nmiOff = val&0x80 != 0
		return
	}
	switch c.index {
	case rtcStatusC, rtcStatusD:
		return // read-only
	}
	if _, ok := c.timeReg(c.index); ok {
		return // the clock is not settable: it is virtual time
	}
	c.ram[c.index] = uint8(val)
}
