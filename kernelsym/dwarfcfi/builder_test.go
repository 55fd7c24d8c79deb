package dwarfcfi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Builders for hand-made frame sections and the ELF images that carry
// them: the unit tests and the fuzz seeds describe CFI byte by byte.

// cat concatenates byte slices (CFA programs read as lists of ops).
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// CFA ops, as gas would write them for the directives named.
func opDefCFA(reg, off uint64) []byte    { return cat([]byte{cfaDefCFA}, uleb(reg), uleb(off)) }
func opDefCFAOffset(off uint64) []byte   { return cat([]byte{cfaDefCFAOffset}, uleb(off)) }
func opDefCFARegister(reg uint64) []byte { return cat([]byte{cfaDefCFARegister}, uleb(reg)) }
func opAdvance(d int) []byte {
	switch {
	case d < 0x40:
		return []byte{cfaAdvanceLoc | byte(d)}
	case d < 0x100:
		return []byte{cfaAdvanceLoc1, byte(d)}
	case d < 0x10000:
		return cat([]byte{cfaAdvanceLoc2}, le16(uint16(d)))
	}
	return cat([]byte{cfaAdvanceLoc4}, le32(uint32(d)))
}

// opOffset is .cfi_offset reg, -8*n with a data alignment of -8.
func opOffset(reg, n uint64) []byte {
	if reg < 0x40 {
		return cat([]byte{cfaOffset | byte(reg)}, uleb(n))
	}
	return cat([]byte{cfaOffsetExtended}, uleb(reg), uleb(n))
}
func opRestore(reg byte) []byte        { return []byte{cfaRestore | reg} }
func opUndefined(reg uint64) []byte    { return cat([]byte{cfaUndefined}, uleb(reg)) }
func opBlock(op byte, b []byte) []byte { return cat([]byte{op}, uleb(uint64(len(b))), b) }

// cieSpec and fdeSpec describe entries for debugFrame and ehFrame.
type cieSpec struct {
	version   uint8 // 1 when 0
	aug       string
	augData   []byte // after the 'z' length (the builder writes the length)
	codeAlign uint64
	dataAlign int64
	ra        uint64
	initial   []byte
	dwarf64   bool
	fdeEnc    byte // .eh_frame: the 'R' encoding the FDEs are written in
}

type fdeSpec struct {
	cie           int // index into the CIE list
	start, length uint64
	augData       []byte // written with its length when the CIE has 'z'
	prog          []byte
}

// gccCIE is the CIE gcc writes for x86-64 code: CFA rsp+8, RIP at CFA-8.
func gccCIE() cieSpec {
	return cieSpec{codeAlign: 1, dataAlign: -8, ra: RIP, initial: cat(opDefCFA(RSP, 8), opOffset(RIP, 1))}
}

// entry frames a CIE or FDE body with its length (and, in the 64-bit
// format, the escape), padded with DW_CFA_nop to 8 bytes as gas does.
func entry(dwarf64 bool, body []byte) []byte {
	hdr := 4
	if dwarf64 {
		hdr = 12
	}
	for (len(body)+hdr)%8 != 0 {
		body = append(body[:len(body):len(body)], cfaNop)
	}
	if dwarf64 {
		return cat(le32(0xffffffff), le64(uint64(len(body))), body)
	}
	return cat(le32(uint32(len(body))), body)
}

func cieBody(c cieSpec, eh bool, idSize int) []byte {
	v := c.version
	if v == 0 {
		v = 1
	}
	var b []byte
	switch {
	case eh:
		b = le32(0)
	case idSize == 8:
		b = le64(^uint64(0))
	default:
		b = le32(0xffffffff)
	}
	b = append(b, v)
	b = append(append(b, c.aug...), 0)
	if v == 4 {
		b = append(b, 8, 0)
	}
	b = cat(b, uleb(c.codeAlign), sleb(c.dataAlign))
	if v == 1 {
		b = append(b, byte(c.ra))
	} else {
		b = cat(b, uleb(c.ra))
	}
	if len(c.aug) > 0 && c.aug[0] == 'z' {
		b = cat(b, uleb(uint64(len(c.augData))), c.augData)
	}
	return cat(b, c.initial)
}

// debugFrame lays out a .debug_frame: the CIEs, then the FDEs.
func debugFrame(cies []cieSpec, fdes []fdeSpec) []byte {
	var out []byte
	offs := make([]uint64, len(cies))
	for i, c := range cies {
		offs[i] = uint64(len(out))
		idSize := 4
		if c.dwarf64 {
			idSize = 8
		}
		out = append(out, entry(c.dwarf64, cieBody(c, false, idSize))...)
	}
	for _, f := range fdes {
		c := cies[f.cie]
		var b []byte
		if c.dwarf64 {
			b = le64(offs[f.cie])
		} else {
			b = le32(uint32(offs[f.cie]))
		}
		b = cat(b, le64(f.start), le64(f.length))
		if len(c.aug) > 0 && c.aug[0] == 'z' {
			b = cat(b, uleb(uint64(len(f.augData))), f.augData)
		}
		out = append(out, entry(c.dwarf64, cat(b, f.prog))...)
	}
	return out
}

// ehFrame lays out an .eh_frame at address addr, FDE addresses in each
// CIE's fdeEnc (absptr, udata4, udata8 or pcrel|sdata4), with the
// terminator.
func ehFrame(addr uint64, cies []cieSpec, fdes []fdeSpec) []byte {
	var out []byte
	offs := make([]uint64, len(cies))
	for i, c := range cies {
		offs[i] = uint64(len(out))
		out = append(out, entry(false, cieBody(c, true, 4))...)
	}
	for _, f := range fdes {
		c := cies[f.cie]
		at := uint64(len(out)) + 4 // the CIE pointer field
		b := le32(uint32(at - offs[f.cie]))
		field := addr + at + 4 // pc_begin's address
		switch c.fdeEnc {
		case dwEHPEUdata4:
			b = cat(b, le32(uint32(f.start)), le32(uint32(f.length)))
		case dwEHPEPcrel | dwEHPESdata4:
			b = cat(b, le32(uint32(f.start-field)), le32(uint32(f.length)))
		default:
			b = cat(b, le64(f.start), le64(f.length))
		}
		if len(c.aug) > 0 && c.aug[0] == 'z' {
			b = cat(b, uleb(uint64(len(f.augData))), f.augData)
		}
		out = append(out, entry(false, cat(b, f.prog))...)
	}
	return append(out, le32(0)...)
}

// section is one section of a test ELF.
type section struct {
	name  string
	typ   elf.SectionType
	flags elf.SectionFlag
	addr  uint64
	data  []byte
	size  uint64 // SHT_NOBITS only
}

// textSection is an executable .text of size bytes at addr (NOBITS: the
// unwinder never reads code).
func textSection(addr, size uint64) section {
	return section{name: ".text", typ: elf.SHT_NOBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, addr: addr, size: size}
}

// buildELF writes an ELF64 x86-64 executable with the given sections
// (and a section name table), no segments.
func buildELF(secs ...section) []byte {
	le := binary.LittleEndian
	shstr := []byte{0}
	names := make([]uint32, len(secs))
	for i, s := range secs {
		names[i] = uint32(len(shstr))
		shstr = append(append(shstr, s.name...), 0)
	}
	shstrName := uint32(len(shstr))
	shstr = append(append(shstr, ".shstrtab"...), 0)

	var body bytes.Buffer
	body.Write(make([]byte, 64))
	offs := make([]uint64, len(secs))
	for i, s := range secs {
		offs[i] = uint64(body.Len())
		if s.typ != elf.SHT_NOBITS {
			body.Write(s.data)
		}
	}
	shstrOff := uint64(body.Len())
	body.Write(shstr)
	for body.Len()%8 != 0 {
		body.WriteByte(0)
	}
	shoff := uint64(body.Len())
	sh := func(name uint32, typ elf.SectionType, flags elf.SectionFlag, addr, off, size uint64) {
		for _, v := range []any{name, uint32(typ), uint64(flags), addr, off, size, uint32(0), uint32(0), uint64(1), uint64(0)} {
			binary.Write(&body, le, v)
		}
	}
	sh(0, elf.SHT_NULL, 0, 0, 0, 0)
	for i, s := range secs {
		size := uint64(len(s.data))
		if s.typ == elf.SHT_NOBITS {
			size = s.size
		}
		sh(names[i], s.typ, s.flags, s.addr, offs[i], size)
	}
	sh(shstrName, elf.SHT_STRTAB, 0, 0, shstrOff, uint64(len(shstr)))

	out := body.Bytes()
	copy(out, []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	le.PutUint16(out[16:], uint16(elf.ET_EXEC))
	le.PutUint16(out[18:], uint16(elf.EM_X86_64))
	le.PutUint32(out[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(out[40:], shoff)
	le.PutUint16(out[52:], 64)                  // e_ehsize
	le.PutUint16(out[58:], 64)                  // e_shentsize
	le.PutUint16(out[60:], uint16(len(secs)+2)) // e_shnum
	le.PutUint16(out[62:], uint16(len(secs)+1)) // e_shstrndx
	return out
}

// debugFrameELF is an image whose .text is [0x1000, 0x100000) and whose
// .debug_frame holds the entries.
func debugFrameELF(cies []cieSpec, fdes []fdeSpec) []byte {
	return buildELF(textSection(0x1000, 0xff000),
		section{name: ".debug_frame", typ: elf.SHT_PROGBITS, data: debugFrame(cies, fdes)})
}
