// Package kallsyms decodes the symbol table a Linux kernel carries for
// itself (CONFIG_KALLSYMS): the compressed tables scripts/kallsyms.c
// writes into .rodata and kernel/kallsyms.c reads, either from a running
// kernel's memory, at the addresses VMCOREINFO gives (Decode, TablesFrom),
// or from a vmlinux that has no ELF symbol table, found by their shape
// (FindInImage). With it the monitor names Linux's functions and finds its
// globals with no vmlinux and no debug package (docs/design.md §4b).
//
// The tables (scripts/kallsyms.c, write_src), each aligned to 8 bytes on
// 64-bit kernels:
//
//	kallsyms_num_syms      u32: the number of symbols
//	kallsyms_names         per symbol: its length (one byte; since Linux
//	                       6.1 two, ULEB128, when above 0x7f) and that many
//	                       token numbers; the expansion's first character
//	                       is the symbol's type (nm's letter), the rest its
//	                       name
//	kallsyms_markers       u32 per 256 symbols: offset of symbol 256·i in
//	                       kallsyms_names
//	kallsyms_token_table   256 NUL-terminated strings
//	kallsyms_token_index   256 u16: where each string starts
//	kallsyms_addresses     per symbol u64 (!CONFIG_KALLSYMS_BASE_RELATIVE),
//	or kallsyms_offsets    per symbol s32, with
//	kallsyms_relative_base u64 (CONFIG_KALLSYMS_BASE_RELATIVE)
//	kallsyms_seqs_of_names the symbols in name order (Linux ≥ 6.2, and
//	                       Debian's 6.1); not needed here
//
// Symbols come in table order, which is by address (sort_symbols); this
// package supports 64-bit little-endian kernels (x86-64).
package kallsyms

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Symbol is one kallsyms entry.
type Symbol struct {
	Name string
	Addr uint64
	// Type is nm's letter as scripts/kallsyms.c stored it: T/t text,
	// D/d data, R/r read-only data, B/b bss, W/w weak, V/v weak object,
	// A absolute (with CONFIG_KALLSYMS_ABSOLUTE_PERCPU every per-CPU
	// variable is 'A' and its Addr is its offset in the per-CPU area).
	Type byte
}

// Text reports whether the symbol is code by its type letter: T, t, and
// the weak W, w (nm gives weak objects V, v).
func (s Symbol) Text() bool {
	switch s.Type {
	case 'T', 't', 'W', 'w':
		return true
	}
	return false
}

// Absolute reports whether the symbol's value is not an address in the
// kernel image: type A or a (per-CPU offsets under
// CONFIG_KALLSYMS_ABSOLUTE_PERCPU).
func (s Symbol) Absolute() bool { return s.Type == 'A' || s.Type == 'a' }

// ReadFunc reads memory at a virtual address and returns how many bytes
// it read (the machine's CPU().ReadLinear, or Image.Read).
type ReadFunc = func(addr uint64, buf []byte) (int, error)

// PercpuMode says how kallsyms_offsets encodes per-CPU symbols.
type PercpuMode int

const (
	// PercpuAuto infers the mode from the table (see Decode).
	PercpuAuto PercpuMode = iota
	// PercpuAbsolute is CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP
	// kernels up to Linux 6.14, Debian's among them): a negative offset
	// o means relative_base − 1 − o, a non-negative one is an absolute
	// value (a per-CPU offset).
	PercpuAbsolute
	// PercpuRelative is base-relative without it: relative_base + the
	// offset taken as unsigned.
	PercpuRelative
)

func (m PercpuMode) String() string {
	switch m {
	case PercpuAuto:
		return "auto"
	case PercpuAbsolute:
		return "absolute per-CPU"
	case PercpuRelative:
		return "relative"
	}
	return fmt.Sprintf("PercpuMode(%d)", int(m))
}

// Tables are the addresses of the kallsyms tables in the memory a
// ReadFunc reads: runtime addresses for a running kernel (VMCOREINFO's
// SYMBOL(kallsyms_*) values), link addresses in a vmlinux.
type Tables struct {
	NumSyms    uint64 // kallsyms_num_syms
	Names      uint64 // kallsyms_names
	TokenTable uint64 // kallsyms_token_table
	TokenIndex uint64 // kallsyms_token_index
	// Markers is optional (VMCOREINFO does not record it): when set,
	// Decode checks every 256th symbol's place in Names against it.
	Markers uint64

	// Either Offsets and RelativeBase (CONFIG_KALLSYMS_BASE_RELATIVE) or
	// Addresses.
	Offsets      uint64 // kallsyms_offsets
	RelativeBase uint64 // kallsyms_relative_base
	Addresses    uint64 // kallsyms_addresses

	// Percpu is how Offsets encodes per-CPU symbols; PercpuAuto infers it.
	Percpu PercpuMode
	// Stext, when not zero, is where _stext (or, without one, _text)
	// must come out: VMCOREINFO's SYMBOL(_stext) for a running kernel,
	// the .text section's address for a vmlinux. Decode fails when it
	// does not, and PercpuAuto uses it to choose.
	Stext uint64
}

// String lists the tables' addresses in hexadecimal, for messages.
func (t Tables) String() string {
	s := fmt.Sprintf("num_syms %#x names %#x token_table %#x token_index %#x", t.NumSyms, t.Names, t.TokenTable, t.TokenIndex)
	if t.Markers != 0 {
		s += fmt.Sprintf(" markers %#x", t.Markers)
	}
	if t.Addresses != 0 {
		s += fmt.Sprintf(" addresses %#x", t.Addresses)
	} else {
		s += fmt.Sprintf(" offsets %#x relative_base %#x (%v)", t.Offsets, t.RelativeBase, t.Percpu)
	}
	if t.Stext != 0 {
		s += fmt.Sprintf(" _stext %#x", t.Stext)
	}
	return s
}

// TablesFrom fills Tables from a symbol lookup, such as a parsed
// VMCOREINFO's Symbol method (kernel/crash_core.c records the kallsyms
// tables since Linux 6.0, all but kallsyms_markers, and _stext).
func TablesFrom(symbol func(name string) (uint64, bool)) (Tables, error) {
	var t Tables
	var missing []string
	need := func(name string, dst *uint64) {
		if v, ok := symbol(name); ok {
			*dst = v
		} else {
			missing = append(missing, name)
		}
	}
	need("kallsyms_num_syms", &t.NumSyms)
	need("kallsyms_names", &t.Names)
	need("kallsyms_token_table", &t.TokenTable)
	need("kallsyms_token_index", &t.TokenIndex)
	if v, ok := symbol("kallsyms_addresses"); ok {
		t.Addresses = v
	} else {
		need("kallsyms_offsets", &t.Offsets)
		need("kallsyms_relative_base", &t.RelativeBase)
	}
	t.Markers, _ = symbol("kallsyms_markers")
	t.Stext, _ = symbol("_stext")
	if len(missing) > 0 {
		return Tables{}, fmt.Errorf("kallsyms: no address for %v (Linux records the kallsyms tables in VMCOREINFO since 6.0, with CONFIG_KALLSYMS)", missing)
	}
	return t, nil
}

// Limits on what Decode believes.
const (
	// MaxSymbols bounds kallsyms_num_syms; a large distribution kernel
	// has about 200 000 (KALLSYMS_ALL).
	MaxSymbols = 4 << 20
	// ksymNameLen is KSYM_NAME_LEN (include/linux/kallsyms.h, 512 since
	// Linux 6.1): scripts/kallsyms.c refuses names this long, so with
	// the type letter an expansion has at most this many bytes.
	ksymNameLen = 512
	// tokenCount is the size of the token tables.
	tokenCount = 256
)

// Decode reads the kallsyms tables at the addresses t gives through read
// and returns the symbols in table order (by address).
//
// Per-CPU symbols with t.Percpu == PercpuAuto: scripts/kallsyms.c
// (write_src) with --absolute-percpu writes relative_base − 1 − address
// for every symbol outside the per-CPU area, a negative number, and with
// relative_base the lowest such address at least one is −1; without it
// every offset is address − relative_base ≥ 0 (and below 2 GiB, the
// kernel image being smaller). So a negative offset means
// ABSOLUTE_PERCPU. When t.Stext is set, _stext must then land on it; if
// it does not but would under the other reading, that one is taken.
//
// Every count, length and token number is checked against the tables'
// bounds; corrupt tables or failing reads give an error naming the table,
// the symbol index and the address, never a panic.
func Decode(read ReadFunc, t Tables) ([]Symbol, error) {
	syms, _, err := decode(read, t)
	return syms, err
}

// decode is Decode that also returns the per-CPU mode it used.
func decode(read ReadFunc, t Tables) ([]Symbol, PercpuMode, error) {
	if t.NumSyms == 0 || t.Names == 0 || t.TokenTable == 0 || t.TokenIndex == 0 {
		return nil, 0, fmt.Errorf("kallsyms: tables incomplete: %v", t)
	}
	var b4 [4]byte
	if err := readFull(read, t.NumSyms, b4[:]); err != nil {
		return nil, 0, fmt.Errorf("kallsyms: read kallsyms_num_syms: %w", err)
	}
	n := binary.LittleEndian.Uint32(b4[:])
	if n == 0 || n > MaxSymbols {
		return nil, 0, fmt.Errorf("kallsyms: kallsyms_num_syms at %#x is %d, not in 1..%d", t.NumSyms, n, MaxSymbols)
	}
	tokens, err := readTokens(read, t.TokenTable, t.TokenIndex)
	if err != nil {
		return nil, 0, err
	}
	var markers []uint32
	if t.Markers != 0 {
		if markers, err = readU32s(read, t.Markers, (int(n)+255)/256, "kallsyms_markers"); err != nil {
			return nil, 0, err
		}
	}
	syms, err := readNames(read, t.Names, int(n), tokens, markers)
	if err != nil {
		return nil, 0, err
	}
	mode, err := readAddresses(read, t, syms)
	if err != nil {
		return nil, 0, err
	}
	return syms, mode, nil
}

// readTokens reads kallsyms_token_index and the strings of
// kallsyms_token_table it points at.
func readTokens(read ReadFunc, table, index uint64) (*[tokenCount]string, error) {
	idx := make([]byte, 2*tokenCount)
	if err := readFull(read, index, idx); err != nil {
		return nil, fmt.Errorf("kallsyms: read kallsyms_token_index: %w", err)
	}
	var offs [tokenCount]int
	end := 0
	for i := range offs {
		offs[i] = int(binary.LittleEndian.Uint16(idx[2*i:]))
		end = max(end, offs[i])
	}
	// The last string ends within a name's length of the largest index:
	// no token is longer than a name. Tables at the end of readable
	// memory give a short read, enough when the strings end in it.
	buf := make([]byte, end+ksymNameLen+1)
	got, rerr := readPrefix(read, table, buf)
	buf = buf[:got]
	var tokens [tokenCount]string
	for i, off := range offs {
		s, ok := cString(buf, off, ksymNameLen)
		if !ok {
			if off+ksymNameLen >= len(buf) && rerr != nil {
				return nil, fmt.Errorf("kallsyms: read kallsyms_token_table at %#x (token %d at offset %d): %w", table, i, off, rerr)
			}
			return nil, fmt.Errorf("kallsyms: kallsyms_token_table at %#x: token %d at offset %d has no NUL within %d bytes", table, i, off, ksymNameLen)
		}
		tokens[i] = s
	}
	return &tokens, nil
}

// cString returns the NUL-terminated string at off in b, at most max
// bytes long.
func cString(b []byte, off, max int) (string, bool) {
	for i := off; i < len(b) && i <= off+max; i++ {
		if b[i] == 0 {
			return string(b[off:i]), true
		}
	}
	return "", false
}

// readNames decodes n entries of kallsyms_names (kernel/kallsyms.c,
// kallsyms_expand_symbol) into symbols with names and types.
func readNames(read ReadFunc, addr uint64, n int, tokens *[tokenCount]string, markers []uint32) ([]Symbol, error) {
	s := &stream{read: read, addr: addr, what: "kallsyms_names"}
	// Grown as names decode, so that a corrupt count fails before it
	// allocates much.
	syms := make([]Symbol, 0, min(n, 1<<16))
	name := make([]byte, 0, ksymNameLen)
	for i := range n {
		off := s.offset()
		if markers != nil && i%256 == 0 && uint64(markers[i/256]) != off {
			return nil, fmt.Errorf("kallsyms: symbol %d starts at offset %d of kallsyms_names (%#x), but kallsyms_markers[%d] says %d", i, off, addr+off, i/256, markers[i/256])
		}
		hdr, err := s.next(1)
		if err != nil {
			return nil, fmt.Errorf("kallsyms: symbol %d: %w", i, err)
		}
		length := int(hdr[0])
		if length&0x80 != 0 {
			// The "big" form (Linux ≥ 6.1): ULEB128 in two bytes.
			hi, err := s.next(1)
			if err != nil {
				return nil, fmt.Errorf("kallsyms: symbol %d: %w", i, err)
			}
			if hi[0]&0x80 != 0 {
				return nil, fmt.Errorf("kallsyms: symbol %d at %#x: length needs more than two bytes (%#02x %#02x)", i, addr+off, hdr[0], hi[0])
			}
			length = length&0x7f | int(hi[0])<<7
		}
		if length == 0 {
			return nil, fmt.Errorf("kallsyms: symbol %d at %#x: zero length", i, addr+off)
		}
		data, err := s.next(length)
		if err != nil {
			return nil, fmt.Errorf("kallsyms: symbol %d (%d bytes): %w", i, length, err)
		}
		name = name[:0]
		for _, tok := range data {
			name = append(name, tokens[tok]...)
			if len(name) > ksymNameLen {
				return nil, fmt.Errorf("kallsyms: symbol %d at %#x expands to more than %d bytes", i, addr+off, ksymNameLen)
			}
		}
		if len(name) < 2 {
			return nil, fmt.Errorf("kallsyms: symbol %d at %#x expands to %q: no type and name", i, addr+off, name)
		}
		syms = append(syms, Symbol{Type: name[0], Name: string(name[1:])})
	}
	return syms, nil
}

// readAddresses fills syms' addresses from kallsyms_addresses or
// kallsyms_offsets and returns the per-CPU mode used.
func readAddresses(read ReadFunc, t Tables, syms []Symbol) (PercpuMode, error) {
	n := len(syms)
	if t.Offsets == 0 {
		if t.Addresses == 0 {
			return 0, fmt.Errorf("kallsyms: neither kallsyms_offsets nor kallsyms_addresses given")
		}
		buf := make([]byte, 8*n)
		if err := readFull(read, t.Addresses, buf); err != nil {
			return 0, fmt.Errorf("kallsyms: read kallsyms_addresses (%d entries): %w", n, err)
		}
		for i := range syms {
			syms[i].Addr = binary.LittleEndian.Uint64(buf[8*i:])
		}
		return PercpuAuto, checkStext(syms, t.Stext)
	}
	if t.RelativeBase == 0 {
		return 0, fmt.Errorf("kallsyms: kallsyms_offsets given without kallsyms_relative_base")
	}
	var b8 [8]byte
	if err := readFull(read, t.RelativeBase, b8[:]); err != nil {
		return 0, fmt.Errorf("kallsyms: read kallsyms_relative_base: %w", err)
	}
	base := binary.LittleEndian.Uint64(b8[:])
	offs, err := readU32s(read, t.Offsets, n, "kallsyms_offsets")
	if err != nil {
		return 0, err
	}
	mode := t.Percpu
	if mode == PercpuAuto {
		mode = PercpuRelative
		for _, o := range offs {
			if int32(o) < 0 {
				mode = PercpuAbsolute
				break
			}
		}
	}
	setAddresses(syms, offs, base, mode)
	err = checkStext(syms, t.Stext)
	if err != nil && t.Percpu == PercpuAuto {
		other := PercpuAbsolute + PercpuRelative - mode
		setAddresses(syms, offs, base, other)
		if checkStext(syms, t.Stext) == nil {
			return other, nil
		}
		setAddresses(syms, offs, base, mode)
	}
	if err != nil {
		return 0, fmt.Errorf("%w (kallsyms_offsets read as %v from relative base %#x)", err, mode, base)
	}
	return mode, nil
}

// setAddresses applies kernel/kallsyms.c's kallsyms_sym_address.
func setAddresses(syms []Symbol, offs []uint32, base uint64, mode PercpuMode) {
	for i, o := range offs {
		switch {
		case mode == PercpuRelative:
			syms[i].Addr = base + uint64(o)
		case int32(o) >= 0:
			syms[i].Addr = uint64(o)
		default:
			syms[i].Addr = base - 1 - uint64(int64(int32(o)))
		}
	}
}

// checkStext checks that _stext (or _text) is at stext, when stext is
// known.
func checkStext(syms []Symbol, stext uint64) error {
	if stext == 0 {
		return nil
	}
	var text *Symbol
	for i := range syms {
		if syms[i].Name == "_stext" {
			text = &syms[i]
			break
		}
		if syms[i].Name == "_text" && text == nil {
			text = &syms[i]
		}
	}
	if text == nil {
		return fmt.Errorf("kallsyms: neither _stext nor _text among the symbols, so their addresses cannot be checked against %#x", stext)
	}
	if text.Addr != stext {
		return fmt.Errorf("kallsyms: %s decodes to %#x, want %#x", text.Name, text.Addr, stext)
	}
	return nil
}

// readU32s reads n little-endian u32 of a table.
func readU32s(read ReadFunc, addr uint64, n int, what string) ([]uint32, error) {
	buf := make([]byte, 4*n)
	if err := readFull(read, addr, buf); err != nil {
		return nil, fmt.Errorf("kallsyms: read %s (%d entries): %w", what, n, err)
	}
	v := make([]uint32, n)
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(buf[4*i:])
	}
	return v, nil
}

// readPrefix reads as much of buf as read gives from addr, going on
// after short reads that report no error, and returns the count and the
// error that stopped it.
func readPrefix(read ReadFunc, addr uint64, buf []byte) (int, error) {
	got := 0
	for got < len(buf) {
		n, err := read(addr+uint64(got), buf[got:])
		if n < 0 || n > len(buf)-got {
			return got, fmt.Errorf("at %#x: the reader returned %d for %d bytes", addr+uint64(got), n, len(buf)-got)
		}
		got += n
		if err != nil {
			return got, fmt.Errorf("at %#x: %w", addr+uint64(got), err)
		}
		if n == 0 {
			return got, fmt.Errorf("at %#x: %w", addr+uint64(got), errNoProgress)
		}
	}
	return got, nil
}

var errNoProgress = errors.New("the reader returned no bytes and no error")

// readFull reads all of buf.
func readFull(read ReadFunc, addr uint64, buf []byte) error {
	_, err := readPrefix(read, addr, buf)
	return err
}

// stream reads a table sequentially in chunks.
type stream struct {
	read ReadFunc
	addr uint64 // of the table
	what string
	buf  []byte
	pos  int    // next byte in buf
	at   uint64 // offset of buf[0] in the table
	err  error  // what stopped the last fill
}

// streamChunk is how much a stream reads at once.
const streamChunk = 64 << 10

func (s *stream) offset() uint64 { return s.at + uint64(s.pos) }

// next returns the next n bytes (valid until the following call).
func (s *stream) next(n int) ([]byte, error) {
	if len(s.buf)-s.pos < n {
		if s.err != nil {
			return nil, fmt.Errorf("read %s at %#x: %w", s.what, s.addr+s.offset(), s.err)
		}
		rest := copy(s.buf, s.buf[s.pos:])
		s.at += uint64(s.pos)
		s.pos = 0
		size := max(streamChunk, n)
		if cap(s.buf) < size {
			nb := make([]byte, size)
			copy(nb, s.buf[:rest])
			s.buf = nb
		}
		s.buf = s.buf[:size]
		got, err := readPrefix(s.read, s.addr+s.at+uint64(rest), s.buf[rest:])
		s.buf = s.buf[:rest+got]
		s.err = err
		if len(s.buf) < n {
			return nil, fmt.Errorf("read %s at %#x: %w", s.what, s.addr+s.offset(), err)
		}
	}
	b := s.buf[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}
