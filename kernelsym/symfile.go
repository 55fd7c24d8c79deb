package kernelsym

import (
	"bytes"
	"debug/elf"
	"fmt"
	"hash/fnv"
	"path"

	"vmapstack/kernelsym/bzimage"
	"vmapstack/kernelsym/kallsyms"
	"vmapstack/kernelsym/symelf"
)

// A symbol file is what gdb loads through qXfer:exec-file and vFile when
// it attaches with no file of its own: an ELF with the kernel's sections
// (no contents: gdb reads code from the target) and a symbol table built
// from kallsyms. gdb applies no offsets (qOffsets is empty, as QEMU's), so
// the addresses must be the ones the kernel runs at:
//
//   - before the kernel has set up VMCOREINFO (gdb attached at the reset
//     vector, --wait), the symbols come from the kallsyms tables inside
//     the bzImage, at their link addresses: right under nokaslr, and
//     wrong by the KASLR offset otherwise, which nothing can know before
//     the decompressor has chosen it;
//   - once VMCOREINFO is there, from the running kernel's kallsyms and
//     its modules' symbol tables, at their run-time addresses (KASLR
//     included), under a name that carries the KASLR offset, so that
//     `file target:NAME` loads them into a gdb attached earlier.

// imageSymbols is what the bzImage itself says of the kernel's symbols.
type imageSymbols struct {
	release  string
	syms     []Symbol // link addresses
	sections []symelf.Section
	err      error
}

// loadImageSymbols unpacks the vmlinux and finds its kallsyms tables
// (0.5 s and a 53 MB buffer for Debian's kernel, dropped afterwards).
func loadImageSymbols(image []byte) *imageSymbols {
	is := &imageSymbols{release: bzImageVersion(image)}
	vmlinux := image
	if IsBzImage(image) {
		var err error
		if vmlinux, err = bzimage.Vmlinux(image); err != nil {
			is.err = err
			return is
		}
	}
	ks, _, err := kallsyms.FindInImage(vmlinux)
	if err != nil {
		is.err = err
		return is
	}
	is.syms, _ = symbolsFromKallsyms(ks)
	is.sections, is.err = elfSections(vmlinux)
	return is
}

// elfSections lists a vmlinux's allocated sections at kernel addresses;
// .data..percpu, linked at 0 (its symbols are offsets), stays out.
func elfSections(vmlinux []byte) ([]symelf.Section, error) {
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return nil, fmt.Errorf("vmlinux: %w", err)
	}
	defer f.Close()
	var out []symelf.Section
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Addr < 1<<63 || s.Size == 0 {
			continue
		}
		out = append(out, symelf.Section{Name: s.Name, Addr: s.Addr, Size: s.Size, Exec: s.Flags&elf.SHF_EXECINSTR != 0})
	}
	return out, nil
}

// bzImageVersion reads the kernel_version string the setup header points
// at (boot.rst: the offset at 0x20e, from 0x200), e.g. "6.1.0-57-cloud-amd64
// (debian-kernel@lists.debian.org) #1 SMP …": its first word.
func bzImageVersion(image []byte) string {
	if !IsBzImage(image) || len(image) < 0x210 {
		return ""
	}
	off := 0x200 + (int(image[0x20e]) | int(image[0x20f])<<8)
	if off >= len(image) {
		return ""
	}
	end := bytes.IndexAny(image[off:min(len(image), off+256)], " \x00")
	if end <= 0 {
		return ""
	}
	return string(image[off : off+end])
}

// SymbolFile returns the ELF gdb gets as the exec file, and the absolute
// path to serve it under. The same state gives the same bytes; a new
// state (the kernel found in memory, a module loaded) gives a new name.
func (l *Linux) SymbolFile() (p string, data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, data, err = "", nil, fmt.Errorf("internal error building the symbol file: %v", r)
		}
	}()
	key, syms, sections, err := l.symbolFileInput()
	if err != nil {
		return "", nil, err
	}
	if l.symFile != nil && l.symFile.key == key {
		return l.symFile.path, l.symFile.data, nil
	}
	es := make([]symelf.Symbol, 0, len(syms))
	for _, s := range syms {
		if s.Name == "" || s.Addr == 0 {
			continue
		}
		es = append(es, symelf.Symbol{Name: s.Name, Addr: s.Addr, Size: s.Size, Func: s.Func, Global: s.Global})
	}
	data, err = symelf.Build(es, sections)
	if err != nil {
		return "", nil, fmt.Errorf("build the symbol file: %w", err)
	}
	l.symFile = &symbolFile{key: key, path: key, data: data}
	return key, data, nil
}

type symbolFile struct {
	key, path string
	data      []byte
}

// symbolFileInput chooses the symbols: the running kernel's when known,
// else the image's.
func (l *Linux) symbolFileInput() (key string, syms []Symbol, sections []symelf.Section, err error) {
	if l.image == nil && l.missing != "" {
		return "", nil, nil, fmt.Errorf("no symbols yet: %s", l.missing)
	}
	if l.imageSyms == nil && l.image != nil {
		l.imageSyms = loadImageSymbols(l.image)
	}
	is := l.imageSyms
	name := "linux"
	if is != nil && is.release != "" {
		name = "vmlinux-" + is.release
	}
	if l.missing != "" {
		if is.err != nil {
			return "", nil, nil, fmt.Errorf("no symbols: the kernel has not set up VMCOREINFO yet (%s), and its image: %w", l.missing, is.err)
		}
		return path.Join("/vmapstack/linux", name+".kallsyms"), is.syms, is.sections, nil
	}
	off := l.Bases.KernelOffset
	if is != nil {
		for _, s := range is.sections {
			s.Addr += off
			sections = append(sections, s)
		}
	}
	for _, m := range l.modules {
		for _, r := range [][2]uint64{{m.Base, m.Size}, {m.InitBase, m.InitSize}} {
			if r[0] != 0 && r[1] != 0 {
				sections = append(sections, symelf.Section{Name: m.Name, Addr: r[0], Size: r[1], Exec: true})
			}
		}
	}
	if err := checkSections(sections); err != nil {
		sections = nil // symbols outside every section are SHN_ABS: gdb still names them
	}
	// The name changes with the module set (names and places), so a
	// gdb that loaded an older file sees a new one.
	h := fnv.New32a()
	for _, m := range l.modules {
		fmt.Fprintf(h, "%s %#x %#x %#x %#x\n", m.Name, m.Base, m.Size, m.InitBase, m.InitSize)
	}
	key = path.Join("/vmapstack/linux", fmt.Sprintf("%s.kaslr-%#x.modules-%d-%08x.kallsyms", name, off, len(l.modules), h.Sum32()))
	return key, l.syms.Symbols(), sections, nil
}

// checkSections rejects overlapping sections (symelf.Build would).
func checkSections(ss []symelf.Section) error {
	for i, a := range ss {
		for _, b := range ss[i+1:] {
			if a.Addr < b.Addr+b.Size && b.Addr < a.Addr+a.Size {
				return fmt.Errorf("sections %s and %s overlap", a.Name, b.Name)
			}
		}
	}
	return nil
}
