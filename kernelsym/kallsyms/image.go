package kallsyms

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Image is a vmlinux's contents by virtual (link) address: its PT_LOAD
// segments, as the kernel is laid out in memory before relocation.
type Image struct {
	segs []segment // sorted by vaddr
	text uint64    // the .text section's address (0: no section headers)
}

type segment struct {
	vaddr uint64
	data  []byte // the file bytes
	memsz uint64 // data beyond the file bytes reads as zeros
}

// NewImage reads the PT_LOAD segments of an ELF vmlinux (the one inside
// a bzImage: section headers, no symbol table).
func NewImage(vmlinux []byte) (*Image, error) {
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return nil, fmt.Errorf("kallsyms: read ELF: %w", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("kallsyms: %v %v ELF: only 64-bit little-endian kernels are supported", f.Class, f.Data)
	}
	im := &Image{}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		if p.Filesz > p.Memsz || p.Off > uint64(len(vmlinux)) || p.Filesz > uint64(len(vmlinux))-p.Off || p.Vaddr+p.Memsz < p.Vaddr {
			return nil, fmt.Errorf("kallsyms: segment at %#x: %#x bytes at file offset %#x (memory size %#x) do not fit the %d-byte file",
				p.Vaddr, p.Filesz, p.Off, p.Memsz, len(vmlinux))
		}
		im.segs = append(im.segs, segment{vaddr: p.Vaddr, data: vmlinux[p.Off : p.Off+p.Filesz], memsz: p.Memsz})
	}
	if len(im.segs) == 0 {
		return nil, fmt.Errorf("kallsyms: the ELF file has no loadable segment")
	}
	sort.Slice(im.segs, func(i, j int) bool { return im.segs[i].vaddr < im.segs[j].vaddr })
	if s := f.Section(".text"); s != nil && s.Flags&elf.SHF_ALLOC != 0 {
		im.text = s.Addr
	}
	return im, nil
}

// Text returns the .text section's address, where _text and _stext are
// on x86-64 (arch/x86/kernel/vmlinux.lds.S), when the ELF file has
// section headers.
func (im *Image) Text() (uint64, bool) { return im.text, im.text != 0 }

// Read reads the image at a link address, as a ReadFunc. It stops at the
// end of a segment.
func (im *Image) Read(addr uint64, buf []byte) (int, error) {
	s := im.segmentAt(addr)
	if s == nil {
		return 0, fmt.Errorf("%#x is in no segment of the image", addr)
	}
	off := addr - s.vaddr
	n := 0
	if off < uint64(len(s.data)) {
		n = copy(buf, s.data[off:])
	}
	if n < len(buf) {
		// The segment's zero-filled part (bss), up to its end.
		z := min(uint64(len(buf)-n), s.memsz-max(off, uint64(len(s.data))))
		clear(buf[n : n+int(z)])
		n += int(z)
	}
	if n < len(buf) {
		return n, fmt.Errorf("%#x is past the end of the segment at %#x", addr+uint64(n), s.vaddr)
	}
	return n, nil
}

func (im *Image) segmentAt(addr uint64) *segment {
	i := sort.Search(len(im.segs), func(i int) bool { return im.segs[i].vaddr > addr }) - 1
	if i < 0 || addr-im.segs[i].vaddr >= im.segs[i].memsz {
		return nil
	}
	return &im.segs[i]
}

// FindInImage finds the kallsyms tables in a vmlinux (FindTables) and
// decodes them: the symbols at their link addresses, and where the tables
// are.
func FindInImage(vmlinux []byte) ([]Symbol, Tables, error) {
	im, err := NewImage(vmlinux)
	if err != nil {
		return nil, Tables{}, err
	}
	t, syms, err := im.findTables()
	if err != nil {
		return nil, Tables{}, err
	}
	return syms, t, nil
}

// FindTables locates the kallsyms tables in the image by their structure,
// as tools that recover symbols from raw kernels do (vmlinux-to-elf), and
// returns their link addresses with the per-CPU mode resolved.
func (im *Image) FindTables() (Tables, error) {
	t, _, err := im.findTables()
	return t, err
}

// digits is how the token table holds '0'…'9': scripts/kallsyms.c
// (insert_real_symbols_in_table) keeps every character that occurs in a
// name as the one-character token of its own code, and every digit
// occurs among a kernel's names.
var digits = []byte("0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00")

// Search bounds.
const (
	// markersWindow bounds how far before the token table the markers
	// are looked for: Linux ≥ 6.2 puts kallsyms_seqs_of_names (3 or 4
	// bytes per symbol) between them.
	markersWindow = 4*MaxSymbols + 1<<20
	// lastGroupMax bounds the bytes of 256 entries of kallsyms_names: a
	// length and at most a name's length of tokens each.
	lastGroupMax = 256 * (2 + ksymNameLen)
)

// findTables is FindTables that also returns the decoded symbols.
//
// The search, anchored on the token table (scripts/kallsyms.c, write_src,
// gives the order; every label is 8-aligned):
//
//  1. kallsyms_token_table: the digits' tokens in a row; 48 strings back
//     is the table's start, 256 strings on its end, and
//     kallsyms_token_index, the next 8-aligned address, must hold each
//     string's offset.
//  2. kallsyms_markers before it (right before in Linux ≤ 6.1, before
//     kallsyms_seqs_of_names since): an 8-aligned 0 followed by rising
//     offsets.
//  3. kallsyms_names ends right before the markers and kallsyms_num_syms
//     (u32, then 4 bytes of padding) right before it; walking the
//     entries' lengths from there must meet every marker and end at the
//     markers.
//  4. The addresses: Linux ≤ 6.3 puts kallsyms_offsets and
//     kallsyms_relative_base (or kallsyms_addresses) before
//     kallsyms_num_syms, later kernels after kallsyms_token_index; each
//     placement is decoded in full and kept when the addresses rise and
//     _stext is at .text.
func (im *Image) findTables() (Tables, []Symbol, error) {
	var reasons []string
	for si := range im.segs {
		seg := &im.segs[si]
		if seg.vaddr%8 != 0 {
			continue // the tables' alignment is then not the offsets'
		}
		for from := 0; ; {
			i := bytes.Index(seg.data[from:], digits)
			if i < 0 {
				break
			}
			i += from
			from = i + 1
			tt, ti, ok := tokenTableAt(seg, i)
			if !ok {
				continue
			}
			t, syms, err := im.tablesFromTokens(seg, tt, ti)
			if err == nil {
				return t, syms, nil
			}
			reasons = append(reasons, fmt.Sprintf("token table at %#x: %v", tt, err))
		}
	}
	if len(reasons) == 0 {
		return Tables{}, nil, errors.New("kallsyms: no kallsyms_token_table in the image (a kernel built without CONFIG_KALLSYMS?)")
	}
	return Tables{}, nil, fmt.Errorf("kallsyms: no complete kallsyms tables in the image: %v", reasons)
}

// tokenTableAt checks for a token table whose '0' token is at offset i of
// the segment and returns the addresses of the token table and index.
//
// Walking back over the strings finds token 1's start (tokens 1…47 each
// follow a NUL), but not token 0's, which may follow non-zero bytes of
// the table before it; kallsyms_token_index says where it starts.
func tokenTableAt(seg *segment, i int) (table, index uint64, ok bool) {
	d := seg.data
	start1 := i
	for k := 1; k < '0'; k++ {
		if start1 < 1 || d[start1-1] != 0 {
			return 0, 0, false
		}
		start1--
		for start1 > 0 && d[start1-1] != 0 && i-start1 <= '0'*(ksymNameLen+1) {
			start1--
		}
	}
	if start1 < 1 || d[start1-1] != 0 {
		return 0, 0, false // token 0's NUL
	}
	var offs [tokenCount]int // from token 1's start
	p := start1
	for k := 1; k < tokenCount; k++ {
		offs[k] = p - start1
		e := bytes.IndexByte(d[p:min(len(d), p+ksymNameLen+1)], 0)
		if e < 0 {
			return 0, 0, false
		}
		p += e + 1
	}
	idx := (p + 7) &^ 7 // findTables searches 8-aligned segments only
	if idx+2*tokenCount > len(d) {
		return 0, 0, false
	}
	le := binary.LittleEndian
	first := int(le.Uint16(d[idx+2:])) // token 0's length with its NUL
	start := start1 - first
	if le.Uint16(d[idx:]) != 0 || first < 1 || first > ksymNameLen+1 || start < 0 || start%8 != 0 ||
		bytes.IndexByte(d[start:start1-1], 0) >= 0 {
		return 0, 0, false
	}
	for k := 1; k < tokenCount; k++ {
		if int(le.Uint16(d[idx+2*k:])) != first+offs[k] {
			return 0, 0, false
		}
	}
	return seg.vaddr + uint64(start), seg.vaddr + uint64(idx), true
}

// tablesFromTokens finds the other tables from the token table's place.
func (im *Image) tablesFromTokens(seg *segment, tokenTable, tokenIndex uint64) (Tables, []Symbol, error) {
	d := seg.data
	tt := int(tokenTable - seg.vaddr)
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(d[off:]) }
	var why error = errors.New("no kallsyms_markers before it")
	for m := tt - 8; m >= 8 && tt-m <= markersWindow; m -= 8 {
		if u32(m) != 0 {
			continue
		}
		markers := risingRun(d[m:tt])
		if len(markers) < 2 {
			continue
		}
		names, n, ok := namesBefore(d, m, markers)
		if !ok {
			continue
		}
		t := Tables{
			NumSyms:    seg.vaddr + uint64(names) - 8,
			Names:      seg.vaddr + uint64(names),
			Markers:    seg.vaddr + uint64(m),
			TokenTable: tokenTable,
			TokenIndex: tokenIndex,
			Stext:      im.text,
		}
		f, err := im.decodeAddresses(t, n)
		if err == nil {
			return f.t, f.syms, nil
		}
		why = fmt.Errorf("names at %#x, %d symbols: %w", t.Names, n, err)
	}
	return Tables{}, nil, why
}

// risingRun returns the u32 at the start of b as long as they rise by
// what 256 entries of kallsyms_names can take.
func risingRun(b []byte) []uint32 {
	var run []uint32
	for off := 0; off+4 <= len(b); off += 4 {
		v := binary.LittleEndian.Uint32(b[off:])
		if len(run) > 0 {
			prev := run[len(run)-1]
			if v <= prev || v-prev < 2*256 || v-prev > lastGroupMax {
				break
			}
		}
		run = append(run, v)
	}
	return run
}

// namesBefore looks for kallsyms_num_syms and kallsyms_names ending at
// the markers at offset m of d, and returns the names' offset and the
// symbol count.
func namesBefore(d []byte, m int, markers []uint32) (names, n int, ok bool) {
	lo := max(8, m-int(markers[len(markers)-1])-lastGroupMax)
	for p := (m - int(markers[1]) - 2) &^ 7; p >= lo; p -= 8 {
		count := binary.LittleEndian.Uint32(d[p-8:])
		if binary.LittleEndian.Uint32(d[p-4:]) != 0 || count <= 256 || count > MaxSymbols {
			continue
		}
		groups := (int(count) + 255) / 256
		if groups > len(markers) || int(markers[groups-1]) >= m-p {
			continue
		}
		if walkNames(d[p:m], int(count), markers[:groups]) {
			return p, int(count), true
		}
	}
	return 0, 0, false
}

// walkNames checks that n entries of kallsyms_names fill b (up to the
// zero padding before the next 8-aligned label) and start where markers
// say.
func walkNames(b []byte, n int, markers []uint32) bool {
	p := 0
	for i := 0; i < n; i++ {
		if i%256 == 0 && int(markers[i/256]) != p {
			return false
		}
		if p >= len(b) {
			return false
		}
		l := int(b[p])
		p++
		if l&0x80 != 0 {
			if p >= len(b) || b[p]&0x80 != 0 {
				return false
			}
			l = l&0x7f | int(b[p])<<7
			p++
		}
		if l == 0 {
			return false
		}
		p += l
	}
	if p > len(b) || len(b)-p >= 8 {
		return false
	}
	for _, c := range b[p:] {
		if c != 0 {
			return false
		}
	}
	return true
}

// found is a decoded set of tables.
type found struct {
	t    Tables
	syms []Symbol
}

// decodeAddresses tries the places the address tables can be in, given
// the names (see findTables), and decodes the first that fits.
func (im *Image) decodeAddresses(t Tables, n int) (found, error) {
	align := func(a uint64) uint64 { return (a + 7) &^ 7 }
	before := t.NumSyms - align(uint64(4*n)) - 8 // Linux ≤ 6.3: offsets, relative_base, num_syms
	after := align(t.TokenIndex + 2*tokenCount)  // later: token_index, offsets, relative_base
	places := []Tables{
		{Offsets: before, RelativeBase: t.NumSyms - 8},
		{Offsets: after, RelativeBase: align(after + uint64(4*n))},
		{Addresses: t.NumSyms - uint64(8*n)},
		{Addresses: after},
	}
	var errs []error
	for _, p := range places {
		c := t
		c.Offsets, c.RelativeBase, c.Addresses = p.Offsets, p.RelativeBase, p.Addresses
		if !im.plausible(c, n) {
			continue
		}
		syms, mode, err := decode(im.Read, c)
		if err == nil {
			err = rising(syms)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Percpu = mode
		return found{c, syms}, nil
	}
	if len(errs) == 0 {
		return found{}, errors.New("no kallsyms_offsets or kallsyms_addresses next to them")
	}
	return found{}, errors.Join(errs...)
}

// plausible is a cheap look at a placement of the address tables: the
// relative base, or the last absolute address, is within the image's
// span (the last symbol can be the image's end: __init_scratch_end).
func (im *Image) plausible(t Tables, n int) bool {
	at := t.Addresses + uint64(8*(n-1))
	if t.Offsets != 0 {
		at = t.RelativeBase
	}
	var b [8]byte
	if _, err := im.Read(at, b[:]); err != nil {
		return false
	}
	v := binary.LittleEndian.Uint64(b[:])
	last := im.segs[len(im.segs)-1]
	return v >= im.segs[0].vaddr && v <= last.vaddr+last.memsz
}

// rising checks that the addresses do not fall: scripts/kallsyms.c sorts
// by address (sort_symbols) before writing.
func rising(syms []Symbol) error {
	for i := 1; i < len(syms); i++ {
		if syms[i].Addr < syms[i-1].Addr {
			return fmt.Errorf("addresses fall at symbol %d (%s %#x after %s %#x)", i, syms[i].Name, syms[i].Addr, syms[i-1].Name, syms[i-1].Addr)
		}
	}
	return nil
}
