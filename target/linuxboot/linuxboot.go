// Package linuxboot boots a Linux bzImage (Debian's /boot/vmlinuz-*, or
// arch/x86/boot/bzImage of a kernel build) through the x86 Linux boot
// protocol, with the files and command line `qemu-system-x86_64 -kernel
// vmlinuz -initrd initrd -append ...` takes, and the memory layout QEMU
// gives them, so that the kernel logs the same memory map and initrd
// placement under both.
//
// QEMU copies the real-mode setup code below 1 MiB and lets it run under
// SeaBIOS; we have no BIOS, so we take the 64-bit entry point the protocol
// defines for boot loaders that set up long mode themselves (protocol 2.12
// and later with XLF_KERNEL_64), and fill in boot_params as the setup code
// would from the BIOS: the e820 table SeaBIOS reports under QEMU, the
// command line and the initrd. What the setup code would also collect
// (video mode, EDD, APM) stays zero; docs/linux-boot.md lists what that
// changes in the kernel's log.
//
// Reference: Documentation/arch/x86/boot.rst ("THE LINUX/x86 BOOT
// PROTOCOL", "64-bit BOOT PROTOCOL", "THE ZERO PAGE"), and QEMU 7.2
// hw/i386/x86.c x86_load_linux for the addresses QEMU uses.
package linuxboot

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"vmapstack/target/boot"
	"vmapstack/target/cpu"
	"vmapstack/target/x86"
)

// Offsets in the image and in boot_params (the zero page), from boot.rst.
// The setup header sits at the same offset (0x1f1) in both.
const (
	hdrSetupSects     = 0x1f1 // u8: 512-byte sectors of real-mode code after the boot sector (0 means 4)
	hdrBootFlag       = 0x1fe // u16: 0xaa55
	hdrMagic          = 0x202 // u32: "HdrS"
	hdrVersion        = 0x206 // u16: protocol version
	hdrTypeOfLoader   = 0x210 // u8
	hdrLoadFlags      = 0x211 // u8
	hdrRamdiskImage   = 0x218 // u32
	hdrRamdiskSize    = 0x21c // u32
	hdrHeapEndPtr     = 0x224 // u16
	hdrCmdLinePtr     = 0x228 // u32
	hdrInitrdAddrMax  = 0x22c // u32
	hdrKernelAlign    = 0x230 // u32
	hdrRelocatable    = 0x234 // u8
	hdrXLoadFlags     = 0x236 // u16
	hdrCmdlineSize    = 0x238 // u32
	hdrEnd            = 0x280 // the header ends before here in every version (0x201 holds its length)
	bpExtRamdiskImage = 0x0c0 // u32: bits 32-63 of ramdisk_image
	bpExtRamdiskSize  = 0x0c4 // u32
	bpExtCmdLinePtr   = 0x0c8 // u32
	bpE820Entries     = 0x1e8 // u8
	bpSentinel        = 0x1ef // u8: a boot loader that copies the header must leave it 0
	bpE820Table       = 0x2d0 // struct boot_e820_entry[128]: u64 addr, u64 size, u32 type
	bpE820Max         = 128
	bpSize            = 4096

	headerMagic   = 0x53726448 // "HdrS"
	bootFlagMagic = 0xaa55

	loadedHigh  = 0x01 // LOADED_HIGH: the protected-mode code is at 0x100000
	canUseHeap  = 0x80 // CAN_USE_HEAP
	xlfKernel64 = 0x01 // XLF_KERNEL_64: the kernel has the 64-bit entry at +0x200
	xlfAbove4G  = 0x02 // XLF_CAN_BE_LOADED_ABOVE_4G

	// MinVersion is the oldest protocol with a 64-bit entry point (2.12
	// added xloadflags, which announces it).
	MinVersion = 0x020c

	// typeOfLoader is QEMU's: 0xb0 ("Qemu", boot.rst's loader table).
	typeOfLoader = 0xb0
)

// Where things go in guest memory. The kernel, boot_params and the command
// line are where QEMU puts them for a protocol >= 2.02 kernel; the GDT, the
// identity page tables and the stack are ours (QEMU's real-mode setup code
// builds its own), in low memory the kernel does not use before it has
// switched to its own tables.
const (
	KernelAddr     = 0x100000 // prot_addr: the protected-mode kernel (compressed, plus the decompressor)
	BootParamsAddr = 0x10000  // real_addr: QEMU copies the setup code here; boot_params' header is at +0x1f1
	CmdlineAddr    = 0x20000  // cmdline_addr
	CmdlineMax     = 0x10000  // QEMU's room for it (cmdline_addr to the next 64 KiB)
	GDTAddr        = 0x1000
	PML4Addr       = 0x2000
	PDPTAddr       = 0x3000
	PDAddr         = 0x4000 // four page directories: 4 GiB in 2 MiB pages
	StackTop       = 0x9000 // below boot_params, above the page tables
	bootAreaEnd    = PDAddr + 4*0x1000

	// acpiDataSize is the RAM QEMU keeps at the top of low memory for the
	// BIOS' ACPI tables (pc machine); the initrd goes just below it, and
	// SeaBIOS reports it reserved in the e820 table.
	acpiDataSize = 0x20000

	// The descriptors the 64-bit protocol asks for: __BOOT_CS (0x10) a
	// flat 64-bit code segment, __BOOT_DS (0x18) flat read/write data.
	bootCS = 0x10
	bootDS = 0x18
)

// e820 types (boot.rst, E820_TYPE_*).
const (
	E820RAM      = 1
	E820Reserved = 2
)

// E820Entry is one entry of boot_params.e820_table.
type E820Entry struct {
	Addr, Size uint64
	Type       uint32
}

// MemoryMap is the e820 table SeaBIOS gives a Linux guest of QEMU 7.2's pc
// machine with ramSize bytes of RAM (below 3.5 GiB), as the kernel prints it
// ("BIOS-e820: ..."): base memory up to the EBDA, the EBDA and the BIOS
// area reserved, RAM from 1 MiB up to QEMU's ACPI data at the top of RAM,
// that reserved, the BIOS flash below 4 GiB, and the HyperTransport hole
// below 1 TiB that QEMU reserves for an AMD CPU model such as the default
// qemu64 (hw/i386/pc.c, "AMD_HT_START").
func MemoryMap(ramSize uint64) []E820Entry {
	return []E820Entry{
		{0, 0x9fc00, E820RAM},
		{0x9fc00, 0x400, E820Reserved},
		{0xf0000, 0x10000, E820Reserved},
		{0x100000, ramSize - acpiDataSize - 0x100000, E820RAM},
		{ramSize - acpiDataSize, acpiDataSize, E820Reserved},
		{0xfffc0000, 0x40000, E820Reserved},
		{0xfd00000000, 0x300000000, E820Reserved},
	}
}

// Header is what the loader reads of a bzImage's setup header.
type Header struct {
	Version       uint16
	SetupSects    int // real-mode sectors after the boot sector
	LoadFlags     uint8
	XLoadFlags    uint16
	InitrdAddrMax uint32
	KernelAlign   uint32
	Relocatable   bool
	CmdlineSize   uint32
}

// ParseHeader reads and checks the setup header of a bzImage.
func ParseHeader(img []byte) (*Header, error) {
	if len(img) < hdrEnd {
		return nil, fmt.Errorf("%d bytes is too short for a Linux setup header", len(img))
	}
	le := binary.LittleEndian
	if le.Uint16(img[hdrBootFlag:]) != bootFlagMagic || le.Uint32(img[hdrMagic:]) != headerMagic {
		return nil, fmt.Errorf("no Linux setup header (boot flag 0xaa55 at 0x1fe and \"HdrS\" at 0x202)")
	}
	h := &Header{
		Version:       le.Uint16(img[hdrVersion:]),
		SetupSects:    int(img[hdrSetupSects]),
		LoadFlags:     img[hdrLoadFlags],
		XLoadFlags:    le.Uint16(img[hdrXLoadFlags:]),
		InitrdAddrMax: le.Uint32(img[hdrInitrdAddrMax:]),
		KernelAlign:   le.Uint32(img[hdrKernelAlign:]),
		Relocatable:   img[hdrRelocatable] != 0,
		CmdlineSize:   le.Uint32(img[hdrCmdlineSize:]),
	}
	if h.SetupSects == 0 {
		h.SetupSects = 4 // boot.rst: "If this field is 0, the real value is 4."
	}
	if h.Version < MinVersion {
		return nil, fmt.Errorf("boot protocol %d.%02d: this machine needs %d.%02d or later (a 64-bit entry point)",
			h.Version>>8, h.Version&0xff, MinVersion>>8, MinVersion&0xff)
	}
	if h.XLoadFlags&xlfKernel64 == 0 {
		return nil, fmt.Errorf("boot protocol %d.%02d kernel without a 64-bit entry point (XLF_KERNEL_64 clear): a 32-bit kernel",
			h.Version>>8, h.Version&0xff)
	}
	if h.LoadFlags&loadedHigh == 0 {
		return nil, fmt.Errorf("a zImage (LOADED_HIGH clear): only bzImages are supported")
	}
	if off := (h.SetupSects + 1) * 512; off >= len(img) {
		return nil, fmt.Errorf("setup code of %d sectors leaves no protected-mode kernel in %d bytes", h.SetupSects, len(img))
	}
	return h, nil
}

// Loader is the x86 Linux boot protocol as a boot.Loader.
type Loader struct{}

// Name implements boot.Loader.
func (Loader) Name() string { return "a Linux bzImage" }

// Probe implements boot.Loader: the boot sector's flag and the header's
// magic.
func (Loader) Probe(k []byte) bool {
	return len(k) >= hdrMagic+4 && binary.LittleEndian.Uint16(k[hdrBootFlag:]) == bootFlagMagic &&
		binary.LittleEndian.Uint32(k[hdrMagic:]) == headerMagic
}

// Load implements boot.Loader.
func (Loader) Load(ram []byte, f boot.Files) (*boot.Image, error) {
	h, err := ParseHeader(f.Kernel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.KernelName, err)
	}
	ramSize := uint64(len(ram))
	if ramSize > boot.MaxMemory {
		return nil, fmt.Errorf("%s: %d MiB of RAM is more than the %d MiB supported below 4 GiB", f.KernelName, ramSize>>20, uint64(boot.MaxMemory)>>20)
	}
	if ramSize < 16<<20 {
		return nil, fmt.Errorf("%s: %d MiB of RAM is too small for Linux", f.KernelName, ramSize>>20)
	}
	cmdMax := uint64(CmdlineMax - 1)
	if h.CmdlineSize != 0 && uint64(h.CmdlineSize) < cmdMax {
		cmdMax = uint64(h.CmdlineSize)
	}
	if uint64(len(f.Cmdline)) > cmdMax {
		return nil, fmt.Errorf("%s: command line is %d bytes, the kernel takes at most %d", f.KernelName, len(f.Cmdline), cmdMax)
	}
	if bytes.IndexByte([]byte(f.Cmdline), 0) >= 0 {
		return nil, fmt.Errorf("%s: command line contains a NUL byte", f.KernelName)
	}

	// The protected-mode part: everything after the real-mode setup.
	prot := f.Kernel[(h.SetupSects+1)*512:]
	kernelEnd := KernelAddr + uint64(len(prot))
	if kernelEnd > ramSize {
		return nil, fmt.Errorf("%s: the %d-byte kernel does not fit in %d MiB of RAM", f.KernelName, len(prot), ramSize>>20)
	}
	copy(ram[KernelAddr:], prot)

	img := &boot.Image{
		Protocol: fmt.Sprintf("Linux boot protocol %d.%02d", h.Version>>8, h.Version&0xff),
		Entry:    KernelAddr + 0x200, // boot.rst: "the 64-bit entry point is at load address + 0x200"
		Loaded:   []boot.Range{{Start: KernelAddr, End: kernelEnd}},
		Cmdline:  CmdlineAddr,
	}

	// boot_params: zeroed, then the setup header copied from the image
	// (boot.rst, "64-bit BOOT PROTOCOL": the loader fills the header
	// from the image, then sets what it owns).
	bp := ram[BootParamsAddr : BootParamsAddr+bpSize]
	clear(bp)
	hdrLen := 0x202 + int(f.Kernel[0x201]) // the byte at 0x201 is the header's length past 0x202
	if hdrLen > hdrEnd {
		hdrLen = hdrEnd
	}
	copy(bp[hdrSetupSects:hdrLen], f.Kernel[hdrSetupSects:hdrLen])
	bp[bpSentinel] = 0
	le := binary.LittleEndian
	bp[hdrTypeOfLoader] = typeOfLoader
	bp[hdrLoadFlags] |= canUseHeap
	le.PutUint16(bp[hdrHeapEndPtr:], uint16(CmdlineAddr-BootParamsAddr-0x200)) // as QEMU: the heap ends where the command line starts
	le.PutUint32(bp[hdrCmdLinePtr:], CmdlineAddr)
	copy(ram[CmdlineAddr:], f.Cmdline)
	ram[CmdlineAddr+uint64(len(f.Cmdline))] = 0

	e820 := MemoryMap(ramSize)
	bp[bpE820Entries] = byte(len(e820))
	for i, e := range e820 {
		o := bp[bpE820Table+20*i:]
		le.PutUint64(o[0:], e.Addr)
		le.PutUint64(o[8:], e.Size)
		le.PutUint32(o[16:], e.Type)
	}

	if f.Initrd != nil {
		r, err := placeInitrd(h, ramSize, kernelEnd, uint64(len(f.Initrd)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.InitrdName, err)
		}
		copy(ram[r.Start:], f.Initrd)
		le.PutUint32(bp[hdrRamdiskImage:], uint32(r.Start))
		le.PutUint32(bp[hdrRamdiskSize:], uint32(len(f.Initrd)))
		le.PutUint32(bp[bpExtRamdiskImage:], uint32(r.Start>>32))
		le.PutUint32(bp[bpExtRamdiskSize:], uint32(uint64(len(f.Initrd))>>32))
		img.Initrd = r
	}
	le.PutUint32(bp[bpExtCmdLinePtr:], 0)

	writeGDT(ram[GDTAddr:])
	writeIdentityMap(ram)
	img.EntryState = func(s cpu.State) cpu.State { return entryState(s, img.Entry) }
	return img, nil
}

// placeInitrd puts the initrd where QEMU does: as high as it can go below
// the smaller of the kernel's initrd_addr_max and the start of QEMU's ACPI
// data, page aligned (x86_load_linux).
func placeInitrd(h *Header, ramSize, kernelEnd, size uint64) (boot.Range, error) {
	max := uint64(0x37ffffff) // boot.rst: the limit before protocol 2.03
	switch {
	case h.XLoadFlags&xlfAbove4G != 0:
		max = 0xffffffff
	case h.Version >= 0x0203:
		max = uint64(h.InitrdAddrMax)
	}
	if top := ramSize - acpiDataSize - 1; max > top {
		max = top
	}
	// QEMU: initrd_addr = (initrd_max - initrd_size) & ~4095, with
	// initrd_max the last usable byte: a page-multiple initrd ends one
	// page below the limit, as under QEMU.
	if size > max || (max-size)&^0xfff < kernelEnd {
		return boot.Range{}, fmt.Errorf("initrd of %d MiB does not fit between the kernel's end (%#x) and %#x: give the machine more memory (--memory)",
			size>>20, kernelEnd, max+1)
	}
	start := (max - size) &^ 0xfff
	return boot.Range{Start: start, End: start + size}, nil
}

// writeGDT writes null, null, __BOOT_CS (flat 64-bit code) and __BOOT_DS
// (flat data), the selectors boot.rst's 64-bit protocol names.
func writeGDT(b []byte) {
	desc := []uint64{
		0,
		0,
		0x00af9b000000ffff, // 0x10: P DPL0 code execute/read accessed, L=1, G=1
		0x00cf93000000ffff, // 0x18: P DPL0 data read/write accessed, D=1, G=1
	}
	for i, d := range desc {
		binary.LittleEndian.PutUint64(b[8*i:], d)
	}
}

// gdtLimit is the GDTR limit of writeGDT's table.
const gdtLimit = 4*8 - 1

// writeIdentityMap maps the first 4 GiB 1:1 with 2 MiB pages (the 64-bit
// protocol asks for an identity mapping of the kernel, boot_params, the
// command line and the initrd; all of RAM is the simple way to cover
// them). 2 MiB and not 1 GiB pages, because qemu64 has no PDPE1GB.
func writeIdentityMap(ram []byte) {
	const p, rw, ps = 1 << 0, 1 << 1, 1 << 7
	le := binary.LittleEndian
	clear(ram[PML4Addr:bootAreaEnd])
	le.PutUint64(ram[PML4Addr:], PDPTAddr|p|rw)
	for i := uint64(0); i < 4; i++ {
		le.PutUint64(ram[PDPTAddr+8*i:], (PDAddr+0x1000*i)|p|rw)
		for j := uint64(0); j < 512; j++ {
			le.PutUint64(ram[PDAddr+0x1000*i+8*j:], (i<<30|j<<21)|p|rw|ps)
		}
	}
}

// entryState is the CPU at the 64-bit entry point (boot.rst, "64-bit BOOT
// PROTOCOL"): long mode with paging on and the identity map loaded; CS =
// __BOOT_CS, DS = ES = SS = __BOOT_DS, both flat; interrupts disabled;
// RSI = boot_params. The other registers are zero, RSP points at a small
// stack below boot_params, CR0 has PE, PG and ET (and NE, as firmware
// leaves it), CR4 PAE, EFER LME and LMA.
func entryState(s cpu.State, entry uint64) cpu.State {
	s.GPR = [16]uint64{}
	s.GPR[cpu.RSI] = BootParamsAddr
	s.GPR[cpu.RSP] = StackTop
	s.RIP = entry
	s.RFLAGS = 0x2
	code := cpu.Seg{Sel: bootCS, Base: 0, Limit: 0xffffffff, Attr: 0xa09b}
	data := cpu.Seg{Sel: bootDS, Base: 0, Limit: 0xffffffff, Attr: 0xc093}
	for i := range s.Seg {
		s.Seg[i] = data
	}
	s.Seg[cpu.CS] = code
	s.LDTR = cpu.Seg{Limit: 0xffff, Attr: 0x82}
	s.TR = cpu.Seg{Limit: 0xffff, Attr: 0x8b}
	s.GDTR = cpu.DTR{Base: GDTAddr, Limit: gdtLimit}
	s.IDTR = cpu.DTR{Base: 0, Limit: 0x3ff}
	s.CR0 = x86.CR0PE | x86.CR0ET | x86.CR0NE | x86.CR0PG
	s.CR2, s.CR8 = 0, 0
	s.CR3 = PML4Addr
	s.CR4 = x86.CR4PAE
	s.EFER = x86.EFERLME | x86.EFERLMA
	s.KernelGSBase = 0
	return s
}
