package monitor

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"vmapstack/kernelsym"
	"vmapstack/target/cpu"
)

// Tests on a machine whose page tables and descriptor tables the test
// built itself: they need no booting kernel.

func TestUnitPT(t *testing.T) {
	m, cr3 := unitMachine(t)
	mon := New(m, noSymbols(t))
	for _, line := range []string{"pt", fmt.Sprintf("pt %#x", cr3), "pt $cr3", "PT cr3"} {
		t.Run(line, func(t *testing.T) {
			out := runOK(t, mon, line)
			want := []struct{ subs []string }{
				{[]string{"---[ user space 0x0000000000000000 ]---"}},
				{[]string{"0x0000000040000000-0x0000000080000000", "1G", "ro USR x ", "pud", "phys 0x0000000040000000"}},
				{[]string{"---[ direct map 0xffff888000000000 ]---"}},
				{[]string{"0xffff888000000000-0xffff888000400000", "4M", "RW", "NX GLB", "pmd", "phys 0x0000000000000000"}},
				{[]string{"---[ vmalloc 0xffffc90000000000 ]---"}},
				{[]string{"0xffffc90000004000-0xffffc90000008000", "16K", "RW", "NX", "pte", "phys 0x0000000000300000"}},
				// The hole between the stacks: no symbols, so no task names.
				{[]string{"0xffffc90000008000-0xffffc9000000c000", "16K", "unmapped"}},
				{[]string{"0xffffc9000000c000-0xffffc90000010000", "16K", "RW", "NX", "pte", "phys 0x0000000000310000"}},
				{[]string{"---[ kernel image 0xffffffff80000000 ]---"}},
				{[]string{"0xffffffff80100000-0xffffffff80102000", "8K", "ro", "x ", "GLB", "pte"}},
			}
			pos := 0
			for _, w := range want {
				l, ok := lineWith(out[pos:], w.subs...)
				if !ok {
					t.Fatalf("no line with %q after offset %d in:\n%s", w.subs, pos, out)
				}
				pos += strings.Index(out[pos:], l) + len(l)
			}
			if strings.Contains(out, "guard page") {
				t.Errorf("guard pages named without symbols:\n%s", out)
			}
			// The leading vmalloc hole holds no known guard page: not shown.
			if strings.Contains(out, "0xffffc90000000000-") {
				t.Errorf("leading hole shown:\n%s", out)
			}
		})
	}
}

func TestUnitWalk(t *testing.T) {
	m, cr3 := unitMachine(t)
	mon := New(m, noSymbols(t))
	cases := []struct {
		line    string
		entries []string // entry names in order
		want    []string // substrings of the output
	}{
		{"walk $cr2", []string{"PML4E [402]", "PDPTE [  0]", "PDE   [  0]", "PTE   [  3]"},
			[]string{"not present at PTE: 0xffffc90000003ff8 is not mapped", "= 0x0000000000000000  - - - - - - - -  not present"}},
		{"walk $rsp", []string{"PML4E", "PDPTE", "PDE", "PTE   [  7]"},
			[]string{"4K page 0x0000000000303000", "0xffffc90000007f00 -> phys 0x0000000000303f00, 4K page at 0xffffc90000007000, RW NX"}},
		{"walk 0xffff888000212345", []string{"PML4E [273]", "PDPTE", "PDE   [  1]"},
			[]string{"2M page 0x0000000000200000", "phys 0x0000000000212345, 2M page at 0xffff888000200000, RW NX GLB", "P RW - A D PS G NX"}},
		{"walk 1073741825", []string{"PML4E [  0]", "PDPTE [  1]"},
			[]string{"1G page 0x0000000040000000", "phys 0x0000000040000001, 1G page at 0x0000000040000000, ro USR"}},
		{"walk $rip+0x1004 " + fmt.Sprint(cr3), []string{"PML4E [511]", "PDPTE [510]", "PDE", "PTE   [257]"},
			[]string{"phys 0x0000000000101004", "ro GLB"}},
		{"walk 0x1000", []string{"PML4E [  0]", "PDPTE [  0]"}, []string{"not present at PDPTE"}},
		{"walk 0xffff900000000000", []string{"PML4E [288]"}, []string{"not present at PML4E"}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			out := runOK(t, mon, c.line)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(lines[0], "walk 0x") || !strings.Contains(lines[0], fmt.Sprintf("CR3 %#x", cr3)) {
				t.Errorf("header %q", lines[0])
			}
			if len(lines) != len(c.entries)+2 {
				t.Fatalf("%d lines, want %d entries + header + result:\n%s", len(lines), len(c.entries), out)
			}
			for i, e := range c.entries {
				if !strings.HasPrefix(lines[1+i], e) {
					t.Errorf("line %d %q, want %q", 1+i, lines[1+i], e)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
		})
	}
}

// TestUnitStackScan: without kernel symbols, the stack is the mapped run
// of pages around RSP, bounded by unmapped pages.
func TestUnitStackScan(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	out := runOK(t, mon, "stack")
	for _, w := range []string{
		"task               unknown (no kernel symbols)",
		"source             page-table scan",
		"stack              0xffffc90000004000-0xffffc90000008000  16K",
		"bottom             0xffffc90000004000",
		"top                0xffffc90000008000",
		"rsp                0xffffc90000007f00  (RSP)",
		"used               256 bytes",
		fmt.Sprintf("left               %d bytes", 0x3f00),
		"guard page         0xffffc90000003000-0xffffc90000004000  not present at PTE",
		"rsp in guard page  no",
		"cr2 in guard page  yes (CR2 0xffffc90000003ff8, 8 bytes below the stack)",
	} {
		if !strings.Contains(out, w+"\n") && !strings.Contains(out, w) {
			t.Errorf("no %q in:\n%s", w, out)
		}
	}
	out = runOK(t, mon, "cr2")
	for _, w := range []string{"CR2                0xffffc90000003ff8", "last #PF           none in the exception history", "mapping            not present at PTE"} {
		if !strings.Contains(out, w) {
			t.Errorf("cr2: no %q in:\n%s", w, out)
		}
	}
	// RSP in the guard page: overflowed.
	st := m.CPU().State()
	st.GPR[cpu.RSP] = unitStack1 + 0x10
	m.CPU().SetState(&st)
	out = runOK(t, mon, "stack")
	if !strings.Contains(out, "left               16 bytes") {
		t.Errorf("stack with RSP near the bottom:\n%s", out)
	}
}

func TestUnitTables(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	cases := []struct {
		line string
		want []string
	}{
		{"idt", []string{
			"IDTR base 0xffff888000250000 limit 0xfff (256 gates)",
			"8    #DF   0x0010   0xffffffff80100080  interrupt gate 0   3",
			"14   #PF   0x0010   0xffffffff80100123  trap gate      3   -",
			"254 gates not present",
		}},
		{"gdt", []string{
			"GDTR base 0xffff888000260000 limit 0x27 (5 slots)",
			"0   0x0000 null",
			"1   0x0008 code 64-bit readable",
			"P A L G",
			"2   0x0010 data writable",
			"3   0x0018 TSS (busy)               0xffff888000270000 0x67       0   P",
		}},
		{"tss", []string{
			"TR selector 0x0018 base 0xffff888000270000 limit 0x67",
			"RSP0  0xffffc90000010000",
			"RSP1  0x0000000000000000",
			"IST3  0xffffc90000008000",
			"IST7  0x0000000000000000",
			"IOPB  0x68",
		}},
		{"cregs", []string{
			"CR0                0x0000000080010011  PE ET WP PG",
			"CR2                0xffffc90000003ff8",
			"CR3                0x0000000000200000  PML4 at 0x200000",
			"CR4                0x0000000000000020  PAE",
			"CR8                0x0000000000000000  TPR 0",
			"EFER               0x0000000000000d00  LME LMA NXE",
		}},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			out := runOK(t, mon, c.line)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in:\n%s", w, out)
				}
			}
		})
	}
	// The GDT row of slot 4 (the TSS's high half) is not decoded as a
	// descriptor of its own.
	if out := runOK(t, mon, "gdt"); strings.Contains(out, "\n4   ") {
		t.Errorf("the 16-byte TSS descriptor's upper half was listed:\n%s", out)
	}
}

func TestPhysMode(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	var calls []bool
	mon.OnPhys = func(on bool) { calls = append(calls, on) }
	if mon.PhysMode() {
		t.Fatal("phys mode on at start")
	}
	steps := []struct {
		line string
		want bool
		out  string
	}{
		{"phys", false, "phys off"},
		{"phys on", true, "phys on: memory packets address physical memory"},
		{"phys", true, "phys on"},
		{"phys OFF", false, "phys off: memory packets address virtual"},
		{"phys 1", true, "phys on"},
		{"phys 0", false, "phys off"},
	}
	for _, s := range steps {
		out := runOK(t, mon, s.line)
		if mon.PhysMode() != s.want || !strings.Contains(out, s.out) {
			t.Errorf("%s: mode %v output %q", s.line, mon.PhysMode(), out)
		}
	}
	if fmt.Sprint(calls) != "[true false true false]" {
		t.Errorf("OnPhys calls %v", calls)
	}
	mon.SetPhysMode(true)
	if !mon.PhysMode() || len(calls) != 4 {
		t.Errorf("SetPhysMode: %v, calls %v", mon.PhysMode(), calls)
	}
}

func TestBreakOnCommand(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, nil)
	steps := []struct{ line, want string }{
		{"break-on", "break-on triple"},
		{"break-on df on", "break-on df,triple"},
		{"break-on pf,gp on", "break-on df,gp,pf,triple"},
		{"break-on gp off", "break-on df,pf,triple"},
		{"break-on 0x20 on", "break-on df,pf,32,triple"},
		{"break-on ud", "break-on ud,triple"},
		{"break-on none", "break-on triple"},
		{"break-on #PF,triple", "break-on pf,triple"},
	}
	for _, s := range steps {
		out := runOK(t, mon, s.line)
		if !strings.HasPrefix(out, s.want+"\n") {
			t.Errorf("%s: %q, want %q", s.line, out, s.want)
		}
		if got := m.BreakOn().String(); "break-on "+got != s.want {
			t.Errorf("%s: machine's set %s", s.line, got)
		}
	}
	if err := mon.Run("break-on triple off", io.Discard); err == nil || !strings.Contains(err.Error(), "always stops") {
		t.Errorf("break-on triple off: %v; want an error saying a triple fault always stops", err)
	}
	if !m.CPU().BreakOn(14) || m.CPU().BreakOn(13) {
		t.Error("the CPU's break-on vectors do not follow the command")
	}
	if out := runOK(t, mon, "break-on"); !strings.Contains(out, "names: de, db") {
		t.Errorf("break-on without arguments lists no names: %q", out)
	}
}

func TestStats(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, nil)
	out := runOK(t, mon, "stats")
	for _, w := range []string{"instructions       0\n", "instructions/s     unknown", "decode cache", "TLB", "exceptions         0 in the history"} {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in:\n%s", w, out)
		}
	}
	mon.RunTime = func() time.Duration { return 0 }
	if out := runOK(t, mon, "stats"); !strings.Contains(out, "instructions/s     unknown") {
		t.Errorf("zero run time gave a rate:\n%s", out)
	}
}

func TestParseAddr(t *testing.T) {
	st := cpu.State{RIP: 0xffffffff80100000, CR2: 0xdead000, CR3: 0x1000}
	st.GPR[cpu.RSP] = 0x7000
	st.GPR[cpu.R12] = 12
	cases := []struct {
		in   string
		want uint64
		err  string
	}{
		{"0x10", 0x10, ""},
		{"0XFFFF888000000000", 0xffff888000000000, ""},
		{"4096", 4096, ""},
		{"$cr2", 0xdead000, ""},
		{"cr2", 0xdead000, ""},
		{"$RSP", 0x7000, ""},
		{"$sp", 0x7000, ""},
		{"$pc", 0xffffffff80100000, ""},
		{"r12", 12, ""},
		{"$rsp-8", 0x6ff8, ""},
		{"$rsp+0x10", 0x7010, ""},
		{"0x1000+16", 0x1010, ""},
		{"$cr3", 0x1000, ""},
		{"", 0, "bad address"},
		{"$nosuch", 0, "bad address \"$nosuch\""},
		{"0xzz", 0, "bad address"},
		{"-5", 0, "bad address"},
		{"$rsp+zz", 0, "offset \"zz\" is not a number"},
		{"0x10000000000000000", 0, "bad address"},
	}
	for _, c := range cases {
		got, err := parseAddr(c.in, &st)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseAddr(%q) = %#x, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseAddr(%q) = %#x, %v; want %#x", c.in, got, err, c.want)
		}
	}
}

func TestFmtSize(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{{0, "0"}, {4096, "4K"}, {16384, "16K"}, {12 << 10, "12K"}, {2 << 20, "2M"}, {128 << 20, "128M"}, {1 << 30, "1G"},
		{3 << 30, "3G"}, {1 << 40, "1T"}, {100, "100B"}, {4097, "4097B"}} {
		if got := fmtSize(c.n); got != c.want {
			t.Errorf("fmtSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestErrors runs every error path of the commands; each error must say
// what is wrong.
func TestErrors(t *testing.T) {
	unit := func(t *testing.T) *Monitor { m, _ := unitMachine(t); return New(m, noSymbols(t)) }
	fresh := func(t *testing.T) *Monitor {
		// Just booted: paging off, no IDT, GDT of the PVH loader, no TR.
		m, err := newTiny()
		if err != nil {
			t.Fatal(err)
		}
		return New(m, noSymbols(t))
	}
	unmappedRSP := func(t *testing.T) *Monitor {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.GPR[cpu.RSP] = 0xffffc90000100000
		mon.m.CPU().SetState(&st)
		return mon
	}
	unboundedRSP := func(t *testing.T) *Monitor {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.GPR[cpu.RSP] = unitDirect + 0x1000 // 4M mapped above and 2M-pages: no guard page
		mon.m.CPU().SetState(&st)
		return mon
	}
	deepRSP := func(t *testing.T) *Monitor {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.GPR[cpu.RSP] = unitDirect + 0x300000 // 3M of mapped pages below
		mon.m.CPU().SetState(&st)
		return mon
	}
	shortIDT := func(t *testing.T) *Monitor {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.IDTR.Base = 0xffffc90000100000 // unmapped
		mon.m.CPU().SetState(&st)
		return mon
	}
	shortTR := func(t *testing.T) *Monitor {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.TR.Limit = 0x20
		mon.m.CPU().SetState(&st)
		return mon
	}
	unmappedTSS := func(t *testing.T) *Monitor {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.TR.Base = 0xffffc90000100000
		mon.m.CPU().SetState(&st)
		return mon
	}
	realAtEntry := func(t *testing.T) *Monitor {
		m, _ := bootKernel(t, "scenario=overflow", "", 0)
		return New(m, nil)
	}
	cases := []struct {
		name string
		mon  func(t *testing.T) *Monitor
		line string
		want string
	}{
		{"tasks paging off", realAtEntry, "tasks", "tasks: paging is off (CR0.PG=0): the kernel's variables are not at their virtual addresses yet"},
		{"unknown command", unit, "frobnicate 1 2", `unknown command "frobnicate"; try "monitor help"`},
		{"pt too many", unit, "pt 1 2", "pt: too many arguments (2); usage: pt [CR3]"},
		{"pt bad CR3", unit, "pt zork", `pt: CR3: bad address "zork"`},
		{"pt CR3 outside RAM", unit, "pt 0x80000000", "pt: CR3 0x80000000: its PML4 at 0x80000000 is outside guest RAM (4M)"},
		{"pt paging off", fresh, "pt", "pt: paging is off (CR0.PG=0)"},
		{"walk no address", unit, "walk", "walk: missing address; usage: walk ADDR [CR3]"},
		{"walk too many", unit, "walk 1 2 3", "walk: too many arguments (3)"},
		{"walk bad address", unit, "walk $nope", `walk: bad address "$nope"`},
		{"walk bad CR3", unit, "walk 0 x", `walk: CR3: bad address "x"`},
		{"walk CR3 outside RAM", unit, "walk 0 0x7fffff000", "walk: CR3 0x7fffff000: its PML4 at 0x7fffff000 is outside guest RAM"},
		{"walk not canonical", unit, "walk 0x0000800000000000", "walk: 0x800000000000 is not canonical"},
		{"walk paging off", fresh, "walk 0x1000", "walk: paging is off (CR0.PG=0)"},
		{"stack too many", unit, "stack a b", "stack: too many arguments (b)"},
		{"stack task without symbols", unit, "stack recurse", `stack: cannot find task "recurse": no kernel symbols for tasks`},
		{"stack RSP unmapped", unmappedRSP, "stack", "stack: page-table scan around RSP: 0xffffc90000100000 is not mapped"},
		{"stack RSP not on a stack", unboundedRSP, "stack", "the mapped run around 0xffff888000001000 is larger than 32K (twice THREAD_SIZE): not a vmapped stack"},
		{"stack RSP deep in a mapping", deepRSP, "stack", "the mapped run around 0xffff888000300000 is larger than 32K"},
		{"stack paging off", fresh, "stack", "stack: paging is off"},
		{"cr2 too many", unit, "cr2 x", "cr2: too many arguments (x); usage: cr2"},
		{"faults zero", unit, "faults 0", `faults: N must be a positive number, not "0"`},
		{"faults negative", unit, "faults -3", `faults: N must be a positive number, not "-3"`},
		{"faults text", unit, "faults many", `faults: N must be a positive number, not "many"`},
		{"faults too many", unit, "faults 1 2", "faults: too many arguments (2)"},
		{"break-on bad name", unit, "break-on zz on", `break-on: unknown exception "zz"`},
		{"break-on bad list", unit, "break-on df,zz", `break-on: unknown exception "zz"`},
		{"break-on bad switch", unit, "break-on df maybe", `break-on: "maybe" is not on or off`},
		{"break-on switch alone", unit, "break-on on", "break-on: on what?"},
		{"break-on too many", unit, "break-on df on now", "break-on: too many arguments (now)"},
		{"idt not long mode", fresh, "idt", "idt: the CPU is not in long mode (EFER.LMA=0)"},
		{"idt unreadable", shortIDT, "idt", "idt: read 4096 bytes at 0xffffc90000100000"},
		{"idt too many", unit, "idt 8", "idt: too many arguments (8)"},
		{"gdt too many", unit, "gdt x", "gdt: too many arguments (x)"},
		{"tss no TR", fresh, "tss", "tss: no TSS loaded (TR selector 0"},
		{"tss short limit", shortTR, "tss", "tss: TR limit 0x20 is below the 64-bit TSS size 0x68"},
		{"tss unreadable", unmappedTSS, "tss", "tss: read 104 bytes at 0xffffc90000100000"},
		{"tss too many", unit, "tss x", "tss: too many arguments (x)"},
		{"cregs too many", unit, "cregs x", "cregs: too many arguments (x)"},
		{"tasks without symbols", unit, "tasks", "tasks: no kernel symbols for tasks: the kernel ELF has no symbol table"},
		{"tasks too many", unit, "tasks x", "tasks: too many arguments (x)"},
		{"phys bad", unit, "phys maybe", `phys: "maybe" is not on or off; usage: phys [on|off]`},
		{"phys too many", unit, "phys on off", "phys: too many arguments (off)"},
		{"stats too many", unit, "stats x", "stats: too many arguments (x)"},
		{"bt without symbols", unit, "bt", "bt: the kernel ELF has no symbol table"},
		{"bt too many", unit, "bt a b", "bt: too many arguments (b)"},
		{"bt at entry", realAtEntry, "bt nosuch", `bt: paging is off (CR0.PG=0)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mon := c.mon(t)
			var b bytes.Buffer
			err := mon.Run(c.line, &b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("monitor %s: err %v, want %q (output %q)", c.line, err, c.want, b.String())
			}
		})
	}
	t.Run("cr2 paging off", func(t *testing.T) {
		out := runOK(t, realAtEntry(t), "cr2")
		if !strings.Contains(out, "mapping            paging is off (CR0.PG=0): linear addresses are physical") {
			t.Fatalf("cr2 at entry:\n%s", out)
		}
	})
	t.Run("gdt empty", func(t *testing.T) {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.GDTR.Limit = 0
		mon.m.CPU().SetState(&st)
		if err := mon.Run("gdt", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "gdt: GDTR limit 0x0 holds no descriptor") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("idt empty", func(t *testing.T) {
		mon := unit(t)
		st := mon.m.CPU().State()
		st.IDTR.Limit = 0
		mon.m.CPU().SetState(&st)
		if err := mon.Run("idt", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "idt: IDTR limit 0x0 holds no 16-byte gate") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestNoPanics feeds odd input to every command on machines in odd
// states: errors are fine, panics (caught as internal errors) are not.
func TestNoPanics(t *testing.T) {
	args := []string{"", "0", "-1", "0x", "$", "$rsp-", "+", "0xffffffffffffffff", "18446744073709551615", "$cr3+0xffffffffffff",
		"on", "off", "all", "\x00", "é", "9999999999999999999999", "0x8000000000000000", "swapper", "16"}
	states := map[string]func(t *testing.T) *Monitor{
		"unit":  func(t *testing.T) *Monitor { m, _ := unitMachine(t); return New(m, noSymbols(t)) },
		"fresh": func(t *testing.T) *Monitor { m, _ := newTiny(); return New(m, &kernelsym.ELFKernel{}) },
		"real kernel at entry": func(t *testing.T) *Monitor {
			m, _ := bootKernel(t, "scenario=overflow", "", 0)
			return New(m, nil)
		},
		"real kernel early": func(t *testing.T) *Monitor {
			m, _ := bootKernel(t, "scenario=overflow", "", 2000)
			return New(m, nil)
		},
		"garbage tables": func(t *testing.T) *Monitor {
			m, _ := unitMachine(t)
			ram := m.RAM()
			for i := 0x200000; i < 0x210000; i++ {
				ram[i] = byte(i*7 + i>>8)
			}
			st := m.CPU().State()
			st.GDTR.Limit, st.IDTR.Limit = 0xffff, 0xffff
			st.TR.Limit = 0xffffffff
			m.CPU().SetState(&st)
			return New(m, noSymbols(t))
		},
	}
	for name, mk := range states {
		t.Run(name, func(t *testing.T) {
			mon := mk(t)
			for _, c := range Commands() {
				if c == "break-on" {
					continue // changes state only; covered by its own test
				}
				for _, a := range args {
					for _, line := range []string{c + " " + a, c + " " + a + " " + a} {
						err := mon.Run(line, &bytes.Buffer{})
						if err != nil && strings.Contains(err.Error(), "internal error") {
							t.Errorf("monitor %q: %v", line, err)
						}
					}
				}
			}
		})
	}
}

func TestWords(t *testing.T) {
	for _, c := range []struct {
		code uint64
		want string
	}{
		{0, "0x0 (-: not-present page, read, supervisor mode)"},
		{0x2, "0x2 (W: not-present page, write, supervisor mode)"},
		{0x7, "0x7 (P W U: protection violation, write, user mode)"},
		{0x19, "0x19 (P RSVD I: protection violation, read, supervisor mode, reserved bit set, instruction fetch)"},
	} {
		if got := explainPF(c.code); got != c.want {
			t.Errorf("explainPF(%#x) = %q, want %q", c.code, got, c.want)
		}
	}
	for _, c := range []struct {
		r    float64
		want string
	}{{0, "0"}, {999, "999"}, {1500, "1.50K"}, {12.3e6, "12.30M"}, {2e9, "2.00G"}} {
		if got := fmtRate(c.r); got != c.want {
			t.Errorf("fmtRate(%v) = %q, want %q", c.r, got, c.want)
		}
	}
	for _, c := range []struct {
		e    cpu.Event
		want string
	}{
		{cpu.Event{Kind: cpu.EventException, Vector: 14}, "#PF"},
		{cpu.Event{Kind: cpu.EventInterrupt, Vector: 0x20}, "IRQ 0x20"},
		{cpu.Event{Kind: cpu.EventSoftware, Vector: 3}, "INT3"},
		{cpu.Event{Kind: cpu.EventSoftware, Vector: 0x80}, "INT 0x80"},
	} {
		if got := eventName(&c.e); got != c.want {
			t.Errorf("eventName(%+v) = %q, want %q", c.e, got, c.want)
		}
	}
	evs := []cpu.Event{{Seq: 5, Vector: 14}, {Seq: 6, Vector: 8, Nested: 5}, {Seq: 9, Vector: 13, Nested: 7}}
	for i, want := range []string{"#PF", "#PF -> #DF", "? -> #GP"} {
		if got := chainName(evs, i); got != want {
			t.Errorf("chainName(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestRunEdges(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	if out := runOK(t, mon, "   "); !strings.HasPrefix(out, "help ") {
		t.Errorf("an empty line does not print help: %q", out)
	}
	if out := runOK(t, mon, "HELP"); !strings.Contains(out, "walk ADDR [CR3]") {
		t.Errorf("commands are not case-insensitive: %q", out)
	}
	// A monitor without a machine reports an internal error, not a panic.
	var broken Monitor
	if err := broken.Run("cregs", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `monitor: internal error in "cregs"`) {
		t.Errorf("err %v", err)
	}
	if out := runOK(t, mon, "faults"); out != "no exception or interrupt deliveries yet\n" {
		t.Errorf("faults with an empty history: %q", out)
	}
}
