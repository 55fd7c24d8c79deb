// Package dwarfcfi unwinds an x86-64 kernel stack from outside, with the
// DWARF call frame information of the kernel's ELF image (DWARF 4 §6.4):
// the mini kernel's .debug_frame (docs/design.md §4, §7 `monitor bt`), or
// an .eh_frame where an image has one.
//
// Load parses the CIEs and FDEs once; Table.Unwind walks the stack of a
// stopped CPU through memory the caller reads, frame by frame, across
// exception frames (the entry stubs mark their CIEs with the 'S'
// augmentation, and describe the frame the CPU pushed) and from an IST
// stack back onto the interrupted task's stack. It follows gdb's rules
// where DWARF leaves a choice (which address finds a caller's FDE, what an
// unspecified register holds, when to stop), so that it shows the frames
// gdb's `bt` shows at the same stop.
//
// Nothing here knows about kernel symbols: package kernelsym names the
// frames.
package dwarfcfi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// ErrNoFrameInfo is returned by Load for an image with neither a
// .debug_frame nor an .eh_frame section.
var ErrNoFrameInfo = errors.New("no .debug_frame or .eh_frame section")

// Table is the call frame information of one ELF image. It is not changed
// after Load, so one Table may serve concurrent unwinds.
type Table struct {
	fdes  []*FDE // sorted by Start
	order binary.ByteOrder
}

// CIE is a Common Information Entry (DWARF 4 §6.4.1): what the FDEs that
// refer to it share.
type CIE struct {
	Section string // ".debug_frame" or ".eh_frame"
	Offset  uint64 // of its length field, in Section
	// Version is 1 (DWARF 2 and every .eh_frame), 3 or 4.
	Version      uint8
	Augmentation string
	// AddressSize is the size of a target address: the CIE's own field
	// in version 4, the ELF class's otherwise.
	AddressSize uint8
	CodeAlign   uint64
	DataAlign   int64
	// RAColumn is the register column of the return address (16, RIP,
	// on x86-64).
	RAColumn uint64
	// Signal is the 'S' augmentation: the FDEs describe a frame that the
	// CPU (or a kernel, for a signal) built, not a call, so the caller's
	// PC is the interrupted instruction and not a return address.
	Signal bool
	// FDEEncoding is the pointer encoding of the FDEs' addresses and of
	// DW_CFA_set_loc's operand ('R'; DW_EH_PE_absptr without it).
	FDEEncoding byte
	// LSDAEncoding is the 'L' augmentation's encoding (DW_EH_PE_omit
	// when absent); the unwinder never needs the LSDA itself.
	LSDAEncoding byte
	// Initial holds the initial instructions: the rules every FDE starts
	// from (and returns to on DW_CFA_restore).
	Initial []byte
	// augData tells whether FDEs carry augmentation data ('z').
	augData bool
	// order is the section's byte order.
	order binary.ByteOrder
	// initialOff is the offset of Initial in Section (for messages).
	initialOff uint64
}

// FDE is a Frame Description Entry (DWARF 4 §6.4.1): the CFA program for
// the code in [Start, End).
type FDE struct {
	CIE        *CIE
	Offset     uint64 // of its length field, in CIE.Section
	Start, End uint64
	// Program holds the FDE's instructions, run after the CIE's initial
	// instructions.
	Program []byte
	// programAddr is the address Program would have in memory: the base
	// of a pc-relative DW_CFA_set_loc operand in .eh_frame.
	programAddr uint64
	programOff  uint64 // offset of Program in the section (for messages)
}

func (f *FDE) String() string {
	return fmt.Sprintf("FDE at pc %#x..%#x (%s+%#x)", f.Start, f.End, f.CIE.Section, f.Offset)
}

// Contains tells whether pc is in the FDE's range.
func (f *FDE) Contains(pc uint64) bool { return pc >= f.Start && pc < f.End }

// Load parses the .eh_frame and .debug_frame sections of a 64-bit x86
// ELF image: an executable or a kernel, whose addresses are final (the
// relocations of an object file are not applied). Only malformed
// sections are errors; an FDE whose program cannot be run (an unknown
// op) is found by Unwind or Row when it is used, so that one odd
// function does not take the whole stack away. The Table keeps no
// reference to elfBytes.
func Load(elfBytes []byte) (*Table, error) {
	f, err := elf.NewFile(bytes.NewReader(elfBytes))
	if err != nil {
		return nil, fmt.Errorf("dwarfcfi: read ELF: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("dwarfcfi: %v %v image: only x86-64 is supported", f.Class, f.Machine)
	}
	t := &Table{order: f.ByteOrder}
	found := false
	// .eh_frame first: where both describe a function, its FDE wins (the
	// sort below is stable and duplicates keep the first).
	for _, name := range []string{".eh_frame", ".debug_frame"} {
		s := f.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			continue
		}
		found = true
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("dwarfcfi: read %s: %w", name, err)
		}
		p := &sectionParser{name: name, data: data, addr: s.Addr, eh: name == ".eh_frame",
			order: f.ByteOrder, addrSize: 8, cies: map[uint64]*CIE{}}
		fdes, err := p.parse()
		if err != nil {
			return nil, fmt.Errorf("dwarfcfi: %w", err)
		}
		t.fdes = append(t.fdes, fdes...)
	}
	if !found {
		return nil, fmt.Errorf("dwarfcfi: %w", ErrNoFrameInfo)
	}
	t.fdes = cleanFDEs(t.fdes, execCoversZero(f))
	return t, nil
}

// execCoversZero tells whether an executable section holds address 0:
// if none does, FDEs starting at 0 are what the linker left of functions
// it discarded (--gc-sections, a kernel's discarded .exit.text), as gdb
// also assumes.
func execCoversZero(f *elf.File) bool {
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR != 0 && s.Addr == 0 && s.Size > 0 {
			return true
		}
	}
	return false
}

// cleanFDEs sorts the FDEs by address, drops empty ones and the
// discarded functions' leftovers at 0, and keeps one FDE per start
// address so that the binary search in find is predictable.
func cleanFDEs(fdes []*FDE, keepZero bool) []*FDE {
	sort.SliceStable(fdes, func(i, j int) bool { return fdes[i].Start < fdes[j].Start })
	out := fdes[:0]
	for _, f := range fdes {
		if f.End <= f.Start || f.Start == 0 && !keepZero {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Start == f.Start {
			continue
		}
		out = append(out, f)
	}
	return out
}

// FDEs returns the table's FDEs sorted by start address. The slice is
// the caller's; the FDEs are shared and must not be changed.
func (t *Table) FDEs() []*FDE { return append([]*FDE(nil), t.fdes...) }

// Find returns the FDE whose range holds pc, or nil.
func (t *Table) Find(pc uint64) *FDE {
	i := sort.Search(len(t.fdes), func(i int) bool { return t.fdes[i].Start > pc })
	if i == 0 {
		return nil
	}
	if f := t.fdes[i-1]; f.Contains(pc) {
		return f
	}
	return nil
}

// sectionParser reads the entries of one frame section.
type sectionParser struct {
	name     string
	data     []byte
	addr     uint64 // the section's address (the base of pc-relative pointers)
	eh       bool   // .eh_frame: CIE id 0, relative CIE pointers, pointer encodings
	order    binary.ByteOrder
	addrSize int
	cies     map[uint64]*CIE
}

// header is the part every entry starts with (DWARF 4 §6.4.1, §7.2.2 for
// the 64-bit format; the LSB's .eh_frame is the same with a CIE id of 0
// and a CIE pointer relative to its own field).
type header struct {
	off     int    // of the length field
	offSize int    // 4 or 8: the 32- or 64-bit DWARF format
	idOff   int    // of the CIE id / CIE pointer field
	id      uint64 // the CIE id or CIE pointer
	end     int    // the entry's end
	body    reader // positioned after the id
	// empty is a zero length: the .eh_frame terminator, or padding in
	// .debug_frame.
	empty bool
}

// header reads the entry at off.
func (p *sectionParser) header(off int) (header, error) {
	r := reader{data: p.data, off: off, order: p.order}
	h := header{off: off, offSize: 4}
	length := uint64(r.u32())
	if length == 0xffffffff {
		length = r.u64()
		h.offSize = 8
	} else if length >= 0xfffffff0 {
		return h, fmt.Errorf("%s+%#x: reserved initial length %#x", p.name, off, length)
	}
	if r.err != nil {
		return h, fmt.Errorf("%s+%#x: %w", p.name, off, r.err)
	}
	if length > uint64(r.left()) {
		return h, fmt.Errorf("%s+%#x: entry length %#x runs past the section's end (%#x bytes left)", p.name, off, length, r.left())
	}
	h.end = r.off + int(length)
	if length == 0 {
		h.empty = true
		return h, nil
	}
	h.body = reader{data: p.data[:h.end], off: r.off, order: p.order}
	h.idOff = r.off
	h.id = h.body.uint(h.offSize)
	if h.body.err != nil {
		return h, fmt.Errorf("%s+%#x: %w", p.name, off, h.body.err)
	}
	return h, nil
}

func (p *sectionParser) isCIE(h header) bool {
	if p.eh {
		return h.id == 0
	}
	if h.offSize == 4 {
		return h.id == 0xffffffff
	}
	return h.id == ^uint64(0)
}

// parse returns the section's FDEs, in section order.
func (p *sectionParser) parse() ([]*FDE, error) {
	var fdes []*FDE
	for off := 0; off < len(p.data); {
		h, err := p.header(off)
		if err != nil {
			return nil, err
		}
		if h.empty && p.eh {
			break // the .eh_frame terminator (LSB: a zero length)
		}
		if !h.empty && !p.isCIE(h) {
			f, err := p.fde(h)
			if err != nil {
				return nil, err
			}
			fdes = append(fdes, f)
		}
		off = h.end
	}
	return fdes, nil
}

// cie returns the CIE whose length field is at off, parsing it once.
func (p *sectionParser) cie(off uint64, from int) (*CIE, error) {
	if c, ok := p.cies[off]; ok {
		return c, nil
	}
	if off >= uint64(len(p.data)) {
		return nil, fmt.Errorf("%s+%#x: FDE's CIE pointer %#x is outside the section (%#x bytes)", p.name, from, off, len(p.data))
	}
	h, err := p.header(int(off))
	if err != nil {
		return nil, err
	}
	if h.empty || !p.isCIE(h) {
		return nil, fmt.Errorf("%s+%#x: FDE's CIE pointer %#x does not point at a CIE", p.name, from, off)
	}
	c, err := p.parseCIE(h)
	if err != nil {
		return nil, fmt.Errorf("%s+%#x: CIE: %w", p.name, off, err)
	}
	p.cies[off] = c
	return c, nil
}

// parseCIE decodes a CIE's fields after its id (DWARF 4 §6.4.1; the
// augmentations are gcc's and the LSB's, as gas and gcc emit them).
func (p *sectionParser) parseCIE(h header) (*CIE, error) {
	r := &h.body
	c := &CIE{Section: p.name, Offset: uint64(h.off), AddressSize: uint8(p.addrSize),
		FDEEncoding: dwEHPEAbsptr, LSDAEncoding: dwEHPEOmit, order: p.order}
	c.Version = r.u8()
	if c.Version != 1 && c.Version != 3 && c.Version != 4 {
		return nil, fmt.Errorf("version %d (want 1, 3 or 4)", c.Version)
	}
	c.Augmentation = r.cstring()
	aug := c.Augmentation
	if aug == "eh" {
		// gcc 2.x: a pointer to exception data follows; nothing else.
		r.take(p.addrSize)
		aug = ""
	}
	if c.Version == 4 {
		c.AddressSize = r.u8()
		if seg := r.u8(); seg != 0 {
			return nil, fmt.Errorf("segment selector size %d: segmented addresses are not supported", seg)
		}
		if c.AddressSize != 4 && c.AddressSize != 8 {
			return nil, fmt.Errorf("address size %d", c.AddressSize)
		}
	}
	c.CodeAlign = r.uleb()
	c.DataAlign = r.sleb()
	if c.Version == 1 {
		c.RAColumn = uint64(r.u8())
	} else {
		c.RAColumn = r.uleb()
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(aug) > 0 && aug[0] == 'z' {
		if err := p.zAugmentation(c, r, aug); err != nil {
			return nil, err
		}
	} else {
		// Without 'z' the size of augmentation data is unknown, so only
		// letters that have none can be accepted: gas writes "S" in
		// .debug_frame for .cfi_signal_frame.
		for i := 0; i < len(aug); i++ {
			if aug[i] != 'S' {
				return nil, fmt.Errorf("augmentation %q: %q without 'z' is not understood", c.Augmentation, aug[i])
			}
			c.Signal = true
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	c.initialOff = uint64(r.off)
	c.Initial = r.data[r.off:h.end]
	return c, nil
}

// zAugmentation reads the augmentation data of a "z…" CIE: 'L' (LSDA
// encoding), 'P' (personality encoding and pointer), 'R' (FDE pointer
// encoding), 'S' (signal frame), 'B' and 'G' (AArch64's BTI and MTE
// marks, no data). An unknown letter ends the parse and the rest of the
// data is skipped, as gdb does: the 'z' length makes that safe.
func (p *sectionParser) zAugmentation(c *CIE, r *reader, aug string) error {
	c.augData = true
	n := r.uleb()
	data := r.take(int(min(n, uint64(r.left())+1)))
	if r.err != nil {
		return fmt.Errorf("augmentation data (%d bytes): %w", n, r.err)
	}
	ar := &reader{data: data, order: p.order}
letters:
	for _, ch := range []byte(aug[1:]) {
		switch ch {
		case 'L':
			c.LSDAEncoding = ar.u8()
		case 'P':
			// The personality routine is of no use to an unwinder that
			// runs no handlers: only the pointer's size matters, so its
			// application bits (C++'s is indirect|pcrel|sdata4) are not.
			if enc := ar.u8(); enc != dwEHPEOmit {
				if _, err := readEncoded(ar, enc&0x0f, 0, p.addrSize); err != nil && ar.err == nil {
					return fmt.Errorf("augmentation %q: personality: %w", c.Augmentation, err)
				}
			}
		case 'R':
			c.FDEEncoding = ar.u8()
		case 'S':
			c.Signal = true
		case 'B', 'G':
		default:
			break letters
		}
	}
	if ar.err != nil {
		return fmt.Errorf("augmentation %q: data: %w", c.Augmentation, ar.err)
	}
	return nil
}

// fde decodes an FDE (DWARF 4 §6.4.1).
func (p *sectionParser) fde(h header) (*FDE, error) {
	var cieOff uint64
	if p.eh {
		// .eh_frame: the CIE pointer counts back from its own field.
		if h.id > uint64(h.idOff) {
			return nil, fmt.Errorf("%s+%#x: FDE's CIE pointer %#x points before the section", p.name, h.off, h.id)
		}
		cieOff = uint64(h.idOff) - h.id
	} else {
		cieOff = h.id
	}
	c, err := p.cie(cieOff, h.off)
	if err != nil {
		return nil, err
	}
	r := &h.body
	f := &FDE{CIE: c, Offset: uint64(h.off)}
	// gdb reads FDE addresses in the CIE's 'R' encoding in .debug_frame
	// too; without 'R' they are plain addresses of AddressSize bytes.
	var rng uint64
	if f.Start, err = readEncoded(r, c.FDEEncoding, p.addr+uint64(r.off), int(c.AddressSize)); err == nil {
		// The range has the encoding's size but is never relative.
		rng, err = readEncoded(r, c.FDEEncoding&0x0f, 0, int(c.AddressSize))
	}
	if err != nil && r.err == nil {
		return nil, fmt.Errorf("%s+%#x: FDE address: %w", p.name, h.off, err)
	}
	if c.augData {
		n := r.uleb()
		r.take(int(min(n, uint64(r.left())+1)))
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s+%#x: FDE: %w", p.name, h.off, r.err)
	}
	f.End = f.Start + rng
	if f.End < f.Start {
		return nil, fmt.Errorf("%s+%#x: FDE range %#x+%#x wraps around", p.name, h.off, f.Start, rng)
	}
	f.Program = r.data[r.off:h.end]
	f.programOff = uint64(r.off)
	f.programAddr = p.addr + uint64(r.off)
	return f, nil
}

// Pointer encodings of .eh_frame (LSB Core, "DWARF Exception Header
// Encoding"): the low nibble is the format, bits 4-6 what it is
// relative to, bit 7 an indirection.
const (
	dwEHPEAbsptr  = 0x00
	dwEHPEUleb128 = 0x01
	dwEHPEUdata2  = 0x02
	dwEHPEUdata4  = 0x03
	dwEHPEUdata8  = 0x04
	dwEHPESigned  = 0x08
	dwEHPESleb128 = 0x09
	dwEHPESdata2  = 0x0a
	dwEHPESdata4  = 0x0b
	dwEHPESdata8  = 0x0c
	dwEHPEPcrel   = 0x10
	dwEHPEOmit    = 0xff
)

// readEncoded reads a pointer in encoding enc; pcBase is the address of
// the field (for DW_EH_PE_pcrel). Text-, data- and function-relative,
// aligned and indirect pointers need what only a running process has
// (and no x86-64 toolchain emits them for FDEs): they are errors.
func readEncoded(r *reader, enc byte, pcBase uint64, addrSize int) (uint64, error) {
	if enc == dwEHPEOmit {
		return 0, errors.New("pointer encoding DW_EH_PE_omit where a pointer is required")
	}
	if enc&0x80 != 0 {
		return 0, fmt.Errorf("indirect pointer encoding %#x is not supported", enc)
	}
	var v uint64
	switch enc & 0x0f {
	case dwEHPEAbsptr:
		v = r.uint(addrSize)
	case dwEHPESigned:
		v = r.uint(addrSize)
		if addrSize == 4 {
			v = uint64(int64(int32(v)))
		}
	case dwEHPEUleb128:
		v = r.uleb()
	case dwEHPEUdata2:
		v = uint64(r.u16())
	case dwEHPEUdata4:
		v = uint64(r.u32())
	case dwEHPEUdata8:
		v = r.u64()
	case dwEHPESleb128:
		v = uint64(r.sleb())
	case dwEHPESdata2:
		v = uint64(int64(int16(r.u16())))
	case dwEHPESdata4:
		v = uint64(int64(int32(r.u32())))
	case dwEHPESdata8:
		v = r.u64()
	default:
		return 0, fmt.Errorf("pointer encoding %#x: unknown format", enc)
	}
	switch enc & 0x70 {
	case 0:
	case dwEHPEPcrel:
		v += pcBase
	default:
		return 0, fmt.Errorf("pointer encoding %#x: only absolute and pc-relative pointers are supported", enc)
	}
	return v, r.err
}
