// Package pvh boots an ELF kernel the way `qemu-system-x86_64 -kernel` does
// when the ELF carries a Xen PHYS32_ENTRY note: the PT_LOAD segments are
// copied to their physical addresses, a struct hvm_start_info with the
// command line and a memory map is written to low memory, and the CPU
// enters the 32-bit entry point in protected mode with paging off.
//
// References: Xen docs/misc/pvh.pandoc (the boot ABI),
// xen/include/public/arch-x86/hvm/start_info.h (the structures), QEMU
// pc-bios/optionrom/pvh.S and pvh_main.c (the register state QEMU leaves
// and where it gets the memory map: SeaBIOS' e820 table).
package pvh

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"vmapstack/target/boot"
	"vmapstack/target/cpu"
)

// Xen ELF note: name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY.
const (
	noteName          = "Xen"
	NotePhys32Entry   = 18
	StartInfoMagic    = 0x336ec578 // XEN_HVM_START_MAGIC_VALUE ("xEn3" with bit 7 of 'E')
	StartInfoVersion  = 1          // version 1 adds memmap_paddr/memmap_entries
	startInfoSize     = 56         // sizeof(struct hvm_start_info), version 1
	memmapEntrySize   = 24         // sizeof(struct hvm_memmap_table_entry)
	maxMemmapEntries  = 16
	MemTypeRAM        = 1 // XEN_HVM_MEMMAP_TYPE_RAM (E820_RAM)
	MemTypeReserved   = 2 // XEN_HVM_MEMMAP_TYPE_RESERVED
	segmentSelCode32  = 0x08
	segmentSelData32  = 0x10
	attrCode32        = 0xc09b // P DPL0 S, type execute/read accessed; D=1 G=1
	attrData32        = 0xc093 // P DPL0 S, type read/write accessed; D=1 G=1
	gdtEntries        = 5
	MaxMemory         = boot.MaxMemory
	reservedLowStart  = 0x9fc00 // EBDA, as SeaBIOS reports it with QEMU
	reservedLowEnd    = 0xa0000
	reservedBIOSStart = 0xf0000 // the BIOS ROM shadow below 1 MiB
	reservedBIOSEnd   = 0x100000
	biosHighStart     = 0xfffc0000 // the BIOS flash mapped below 4 GiB
	biosHighEnd       = 0x100000000
)

// The boot area holds what the loader writes besides the kernel. QEMU puts
// these in its PVH option ROM's data (the GDT in the ROM, start_info and
// the command line buffer in its BSS); we pick fixed addresses in the
// first 64 KiB, which the memory map reports as RAM, as QEMU's does.
const (
	GDTAddr       = 0x5000 // 5 descriptors, the layout of QEMU's pvh.S GDT
	StartInfoAddr = 0x6000 // struct hvm_start_info
	MemmapAddr    = 0x6040 // struct hvm_memmap_table_entry[], up to 16
	ModlistAddr   = 0x6200 // struct hvm_modlist_entry[1]: the initrd
	CmdlineAddr   = 0x7000 // NUL-terminated command line
	CmdlineMax    = 4096   // bytes including the NUL (QEMU's CMDLINE_BUFSIZE)
	BootAreaStart = GDTAddr
	BootAreaEnd   = CmdlineAddr + CmdlineMax
)

// MemEntry is one struct hvm_memmap_table_entry.
type MemEntry struct {
	Addr, Size uint64
	Type       uint32
}

// Range is a half-open range of physical addresses [Start, End).
type Range struct {
	Start, End uint64
}

// Image describes a loaded kernel.
type Image struct {
	Entry     uint32     // the PHYS32_ENTRY physical address
	StartInfo uint64     // physical address of struct hvm_start_info (EBX)
	Cmdline   uint64     // physical address of the command line
	Memmap    []MemEntry // the memory map handed to the kernel
	Loaded    []Range    // the PT_LOAD segments' physical ranges (memsz), sorted
	Initrd    Range      // the initrd module (zero: none)
}

// MemoryMap returns the memory map for ramSize bytes of RAM, shaped like
// the e820 table SeaBIOS gives a QEMU pc guest (and which QEMU's PVH
// option ROM copies into start_info): RAM below the EBDA, the EBDA and the
// BIOS area reserved, RAM from 1 MiB to the top, the BIOS flash below
// 4 GiB reserved. SeaBIOS additionally reserves the top 128 KiB of RAM for
// its ACPI tables; we have no ACPI tables, so the RAM runs to the top.
func MemoryMap(ramSize uint64) []MemEntry {
	m := []MemEntry{
		{0, reservedLowStart, MemTypeRAM},
		{reservedLowStart, reservedLowEnd - reservedLowStart, MemTypeReserved},
		{reservedBIOSStart, reservedBIOSEnd - reservedBIOSStart, MemTypeReserved},
	}
	if ramSize > reservedBIOSEnd {
		m = append(m, MemEntry{reservedBIOSEnd, ramSize - reservedBIOSEnd, MemTypeRAM})
	}
	m = append(m, MemEntry{biosHighStart, biosHighEnd - biosHighStart, MemTypeReserved})
	return m
}

// Load copies the kernel in elfData into ram and writes the boot data
// (GDT, start_info, memory map, command line). name is used in errors
// (the kernel's path). It never panics on malformed input.
func Load(ram []byte, elfData []byte, name, cmdline string) (img *Image, err error) {
	return load(ram, boot.Files{Kernel: elfData, KernelName: name, Cmdline: cmdline})
}

func load(ram []byte, files boot.Files) (img *Image, err error) {
	elfData, name, cmdline := files.Kernel, files.KernelName, files.Cmdline
	defer func() {
		// debug/elf is robust, but a malformed file is user input: make
		// sure it can only ever produce an error.
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%s: malformed ELF: %v", name, r)
		}
	}()
	ramSize := uint64(len(ram))
	if ramSize < reservedBIOSEnd {
		return nil, fmt.Errorf("%s: %d bytes of RAM is too small for a PVH boot (need at least 1 MiB)", name, ramSize)
	}
	if ramSize > MaxMemory {
		return nil, fmt.Errorf("%s: %d bytes of RAM is more than the %#x supported below 4 GiB", name, ramSize, uint64(MaxMemory))
	}
	if len(cmdline)+1 > CmdlineMax {
		return nil, fmt.Errorf("%s: command line is %d bytes, the limit is %d", name, len(cmdline), CmdlineMax-1)
	}
	if bytes.IndexByte([]byte(cmdline), 0) >= 0 {
		return nil, fmt.Errorf("%s: command line contains a NUL byte", name)
	}

	f, err := elf.NewFile(bytes.NewReader(elfData))
	if err != nil {
		return nil, fmt.Errorf("%s: not an ELF file: %w", name, err)
	}
	if f.Machine != elf.EM_X86_64 && f.Machine != elf.EM_386 {
		return nil, fmt.Errorf("%s: ELF machine is %v, want x86-64 or i386", name, f.Machine)
	}
	entry, err := findEntry(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}

	img = &Image{Entry: entry, StartInfo: StartInfoAddr, Cmdline: CmdlineAddr}
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if p.Filesz > p.Memsz {
			return nil, fmt.Errorf("%s: segment %d: file size %#x exceeds memory size %#x", name, i, p.Filesz, p.Memsz)
		}
		end := p.Paddr + p.Memsz
		if end < p.Paddr || end > ramSize {
			return nil, fmt.Errorf("%s: segment %d at physical %#x..%#x does not fit in %d MiB of RAM", name, i, p.Paddr, p.Paddr+p.Memsz, ramSize>>20)
		}
		if p.Paddr < BootAreaEnd && end > BootAreaStart {
			return nil, fmt.Errorf("%s: segment %d at physical %#x..%#x overlaps the boot data at %#x..%#x (start_info, memory map, command line)", name, i, p.Paddr, end, BootAreaStart, BootAreaEnd)
		}
		dst := ram[p.Paddr:end]
		n, err := p.ReadAt(dst[:p.Filesz], 0)
		if uint64(n) != p.Filesz {
			return nil, fmt.Errorf("%s: segment %d: reading %#x bytes at file offset %#x: %v", name, i, p.Filesz, p.Off, err)
		}
		clear(dst[p.Filesz:]) // .bss
		img.Loaded = append(img.Loaded, Range{p.Paddr, end})
	}
	if len(img.Loaded) == 0 {
		return nil, fmt.Errorf("%s: no PT_LOAD segment to load", name)
	}
	sort.Slice(img.Loaded, func(i, j int) bool { return img.Loaded[i].Start < img.Loaded[j].Start })
	if uint64(entry) >= ramSize {
		return nil, fmt.Errorf("%s: PVH entry %#x is outside RAM", name, entry)
	}

	img.Memmap = MemoryMap(ramSize)
	if files.Initrd != nil {
		r, err := placeInitrd(ramSize, img.Loaded, uint64(len(files.Initrd)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", files.InitrdName, err)
		}
		copy(ram[r.Start:], files.Initrd)
		img.Initrd = r
	}
	writeGDT(ram[GDTAddr:])
	writeStartInfo(ram, img)
	copy(ram[CmdlineAddr:], cmdline)
	ram[CmdlineAddr+uint64(len(cmdline))] = 0
	return img, nil
}

// findEntry reads the PHYS32_ENTRY note from the PT_NOTE segments, or from
// the SHT_NOTE sections when the file has no PT_NOTE segment.
func findEntry(f *elf.File) (uint32, error) {
	type blob struct {
		data  []byte
		align uint64
	}
	var blobs []blob
	for _, p := range f.Progs {
		if p.Type == elf.PT_NOTE {
			if p.Filesz > 1<<20 {
				return 0, fmt.Errorf("PT_NOTE at offset %#x is %#x bytes, too large", p.Off, p.Filesz)
			}
			d := make([]byte, p.Filesz)
			if _, err := p.ReadAt(d, 0); err != nil {
				return 0, fmt.Errorf("reading PT_NOTE at offset %#x: %w", p.Off, err)
			}
			blobs = append(blobs, blob{d, p.Align})
		}
	}
	if len(blobs) == 0 {
		for _, s := range f.Sections {
			if s.Type == elf.SHT_NOTE {
				d, err := s.Data()
				if err != nil {
					return 0, fmt.Errorf("reading note section %s: %w", s.Name, err)
				}
				blobs = append(blobs, blob{d, s.Addralign})
			}
		}
	}
	for _, b := range blobs {
		desc, found, err := scanNotes(b.data, b.align, f.ByteOrder)
		if err != nil {
			return 0, err
		}
		if !found {
			continue
		}
		switch len(desc) {
		case 4:
			return f.ByteOrder.Uint32(desc), nil
		case 8:
			v := f.ByteOrder.Uint64(desc)
			if v > 0xffffffff {
				return 0, fmt.Errorf("PVH entry note (Xen ELF note type 18) holds %#x, above 4 GiB", v)
			}
			return uint32(v), nil
		default:
			return 0, fmt.Errorf("PVH entry note (Xen ELF note type 18) has a %d-byte payload, want 4 or 8", len(desc))
		}
	}
	return 0, errors.New("no PVH entry note (Xen ELF note type 18)")
}

// scanNotes walks a note area (Elf_Nhdr records) for the Xen
// PHYS32_ENTRY note. Name and descriptor are padded to 4 bytes, or to 8
// when the area is 8-byte aligned (gABI; GNU tools use 4 for both classes).
func scanNotes(d []byte, align uint64, bo binary.ByteOrder) ([]byte, bool, error) {
	pad := uint64(4)
	if align == 8 {
		pad = 8
	}
	up := func(n uint64) uint64 { return (n + pad - 1) &^ (pad - 1) }
	for off := uint64(0); off+12 <= uint64(len(d)); {
		namesz := uint64(bo.Uint32(d[off:]))
		descsz := uint64(bo.Uint32(d[off+4:]))
		typ := bo.Uint32(d[off+8:])
		nameOff := off + 12
		descOff := nameOff + up(namesz)
		next := descOff + up(descsz)
		if namesz > uint64(len(d)) || descsz > uint64(len(d)) || descOff+descsz > uint64(len(d)) {
			return nil, false, fmt.Errorf("truncated ELF note at offset %#x of a note area", off)
		}
		name := d[nameOff : nameOff+namesz]
		name = bytes.TrimRight(name, "\x00")
		if string(name) == noteName && typ == NotePhys32Entry {
			return d[descOff : descOff+descsz], true, nil
		}
		off = next
	}
	return nil, false, nil
}

// writeGDT writes the descriptors of QEMU's pvh.S: null, 0x08 32-bit flat
// code, 0x10 32-bit flat data, 0x18 16-bit code, 0x20 16-bit data. The
// 32-bit ones are written with the accessed bit set, as the CPU leaves
// them after loading (SDM Vol. 3A 3.4.5.1).
func writeGDT(b []byte) {
	desc := [gdtEntries]uint64{
		0,
		0x00cf9b000000ffff,
		0x00cf93000000ffff,
		0x00009e000000ffff,
		0x000092000000ffff,
	}
	for i, d := range desc {
		binary.LittleEndian.PutUint64(b[8*i:], d)
	}
}

func writeStartInfo(ram []byte, img *Image) {
	si := ram[StartInfoAddr : StartInfoAddr+startInfoSize]
	le := binary.LittleEndian
	le.PutUint32(si[0:], StartInfoMagic)
	le.PutUint32(si[4:], StartInfoVersion)
	le.PutUint32(si[8:], 0) // flags
	if img.Initrd.End > img.Initrd.Start {
		// One module, the initrd, with no command line (struct
		// hvm_modlist_entry: paddr, size, cmdline_paddr, reserved).
		le.PutUint32(si[12:], 1)
		le.PutUint64(si[16:], ModlistAddr)
		m := ram[ModlistAddr : ModlistAddr+32]
		le.PutUint64(m[0:], img.Initrd.Start)
		le.PutUint64(m[8:], img.Initrd.End-img.Initrd.Start)
		le.PutUint64(m[16:], 0)
		le.PutUint64(m[24:], 0)
	} else {
		le.PutUint32(si[12:], 0) // nr_modules
		le.PutUint64(si[16:], 0) // modlist_paddr
	}
	le.PutUint64(si[24:], img.Cmdline)
	le.PutUint64(si[32:], 0) // rsdp_paddr: no ACPI
	le.PutUint64(si[40:], MemmapAddr)
	le.PutUint32(si[48:], uint32(len(img.Memmap)))
	le.PutUint32(si[52:], 0) // reserved
	for i, e := range img.Memmap {
		m := ram[MemmapAddr+memmapEntrySize*i:]
		le.PutUint64(m[0:], e.Addr)
		le.PutUint64(m[8:], e.Size)
		le.PutUint32(m[16:], e.Type)
		le.PutUint32(m[20:], 0)
	}
}

// EntryState returns s changed into the state the PVH ABI promises at the
// entry point (Xen docs/misc/pvh.pandoc), with the details as QEMU's PVH
// option ROM leaves them: CR0 = PE|ET, paging off, CR4 = EFER = 0; CS =
// 0x08 flat 32-bit execute/read; DS ES FS GS SS = 0x10 flat read/write;
// GDTR at QEMU's GDT layout; EBX = start_info, ECX = the entry (the ROM
// jumps through ECX); EFLAGS = 0x2 (IF, TF, VM clear); TR a 32-bit busy
// TSS at 0 limit 0x67 as the ABI asks.
func EntryState(s cpu.State, img *Image) cpu.State {
	s.GPR = [16]uint64{}
	s.GPR[cpu.RBX] = img.StartInfo
	s.GPR[cpu.RCX] = uint64(img.Entry)
	s.RIP = uint64(img.Entry)
	s.RFLAGS = 0x2
	flatCode := cpu.Seg{Sel: segmentSelCode32, Base: 0, Limit: 0xffffffff, Attr: attrCode32}
	flatData := cpu.Seg{Sel: segmentSelData32, Base: 0, Limit: 0xffffffff, Attr: attrData32}
	for i := range s.Seg {
		s.Seg[i] = flatData
	}
	s.Seg[cpu.CS] = flatCode
	s.LDTR = cpu.Seg{Limit: 0xffff, Attr: 0x82}
	s.TR = cpu.Seg{Limit: 0x67, Attr: 0x8b}
	s.GDTR = cpu.DTR{Base: GDTAddr, Limit: gdtEntries*8 - 1}
	s.IDTR = cpu.DTR{Base: 0, Limit: 0x3ff} // the real-mode IVT, as after reset
	s.CR0 = 0x11                            // PE | ET
	s.CR2, s.CR3, s.CR4, s.CR8 = 0, 0, 0, 0
	s.EFER = 0
	s.KernelGSBase = 0
	return s
}

// initrdTopReserve is the RAM QEMU keeps for the BIOS' ACPI data at the top
// of low memory; the initrd goes just below it (hw/i386/x86.c).
const initrdTopReserve = 0x20000

// placeInitrd puts the initrd as QEMU does for a PVH kernel: page aligned,
// as high as it fits below QEMU's ACPI data, and never over the kernel.
func placeInitrd(ramSize uint64, loaded []Range, size uint64) (Range, error) {
	top := ramSize - initrdTopReserve
	var kernelEnd uint64
	for _, r := range loaded {
		kernelEnd = max(kernelEnd, r.End)
	}
	// QEMU: (initrd_max - size) & ~4095 with initrd_max = top - 1.
	if size >= top || (top-1-size)&^0xfff < max(kernelEnd, BootAreaEnd) {
		return Range{}, fmt.Errorf("initrd of %d MiB does not fit between the kernel's end (%#x) and %#x: give the machine more memory (--memory)",
			size>>20, kernelEnd, top)
	}
	start := (top - 1 - size) &^ 0xfff
	return Range{start, start + size}, nil
}

// Loader is PVH as a boot.Loader.
type Loader struct{}

// Name implements boot.Loader.
func (Loader) Name() string { return "an ELF kernel with a PVH entry note" }

// Probe implements boot.Loader: an ELF file (the note is checked by Load).
func (Loader) Probe(k []byte) bool { return bytes.HasPrefix(k, []byte(elf.ELFMAG)) }

// Load implements boot.Loader.
func (Loader) Load(ram []byte, f boot.Files) (*boot.Image, error) {
	img, err := load(ram, f)
	if err != nil {
		return nil, err
	}
	out := &boot.Image{
		Protocol: "PVH",
		Entry:    uint64(img.Entry),
		Initrd:   boot.Range(img.Initrd),
		Cmdline:  img.Cmdline,
	}
	for _, r := range img.Loaded {
		out.Loaded = append(out.Loaded, boot.Range(r))
	}
	out.EntryState = func(s cpu.State) cpu.State { return EntryState(s, img) }
	return out, nil
}
