// Package symelf writes an ELF file that gives gdb a kernel's symbols and
// nothing else: the stub serves it as the executable of a Linux target
// (qXfer:exec-file, vFile; docs/design.md §6) so that a bare `gdb -ex
// 'target remote …'` names the functions of a kernel that came with no
// vmlinux and no debug package, from the symbols the kernel holds itself
// (kallsyms, docs/design.md §4b).
//
// The file has the kernel's sections as SHT_NOBITS, taking no room and
// holding no bytes, and writable (see Section): gdb has no contents from
// the file to prefer over the target's memory, so x/i and disassemble
// read the running kernel's code. (With the file and no target, gdb reads
// the sections as zeros, as it reads .bss: the file is for a connected
// target.) Its symbol table is the kernel's symbols, functions as
// STT_FUNC and the rest as STT_OBJECT, each in the section holding its
// address, and SHN_ABS for the ones in no section (per-CPU offsets). It
// is an ET_EXEC file with no program headers: gdb takes a non-PIE
// executable's section addresses as they are and relocates nothing (the
// stub's empty qOffsets reply agrees), so the sections and symbols must
// be at the running kernel's addresses, KASLR's offset included.
//
// References: the System V gABI, "Object Files" (ELF header, sections,
// symbol table), and the x86-64 psABI for EM_X86_64.
package symelf

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Symbol is one symbol of the file.
type Symbol struct {
	Name       string
	Addr, Size uint64 // Size 0: unknown
	Func       bool   // STT_FUNC, else STT_OBJECT
	Global     bool   // STB_GLOBAL, else STB_LOCAL
}

// Section is one section of the file: an address range with no contents.
// Every section is SHF_ALLOC and SHF_WRITE, the code too: gdb takes a
// section without SHF_WRITE for read-only (BFD's SEC_READONLY), and with
// `set trust-readonly-sections on` reads such a section from the file
// instead of the target, which for SHT_NOBITS gives zeros in place of the
// kernel's code. So there is no read-only flag to give.
type Section struct {
	Name       string
	Addr, Size uint64
	Exec       bool // SHF_EXECINSTR: gdb's text symbols (mst_text), disassembly
}

// Bounds on the input, so that a broken or hostile symbol source cannot
// make the file (and what gdb then allocates for it) unbounded: at most
// 96 MiB of symbol table and 256 MiB of names. Debian's 6.1 cloud kernel
// (CONFIG_KALLSYMS_ALL) has 87,000 symbols, larger configurations up to
// about 250,000, with names of at most KSYM_NAME_LEN (512) bytes. The
// section count stays below SHN_LORESERVE (0xff00), past which ELF needs
// extended section numbering.
const (
	MaxSymbols    = 1 << 22
	MaxSections   = 1 << 12
	MaxNameLen    = 4096
	MaxStringsLen = 1 << 28
)

// ELF64 sizes (gABI: Elf64_Ehdr, Elf64_Shdr, Elf64_Sym).
const (
	ehdrSize = 64
	shdrSize = 64
	symSize  = 24
)

// Build returns the ELF file. The same input gives the same bytes,
// whatever the order of syms and sections: sections are written by
// address, symbols locals first (the gABI requires every STB_LOCAL symbol
// before the first non-local one, whose index .symtab's sh_info holds)
// and each group by address then name. Names may hold any bytes but NUL;
// sections must not overlap.
func Build(syms []Symbol, sections []Section) ([]byte, error) {
	if len(syms) > MaxSymbols {
		return nil, fmt.Errorf("symelf: %d symbols, more than %d", len(syms), MaxSymbols)
	}
	if len(sections) > MaxSections {
		return nil, fmt.Errorf("symelf: %d sections, more than %d", len(sections), MaxSections)
	}
	secs := slices.Clone(sections)
	slices.SortFunc(secs, func(a, b Section) int {
		return cmp.Or(cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Size, b.Size), strings.Compare(a.Name, b.Name))
	})
	// The sections symbols can be in: those of some size, by address,
	// with their header indexes.
	var lookup []placed
	for i, s := range secs {
		if err := checkName(s.Name); err != nil {
			return nil, fmt.Errorf("symelf: section at %#x: %w", s.Addr, err)
		}
		if s.Size == 0 {
			continue
		}
		if s.Addr+s.Size-1 < s.Addr {
			return nil, fmt.Errorf("symelf: section %q at %#x: %#x bytes run past the end of the address space", s.Name, s.Addr, s.Size)
		}
		if n := len(lookup); n > 0 {
			if p := lookup[n-1].Section; s.Addr-p.Addr < p.Size {
				return nil, fmt.Errorf("symelf: sections %q (%#x, %#x bytes) and %q (%#x) overlap", p.Name, p.Addr, p.Size, s.Name, s.Addr)
			}
		}
		lookup = append(lookup, placed{s, uint16(i + 1)})
	}
	sorted := slices.Clone(syms)
	slices.SortFunc(sorted, func(a, b Symbol) int {
		if a.Global != b.Global {
			if a.Global {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Addr, b.Addr), strings.Compare(a.Name, b.Name),
			cmp.Compare(a.Size, b.Size), compareBool(a.Func, b.Func))
	})

	// Section header indexes: 0 is SHN_UNDEF, the kernel's sections
	// follow, then ours.
	symtabIdx := len(secs) + 1
	strtabIdx, shstrtabIdx := symtabIdx+1, symtabIdx+2
	nsh := shstrtabIdx + 1

	strtab := newStrings()
	symtab := make([]byte, symSize, symSize*(len(sorted)+1)) // entry 0: the undefined symbol
	firstGlobal := len(sorted) + 1
	for i, s := range sorted {
		if err := checkName(s.Name); err != nil {
			return nil, fmt.Errorf("symelf: symbol at %#x: %w", s.Addr, err)
		}
		if s.Global && firstGlobal > len(sorted) {
			firstGlobal = i + 1
		}
		name, err := strtab.add(s.Name)
		if err != nil {
			return nil, fmt.Errorf("symelf: symbol %q: %w", s.Name, err)
		}
		bind, typ := elf.STB_LOCAL, elf.STT_OBJECT
		if s.Global {
			bind = elf.STB_GLOBAL
		}
		if s.Func {
			typ = elf.STT_FUNC
		}
		shndx := sectionOf(lookup, s.Addr)
		symtab = binary.LittleEndian.AppendUint32(symtab, name)
		symtab = append(symtab, elf.ST_INFO(bind, typ), byte(elf.STV_DEFAULT))
		symtab = binary.LittleEndian.AppendUint16(symtab, shndx)
		symtab = binary.LittleEndian.AppendUint64(symtab, s.Addr)
		symtab = binary.LittleEndian.AppendUint64(symtab, s.Size)
	}

	shstrtab := newStrings()
	secNames := make([]uint32, len(secs))
	for i, s := range secs {
		secNames[i], _ = shstrtab.add(s.Name) // checked above, and far below MaxStringsLen
	}
	symtabName, _ := shstrtab.add(".symtab")
	strtabName, _ := shstrtab.add(".strtab")
	shstrtabName, _ := shstrtab.add(".shstrtab")

	// Layout: header, .symtab (8-aligned, as Elf64_Sym's fields), .strtab,
	// .shstrtab, then the section header table (8-aligned).
	symOff := uint64(ehdrSize)
	strOff := symOff + uint64(len(symtab))
	shstrOff := strOff + uint64(len(strtab.b))
	shOff := align8(shstrOff + uint64(len(shstrtab.b)))
	out := make([]byte, 0, shOff+uint64(nsh*shdrSize))

	le := binary.LittleEndian
	// Elf64_Ehdr.
	out = append(out, elf.ELFMAG...)
	out = append(out, byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE))
	out = append(out, make([]byte, elf.EI_NIDENT-len(out))...)
	out = le.AppendUint16(out, uint16(elf.ET_EXEC))
	out = le.AppendUint16(out, uint16(elf.EM_X86_64))
	out = le.AppendUint32(out, uint32(elf.EV_CURRENT))
	out = le.AppendUint64(out, 0)     // e_entry: none; the kernel is already running
	out = le.AppendUint64(out, 0)     // e_phoff: no program headers
	out = le.AppendUint64(out, shOff) // e_shoff
	out = le.AppendUint32(out, 0)     // e_flags
	out = le.AppendUint16(out, ehdrSize)
	out = le.AppendUint16(out, 0) // e_phentsize
	out = le.AppendUint16(out, 0) // e_phnum
	out = le.AppendUint16(out, shdrSize)
	out = le.AppendUint16(out, uint16(nsh))
	out = le.AppendUint16(out, uint16(shstrtabIdx))

	out = append(out, symtab...)
	out = append(out, strtab.b...)
	out = append(out, shstrtab.b...)
	out = append(out, make([]byte, shOff-uint64(len(out)))...)

	shdr := func(name uint32, typ elf.SectionType, flags elf.SectionFlag, addr, off, size uint64, link, info uint32, align, entsize uint64) {
		out = le.AppendUint32(out, name)
		out = le.AppendUint32(out, uint32(typ))
		out = le.AppendUint64(out, uint64(flags))
		out = le.AppendUint64(out, addr)
		out = le.AppendUint64(out, off)
		out = le.AppendUint64(out, size)
		out = le.AppendUint32(out, link)
		out = le.AppendUint32(out, info)
		out = le.AppendUint64(out, align)
		out = le.AppendUint64(out, entsize)
	}
	shdr(0, elf.SHT_NULL, 0, 0, 0, 0, 0, 0, 0, 0)
	for i, s := range secs {
		flags := elf.SHF_ALLOC | elf.SHF_WRITE // see Section
		if s.Exec {
			flags |= elf.SHF_EXECINSTR
		}
		// SHT_NOBITS "occupies no space in the file"; its sh_offset is
		// "the conceptual placement": the symbol table's, past the header.
		shdr(secNames[i], elf.SHT_NOBITS, flags, s.Addr, symOff, s.Size, 0, 0, 1, 0)
	}
	shdr(symtabName, elf.SHT_SYMTAB, 0, 0, symOff, uint64(len(symtab)), uint32(strtabIdx), uint32(firstGlobal), 8, symSize)
	shdr(strtabName, elf.SHT_STRTAB, 0, 0, strOff, uint64(len(strtab.b)), 0, 0, 1, 0)
	shdr(shstrtabName, elf.SHT_STRTAB, 0, 0, shstrOff, uint64(len(shstrtab.b)), 0, 0, 1, 0)
	return out, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("name of %d bytes, longer than %d", len(name), MaxNameLen)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("name %q holds a NUL byte, which ends a name in an ELF string table", name)
	}
	return nil
}

// placed is a section and its index in the section header table.
type placed struct {
	Section
	index uint16
}

// sectionOf returns the header index of the section in secs (sorted by
// address, not overlapping) holding addr, or SHN_ABS: the gABI's index
// for a symbol whose value "will not change because of relocation".
func sectionOf(secs []placed, addr uint64) uint16 {
	// i: the first section starting above addr.
	i, _ := slices.BinarySearchFunc(secs, addr, func(s placed, a uint64) int {
		if s.Addr > a {
			return 1
		}
		return -1
	})
	if i == 0 || addr-secs[i-1].Addr >= secs[i-1].Size {
		return uint16(elf.SHN_ABS)
	}
	return secs[i-1].index
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// stringTable is an ELF string table (gABI "String Table"): a NUL byte,
// then NUL-terminated names, each name stored once.
type stringTable struct {
	b   []byte
	off map[string]uint32
}

func newStrings() *stringTable {
	return &stringTable{b: []byte{0}, off: map[string]uint32{}}
}

func (t *stringTable) add(s string) (uint32, error) {
	if o, ok := t.off[s]; ok {
		return o, nil
	}
	if len(t.b)+len(s)+1 > MaxStringsLen {
		return 0, fmt.Errorf("string table over %d bytes", MaxStringsLen)
	}
	o := uint32(len(t.b))
	t.b = append(t.b, s...)
	t.b = append(t.b, 0)
	t.off[s] = o
	return o, nil
}
