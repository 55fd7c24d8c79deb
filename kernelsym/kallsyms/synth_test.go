package kallsyms

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// This file builds kallsyms tables as scripts/kallsyms.c (write_src)
// lays them out, for the unit tests: the real kernel's tables are tested
// separately, never committed.

// layout is where a kernel generation puts the tables.
type layout int

const (
	layout61     layout = iota // offsets, relative_base, num_syms, names, markers, token_table, token_index
	layout61Seqs               // the same with kallsyms_seqs_of_names (3 bytes each) before token_table, as Debian's 6.1
	layout64                   // num_syms, names, markers, token_table, token_index, offsets, relative_base, seqs (Linux ≥ 6.4)
)

// addressing is how addresses are stored.
type addressing int

const (
	absoluteAddrs  addressing = iota // kallsyms_addresses
	baseRelative                     // kallsyms_offsets without --absolute-percpu
	absolutePercpu                   // kallsyms_offsets with it: type 'A' symbols are per-CPU
)

// built is a set of tables in a blob, with offsets relative to its
// start.
type built struct {
	blob []byte
	t    Tables // offsets in blob (0 stays 0: tables never start at 0)
}

// at returns the tables at base.
func (b built) at(base uint64) Tables {
	t := b.t
	for _, p := range []*uint64{&t.NumSyms, &t.Names, &t.Markers, &t.TokenTable, &t.TokenIndex, &t.Offsets, &t.RelativeBase, &t.Addresses} {
		if *p != 0 {
			*p += base
		}
	}
	return t
}

// build writes the tables for syms (sorted by address) at addresses
// counted from base (which matters for absolute addresses only through
// the values themselves). The blob starts with 64 bytes of filler so
// that no table is at an offset below 64.
func build(syms []Symbol, lay layout, addr addressing) built {
	tokens, encode := tokenizer(syms)
	var b bytes.Buffer
	b.WriteString(strings.Repeat("filler!!", 8))
	align := func() {
		for b.Len()%8 != 0 {
			b.WriteByte(0)
		}
	}
	label := func(p *uint64) { align(); *p = uint64(b.Len()) }
	var t Tables

	writeAddrs := func() {
		if addr == absoluteAddrs {
			label(&t.Addresses)
			for _, s := range syms {
				b.Write(binary.LittleEndian.AppendUint64(nil, s.Addr))
			}
			return
		}
		var base uint64
		for _, s := range syms {
			if addr == baseRelative || !s.Absolute() {
				base = s.Addr
				break
			}
		}
		label(&t.Offsets)
		for _, s := range syms {
			var o int64
			switch {
			case addr == baseRelative:
				o = int64(s.Addr - base)
			case s.Absolute():
				o = int64(s.Addr)
			default:
				o = int64(base) - int64(s.Addr) - 1
			}
			b.Write(binary.LittleEndian.AppendUint32(nil, uint32(o)))
		}
		label(&t.RelativeBase)
		b.Write(binary.LittleEndian.AppendUint64(nil, base))
	}
	writeSeqs := func(width int) {
		var dummy uint64
		label(&dummy)
		order := make([]int, len(syms))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return syms[order[i]].Name < syms[order[j]].Name })
		for _, i := range order {
			v := binary.BigEndian.AppendUint32(nil, uint32(i))
			b.Write(v[4-width:])
		}
	}

	if lay != layout64 {
		writeAddrs()
	}
	label(&t.NumSyms)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(syms))))
	label(&t.Names)
	var markers []uint32
	for i, s := range syms {
		if i%256 == 0 {
			markers = append(markers, uint32(uint64(b.Len())-t.Names))
		}
		enc := encode(string(s.Type) + s.Name)
		if len(enc) <= 0x7f {
			b.WriteByte(byte(len(enc)))
		} else {
			b.WriteByte(byte(len(enc)&0x7f | 0x80))
			b.WriteByte(byte(len(enc) >> 7))
		}
		b.Write(enc)
	}
	label(&t.Markers)
	for _, m := range markers {
		b.Write(binary.LittleEndian.AppendUint32(nil, m))
	}
	if lay == layout61Seqs {
		writeSeqs(3)
	}
	label(&t.TokenTable)
	var idx []uint16
	for _, tok := range tokens {
		idx = append(idx, uint16(uint64(b.Len())-t.TokenTable))
		b.WriteString(tok)
		b.WriteByte(0)
	}
	label(&t.TokenIndex)
	for _, v := range idx {
		b.Write(binary.LittleEndian.AppendUint16(nil, v))
	}
	if lay == layout64 {
		writeAddrs()
		writeSeqs(4)
	}
	align()
	b.WriteString("trailer!")
	return built{blob: b.Bytes(), t: t}
}

// tokenizer returns a token table for the names (every character they
// use as its own token, other slots with a few longer strings, slot 250
// empty as an unused slot can be) and a greedy encoder.
func tokenizer(syms []Symbol) ([tokenCount]string, func(string) []byte) {
	var tokens [tokenCount]string
	for _, s := range syms {
		for _, c := range []byte(string(s.Type) + s.Name) {
			tokens[c] = string(c)
		}
	}
	extra := []string{"sym_", "func", "_t", "ex", "init", "__", "per", "cpu_", "text", "data"}
	for i, k := 0, 0; i < tokenCount; i++ {
		if tokens[i] == "" && i != 250 {
			tokens[i] = extra[k%len(extra)] + strings.Repeat("x", k/len(extra))
			k++
		}
	}
	encode := func(s string) []byte {
		var out []byte
		for len(s) > 0 {
			best, bestLen := -1, 0
			for i, tok := range tokens {
				if len(tok) > bestLen && strings.HasPrefix(s, tok) {
					best, bestLen = i, len(tok)
				}
			}
			out = append(out, byte(best))
			s = s[bestLen:]
		}
		return out
	}
	return tokens, encode
}

// textBase is where the synthetic kernels' .text starts, as x86-64's.
const textBase = 0xffffffff81000000

// testSymbols returns n symbols sorted by address: some per-CPU ones
// (type A, small values) when percpu, then _text and _stext at textBase,
// functions, data, and a few aliases, with every digit and letter in a
// name.
func testSymbols(n int, percpu bool) []Symbol {
	var syms []Symbol
	if percpu {
		for i := range 20 {
			syms = append(syms, Symbol{Name: fmt.Sprintf("percpu_var%d", i), Addr: uint64(i) * 0x40, Type: 'A'})
		}
	}
	syms = append(syms, Symbol{"_text", textBase, 'T'}, Symbol{"_stext", textBase, 'T'})
	addr := uint64(textBase)
	for i := 0; len(syms) < n; i++ {
		typ := byte("TtDdRrBbWV"[i%10])
		name := fmt.Sprintf("sym_%d_func%c%s", i, 'a'+byte(i%26), strings.Repeat("Q", i%7))
		if i%13 == 0 {
			name = strings.ToUpper(name)
		}
		if i%5 != 0 { // every fifth an alias of the one before
			addr += uint64(16 + i%64)
		}
		syms = append(syms, Symbol{Name: name, Addr: addr, Type: typ})
	}
	return syms
}

// readerOf returns a ReadFunc over blob placed at base.
func readerOf(blob []byte, base uint64) ReadFunc {
	return func(addr uint64, buf []byte) (int, error) {
		if addr < base || addr-base >= uint64(len(blob)) {
			return 0, fmt.Errorf("%#x is outside the blob", addr)
		}
		n := copy(buf, blob[addr-base:])
		if n < len(buf) {
			return n, fmt.Errorf("%#x is past the blob", addr+uint64(n))
		}
		return n, nil
	}
}

// elfSection is one section of a synthetic vmlinux.
type elfSection struct {
	name string
	addr uint64
	data []byte
}

// buildELF writes an ELF64 x86-64 executable with one PT_LOAD per
// section and section headers, no symbol table: a vmlinux as the bzImage
// carries it.
func buildELF(secs []elfSection) []byte {
	le := binary.LittleEndian
	const ehsize, phsize, shsize = 64, 56, 64
	shstr := []byte{0}
	nameOff := make([]uint32, len(secs))
	for i, s := range secs {
		nameOff[i] = uint32(len(shstr))
		shstr = append(append(shstr, s.name...), 0)
	}
	shstrName := uint32(len(shstr))
	shstr = append(shstr, ".shstrtab\x00"...)

	off := uint64(ehsize + phsize*len(secs))
	offs := make([]uint64, len(secs))
	for i, s := range secs {
		off = (off + 4095) &^ 4095
		offs[i] = off
		off += uint64(len(s.data))
	}
	shstrOff := off
	off += uint64(len(shstr))
	shoff := (off + 7) &^ 7

	var b bytes.Buffer
	binary.Write(&b, le, elf.Header64{
		Ident:     [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(elf.EM_X86_64),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     secs[0].addr,
		Phoff:     ehsize,
		Shoff:     shoff,
		Ehsize:    ehsize,
		Phentsize: phsize,
		Phnum:     uint16(len(secs)),
		Shentsize: shsize,
		Shnum:     uint16(len(secs) + 2),
		Shstrndx:  uint16(len(secs) + 1),
	})
	for i, s := range secs {
		binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R), Off: offs[i], Vaddr: s.addr, Paddr: s.addr,
			Filesz: uint64(len(s.data)), Memsz: uint64(len(s.data)), Align: 4096})
	}
	for i, s := range secs {
		b.Write(make([]byte, offs[i]-uint64(b.Len())))
		b.Write(s.data)
	}
	b.Write(shstr)
	b.Write(make([]byte, shoff-uint64(b.Len())))
	binary.Write(&b, le, elf.Section64{})
	for i, s := range secs {
		binary.Write(&b, le, elf.Section64{Name: nameOff[i], Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC),
			Addr: s.addr, Off: offs[i], Size: uint64(len(s.data)), Addralign: 8})
	}
	binary.Write(&b, le, elf.Section64{Name: shstrName, Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1})
	return b.Bytes()
}
