package symelf

import (
	"bytes"
	"debug/elf"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// synthetic is n symbols in a kernel-like layout: functions in .text,
// objects in .data and .rodata, per-CPU offsets outside every section,
// locals and globals mixed, with kernel-style names (suffixes after a
// dot, __pfx_ twins) and some local names repeated as static functions
// of different files are.
func synthetic(n int) ([]Symbol, []Section) {
	secs := []Section{
		{Name: ".text", Addr: 0xffffffff81000000, Size: 0x1000000, Exec: true},
		{Name: ".rodata", Addr: 0xffffffff82000000, Size: 0x400000},
		{Name: ".data", Addr: 0xffffffff82600000, Size: 0x200000},
		{Name: ".init.text", Addr: 0xffffffff83000000, Size: 0x80000, Exec: true},
	}
	r := rand.New(rand.NewPCG(1, 2))
	var syms []Symbol
	addr := map[int]uint64{0: secs[0].Addr, 1: secs[1].Addr, 2: secs[2].Addr, 3: secs[3].Addr}
	for i := range n {
		var s Symbol
		switch k := i % 10; {
		case k < 6: // functions
			sec := 0
			if k == 5 {
				sec = 3
			}
			s = Symbol{Name: fmt.Sprintf("fn_%d", i), Addr: addr[sec], Size: uint64(16 + r.IntN(400)), Func: true, Global: r.IntN(2) == 0}
			switch r.IntN(8) {
			case 0:
				s.Name += ".cold"
			case 1:
				s.Name += ".isra.0"
			case 2:
				s.Name = "__pfx_" + s.Name
			}
			addr[sec] += s.Size + uint64(r.IntN(16))
		case k < 8: // objects
			sec := 1 + k%2
			s = Symbol{Name: fmt.Sprintf("obj_%d", i), Addr: addr[sec], Size: uint64(8 * (1 + r.IntN(20))), Global: r.IntN(2) == 0}
			addr[sec] += s.Size
		case k == 8: // per-CPU offsets: no section
			s = Symbol{Name: fmt.Sprintf("percpu_%d", i), Addr: uint64(i * 8), Size: 8, Global: true}
		default: // repeated local function names, as static functions in two files
			s = Symbol{Name: fmt.Sprintf("static_fn_%d", i/10%150), Addr: addr[0], Size: 32, Func: true}
			addr[0] += 48
		}
		syms = append(syms, s)
	}
	return syms, secs
}

// parsed reads a Build output back with debug/elf.
func parsed(t *testing.T, b []byte) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("debug/elf cannot read the file: %v", err)
	}
	return f
}

func TestBuildReadsBack(t *testing.T) {
	syms, secs := synthetic(3000)
	syms = append(syms, Symbol{Name: "any bytes \x01\xff\t but NUL", Addr: 0xffffffff81ffff00, Size: 1, Global: true})
	b, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	f := parsed(t, b)
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC || len(f.Progs) != 0 {
		t.Errorf("%v %v %v with %d program headers, want an ELF64 EM_X86_64 ET_EXEC with none", f.Class, f.Machine, f.Type, len(f.Progs))
	}
	index := map[string]int{}
	for i, s := range f.Sections {
		index[s.Name] = i
	}
	for _, s := range secs {
		got := f.Section(s.Name)
		if got == nil {
			t.Fatalf("no section %s", s.Name)
		}
		flags := elf.SHF_ALLOC | elf.SHF_WRITE
		if s.Exec {
			flags |= elf.SHF_EXECINSTR
		}
		if got.Type != elf.SHT_NOBITS || got.Addr != s.Addr || got.Size != s.Size || got.Flags != flags {
			t.Errorf("section %s: %v at %#x, %#x bytes, %v; want SHT_NOBITS at %#x, %#x bytes, %v", s.Name, got.Type, got.Addr, got.Size, got.Flags, s.Addr, s.Size, flags)
		}
	}

	// The gABI's order: locals, then the first global at sh_info.
	symtab := f.Section(".symtab")
	if symtab.Info == 0 || symtab.Link != uint32(index[".strtab"]) {
		t.Errorf(".symtab sh_info %d, sh_link %d", symtab.Info, symtab.Link)
	}
	got, err := f.Symbols() // without entry 0
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(syms) {
		t.Fatalf("%d symbols read back, %d written", len(got), len(syms))
	}
	for i, s := range got {
		local := elf.ST_BIND(s.Info) == elf.STB_LOCAL
		if local != (i+1 < int(symtab.Info)) {
			t.Fatalf("symbol %d (%s) is local=%v, but sh_info says the first global is %d", i+1, s.Name, local, symtab.Info)
		}
	}

	want := map[string][]Symbol{}
	for _, s := range syms {
		want[s.Name] = append(want[s.Name], s)
	}
	for _, g := range got {
		var w *Symbol
		for i, c := range want[g.Name] {
			if c.Addr == g.Value {
				w = &want[g.Name][i]
			}
		}
		if w == nil {
			t.Fatalf("symbol %q at %#x was not written", g.Name, g.Value)
		}
		typ, bind := elf.STT_OBJECT, elf.STB_LOCAL
		if w.Func {
			typ = elf.STT_FUNC
		}
		if w.Global {
			bind = elf.STB_GLOBAL
		}
		sec := "*ABS*"
		if g.Section != elf.SHN_ABS {
			sec = f.Sections[g.Section].Name
		}
		wantSec := "*ABS*"
		for _, s := range secs {
			if w.Addr-s.Addr < s.Size {
				wantSec = s.Name
			}
		}
		if g.Size != w.Size || elf.ST_TYPE(g.Info) != typ || elf.ST_BIND(g.Info) != bind || sec != wantSec {
			t.Errorf("symbol %q: size %d %v %v in %s, want size %d %v %v in %s",
				g.Name, g.Size, elf.ST_TYPE(g.Info), elf.ST_BIND(g.Info), sec, w.Size, typ, bind, wantSec)
		}
	}
}

// TestDeterministic: the same symbols and sections in any order give the
// same bytes.
func TestDeterministic(t *testing.T) {
	syms, secs := synthetic(2000)
	a, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	r.Shuffle(len(syms), func(i, j int) { syms[i], syms[j] = syms[j], syms[i] })
	slices.Reverse(secs)
	b, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("shuffled input gave different bytes")
	}
}

func TestBuildErrors(t *testing.T) {
	text := Section{Name: ".text", Addr: 0xffffffff81000000, Size: 0x1000, Exec: true}
	for _, tc := range []struct {
		name, err string
		syms      []Symbol
		secs      []Section
	}{
		{"NUL in a symbol", `symbol at 0x10: name "a\x00b" holds a NUL byte`, []Symbol{{Name: "a\x00b", Addr: 0x10}}, nil},
		{"NUL in a section", `section at 0xffffffff81000000: name ".te\x00xt" holds a NUL byte`, nil, []Section{{Name: ".te\x00xt", Addr: text.Addr}}},
		{"empty symbol name", "symbol at 0x10: empty name", []Symbol{{Addr: 0x10}}, nil},
		{"long name", "name of 4097 bytes, longer than 4096", []Symbol{{Name: strings.Repeat("x", MaxNameLen+1)}}, nil},
		{"overlap", `sections ".text" (0xffffffff81000000, 0x1000 bytes) and ".text2" (0xffffffff81000fff) overlap`, nil,
			[]Section{text, {Name: ".text2", Addr: text.Addr + 0xfff, Size: 1}}},
		{"wraps", `section ".top" at 0xfffffffffffff000: 0x2000 bytes run past the end`, nil, []Section{{Name: ".top", Addr: 0xfffffffffffff000, Size: 0x2000}}},
		{"too many sections", "4097 sections, more than 4096", nil, make([]Section, MaxSections+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.syms, tc.secs)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
	// A section that ends at the top of the address space is fine, and
	// so is an empty one inside another.
	if _, err := Build(nil, []Section{{Name: ".top", Addr: 0xfffffffffffff000, Size: 0x1000}, text, {Name: ".empty", Addr: text.Addr + 8}}); err != nil {
		t.Error(err)
	}
}

// gdbRun runs gdb in batch mode on the ELF b with the commands in a
// script, and returns its output lines.
func gdbRun(t *testing.T, b []byte, cmds []string) []string {
	t.Helper()
	gdb := testtool.Require(t, "gdb")
	dir := t.TempDir()
	file := filepath.Join(dir, "kernel.syms")
	script := filepath.Join(dir, "cmds.gdb")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// print demangle off: gdb shows GCC's clone suffixes its own way
	// (fn.cold as fn[cold], fn.isra.0 as fn.isra), with a vmlinux too;
	// the tests compare the names as written.
	out, err := exec.Command(gdb, "-batch", "-nx", "-ex", "set width 0", "-ex", "set pagination off", "-ex", "set print demangle off",
		"-ex", "file "+file, "-x", script).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// TestGDBSynthetic loads 3,000 symbols into gdb and asks it for them:
// info symbol names the symbol and section at addresses inside
// functions and objects, info address gives every kind of symbol at its
// address (no relocation), break resolves names, locals and globals
// alike, and a name two static functions share gets two locations.
func TestGDBSynthetic(t *testing.T) {
	syms, secs := synthetic(3000)
	b, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range syms {
		count[s.Name]++
	}
	var cmds, want []string
	for i, s := range syms {
		if i%7 != 0 {
			continue
		}
		if strings.HasPrefix(s.Name, "percpu_") {
			cmds = append(cmds, "info address "+s.Name)
			want = append(want, fmt.Sprintf("Symbol %q is at %#x in a file compiled without debugging.", s.Name, s.Addr))
			continue
		}
		sec := ".text"
		for _, c := range secs {
			if s.Addr-c.Addr < c.Size {
				sec = c.Name
			}
		}
		off := uint64(0)
		if i%2 == 1 {
			off = s.Size / 2
		}
		cmds = append(cmds, fmt.Sprintf("info symbol %#x", s.Addr+off))
		if off == 0 {
			want = append(want, fmt.Sprintf("%s in section %s", s.Name, sec))
		} else {
			want = append(want, fmt.Sprintf("%s + %d in section %s", s.Name, off, sec))
		}
		if count[s.Name] > 1 {
			continue
		}
		cmds = append(cmds, "info address "+s.Name)
		want = append(want, fmt.Sprintf("Symbol %q is at %#x in a file compiled without debugging.", s.Name, s.Addr))
		if s.Func {
			cmds = append(cmds, "break "+s.Name)
			want = append(want, fmt.Sprintf("Breakpoint %d at %#x", strings.Count(strings.Join(cmds, "\n"), "break "), s.Addr))
		}
	}
	cmds = append(cmds, "break static_fn_9")
	want = append(want, fmt.Sprintf("Breakpoint %d at %s", strings.Count(strings.Join(cmds, "\n"), "break "), "0x"))
	got := gdbRun(t, b, cmds)
	if len(got) != len(want) {
		t.Fatalf("gdb printed %d lines for %d commands:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("%s: gdb printed %q, want %q", cmds[i], got[i], want[i])
		}
	}
	if last := got[len(got)-1]; !strings.HasSuffix(last, " (2 locations)") {
		t.Errorf("break on a name two static functions share: %q, want 2 locations", last)
	}
}

// TestGDBNoTargetReadsZeros pins what gdb does with the file alone: it
// reads an SHF_ALLOC SHT_NOBITS section as zeros, as it reads .bss
// (BFD's contents of a section without SEC_HAS_CONTENTS). That is why
// the file is only for a connected target, whose memory gdb reads
// instead (TestGDBLiveTarget).
func TestGDBNoTargetReadsZeros(t *testing.T) {
	b, err := Build([]Symbol{{Name: "start_kernel", Addr: 0xffffffff81000100, Size: 16, Func: true, Global: true}},
		[]Section{{Name: ".text", Addr: 0xffffffff81000000, Size: 0x1000, Exec: true}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(gdbRun(t, b, []string{"x/2xb start_kernel", "info files"}), "\n")
	if !strings.Contains(got, "0xffffffff81000100 <start_kernel>:\t0x00\t0x00") {
		t.Errorf("x/2xb start_kernel with no target:\n%s", got)
	}
	if !strings.Contains(got, "0xffffffff81000000 - 0xffffffff81001000 is .text") {
		t.Errorf("info files:\n%s", got)
	}
}

// TestGDBLoad150k times gdb loading 150,000 symbols, the size of a
// distribution kernel's kallsyms with CONFIG_KALLSYMS_ALL, and checks the
// last one is found.
func TestGDBLoad150k(t *testing.T) {
	if testtool.Short() {
		t.Skip("short mode (testtool.Short: off under VMAPSTACK_REQUIRE_TOOLS=1): times gdb on a large file")
	}
	gdb := testtool.Require(t, "gdb")
	syms, secs := synthetic(150000)
	start := time.Now()
	b, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	file := filepath.Join(t.TempDir(), "kernel.syms")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (time.Duration, string) {
		start := time.Now()
		out, err := exec.Command(gdb, append([]string{"-batch", "-nx"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gdb: %v\n%s", err, out)
		}
		return time.Since(start), string(out)
	}
	bare, _ := run()
	last := syms[len(syms)-2] // a per-CPU offset (SHN_ABS); the last symbol's name is not unique
	loaded, out := run("-ex", "file "+file, "-ex", "info address "+last.Name)
	t.Logf("%d symbols: a %d-byte file (%.1f MiB) built in %v; gdb -batch: %v bare, %v loading it",
		len(syms), len(b), float64(len(b))/(1<<20), built.Round(time.Millisecond), bare.Round(time.Millisecond), loaded.Round(time.Millisecond))
	if want := fmt.Sprintf("Symbol %q is at %#x", last.Name, last.Addr); !strings.Contains(out, want) {
		t.Errorf("gdb printed %q, want %q", out, want)
	}
}
