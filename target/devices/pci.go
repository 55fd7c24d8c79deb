package devices

// Ports of PCI configuration mechanism #1 and the PIIX reset control
// register, which sits inside CONFIG_ADDRESS's dword.
const (
	PCIConfigAddress = 0xcf8 // dword: CONFIG_ADDRESS
	PCIResetControl  = 0xcf9 // byte: PIIX3 reset control register (RCR)
	PCIConfigData    = 0xcfc // 0xcfc-0xcff: CONFIG_DATA
)

// Standard configuration header registers.
const (
	pciVendorID      = 0x00
	pciDeviceID      = 0x02
	pciCommand       = 0x04
	pciStatus        = 0x06
	pciRevision      = 0x08
	pciClassProg     = 0x09 // programming interface, subclass, class
	pciHeaderType    = 0x0e
	pciSubsysVendor  = 0x2c
	pciSubsysID      = 0x2e
	pciInterruptPin  = 0x3d
	pciHeaderMulti   = 0x80
	pciEnableBit     = 0x80000000
	rcrSystemReset   = 0x02 // reset type: 1 = hard (system) reset
	rcrResetCPU      = 0x04 // writing 1 resets
	qemuSubsysVendor = 0x1af4
	qemuSubsysID     = 0x1100
)

// pciFunction is one function's 256-byte configuration space.
type pciFunction struct {
	devfn  uint8
	config [256]uint8
}

func (f *pciFunction) setWord(off int, v uint16) {
	f.config[off], f.config[off+1] = uint8(v), uint8(v>>8)
}

// header fills the standard header as QEMU's pci core does: IDs,
// revision, 24-bit class, header type, and the default subsystem IDs
// QEMU gives every device (Red Hat/Qumranet 1af4:1100).
func (f *pciFunction) header(vendor, device uint16, rev uint8, class uint32, headerType uint8) {
	f.setWord(pciVendorID, vendor)
	f.setWord(pciDeviceID, device)
	f.config[pciRevision] = rev
	f.config[pciClassProg] = uint8(class)
	f.config[pciClassProg+1] = uint8(class >> 8)
	f.config[pciClassProg+2] = uint8(class >> 16)
	f.config[pciHeaderType] = headerType
	f.setWord(pciSubsysVendor, qemuSubsysVendor)
	f.setWord(pciSubsysID, qemuSubsysID)
}

// PCI is the host side of configuration mechanism #1 on a PC with
// QEMU's pc machine's two bridges on bus 0, read-only, holding what
// QEMU 7.2 with SeaBIOS 1.16 shows Linux (checked against Linux's
// pci=earlydump dump under QEMU) except where noted:
//
//   - 00:00.0, the i440FX host bridge (8086:1237 rev 02, class 060000),
//     as hw/pci-host/i440fx.c: the RAM size in 8 MiB units at 0x57 (the
//     register old coreboot reads), SMRAM (0x72) = 0x02. SeaBIOS leaves
//     SMRAM 0x0a (G_SMRAME) and the PAM registers 0x59-0x5f at 0x10,
//     0x11 x5, 0x33, having write-protected its shadowed BIOS; this
//     machine has no SMM and plain read/write RAM below 1 MiB, so SMRAM
//     stays 0x02 and PAM says "DRAM, read/write" (0x30, then 0x33).
//   - 00:01.0, the PIIX3 ISA bridge (8086:7000, class 060100, header
//     type 0x80: functions 1-7 exist under QEMU), with the registers
//     hw/isa/piix3.c's piix3_reset sets (0x4c-0x4f, 0x69-0xae). The
//     PIRQ route registers 0x60-0x63 hold 0x80, routing disabled, QEMU's
//     reset value: SeaBIOS routes PIRQA-D to IRQ 10, 10, 11, 11 and makes
//     those level-triggered in the ELCR (src/fw/pciinit.c
//     piix_isa_bridge_setup), but nothing here raises a PCI interrupt
//     and the ELCR starts edge-triggered, so the registers say so.
//   - Both command registers read 0x0103 (I/O, memory, SERR#: what
//     SeaBIOS's pci_bios_init_device sets after QEMU's reset cleared
//     them); status 0 on the host bridge, DEVSEL medium (0x0200) on the
//     PIIX3; subsystem 1af4:1100 (QEMU's default); no BARs; interrupt
//     pin 0.
//
// Every other bus, device and function answers "no device": reads of
// all ones, writes ignored. Configuration writes to the two bridges are
// ignored too (BAR sizing reads back 0: no BAR; Linux's PIIX3 "passive
// release" quirk writes 0x82 and does not read it back).
//
// The dword at 0xcf8 is CONFIG_ADDRESS only for 32-bit accesses, as the
// PCI Local Bus Specification (3.0, 3.2.2.3.2) has the host bridge
// decode it; the byte at 0xcf9 is the PIIX3's reset control register
// (QEMU's rcr_read/rcr_write: bit 2 written as 1 resets the machine,
// bit 1 is kept). Other accesses to 0xcf8-0xcfb reach nothing: reads
// are all ones, writes are dropped.
type PCI struct {
	addr    uint32
	rcr     uint8
	funcs   [2]pciFunction
	onReset func(source string)
}

// NewPCI returns the configuration space host for a machine with
// ramSize bytes of RAM. onReset (may be nil) is called when the guest
// writes the reset control register with bit 2 set.
func NewPCI(ramSize uint64, onReset func(source string)) *PCI {
	p := &PCI{onReset: onReset}

	host := &p.funcs[0]
	host.devfn = 0x00 // 00:00.0
	host.header(0x8086, 0x1237, 0x02, 0x060000, 0x00)
	host.setWord(pciCommand, 0x0103)
	host.config[0x57] = uint8(min(ramSize>>23, 0xff)) // RAM size in 8 MiB units
	host.config[0x59] = 0x30                          // PAM0: 0xf0000-0xfffff DRAM read/write
	for off := 0x5a; off <= 0x5f; off++ {
		host.config[off] = 0x33 // PAM1-6: 0xc0000-0xeffff DRAM read/write
	}
	host.config[0x72] = 0x02 // SMRAM: compatible SMRAM window at 0xa0000, disabled

	isa := &p.funcs[1]
	isa.devfn = 0x08 // 00:01.0
	isa.header(0x8086, 0x7000, 0x00, 0x060100, pciHeaderMulti)
	isa.setWord(pciCommand, 0x0103)
	isa.setWord(pciStatus, 0x0200)
	for off, v := range map[int]uint8{
		0x4c: 0x4d, 0x4e: 0x03, // ISA I/O recovery, X-bus chip select
		0x60: 0x80, 0x61: 0x80, 0x62: 0x80, 0x63: 0x80, // PIRQA-D: routing disabled
		0x69: 0x02, 0x70: 0x80, 0x76: 0x0c, 0x77: 0x0c, 0x78: 0x02,
		0xa0: 0x08, 0xa8: 0x0f,
	} {
		isa.config[off] = v
	}
	return p
}

// Address returns CONFIG_ADDRESS (for tests and the monitor).
func (p *PCI) Address() uint32 { return p.addr }

// function returns the function CONFIG_ADDRESS selects, or nil. Bits
// 30-24 (reserved; AMD's extended register number) are ignored, as by
// QEMU's i440FX.
func (p *PCI) function() *pciFunction {
	if p.addr&pciEnableBit == 0 || p.addr>>16&0xff != 0 {
		return nil
	}
	devfn := uint8(p.addr >> 8)
	for i := range p.funcs {
		if p.funcs[i].devfn == devfn {
			return &p.funcs[i]
		}
	}
	return nil
}

// In implements Device (registered wide: accesses arrive whole).
func (p *PCI) In(port uint16, size int) uint32 {
	switch {
	case port == PCIResetControl && size == 1:
		return uint32(p.rcr)
	case port == PCIConfigAddress && size == 4:
		return p.addr
	case port >= PCIConfigData && port <= PCIConfigData+3:
		f := p.function()
		if f == nil {
			return ones(size)
		}
		off := int(p.addr&0xfc) + int(port-PCIConfigData)
		var v uint32
		for i := 0; i < size; i++ {
			b := uint32(0xff)
			if off+i < len(f.config) {
				b = uint32(f.config[off+i])
			}
			v |= b << (8 * i)
		}
		return v
	}
	return ones(size)
}

// Out implements Device.
func (p *PCI) Out(port uint16, size int, val uint32) {
	switch {
	case port == PCIResetControl && size == 1:
		if val&rcrResetCPU != 0 {
			if p.onReset != nil {
				p.onReset("port 0xcf9")
			}
			return
		}
		p.rcr = uint8(val) & rcrSystemReset
	case port == PCIConfigAddress && size == 4:
		// QEMU keeps all 32 bits, the low two included, and reads them
		// back.
		p.addr = val
	}
	// Configuration data writes: the emulated functions are read-only and
	// absent ones ignore them.
}
