package devices

import "testing"

// conf1 is PCI_CONF1_ADDRESS of arch/x86/pci/direct.c.
func conf1(bus, devfn uint8, reg int) uint32 {
	return 0x80000000 | uint32(reg&0xf00)<<16 | uint32(bus)<<16 | uint32(devfn)<<8 | uint32(reg&0xfc)
}

// confRead is pci_conf1_read: address, then an access of len bytes at
// 0xcfc + (reg & 3) (len 1) or (reg & 2) (len 2).
func confRead(b *Bus, bus, devfn uint8, reg, size int) uint32 {
	b.Out(PCIConfigAddress, 4, conf1(bus, devfn, reg))
	switch size {
	case 1:
		return b.In(PCIConfigData+uint16(reg&3), 1)
	case 2:
		return b.In(PCIConfigData+uint16(reg&2), 2)
	}
	return b.In(PCIConfigData, 4)
}

func newPCIBus(t *testing.T, onReset func(string)) (*Bus, *PCI) {
	t.Helper()
	b := NewBus()
	p := NewPCI(256<<20, onReset)
	if err := b.Register(PCIConfigAddress, PCIConfigData+3, p, true); err != nil {
		t.Fatal(err)
	}
	return b, p
}

// TestPCICheckType1 replays pci_check_type1 and pci_sanity_check
// (arch/x86/pci/direct.c) as Linux runs them without DMI: the byte write
// to 0xcfb, CONFIG_ADDRESS reading back 0x80000000, then the class of
// 00:00.0 being a host bridge.
func TestPCICheckType1(t *testing.T) {
	b, _ := newPCIBus(t, nil)
	b.Out(0xcfb, 1, 0x01)
	tmp := b.In(PCIConfigAddress, 4)
	if tmp != 0 {
		t.Errorf("CONFIG_ADDRESS at reset %#x", tmp)
	}
	b.Out(PCIConfigAddress, 4, 0x80000000)
	if got := b.In(PCIConfigAddress, 4); got != 0x80000000 {
		t.Fatalf("CONFIG_ADDRESS reads %#x, want 0x80000000", got)
	}
	// pci_sanity_check: PCI_CLASS_DEVICE (0x0a) of devfn 0.
	if got := confRead(b, 0, 0, 0x0a, 2); got != 0x0600 {
		t.Errorf("class of 00:00.0 %#x, want 0x0600 (PCI_CLASS_BRIDGE_HOST)", got)
	}
	b.Out(PCIConfigAddress, 4, tmp)
	if got := b.In(PCIConfigAddress, 4); got != tmp {
		t.Errorf("restored CONFIG_ADDRESS %#x", got)
	}
	// pci_check_type2's probes are not CONFIG_ADDRESS: byte writes are
	// dropped and byte reads float.
	b.Out(0xcf8, 1, 0)
	b.Out(0xcfa, 1, 0)
	if b.In(0xcf8, 1) != 0xff || b.In(0xcfa, 1) != 0xff || b.In(0xcf8, 2) != 0xffff {
		t.Errorf("non-dword CONFIG_ADDRESS accesses decoded")
	}
	// All 32 bits are kept, as QEMU does.
	b.Out(PCIConfigAddress, 4, 0x7f123456)
	if got := b.In(PCIConfigAddress, 4); got != 0x7f123456 {
		t.Errorf("CONFIG_ADDRESS %#x", got)
	}
}

func TestPCIConfigSpace(t *testing.T) {
	b, _ := newPCIBus(t, nil)
	const host, isa = 0x00, 0x08
	tests := []struct {
		name   string
		bus    uint8
		devfn  uint8
		reg    int
		size   int
		want   uint32
		writes bool // write all ones first: read-only registers keep their value
	}{
		{"host vendor:device", 0, host, 0x00, 4, 0x12378086, false},
		{"host vendor", 0, host, 0x00, 2, 0x8086, false},
		{"host device", 0, host, 0x02, 2, 0x1237, false},
		{"host command", 0, host, 0x04, 2, 0x0103, true},
		{"host status", 0, host, 0x06, 2, 0x0000, false},
		{"host rev+class", 0, host, 0x08, 4, 0x06000002, false},
		{"host class byte", 0, host, 0x0b, 1, 0x06, false},
		{"host header type", 0, host, 0x0e, 1, 0x00, false},
		{"host BAR0", 0, host, 0x10, 4, 0, true},
		{"host BAR5", 0, host, 0x24, 4, 0, true},
		{"host subsystem", 0, host, 0x2c, 4, 0x11001af4, false},
		{"host ROM", 0, host, 0x30, 4, 0, true},
		{"host interrupt line/pin", 0, host, 0x3c, 2, 0x0000, false},
		{"host SMRAM", 0, host, 0x72, 1, 0x02, true},
		{"host RAM size (256 MiB)", 0, host, 0x57, 1, 0x20, false},
		{"host PAM0-2", 0, host, 0x58, 4, 0x33333000, true},
		{"host PAM3-6", 0, host, 0x5c, 4, 0x33333333, false},
		{"host last dword", 0, host, 0xfc, 4, 0, false},
		{"PIIX3 vendor:device", 0, isa, 0x00, 4, 0x70008086, false},
		{"PIIX3 command+status", 0, isa, 0x04, 4, 0x02000103, false},
		{"PIIX3 rev+class", 0, isa, 0x08, 4, 0x06010000, false},
		{"PIIX3 class word", 0, isa, 0x0a, 2, 0x0601, false},
		{"PIIX3 header type", 0, isa, 0x0e, 1, 0x80, false},
		{"PIIX3 subsystem", 0, isa, 0x2c, 4, 0x11001af4, false},
		{"PIIX3 interrupt pin", 0, isa, 0x3d, 1, 0x00, false},
		{"PIIX3 BAR0", 0, isa, 0x10, 4, 0, true},
		{"PIIX3 PIRQ routes", 0, isa, 0x60, 4, 0x80808080, true},
		{"PIIX3 0x4c", 0, isa, 0x4c, 4, 0x0003004d, false},
		{"PIIX3 TOM 0x69", 0, isa, 0x69, 1, 0x02, false},
		{"PIIX3 MBIRQ0", 0, isa, 0x70, 1, 0x80, false},
		{"PIIX3 passive release 0x82", 0, isa, 0x82, 1, 0x00, true},
		{"PIIX3 0xa8", 0, isa, 0xa8, 1, 0x0f, false},
		{"absent 00:01.1 (IDE)", 0, 0x09, 0x00, 4, 0xffffffff, true},
		{"absent 00:01.3 (ACPI)", 0, 0x0b, 0x00, 2, 0xffff, false},
		{"absent 00:02.0 (VGA)", 0, 0x10, 0x0a, 2, 0xffff, false},
		{"absent 00:03.0 (NIC)", 0, 0x18, 0x00, 4, 0xffffffff, false},
		{"absent 00:18.0 (AMD NB probe)", 0, 0xc0, 0x68, 4, 0xffffffff, false},
		{"absent 00:1f.7", 0, 0xff, 0x00, 1, 0xff, false},
		{"absent bus 1", 1, host, 0x00, 4, 0xffffffff, false},
		{"absent bus 255", 255, isa, 0x0a, 2, 0xffff, false},
		// The extended register bits (27:24) are ignored: register 0x100
		// aliases register 0.
		{"extended register aliases", 0, host, 0x100, 4, 0x12378086, false},
	}
	for _, tc := range tests {
		if tc.writes {
			b.Out(PCIConfigAddress, 4, conf1(tc.bus, tc.devfn, tc.reg))
			b.Out(PCIConfigData+uint16(tc.reg&3), tc.size, 0xffffffff)
		}
		if got := confRead(b, tc.bus, tc.devfn, tc.reg, tc.size); got != tc.want {
			t.Errorf("%s: %02x:%02x.%d reg %#x size %d = %#x, want %#x",
				tc.name, tc.bus, tc.devfn>>3, tc.devfn&7, tc.reg, tc.size, got, tc.want)
		}
	}
	// Disabled (bit 31 clear): no function answers.
	b.Out(PCIConfigAddress, 4, 0)
	if got := b.In(PCIConfigData, 4); got != 0xffffffff {
		t.Errorf("data with bit 31 clear %#x", got)
	}
	// Odd-sized and misaligned data accesses do not panic and read the
	// bytes they cover (past offset 0xff: all ones).
	b.Out(PCIConfigAddress, 4, conf1(0, host, 0xfc))
	if got := b.In(PCIConfigData+3, 4); got != 0xffffff00 {
		t.Errorf("read past the end %#x", got)
	}
	b.Out(PCIConfigAddress, 4, conf1(0, isa, 0x00))
	if got := b.In(PCIConfigData+1, 2); got != 0x0080 {
		t.Errorf("misaligned word %#x", got)
	}
}

// TestPCIResetControl replays the BOOT_CF9_SAFE path of
// native_machine_emergency_restart: read 0xcf9, request a hard reset
// (bit 1), then reset (bits 1-3).
func TestPCIResetControl(t *testing.T) {
	tests := []struct {
		name   string
		writes []uint32
		read   uint32 // 0xcf9 afterwards
		resets int
	}{
		{"linux cold reboot", []uint32{0x02, 0x0e}, 0x02, 1},
		{"linux warm reboot", []uint32{0x02, 0x06}, 0x02, 1},
		{"reset type only", []uint32{0x02}, 0x02, 0},
		{"other bits dropped", []uint32{0xfb}, 0x02, 0},
		{"bit 2 alone", []uint32{0x04}, 0x00, 1},
	}
	for _, tc := range tests {
		var sources []string
		b, _ := newPCIBus(t, func(s string) { sources = append(sources, s) })
		if got := b.In(PCIResetControl, 1); got != 0 {
			t.Errorf("%s: RCR at reset %#x", tc.name, got)
		}
		for _, w := range tc.writes {
			b.Out(PCIResetControl, 1, w)
		}
		if got := b.In(PCIResetControl, 1); got != tc.read {
			t.Errorf("%s: RCR %#x, want %#x", tc.name, got, tc.read)
		}
		if len(sources) != tc.resets {
			t.Errorf("%s: %d resets, want %d", tc.name, len(sources), tc.resets)
		}
		for _, s := range sources {
			if s != "port 0xcf9" {
				t.Errorf("%s: reset source %q", tc.name, s)
			}
		}
	}
	// A dword CONFIG_ADDRESS write covering 0xcf9 does not reset.
	resets := 0
	b, _ := newPCIBus(t, func(string) { resets++ })
	b.Out(PCIConfigAddress, 4, 0xffffffff)
	if resets != 0 {
		t.Errorf("CONFIG_ADDRESS write reset the machine")
	}
	// No callback: nothing panics.
	p := NewPCI(0, nil)
	p.Out(PCIResetControl, 1, 0x0e)
}

// TestPCIAnyAccess writes and reads every port of the range with every
// size and a few values: no panic, and nothing changes what the two
// bridges report.
func TestPCIAnyAccess(t *testing.T) {
	b, _ := newPCIBus(t, func(string) {})
	for port := uint16(0xcf8); port <= 0xcff; port++ {
		for _, size := range []int{1, 2, 4} {
			for _, v := range []uint32{0, 0xffffffff, 0x80000800, 0x12345678} {
				b.Out(PCIConfigAddress, 4, v)
				b.Out(port, size, v)
				b.In(port, size)
			}
		}
	}
	if got := confRead(b, 0, 0, 0, 4); got != 0x12378086 {
		t.Errorf("host bridge after random writes %#x", got)
	}
	if got := confRead(b, 0, 8, 0x60, 4); got != 0x80808080 {
		t.Errorf("PIRQ routes after random writes %#x", got)
	}
}

// TestPCWiring checks the i8042 and PCI as NewPC wires them: IRQ1 and
// IRQ12 reach the CPU through the PICs with vectors base+1 and
// slave base+4, both resets reach OnReset, configuration reads go
// through the bus.
func TestPCWiring(t *testing.T) {
	var (
		intr    bool
		sources []string
	)
	pc, err := NewPC(PCConfig{
		RAMSize: 64 << 20,
		OnINTR:  func(l bool) { intr = l },
		OnReset: func(s string) { sources = append(sources, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	b := pc.Bus
	// Linux's init_8259A: vectors 0x30/0x38, cascade on IRQ2; unmask
	// IRQ1, IRQ2 and IRQ12.
	for _, w := range [][2]uint32{{0x20, 0x11}, {0x21, 0x30}, {0x21, 0x04}, {0x21, 0x01},
		{0xa0, 0x11}, {0xa1, 0x38}, {0xa1, 0x02}, {0xa1, 0x01}, {0x21, 0xf9}, {0xa1, 0xef}} {
		b.Out(uint16(w[0]), 1, w[1])
	}
	kbc := func(port uint16, v uint32) { b.Out(port, 1, v) }
	kbc(I8042Status, 0x60)
	kbc(I8042Data, 0x43)
	if intr {
		t.Fatal("INTR after the CTR write")
	}
	kbc(I8042Data, 0xf2) // keyboard get ID
	if !intr {
		t.Fatal("no INTR for keyboard data")
	}
	if v, ok := pc.PIC.Ack(); !ok || v != 0x31 {
		t.Fatalf("keyboard vector %#x %v", v, ok)
	}
	for _, want := range []uint32{0xfa, 0xab, 0x41} {
		if got := b.In(I8042Data, 1); got != want {
			t.Errorf("keyboard byte %#x, want %#x", got, want)
		}
	}
	b.Out(0x20, 1, 0x20)
	// The next two bytes made new edges while IRQ1 was in service.
	if v, ok := pc.PIC.Ack(); !ok || v != 0x31 {
		t.Fatalf("second keyboard vector %#x %v", v, ok)
	}
	b.Out(0x20, 1, 0x20)
	kbc(I8042Status, 0xd3) // AUX loopback
	kbc(I8042Data, 0xa5)
	if v, ok := pc.PIC.Ack(); !ok || v != 0x3c {
		t.Fatalf("AUX vector %#x %v", v, ok)
	}
	if st := b.In(I8042Status, 1); st&0x21 != 0x21 {
		t.Errorf("AUX status %#x", st)
	}
	if got := b.In(I8042Data, 1); got != 0xa5 {
		t.Errorf("AUX byte %#x", got)
	}
	b.Out(0xa0, 1, 0x20)
	b.Out(0x20, 1, 0x20)
	if intr {
		t.Errorf("INTR left high")
	}
	// Configuration space through the bus.
	b.Out(PCIConfigAddress, 4, 0x80000800)
	if got := b.In(PCIConfigData, 4); got != 0x70008086 {
		t.Errorf("00:01.0 ID %#x", got)
	}
	// Resets.
	kbc(I8042Status, 0xfe)
	b.Out(PCIResetControl, 1, 0x02)
	b.Out(PCIResetControl, 1, 0x0e)
	if len(sources) != 2 || sources[0] != "keyboard controller" || sources[1] != "port 0xcf9" {
		t.Errorf("reset sources %q", sources)
	}
}
