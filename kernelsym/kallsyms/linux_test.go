package kallsyms

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/linuxtest"
	"vmapstack/internal/testtool"
	"vmapstack/kernelsym/vmcoreinfo"
	"vmapstack/target"
)

// These tests run on Debian's kernel (linuxtest.Require fetches it into
// the cache, never into the repository: it is GPL data of Debian's
// package) and skip where it cannot be fetched, or fail under
// VMAPSTACK_REQUIRE_TOOLS=1.

// debianVmlinux returns the vmlinux inside Debian's bzImage
// (linuxtest.RequireVmlinux) and the boot files.
func debianVmlinux(t *testing.T) ([]byte, *linuxtest.Files) {
	t.Helper()
	return linuxtest.RequireVmlinux(t), linuxtest.Require(t)
}

// sectionReader is a ReadFunc over an ELF file's allocated sections, for
// decoding with tables found another way than Image reads them.
func sectionReader(t *testing.T, f *elf.File) ReadFunc {
	t.Helper()
	type sec struct {
		addr uint64
		data []byte
	}
	var secs []sec
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Type != elf.SHT_PROGBITS || s.Addr == 0 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			t.Fatalf("section %s: %v", s.Name, err)
		}
		secs = append(secs, sec{s.Addr, data})
	}
	return func(addr uint64, buf []byte) (int, error) {
		for _, s := range secs {
			if addr >= s.addr && addr-s.addr < uint64(len(s.data)) {
				n := copy(buf, s.data[addr-s.addr:])
				if n < len(buf) {
					return n, fmt.Errorf("%#x: past the end of a section", addr+uint64(n))
				}
				return n, nil
			}
		}
		return 0, fmt.Errorf("%#x: in no section", addr)
	}
}

// TestDebianImage finds and decodes the kallsyms tables of Debian's
// vmlinux, which has no symbol table, and checks what it finds against
// the ELF's section headers and its export table.
func TestDebianImage(t *testing.T) {
	vmlinux, files := debianVmlinux(t)
	start := time.Now()
	syms, tables, err := FindInImage(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d symbols found and decoded in %v; tables %v", files.Release, len(syms), time.Since(start), tables)

	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Symbols(); err == nil {
		t.Log("this vmlinux has an ELF symbol table; the test is meant for one without")
	}
	sec := func(name string) *elf.Section {
		s := f.Section(name)
		if s == nil {
			t.Fatalf("no section %s", name)
		}
		return s
	}
	in := func(addr uint64, s *elf.Section) bool { return addr >= s.Addr && addr < s.Addr+s.Size }

	// A Debian cloud kernel has about 90 000 (the generic flavour
	// about 150 000); far fewer or more means a wrong table.
	if len(syms) < 50_000 || len(syms) > 400_000 {
		t.Errorf("%d symbols", len(syms))
	}
	if tables.Percpu != PercpuAbsolute {
		t.Errorf("per-CPU mode %v: Debian's x86-64 SMP kernel has CONFIG_KALLSYMS_ABSOLUTE_PERCPU", tables.Percpu)
	}
	rodata := sec(".rodata")
	for name, a := range map[string]uint64{"kallsyms_num_syms": tables.NumSyms, "kallsyms_names": tables.Names, "kallsyms_markers": tables.Markers,
		"kallsyms_token_table": tables.TokenTable, "kallsyms_token_index": tables.TokenIndex, "kallsyms_offsets": tables.Offsets, "kallsyms_relative_base": tables.RelativeBase} {
		if !in(a, rodata) {
			t.Errorf("%s at %#x is not in .rodata", name, a)
		}
	}

	byName := map[string][]Symbol{}
	for _, s := range syms {
		byName[s.Name] = append(byName[s.Name], s)
	}
	one := func(name string) Symbol {
		t.Helper()
		ss := byName[name]
		if len(ss) == 0 {
			t.Errorf("no symbol %s", name)
			return Symbol{}
		}
		return ss[0]
	}
	text, data := sec(".text"), sec(".data")
	percpu := sec(".data..percpu")
	for _, c := range []struct {
		name  string
		types string
		ok    func(uint64) bool
		where string
	}{
		{"_text", "T", func(a uint64) bool { return a == 0xffffffff81000000 }, "0xffffffff81000000"},
		{"_stext", "T", func(a uint64) bool { return a == 0xffffffff81000000 }, "0xffffffff81000000"},
		{"exc_double_fault", "Tt", func(a uint64) bool { return in(a, text) }, ".text"},
		{"handle_stack_overflow", "Tt", func(a uint64) bool { return in(a, text) }, ".text"},
		{"init_task", "Dd", func(a uint64) bool { return in(a, data) }, ".data"},
		{"current_task", "A", func(a uint64) bool { return a < percpu.Size }, "the per-CPU area (an offset in it)"},
		{"__start_orc_unwind_ip", "TtDdRr", func(a uint64) bool { return a == sec(".orc_unwind_ip").Addr }, ".orc_unwind_ip's start"},
		{"__start_BTF", "TtDdRr", func(a uint64) bool { return a == sec(".BTF").Addr }, ".BTF's start"},
	} {
		s := one(c.name)
		if s.Name == "" {
			continue
		}
		if !bytes.ContainsRune([]byte(c.types), rune(s.Type)) || !c.ok(s.Addr) {
			t.Errorf("%s: %c %#x, want type %s in %s", c.name, s.Type, s.Addr, c.types, c.where)
		}
	}
	// scripts/kallsyms.c (is_ignored_symbol) leaves its own tables out:
	// they move between the link passes.
	if ss := byName["kallsyms_names"]; len(ss) != 0 {
		t.Errorf("kallsyms_names is among the symbols (%#x): scripts/kallsyms.c leaves it out", ss[0].Addr)
	}

	// Sizes: functions get a size from the next address.
	sizes := Sizes(syms, 1<<20)
	for i, s := range syms {
		if s.Name == "exc_double_fault" && (sizes[i] == 0 || sizes[i] > 4096) {
			t.Errorf("exc_double_fault's size is %d", sizes[i])
		}
	}

	checkExports(t, f, byName)

	// Decode, reading the tables by the addresses found through the
	// section contents, as VMCOREINFO gives them (no markers, no mode),
	// gives the same.
	vm := tables
	vm.Markers, vm.Percpu, vm.Stext = 0, PercpuAuto, one("_stext").Addr
	again, err := Decode(sectionReader(t, f), vm)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, syms) {
		t.Errorf("Decode over the sections differs from FindInImage: %s", firstDiff(again, syms))
	}
}

// checkExports compares kallsyms with the export table, an independent
// record of names and addresses: struct kernel_symbol in __ksymtab and
// __ksymtab_gpl is three 32-bit place-relative offsets on x86-64
// (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS, include/linux/export-internal.h):
// the value, the name in __ksymtab_strings, the namespace.
func checkExports(t *testing.T, f *elf.File, byName map[string][]Symbol) {
	t.Helper()
	read := sectionReader(t, f)
	var checked, wrong int
	for _, name := range []string{"__ksymtab", "__ksymtab_gpl"} {
		s := f.Section(name)
		if s == nil {
			t.Errorf("no section %s", name)
			continue
		}
		tab, err := s.Data()
		if err != nil || len(tab)%12 != 0 {
			t.Fatalf("%s: %d bytes, %v", name, len(tab), err)
		}
		for off := 0; off < len(tab); off += 12 {
			at := s.Addr + uint64(off)
			value := at + uint64(int64(int32(binary.LittleEndian.Uint32(tab[off:]))))
			nameAt := at + 4 + uint64(int64(int32(binary.LittleEndian.Uint32(tab[off+4:]))))
			buf := make([]byte, 128)
			n, _ := read(nameAt, buf)
			sym, _, _ := bytes.Cut(buf[:n], []byte{0})
			checked++
			found := false
			for _, k := range byName[string(sym)] {
				found = found || k.Addr == value
			}
			if !found {
				wrong++
				if wrong <= 10 {
					t.Errorf("exported %s at %#x: kallsyms has %v", sym, value, byName[string(sym)])
				}
			}
		}
	}
	t.Logf("%d exported symbols checked against kallsyms, %d differ", checked, wrong)
	if checked < 1000 {
		t.Errorf("only %d exported symbols", checked)
	}
}

// bootUntil boots Debian's kernel in our machine with no debugger
// (docs/design.md §3) and runs it until the console shows line, by which
// the kernel has passed the initcall level that sets VMCOREINFO up.
func bootUntil(t *testing.T, f *linuxtest.Files, appendArgs, line string) *target.Machine {
	t.Helper()
	kernel, err := os.ReadFile(f.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	initrd, err := os.ReadFile(f.Initrd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := target.New(target.Config{Kernel: kernel, KernelPath: f.Kernel, Initrd: initrd, InitrdPath: f.Initrd,
		Append: appendArgs, MemoryBytes: 128 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// About 360 million instructions reach rootfs_initcall; the bound
	// leaves room, the deadline keeps a stuck run from using the
	// package's whole timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const slice, bound = 20_000_000, 3_000_000_000
	start := time.Now()
	for m.Instret() < bound {
		st := m.RunUntil(ctx, m.Instret()+slice)
		if strings.Contains(string(m.Console()), line) {
			t.Logf("%q on the console after %d instructions (%.1fs)", line, m.Instret(), time.Since(start).Seconds())
			return m
		}
		if st.Kind != target.StopLimit {
			t.Fatalf("the boot stopped (%v) before %q; console tail:\n%s", st.Kind, line, tailLines(string(m.Console()), 20))
		}
	}
	t.Fatalf("no %q within %d instructions; console tail:\n%s", line, uint64(bound), tailLines(string(m.Console()), 20))
	return nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestDebianRunning boots Debian's kernel in our machine, finds
// VMCOREINFO in its physical memory, decodes kallsyms from its memory
// through the page tables at the addresses VMCOREINFO gives, and
// requires what FindInImage recovers from the vmlinux, moved by
// KERNELOFFSET: with the kernel's own KASLR and under nokaslr.
func TestDebianRunning(t *testing.T) {
	if testtool.Short() {
		t.Skip("two Linux boots in the emulator (about 20 s each on a loaded machine); not with -short")
	}
	vmlinux, files := debianVmlinux(t)
	inImage, _, err := FindInImage(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, append string }{
		{"kaslr", linuxtest.Append},
		{"nokaslr", linuxtest.Append + " nokaslr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// rootfs_initcall's message: after subsys_initcall.
			m := bootUntil(t, files, c.append, "Trying to unpack rootfs image as initramfs")
			ram := m.RAM()
			phys := func(addr uint64, buf []byte) (int, error) {
				if addr >= uint64(len(ram)) {
					return 0, fmt.Errorf("%#x is beyond RAM", addr)
				}
				return copy(buf, ram[addr:]), nil
			}
			start := time.Now()
			info, at, err := vmcoreinfo.Find(phys, m.MemoryBytes())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("VMCOREINFO at physical %#x, found in %v in %d MiB", at, time.Since(start), m.MemoryBytes()>>20)
			// The kernel keeps two copies, the page and the note
			// (kernel/crash_core.c): hidden the one found, Find finds
			// the other, with the same text.
			size := uint64(len(info.Text()))
			hidden := func(addr uint64, buf []byte) (int, error) {
				n, err := phys(addr, buf)
				for i := range buf[:n] {
					if a := addr + uint64(i); a >= at && a < at+size {
						buf[i] = 0
					}
				}
				return n, err
			}
			other, at2, err := vmcoreinfo.Find(hidden, m.MemoryBytes())
			if err != nil || at2 == at || !bytes.Equal(other.Text(), info.Text()) {
				t.Errorf("the second copy: at %#x (the first at %#x), %v", at2, at, err)
			} else {
				t.Logf("the other copy at physical %#x", at2)
			}
			if info.OSRelease() != files.Release || info.PageSize() != 4096 {
				t.Errorf("OSRELEASE %q, PAGESIZE %d", info.OSRelease(), info.PageSize())
			}
			off, ok := info.KernelOffset()
			if !ok {
				t.Fatal("no KERNELOFFSET")
			}
			if c.name == "nokaslr" && off != 0 {
				t.Errorf("KERNELOFFSET %#x under nokaslr", off)
			}
			t.Logf("KERNELOFFSET %#x", off)

			tables, err := TablesFrom(info.Symbol)
			if err != nil {
				t.Fatal(err)
			}
			start = time.Now()
			syms, err := Decode(m.CPU().ReadLinear, tables)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d symbols decoded from guest memory in %v", len(syms), time.Since(start))
			if len(syms) != len(inImage) {
				t.Fatalf("%d symbols in memory, %d in the image", len(syms), len(inImage))
			}
			diffs := 0
			for i, s := range syms {
				want := inImage[i]
				if !want.Absolute() {
					want.Addr += off
				}
				if s != want {
					if diffs++; diffs <= 10 {
						t.Errorf("symbol %d: memory %c %s %#x, image+KERNELOFFSET %c %s %#x", i, s.Type, s.Name, s.Addr, want.Type, want.Name, want.Addr)
					}
				}
			}

			// The symbols lead to the kernel's data: init_uts_ns's
			// release (struct new_utsname: sysname, nodename, release,
			// 65 bytes each) is OSRELEASE.
			var uts uint64
			for _, s := range syms {
				if s.Name == "init_uts_ns" {
					uts = s.Addr
				}
			}
			if v, _ := info.Symbol("init_uts_ns"); v != uts || uts == 0 {
				t.Fatalf("SYMBOL(init_uts_ns) %#x, kallsyms %#x", v, uts)
			}
			name, _ := info.Offset("uts_namespace.name")
			buf := make([]byte, 65)
			if _, err := m.CPU().ReadLinear(uts+name+2*65, buf); err != nil {
				t.Fatal(err)
			}
			if rel, _, _ := strings.Cut(string(buf), "\x00"); rel != files.Release {
				t.Errorf("init_uts_ns.name.release is %q", rel)
			}
		})
	}
}
