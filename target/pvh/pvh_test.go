package pvh

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"

	"vmapstack/kernelimg"
	"vmapstack/target/boot"
	"vmapstack/target/cpu"
)

// seg is one program header of a synthetic ELF64.
type seg struct {
	typ   uint32
	paddr uint64
	data  []byte
	memsz uint64 // 0: len(data)
	align uint64
}

// note encodes one ELF note record with 4-byte padding.
func note(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	n := append([]byte(name), 0)
	binary.Write(&b, le, uint32(len(n)))
	binary.Write(&b, le, uint32(len(desc)))
	binary.Write(&b, le, typ)
	b.Write(n)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(desc)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// buildELF writes a minimal little-endian ELF64 executable for x86-64
// with the given program headers and no sections.
func buildELF(machine uint16, segs []seg) []byte {
	le := binary.LittleEndian
	const ehsize, phentsize = 64, 56
	phoff := uint64(ehsize)
	off := phoff + uint64(len(segs))*phentsize
	var hdr, ph, body bytes.Buffer
	for _, s := range segs {
		for (off+uint64(body.Len()))%8 != 0 {
			body.WriteByte(0)
		}
		fileOff := off + uint64(body.Len())
		body.Write(s.data)
		memsz := s.memsz
		if memsz == 0 {
			memsz = uint64(len(s.data))
		}
		align := s.align
		if align == 0 {
			align = 4
		}
		binary.Write(&ph, le, s.typ)
		binary.Write(&ph, le, uint32(7))                  // p_flags RWX
		binary.Write(&ph, le, fileOff)                    // p_offset
		binary.Write(&ph, le, s.paddr|0xffffffff80000000) // p_vaddr: a kernel-style high address
		binary.Write(&ph, le, s.paddr)                    // p_paddr
		binary.Write(&ph, le, uint64(len(s.data)))        // p_filesz
		binary.Write(&ph, le, memsz)                      // p_memsz
		binary.Write(&ph, le, align)                      // p_align
	}
	hdr.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	hdr.Write(make([]byte, 8))
	binary.Write(&hdr, le, uint16(2)) // ET_EXEC
	binary.Write(&hdr, le, machine)
	binary.Write(&hdr, le, uint32(1))
	binary.Write(&hdr, le, uint64(0xffffffff80100000)) // e_entry: not used by PVH
	binary.Write(&hdr, le, phoff)
	binary.Write(&hdr, le, uint64(0)) // e_shoff
	binary.Write(&hdr, le, uint32(0)) // e_flags
	binary.Write(&hdr, le, uint16(ehsize))
	binary.Write(&hdr, le, uint16(phentsize))
	binary.Write(&hdr, le, uint16(len(segs)))
	binary.Write(&hdr, le, uint16(64)) // e_shentsize
	binary.Write(&hdr, le, uint16(0))  // e_shnum
	binary.Write(&hdr, le, uint16(0))  // e_shstrndx
	return append(append(hdr.Bytes(), ph.Bytes()...), body.Bytes()...)
}

const emX8664 = 62

func TestLoad(t *testing.T) {
	code := []byte{0xfa, 0xf4, 0xeb, 0xfd} // cli; hlt; jmp $-1
	data := bytes.Repeat([]byte{0xaa}, 16)
	entryNote := note("Xen", NotePhys32Entry, u32(0x100000))
	tests := []struct {
		name    string
		elf     []byte
		ram     int
		cmdline string
		wantErr string
		entry   uint32
		loaded  []Range
	}{
		{
			name: "two segments with bss",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: entryNote},
				{typ: 1, paddr: 0x100000, data: code},
				{typ: 1, paddr: 0x200000, data: data, memsz: 0x1000},
			}),
			ram: 4 << 20, cmdline: "scenario=tasks", entry: 0x100000,
			loaded: []Range{{0x100000, 0x100004}, {0x200000, 0x201000}},
		},
		{
			name: "8-byte note payload",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: note("Xen", NotePhys32Entry, u64(0x100002))},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, entry: 0x100002, loaded: []Range{{0x100000, 0x100004}},
		},
		{
			name: "entry note after other notes",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: append(append(note("GNU", 3, make([]byte, 20)), note("Xen", 6, []byte("xen-3.0\x00"))...), entryNote...)},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, entry: 0x100000, loaded: []Range{{0x100000, 0x100004}},
		},
		{
			name:    "no note",
			elf:     buildELF(emX8664, []seg{{typ: 1, paddr: 0x100000, data: code}}),
			ram:     2 << 20,
			wantErr: "k.elf: no PVH entry note (Xen ELF note type 18)",
		},
		{
			name: "note of another owner",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: note("Linux", NotePhys32Entry, u32(0x100000))},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, wantErr: "no PVH entry note",
		},
		{
			name: "bad payload size",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: note("Xen", NotePhys32Entry, []byte{1, 2})},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, wantErr: "2-byte payload",
		},
		{
			name: "truncated note",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: entryNote[:14]},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, wantErr: "truncated ELF note",
		},
		{
			name: "segment beyond RAM",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: entryNote},
				{typ: 1, paddr: 0x100000, data: code, memsz: 0x200000},
			}),
			ram: 2 << 20, wantErr: "does not fit in 2 MiB of RAM",
		},
		{
			name: "segment over start_info",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: entryNote},
				{typ: 1, paddr: 0x6000, data: code},
			}),
			ram: 2 << 20, wantErr: "overlaps the boot data",
		},
		{
			name: "wrong machine",
			elf: buildELF(183, []seg{ // EM_AARCH64
				{typ: 4, data: entryNote},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, wantErr: "ELF machine is EM_AARCH64",
		},
		{
			name: "no loadable segment",
			elf:  buildELF(emX8664, []seg{{typ: 4, data: entryNote}}),
			ram:  2 << 20, wantErr: "no PT_LOAD segment",
		},
		{
			name: "command line too long",
			elf: buildELF(emX8664, []seg{
				{typ: 4, data: entryNote},
				{typ: 1, paddr: 0x100000, data: code},
			}),
			ram: 2 << 20, cmdline: strings.Repeat("x", CmdlineMax), wantErr: "command line is 4096 bytes",
		},
		{name: "not ELF", elf: []byte("#!/bin/sh\n"), ram: 2 << 20, wantErr: "k.elf: not an ELF file"},
		{name: "empty", elf: nil, ram: 2 << 20, wantErr: "not an ELF file"},
		{
			name: "RAM too small",
			elf:  buildELF(emX8664, []seg{{typ: 4, data: entryNote}}),
			ram:  512 << 10, wantErr: "too small",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ram := make([]byte, tc.ram)
			for i := range ram {
				ram[i] = 0x5a // so that the bss clearing is visible
			}
			img, err := Load(ram, tc.elf, "k.elf", tc.cmdline)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Entry != tc.entry {
				t.Errorf("entry = %#x, want %#x", img.Entry, tc.entry)
			}
			if len(img.Loaded) != len(tc.loaded) {
				t.Fatalf("loaded = %v, want %v", img.Loaded, tc.loaded)
			}
			for i := range tc.loaded {
				if img.Loaded[i] != tc.loaded[i] {
					t.Errorf("loaded[%d] = %v, want %v", i, img.Loaded[i], tc.loaded[i])
				}
			}
			if !bytes.Equal(ram[0x100000:0x100004], code) {
				t.Errorf("code at 0x100000 = % x", ram[0x100000:0x100004])
			}
			checkStartInfo(t, ram, tc.cmdline)
		})
	}
}

func TestLoadBSS(t *testing.T) {
	data := bytes.Repeat([]byte{0xaa}, 16)
	elfData := buildELF(emX8664, []seg{
		{typ: 4, data: note("Xen", NotePhys32Entry, u32(0x200000))},
		{typ: 1, paddr: 0x200000, data: data, memsz: 0x1000},
	})
	ram := bytes.Repeat([]byte{0x5a}, 4<<20)
	if _, err := Load(ram, elfData, "k.elf", ""); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ram[0x200000:0x200010], data) {
		t.Errorf("data = % x", ram[0x200000:0x200010])
	}
	for i := 0x200010; i < 0x201000; i++ {
		if ram[i] != 0 {
			t.Fatalf("bss byte at %#x = %#x, want 0", i, ram[i])
		}
	}
	if ram[0x201000] != 0x5a {
		t.Errorf("byte after the segment was touched: %#x", ram[0x201000])
	}
}

// checkStartInfo decodes start_info from RAM the way a kernel would.
func checkStartInfo(t *testing.T, ram []byte, cmdline string) {
	t.Helper()
	le := binary.LittleEndian
	si := ram[StartInfoAddr:]
	if m := le.Uint32(si[0:]); m != StartInfoMagic {
		t.Errorf("magic = %#x", m)
	}
	if v := le.Uint32(si[4:]); v != 1 {
		t.Errorf("version = %d", v)
	}
	if n := le.Uint32(si[12:]); n != 0 {
		t.Errorf("nr_modules = %d", n)
	}
	cl := le.Uint64(si[24:])
	end := bytes.IndexByte(ram[cl:], 0)
	if got := string(ram[cl : cl+uint64(end)]); got != cmdline {
		t.Errorf("cmdline = %q, want %q", got, cmdline)
	}
	mp := le.Uint64(si[40:])
	n := le.Uint32(si[48:])
	want := MemoryMap(uint64(len(ram)))
	if int(n) != len(want) {
		t.Fatalf("memmap_entries = %d, want %d", n, len(want))
	}
	var ramTotal uint64
	for i := 0; i < int(n); i++ {
		e := ram[mp+uint64(i)*24:]
		got := MemEntry{le.Uint64(e[0:]), le.Uint64(e[8:]), le.Uint32(e[16:])}
		if got != want[i] {
			t.Errorf("memmap[%d] = %+v, want %+v", i, got, want[i])
		}
		if got.Type == MemTypeRAM {
			ramTotal += got.Size
		}
	}
	// All RAM but the EBDA and the BIOS hole is reported usable.
	if wantRAM := uint64(len(ram)) - (0x100000 - 0x9fc00); ramTotal != wantRAM {
		t.Errorf("usable RAM = %#x, want %#x", ramTotal, wantRAM)
	}
}

func TestMemoryMapShape(t *testing.T) {
	m := MemoryMap(128 << 20)
	want := []MemEntry{
		{0, 0x9fc00, MemTypeRAM},
		{0x9fc00, 0x400, MemTypeReserved},
		{0xf0000, 0x10000, MemTypeReserved},
		{0x100000, 128<<20 - 0x100000, MemTypeRAM},
		{0xfffc0000, 0x40000, MemTypeReserved},
	}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for i := range want {
		if m[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, m[i], want[i])
		}
	}
	// Entries are sorted and disjoint.
	for i := 1; i < len(m); i++ {
		if m[i].Addr < m[i-1].Addr+m[i-1].Size {
			t.Errorf("entry %d overlaps entry %d", i, i-1)
		}
	}
}

func TestEntryState(t *testing.T) {
	img := &Image{Entry: 0x100123, StartInfo: StartInfoAddr}
	var s cpu.State
	s.GPR[cpu.RAX] = 77
	s.CR0 = 0x60000010 // INIT leaves CD NW set; PVH clears them
	s = EntryState(s, img)
	if s.RIP != 0x100123 || s.GPR[cpu.RBX] != StartInfoAddr || s.GPR[cpu.RAX] != 0 {
		t.Errorf("RIP %#x RBX %#x RAX %#x", s.RIP, s.GPR[cpu.RBX], s.GPR[cpu.RAX])
	}
	if s.CR0 != 0x11 || s.CR4 != 0 || s.EFER != 0 || s.CR3 != 0 {
		t.Errorf("CR0 %#x CR4 %#x EFER %#x CR3 %#x", s.CR0, s.CR4, s.EFER, s.CR3)
	}
	if s.RFLAGS&(1<<9|1<<8|1<<17) != 0 || s.RFLAGS&2 == 0 {
		t.Errorf("RFLAGS %#x", s.RFLAGS)
	}
	cs := s.Seg[cpu.CS]
	if cs.Base != 0 || cs.Limit != 0xffffffff || cs.Attr&0x4000 == 0 || cs.Attr&0x8 == 0 || cs.Attr&0x2000 != 0 {
		t.Errorf("CS %+v is not flat 32-bit code", cs)
	}
	for _, r := range []int{cpu.DS, cpu.ES, cpu.SS} {
		d := s.Seg[r]
		if d.Base != 0 || d.Limit != 0xffffffff || d.Attr&0x8 != 0 || d.Attr&0x2 == 0 || d.Attr&0x80 == 0 {
			t.Errorf("seg %d %+v is not flat read/write data", r, d)
		}
	}
	// The GDT written by Load has descriptors matching the selectors.
	ram := make([]byte, 0x8000)
	writeGDT(ram[GDTAddr:])
	for _, sg := range []cpu.Seg{s.Seg[cpu.CS], s.Seg[cpu.DS]} {
		d := binary.LittleEndian.Uint64(ram[GDTAddr+uint64(sg.Sel):])
		attr := uint16(d>>40&0xff) | uint16(d>>52&0xf)<<12
		if attr != sg.Attr {
			t.Errorf("GDT entry %#x attr %#x, segment cache %#x", sg.Sel, attr, sg.Attr)
		}
	}
	if s.GDTR.Base != GDTAddr || s.GDTR.Limit != 0x27 {
		t.Errorf("GDTR %+v", s.GDTR)
	}
}

// The real mini kernel: its note is found and its segments land at 1 MiB.
func TestLoadMiniKernel(t *testing.T) {
	f, err := elf.NewFile(bytes.NewReader(kernelimg.ELF))
	if err != nil {
		t.Fatal(err)
	}
	ram := make([]byte, 128<<20)
	img, err := Load(ram, kernelimg.ELF, "kernel.elf", "scenario=tasks")
	if err != nil {
		t.Fatal(err)
	}
	var loads int
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		loads++
		want := make([]byte, p.Filesz)
		if _, err := p.ReadAt(want, 0); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ram[p.Paddr:p.Paddr+p.Filesz], want) {
			t.Errorf("segment at %#x not loaded", p.Paddr)
		}
	}
	if loads == 0 || len(img.Loaded) != loads {
		t.Errorf("loaded %v for %d PT_LOAD segments", img.Loaded, loads)
	}
	if img.Loaded[0].Start != 0x100000 {
		t.Errorf("first segment at %#x, want 1 MiB", img.Loaded[0].Start)
	}
	inside := false
	for _, r := range img.Loaded {
		if uint64(img.Entry) >= r.Start && uint64(img.Entry) < r.End {
			inside = true
		}
	}
	if !inside {
		t.Errorf("entry %#x is in no loaded segment %v", img.Entry, img.Loaded)
	}
	checkStartInfo(t, ram, "scenario=tasks")
}

// FuzzLoad: no input makes Load panic or write outside RAM (a kernel file
// is user input).
func FuzzLoad(f *testing.F) {
	f.Add(buildELF(emX8664, []seg{
		{typ: 4, data: note("Xen", NotePhys32Entry, u32(0x100000))},
		{typ: 1, paddr: 0x100000, data: []byte{0xf4}, memsz: 0x2000},
	}), "console=ttyS0")
	f.Add(kernelimg.ELF[:4096], "")
	f.Fuzz(func(t *testing.T, data []byte, cmdline string) {
		ram := make([]byte, 2<<20)
		img, err := Load(ram, data, "fuzz.elf", cmdline)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.elf: ") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for _, r := range img.Loaded {
			if r.End > uint64(len(ram)) || (r.Start < BootAreaEnd && r.End > BootAreaStart) {
				t.Errorf("bad range %+v", r)
			}
		}
	})
}

// TestInitrdModule: through the boot.Loader, an initrd becomes the one PVH
// module (start_info nr_modules/modlist_paddr, struct hvm_modlist_entry),
// placed as QEMU places it: page aligned below the top 128 KiB of RAM.
func TestInitrdModule(t *testing.T) {
	ram := make([]byte, 128<<20)
	initrd := bytes.Repeat([]byte("initrd!"), 100000)
	img, err := Loader{}.Load(ram, boot.Files{Kernel: kernelimg.ELF, KernelName: "kernel.elf", Initrd: initrd, InitrdName: "initrd.img", Cmdline: "scenario=tasks"})
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(128<<20-0x20000-1-len(initrd)) &^ 0xfff // QEMU: (initrd_max - size) & ~4095
	if img.Initrd.Start != want || img.Initrd.End != want+uint64(len(initrd)) {
		t.Fatalf("initrd at %#x-%#x, want %#x", img.Initrd.Start, img.Initrd.End, want)
	}
	if !bytes.Equal(ram[want:want+uint64(len(initrd))], initrd) {
		t.Error("initrd bytes not copied")
	}
	le := binary.LittleEndian
	si := ram[StartInfoAddr:]
	if n, list := le.Uint32(si[12:]), le.Uint64(si[16:]); n != 1 || list != ModlistAddr {
		t.Fatalf("nr_modules %d modlist_paddr %#x", n, list)
	}
	m := ram[ModlistAddr:]
	if le.Uint64(m) != want || le.Uint64(m[8:]) != uint64(len(initrd)) || le.Uint64(m[16:]) != 0 {
		t.Errorf("module entry % x", m[:32])
	}
	if s := img.EntryState(cpu.State{}); s.RIP != img.Entry || s.GPR[cpu.RBX] != StartInfoAddr {
		t.Errorf("entry state rip %#x rbx %#x", s.RIP, s.GPR[cpu.RBX])
	}

	// Without an initrd, no module.
	if _, err := (Loader{}).Load(ram, boot.Files{Kernel: kernelimg.ELF, KernelName: "kernel.elf"}); err != nil {
		t.Fatal(err)
	}
	if n := le.Uint32(si[12:]); n != 0 {
		t.Errorf("nr_modules %d without an initrd", n)
	}
	// One that does not fit says so and names the file.
	_, err = Loader{}.Load(make([]byte, 4<<20), boot.Files{Kernel: kernelimg.ELF, KernelName: "kernel.elf", Initrd: make([]byte, 4<<20), InitrdName: "big.img"})
	if err == nil || !strings.HasPrefix(err.Error(), "big.img: initrd of 4 MiB does not fit") {
		t.Errorf("error %v", err)
	}
}
