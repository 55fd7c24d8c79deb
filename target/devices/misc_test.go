package devices

import "testing"

func TestDebugExit(t *testing.T) {
	tests := []struct {
		name string
		size int
		vals []uint32
		want int
	}{
		{"success byte", 1, []uint32{0}, 0},
		{"panic byte", 1, []uint32{1}, 1},
		{"word", 2, []uint32{0x1234}, 0x1234},
		{"first write wins", 1, []uint32{1, 0}, 1},
	}
	for _, tc := range tests {
		var calls []int
		d := NewDebugExit(func(c int) { calls = append(calls, c) })
		if _, ok := d.Exited(); ok {
			t.Fatalf("%s: exited before any write", tc.name)
		}
		for _, v := range tc.vals {
			d.Out(DebugExitPort, tc.size, v)
		}
		code, ok := d.Exited()
		if !ok || code != tc.want || len(calls) != 1 || calls[0] != tc.want {
			t.Errorf("%s: code %d %v calls %v, want %d once", tc.name, code, ok, calls, tc.want)
		}
	}
}

func TestPOSTAndSysCtrl(t *testing.T) {
	var p POST
	p.Out(POSTPort, 1, 0x42)
	if p.Last != 0x42 || p.In(POSTPort, 1) != 0xff {
		t.Errorf("POST last %#x read %#x", p.Last, p.In(POSTPort, 1))
	}
	resets := 0
	s := NewSysCtrl(func(source string) { resets++ })
	if s.In(SysCtrlA, 1) != 0x02 {
		t.Errorf("A20 not reported enabled")
	}
	s.Out(SysCtrlA, 1, 0x02)
	if resets != 0 {
		t.Errorf("reset without bit 0")
	}
	s.Out(SysCtrlA, 1, 0x03)
	if resets != 1 || s.In(SysCtrlA, 1) != 0x02 {
		t.Errorf("resets %d, read %#x", resets, s.In(SysCtrlA, 1))
	}
}

func TestCMOSClock(t *testing.T) {
	var now uint64
	c := NewCMOS(func() uint64 { return now }, 128<<20)
	read := func(r uint8) uint8 {
		c.Out(CMOSIndex, 1, uint32(r)|0x80) // NMI disable bit set, as Linux does
		return uint8(c.In(CMOSData, 1))
	}
	tests := []struct {
		name                                 string
		secs                                 uint64
		sec, min, hour, wday, day, mon, year uint8
	}{
		{"epoch", 0, 0x00, 0x00, 0x00, 4, 0x01, 0x01, 0x25},
		{"one day, 1h 2m 3s", 86400 + 3723, 0x03, 0x02, 0x01, 5, 0x02, 0x01, 0x25},
		{"1 March 2025", 59 * 86400, 0, 0, 0, 7, 0x01, 0x03, 0x25},
		{"1 January 2026", 365 * 86400, 0, 0, 0, 5, 0x01, 0x01, 0x26},
		{"29 February 2028", (365+365+365+31+28)*86400 + 59, 0x59, 0, 0, 3, 0x29, 0x02, 0x28},
	}
	for _, tc := range tests {
		now = tc.secs * 1e9
		got := [...]uint8{read(rtcSeconds), read(rtcMinutes), read(rtcHours), read(rtcWeekday), read(rtcDay), read(rtcMonth), read(rtcYear)}
		want := [...]uint8{tc.sec, tc.min, tc.hour, tc.wday, tc.day, tc.mon, tc.year}
		if got != want {
			t.Errorf("%s: got % x, want % x", tc.name, got, want)
		}
		if read(rtcCentury) != 0x20 {
			t.Errorf("%s: century %#x", tc.name, read(rtcCentury))
		}
	}
	if read(rtcStatusA)&0x80 != 0 || read(rtcStatusB) != 0x02 || read(rtcStatusD) != 0x80 {
		t.Errorf("status registers %#x %#x %#x", read(rtcStatusA), read(rtcStatusB), read(rtcStatusD))
	}
	// NVRAM keeps writes; the clock and status C/D ignore them.
	c.Out(CMOSIndex, 1, 0x40)
	c.Out(CMOSData, 1, 0x5a)
	c.Out(CMOSIndex, 1, rtcSeconds)
	c.Out(CMOSData, 1, 0x30)
	if read(0x40) != 0x5a || read(rtcSeconds) == 0x30 {
		t.Errorf("NVRAM %#x seconds %#x", read(0x40), read(rtcSeconds))
	}
	if c.In(CMOSIndex, 1) != 0xff {
		t.Errorf("index register readable")
	}
}

func TestCMOSMemorySize(t *testing.T) {
	tests := []struct {
		ram           uint64
		ext, above16M uint16
		above4G       uint32
	}{
		{32 << 20, 31 << 10, (32 - 16) << 4, 0},
		{128 << 20, 0xffff, (128 - 16) << 4, 0},
		{1 << 30, 0xffff, (1024 - 16) << 4, 0},
		{8 << 30, 0xffff, (0xe000_0000 - 16<<20) >> 16, (8<<30 - 0xe000_0000) >> 16},
	}
	for _, tc := range tests {
		c := NewCMOS(nil, tc.ram)
		ext := uint16(c.ram[0x17]) | uint16(c.ram[0x18])<<8
		ext2 := uint16(c.ram[0x30]) | uint16(c.ram[0x31])<<8
		a16 := uint16(c.ram[0x34]) | uint16(c.ram[0x35])<<8
		a4g := uint32(c.ram[0x5b]) | uint32(c.ram[0x5c])<<8 | uint32(c.ram[0x5d])<<16
		if ext != tc.ext || ext2 != tc.ext || a16 != tc.above16M || a4g != tc.above4G {
			t.Errorf("ram %#x: ext %#x/%#x above16M %#x above4G %#x, want %#x %#x %#x",
				tc.ram, ext, ext2, a16, a4g, tc.ext, tc.above16M, tc.above4G)
		}
		if c.ram[0x15] != 0x80 || c.ram[0x16] != 0x02 {
			t.Errorf("base memory %#x %#x", c.ram[0x15], c.ram[0x16])
		}
	}
}
