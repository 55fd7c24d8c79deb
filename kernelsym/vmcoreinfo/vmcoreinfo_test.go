package vmcoreinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sample is the shape of Debian's 6.1 x86-64 VMCOREINFO (addresses made
// up, lines as crash_save_vmcoreinfo_init and the x86-64
// arch_crash_save_vmcoreinfo write them), abridged.
const sample = `OSRELEASE=6.1.0-57-cloud-amd64
BUILD-ID=01d2640d3a13145ee314eb05b155f141b7b7058b
PAGESIZE=4096
SYMBOL(init_uts_ns)=ffffffff82a13f00
OFFSET(uts_namespace.name)=0
SYMBOL(node_online_map)=ffffffff82a4c2c8
SYMBOL(swapper_pg_dir)=ffffffff82a0a000
SYMBOL(_stext)=ffffffff81000000
SYMBOL(vmap_area_list)=ffffffff82b0f6d0
SYMBOL(mem_section)=ffff88800f7fd000
LENGTH(mem_section)=2048
SIZE(mem_section)=16
OFFSET(mem_section.section_mem_map)=0
NUMBER(SECTION_SIZE_BITS)=27
NUMBER(MAX_PHYSMEM_BITS)=46
SIZE(page)=64
OFFSET(list_head.next)=0
NUMBER(PG_head_mask)=65536
NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
SYMBOL(kallsyms_names)=ffffffff82375590
SYMBOL(kallsyms_num_syms)=ffffffff82375588
SYMBOL(kallsyms_token_table)=ffffffff824c9d08
SYMBOL(kallsyms_token_index)=ffffffff824ca0e8
SYMBOL(kallsyms_offsets)=ffffffff82320960
SYMBOL(kallsyms_relative_base)=ffffffff82375580
NUMBER(phys_base)=-2147483648
SYMBOL(init_top_pgt)=ffffffff82a0a000
NUMBER(pgtable_l5_enabled)=0
KERNELOFFSET=1e000000
NUMBER(KERNEL_IMAGE_SIZE)=1073741824
NUMBER(sme_mask)=0
`

func TestParseSample(t *testing.T) {
	// The page's trailing zeros are part of what Find hands over.
	info, err := Parse(append([]byte(sample), make([]byte, 4096-len(sample))...))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.OSRelease(); got != "6.1.0-57-cloud-amd64" {
		t.Errorf("OSRelease = %q", got)
	}
	if got := info.BuildID(); got != "01d2640d3a13145ee314eb05b155f141b7b7058b" {
		t.Errorf("BuildID = %q", got)
	}
	if got := info.PageSize(); got != 4096 {
		t.Errorf("PageSize = %d", got)
	}
	if off, ok := info.KernelOffset(); !ok || off != 0x1e000000 {
		t.Errorf("KernelOffset = %#x, %v", off, ok)
	}
	checks := []struct {
		what string
		get  func(string) (uint64, bool)
		name string
		want uint64
	}{
		{"Symbol", info.Symbol, "_stext", 0xffffffff81000000},
		{"Symbol", info.Symbol, "kallsyms_token_table", 0xffffffff824c9d08},
		{"Symbol", info.Symbol, "mem_section", 0xffff88800f7fd000},
		{"Offset", info.Offset, "uts_namespace.name", 0},
		{"Size", info.Size, "page", 64},
		{"Length", info.Length, "mem_section", 2048},
	}
	for _, c := range checks {
		if got, ok := c.get(c.name); !ok || got != c.want {
			t.Errorf("%s(%q) = %#x, %v; want %#x", c.what, c.name, got, ok, c.want)
		}
	}
	for name, want := range map[string]int64{"PAGE_BUDDY_MAPCOUNT_VALUE": -129, "phys_base": -1 << 31, "pgtable_l5_enabled": 0} {
		if got, ok := info.Number(name); !ok || got != want {
			t.Errorf("Number(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if _, ok := info.Symbol("kallsyms_markers"); ok {
		t.Error("Symbol(kallsyms_markers) found: the kernel does not record it")
	}
	if _, ok := info.Offset("task_struct.stack"); ok {
		t.Error("an OFFSET the text does not have was found")
	}
	if v, ok := info.Value("SYMBOL(_stext)"); !ok || v != "ffffffff81000000" {
		t.Errorf("Value(SYMBOL(_stext)) = %q, %v", v, ok)
	}
	if keys := info.Keys(); len(keys) != strings.Count(sample, "\n") || keys[0] != "OSRELEASE" {
		t.Errorf("Keys = %d keys starting %q", len(keys), keys[0])
	}
	if string(info.Text()) != sample {
		t.Error("Text is not the text without its trailing NULs")
	}
}

// TestParseLenient: keys of kinds Parse does not know, arm64's 0x
// numbers, repeated identical lines and blank lines are accepted.
func TestParseLenient(t *testing.T) {
	info, err := Parse([]byte("OSRELEASE=6.1.0\nPAGESIZE=65536\n\nTAINT(x)=what ever\nKERNELPACMASK=0xff80000000000000\nNUMBER(kimage_voffset)=0xffff800008000000\nSYMBOL(a)=0x10\nSYMBOL(a)=0x10\nCRASHTIME=1700000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := info.Value("TAINT(x)"); !ok || v != "what ever" {
		t.Errorf("unknown key kept as %q, %v", v, ok)
	}
	if v, _ := info.Number("kimage_voffset"); uint64(v) != 0xffff800008000000 {
		t.Errorf("hex NUMBER = %#x", uint64(v))
	}
	if v, _ := info.Symbol("a"); v != 0x10 {
		t.Errorf("SYMBOL with 0x = %#x", v)
	}
	if err := info.validate(); err != nil {
		t.Error(err)
	}
	if _, ok := info.KernelOffset(); ok {
		t.Error("KernelOffset present in a text without KERNELOFFSET")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"OSRELEASE=x\nSYMBOL(init_uts_ns)=ffffffffzz\n", `line 2 "SYMBOL(init_uts_ns)=ffffffffzz": "ffffffffzz" is not a 64-bit hexadecimal number`},
		{"SYMBOL(a)=1ffffffffffffffff\n", "not a 64-bit hexadecimal"},
		{"OFFSET(a.b)=-1\n", "not an unsigned decimal"},
		{"SIZE(page)=64k\n", "not an unsigned decimal"},
		{"LENGTH(x)=\n", "not an unsigned decimal"},
		{"NUMBER(x)=1.5\n", "not a signed 64-bit decimal"},
		{"PAGESIZE=4095\n", "not a power of two"},
		{"PAGESIZE=0\n", "not a power of two"},
		{"KERNELOFFSET=-1\n", "not a 64-bit hexadecimal"},
		{"CRASHTIME=now\n", "crash time"},
		{"BUILD-ID=xyz\n", "not hexadecimal"},
		{"OSRELEASE=\n", "empty release"},
		{"OSRELEASE=6.1\njunk\n", `line 2 "junk": no '='`},
		{"=5\n", "empty key"},
		{"OSRELEASE=6.1\x01\n", "control character 0x01"},
		{"OSRELEASE=a\nOSRELEASE=b\n", `OSRELEASE given twice, first as "a"`},
		{"SYMBOL(a)=1\nSYMBOL(a)=2\n", "given twice"},
		{strings.Repeat("X=1\n", MaxBytes/4+1), "more than the 65536"},
	} {
		_, err := Parse([]byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", clip(c.text), err, c.want)
		}
	}
}

// memory is a guest's physical memory for Find, with optional holes the
// reader refuses.
type memory struct {
	ram   []byte
	holes [][2]uint64 // [start, end) that the reader cannot read
	calls int
}

func (m *memory) read(addr uint64, buf []byte) (int, error) {
	m.calls++
	for i := range buf {
		a := addr + uint64(i)
		if a >= uint64(len(m.ram)) {
			return copy(buf[:i], m.ram[addr:]), fmt.Errorf("%#x is beyond memory", a)
		}
		for _, h := range m.holes {
			if a >= h[0] && a < h[1] {
				return copy(buf[:i], m.ram[addr:]), fmt.Errorf("%#x is in a hole", a)
			}
		}
	}
	return copy(buf, m.ram[addr:]), nil
}

// note returns vmcoreinfo_note's bytes for text, as append_elf_note
// builds it (kernel/crash_core.c).
func note(text string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 11)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(text)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, "VMCOREINFO\x00\x00"...)
	return append(b, text...)
}

func TestFind(t *testing.T) {
	const size = 8 << 20
	decoyPage := "OSRELEASE=%s\n\x00BUILD-ID=%20phN\n\x00PAGESIZE=%ld\n" // .rodata's format strings
	for _, c := range []struct {
		name     string
		place    func(ram []byte) uint64 // writes the text, returns where it should be found
		holes    [][2]uint64
		wantFail bool
		wantLog  string // in the error
	}{
		{"page", func(ram []byte) uint64 { copy(ram[0x3f000:], sample); return 0x3f000 }, nil, false, ""},
		{"note", func(ram []byte) uint64 { copy(ram[0x123458:], note(sample)); return 0x123458 + 24 }, nil, false, ""},
		{"note straddling a chunk boundary", func(ram []byte) uint64 {
			at := scanChunk - 13 // the header in one chunk, the name in the next
			copy(ram[at:], note(sample))
			return uint64(at) + 24
		}, nil, false, ""},
		{"note header at the end of a chunk", func(ram []byte) uint64 {
			at := 3*scanChunk - 12
			copy(ram[at:], note(sample))
			return uint64(at) + 24
		}, nil, false, ""},
		{"the lower of note and page", func(ram []byte) uint64 {
			copy(ram[0x600000:], sample)
			copy(ram[0x200010:], note(sample))
			return 0x200010 + 24
		}, nil, false, ""},
		{"decoys first", func(ram []byte) uint64 {
			copy(ram[0x1000:], decoyPage)
			copy(ram[0x2000:], "OSRELEASE=6.1\n") // no PAGESIZE: a fragment
			copy(ram[0x3000:], note("OSRELEASE=6.1\nSYMBOL(x)=zz\n"))
			copy(ram[0x4000:], note(sample)[:12]) // descsz 0 below
			binary.LittleEndian.PutUint32(ram[0x4004:], 0)
			copy(ram[0x5000:], note(sample))
			binary.LittleEndian.PutUint32(ram[0x5004:], MaxBytes+1)
			copy(ram[0x6000:], note(sample))
			binary.LittleEndian.PutUint32(ram[0x6008:], 1) // not type 0
			copy(ram[0x7000:], sample)
			return 0x7000
		}, nil, false, ""},
		{"holes before it", func(ram []byte) uint64 { copy(ram[0x500000:], sample); return 0x500000 },
			[][2]uint64{{0xa0000, 0x100000}, {0x300000, 0x4ff000}}, false, ""},
		{"a note whose end is in a hole", func(ram []byte) uint64 {
			copy(ram[0x500f00:], note(sample)) // its text runs into the hole
			return 0
		}, [][2]uint64{{0x501000, 0x502000}}, true, "VMCOREINFO note at 0x500f18: 805 of its 1037 bytes unreadable"},
		{"the format strings alone", func(ram []byte) uint64 { copy(ram[0x1000:], decoyPage); return 0 }, nil, true,
			"VMCOREINFO page at 0x1000: vmcoreinfo: no PAGESIZE line"},
		{"nothing", func(ram []byte) uint64 { return 0 }, nil, true, "(searched 8 MiB)"},
		{"at the very end", func(ram []byte) uint64 {
			n := note(sample)
			copy(ram[size-len(n):], n)
			return uint64(size - len(sample))
		}, nil, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &memory{ram: make([]byte, size), holes: c.holes}
			want := c.place(m.ram)
			info, addr, err := Find(m.read, size)
			if c.wantLog != "" && (err == nil || !strings.Contains(err.Error(), c.wantLog)) {
				t.Errorf("error %v does not say %q", err, c.wantLog)
			}
			if c.wantFail {
				if err == nil {
					t.Fatalf("Find found %q at %#x", info.OSRelease(), addr)
				}
				if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "subsys_initcall") {
					t.Errorf("error %q does not say why", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if addr != want {
				t.Errorf("found at %#x, want %#x", addr, want)
			}
			if info.OSRelease() != "6.1.0-57-cloud-amd64" || string(info.Text()) != sample {
				t.Errorf("found text %q", clip(string(info.Text())))
			}
		})
	}
}

func TestFindReportsHoles(t *testing.T) {
	m := &memory{ram: make([]byte, 4<<20), holes: [][2]uint64{{1 << 20, 3 << 20}}}
	_, _, err := Find(m.read, 4<<20)
	if err == nil || !strings.Contains(err.Error(), "2048 KiB of it unreadable") {
		t.Errorf("error %v does not count the hole", err)
	}
	if _, _, err := Find(m.read, 0); err == nil {
		t.Error("Find with no memory did not fail")
	}
}

// TestFindBadReader: a reader that claims more or fewer bytes than asked
// does not make Find panic or read out of bounds.
func TestFindBadReader(t *testing.T) {
	ram := make([]byte, 2<<20)
	copy(ram[0x10000:], sample)
	// Readers that lie about their counts: no panic, and nothing found
	// from bytes they did not give.
	for i, r := range []func(uint64, []byte) (int, error){
		func(addr uint64, buf []byte) (int, error) { return len(buf) + 100, nil },
		func(addr uint64, buf []byte) (int, error) { return -5, nil },
	} {
		if _, _, err := Find(r, 4<<20); err == nil {
			t.Errorf("reader %d: found VMCOREINFO in memory it never gave", i)
		}
	}
	// One that returns short counts beyond RAM still finds the copy in it.
	short := func(addr uint64, buf []byte) (int, error) { return copy(buf, ram[min(addr, uint64(len(ram))):]), nil }
	info, at, err := Find(short, 4<<20)
	if err != nil || at != 0x10000 || info.OSRelease() == "" {
		t.Errorf("short reads: %v at %#x, %v", info, at, err)
	}
}

func BenchmarkFind128M(b *testing.B) {
	const size = 128 << 20
	ram := make([]byte, size)
	for i := range ram {
		ram[i] = byte(i * 7)
	}
	copy(ram[size-0x3000:], note(sample))
	read := func(addr uint64, buf []byte) (int, error) { return copy(buf, ram[addr:]), nil }
	b.SetBytes(size)
	for b.Loop() {
		if _, _, err := Find(read, size); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("OSRELEASE=x\nPAGESIZE=4096\nNUMBER(a)=0x\nSYMBOL()=1\n"))
	f.Add([]byte("SIZE(a=1\nOFFSET)(=2\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		info, err := Parse(text)
		if err != nil {
			return
		}
		// What parsed parses again to the same.
		again, err := Parse(info.Text())
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if len(again.Keys()) != len(info.Keys()) {
			t.Fatalf("reparse: %d keys, first %d", len(again.Keys()), len(info.Keys()))
		}
	})
}

// FuzzFind puts arbitrary bytes, and a note header around them, into a
// small memory.
func FuzzFind(f *testing.F) {
	f.Add([]byte(sample), uint16(100), true)
	f.Add(note(sample)[:30], uint16(0), false)
	f.Fuzz(func(t *testing.T, data []byte, at uint16, asNote bool) {
		ram := make([]byte, 64<<10)
		if asNote {
			data = note(string(data))
		}
		copy(ram[int(at)%len(ram):], data)
		read := func(addr uint64, buf []byte) (int, error) {
			if addr >= uint64(len(ram)) {
				return 0, errors.New("beyond")
			}
			return copy(buf, ram[addr:]), nil
		}
		info, addr, err := Find(read, uint64(len(ram)))
		if err == nil && (info.OSRelease() == "" || info.PageSize() == 0 || addr >= uint64(len(ram))) {
			t.Fatalf("Find accepted %q at %#x", info.Text(), addr)
		}
	})
}
