package monitor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"vmapstack/target/cpu"
	"vmapstack/target/paging"
)

// The HMP commands' cases at the #DF of scenario=overflow, for
// TestCommandsAtDoubleFault and TestEveryCommandHasATest. The expected
// texts are QEMU 7.2's own output for the same kernel stopped at
// do_double_fault (captured with `monitor ...` through QEMU's gdb stub,
// CR LF turned into LF); integration/hmp_test.go compares with a live
// QEMU.
func init() {
	exact := func(want string) func(t *testing.T, e *overflowEnv, out string) {
		return func(t *testing.T, e *overflowEnv, out string) {
			t.Helper()
			if out != want {
				t.Errorf("got:\n%s\nwant (QEMU 7.2):\n%s", out, want)
			}
		}
	}
	commandCases = append(commandCases, []struct {
		line  string
		check func(t *testing.T, e *overflowEnv, out string)
	}{
		{"info mem", exact(`ffff888000000000-ffff888008000000 0000000008000000 -rw
ffffc90000004000-ffffc90000008000 0000000000004000 -rw
ffffffff80100000-ffffffff80104000 0000000000004000 -r-
ffffffff80104000-ffffffff80127000 0000000000023000 -rw
`)},
		{"info tlb", func(t *testing.T, e *overflowEnv, out string) {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 64+4+39 {
				t.Errorf("%d lines, QEMU prints 107 (64 2M pages of the direct map, 4 stack pages, 39 kernel pages):\n%s", len(lines), out)
			}
			contains(t, out, "ffff888000000000: 0000000000000000 X-PDA---W\n",
				"ffff888007e00000: 0000000007e00000 X-P-----W\n",
				"ffffc90000004000: 000000000012e000 X--DA---W\n",
				"ffffffff80100000: 0000000000100000 ----A----\n",
				"ffffffff80103000: 0000000000103000 X---A----\n",
				"ffffffff80105000: 0000000000105000 X-------W\n",
				"ffffffff80126000: 0000000000126000 X--DA---W\n")
		}},
		{"xp /8xg 0x127000", exact(`0000000000127000: 0x0000000000000000 0x0000000000000000
0000000000127010: 0x0000000000000000 0x0000000000000000
0000000000127020: 0x0000000000000000 0x0000000000000000
0000000000127030: 0x0000000000000000 0x0000000000000000
`)},
		{"x /4xw 0xffffffff80100000", exact("ffffffff80100000: 0xde89fcfa 0x5015010f 0xb8001040 0x00000018\n")},
		{"gva2gpa 0xffffffff80100000", exact("gpa: 0x100000\n")},
	}...)
}

// TestHMPFormats checks memory_dump's formats and QEMU's messages on the
// overflow kernel against QEMU 7.2's output for the same commands.
func TestHMPFormats(t *testing.T) {
	e := bootOverflow(t)
	mon := New(e.m, e.k)
	for _, c := range []struct{ line, want string }{
		{"gva2gpa 0xffffc90000003ff8", "Unmapped\n"}, // the guard page
		{"gva2gpa 0x1234", "Unmapped\n"},
		{"gva2gpa", "unexpected end of expression\nTry \"help gva2gpa\" for more information\n"},
		{"x /4xw 0xffffc90000003ff8", "ffffc90000003ff8: Cannot access memory\n"},
		{"xp /4xw 0x10000000000", "0000010000000000: Cannot access memory\n"},
		{"xp /3xb 0x100000", "0000000000100000: 0xfa 0xfc 0x89\n"},
		{"xp/3xb 0x100000", "0000000000100000: 0xfa 0xfc 0x89\n"}, // QEMU accepts the format against the command
		{"xp /3dw 0x100000", "0000000000100000: 3733585146 1343553807 3087011904\n"},
		{"xp /3uh 0x100000", "0000000000100000: 64762 56969   271\n"},
		{"xp /5ob 0x100000", "0000000000100000: 0372 0374 0211 0336 017\n"},
		{"xp /20cb 0x100000", `0000000000100000: '\xfa' '\xfc' '\x89' '\xde' '\x0f' '\x01' '\x15' 'P'
0000000000100008: '@' '\x10' '\x00' '\xb8' '\x18' '\x00' '\x00' '\x00'
0000000000100010: '\x8e' '\xd8' '\x8e' '\xc0'
`},
		{"xp /2dg 0x100000", "0000000000100000:  5770519665214881018         106166227008\n"},
		// No /FMT: count 1 with the last format and size (d, g).
		{"xp 0x100000", "0000000000100000:  5770519665214881018\n"},
		// A format without a size keeps the last size (g).
		{"xp /2x 0x100000", "0000000000100000: 0x5015010fde89fcfa 0x00000018b8001040\n"},
		{"xp /zz 0x100000", "invalid char in format: 'z'\nTry \"help xp\" for more information\n"},
		{"xp /4xq 0x100000", "invalid char in format: 'q'\nTry \"help xp\" for more information\n"},
		{"xp", "unexpected end of expression\nTry \"help xp\" for more information\n"},
		{"x", "unexpected end of expression\nTry \"help x\" for more information\n"},
		// Not QEMU captures, but its rules: a 'c' dump of words keeps
		// 16-byte lines; a line crossing into unmapped memory fails whole.
		{"xp /5cw 0x100000", `0000000000100000: '\xfa' '\xfc' '\x89' '\xde' '\x0f' '\x01' '\x15' 'P' '@' '\x10' '\x00' '\xb8' '\x18' '\x00' '\x00' '\x00'
0000000000100010: '\x8e' '\xd8' '\x8e' '\xc0'
`},
		{"x /4xg 0xffffc90000004000-8", "ffffc90000003ff8: Cannot access memory\n"},
		{"x /2xg $rsp", ""}, // checked below
	} {
		t.Run(c.line, func(t *testing.T) {
			out := runOK(t, mon, c.line)
			if c.line == "x /2xg $rsp" {
				if !strings.HasPrefix(out, hex16(e.st.GPR[cpu.RSP])[2:]+": 0x") {
					t.Errorf("got %q", out)
				}
				return
			}
			if out != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, c.want)
			}
		})
	}
	// Leave QEMU's defaults for other tests.
	runOK(t, mon, "xp /xw 0")
}

// TestHMPUnitMachine checks the commands on the hand-built address space:
// a 1G user page (u), read-only text, 4K stacks with a hole between them,
// and what QEMU prints with paging off.
func TestHMPUnitMachine(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	wantMem := `0000000040000000-0000000080000000 0000000040000000 ur-
ffff888000000000-ffff888000400000 0000000000400000 -rw
ffffc90000004000-ffffc90000008000 0000000000004000 -rw
ffffc9000000c000-ffffc90000010000 0000000000004000 -rw
ffffffff80100000-ffffffff80102000 0000000000002000 -r-
`
	if out := runOK(t, mon, "info mem"); out != wantMem {
		t.Errorf("info mem:\n%s\nwant:\n%s", out, wantMem)
	}
	tlb := runOK(t, mon, "info tlb")
	for _, l := range []string{
		"0000000040000000: 0000000040000000 --P----U-\n", // 1G: frame bits 51:30
		"ffff888000200000: 0000000000200000 XGPDA---W\n",
		"ffffc9000000c000: 0000000000310000 X--DA---W\n",
		"ffffffff80101000: 0000000000101000 -G-------\n",
	} {
		if !strings.Contains(tlb, l) {
			t.Errorf("info tlb has no %q:\n%s", l, tlb)
		}
	}
	if n := strings.Count(tlb, "\n"); n != 1+2+8+2 {
		t.Errorf("info tlb: %d lines, want 13:\n%s", n, tlb)
	}
	for _, c := range []struct{ line, want string }{
		{"gva2gpa 0x40000123", "gpa: 0x40000123\n"},
		{"gva2gpa 0xffff888000000000", "gpa: 0\n"},   // C's %#x prints 0 bare
		{"gva2gpa 0x0000800000000000", "Unmapped\n"}, // not canonical
		{"gva2gpa $cr2", "Unmapped\n"},
		// The 1G page's frame is outside the 4M of RAM.
		{"x /2xb 0x40000000", "0000000040000000: Cannot access memory\n"},
		{"x /1xb 0xffffffff80101fff", "ffffffff80101fff: 0x00\n"},
		{"xp /1ob 0x0", "0000000000000000:   0\n"},
		{"xp /1dg 0x3ffff8", "00000000003ffff8:                    0\n"},
	} {
		if out := runOK(t, mon, c.line); out != c.want {
			t.Errorf("%s: got %q, want %q", c.line, out, c.want)
		}
	}
	runOK(t, mon, "xp /xw 0")

	tiny, err := newTiny()
	if err != nil {
		t.Fatal(err)
	}
	off := New(tiny, noSymbols(t))
	for _, c := range []struct{ line, want string }{
		{"info mem", "PG disabled\n"},
		{"info tlb", "PG disabled\n"},
		{"gva2gpa 0x1234", "gpa: 0x1234\n"}, // paging off: the address itself
	} {
		if out := runOK(t, off, c.line); out != c.want {
			t.Errorf("paging off: %s: got %q, want %q", c.line, out, c.want)
		}
	}
}

// TestHMPErrors: what is not QEMU's vocabulary, or not supported, is an
// error naming the command.
func TestHMPErrors(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	for _, c := range []struct{ line, want string }{
		{"info", "info: which? usage: info mem|tlb|registers"},
		{"info cpus", `info: unknown subcommand "cpus" (this stub has: mem, tlb, registers)`},
		{"info mem extra", "info: too many arguments (extra)"},
		{"xp /4i 0x100000", "xp: format 'i' (disassembly) is not supported by this stub; use gdb's x/4i"},
		{"x /4xw nosuch", `bad address "nosuch"`},
		{"gva2gpa 1 2", "gva2gpa: too many arguments (2)"},
		{"xp /99999999999xb 0", "count too large"},
	} {
		var b bytes.Buffer
		err := mon.Run(c.line, &b)
		got := b.String()
		if err != nil {
			got += err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.line, got, c.want)
		}
	}
	runOK(t, mon, "xp /xw 0")
}

// TestHMPInfoRegisters checks x86_cpu_dump_state's layout on the #DF of
// scenario=overflow (at the #DF entry stub: RIP and the GPRs are the
// machine's own, the layout and the segment lines QEMU's).
func TestHMPInfoRegisters(t *testing.T) {
	e := bootOverflow(t)
	out := runOK(t, New(e.m, e.k), "info registers")
	lines := strings.Split(out, "\n")
	if len(lines) != 35 || lines[0] != "" || lines[1] != "CPU#0" || lines[34] != "" {
		t.Fatalf("%d lines, want QEMU's 33 after a blank line and CPU#0:\n%s", len(lines), out)
	}
	contains(t, out,
		fmt.Sprintf("RIP=%016x RFL=%08x [", e.st.RIP, e.st.RFLAGS),
		fmt.Sprintf("RSP=%016x\n", e.st.GPR[cpu.RSP]),
		"CS =0010 0000000000000000 ffffffff 00af9a00 DPL=0 CS64 [-R-]\n",
		"DS =0018 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\n",
		"FS =0000 0000000000000000 00000000 00000000\n",
		"LDT=0000 0000000000000000 0000ffff 00008200 DPL=0 LDT\n",
		"GDT=     ffffffff80104000 0000004f\n",
		fmt.Sprintf("CR0=80010011 CR2=%016x CR3=%016x CR4=00000020\n", e.st.CR2, e.st.CR3),
		"DR3=0000000000000000 \nDR6=00000000ffff0ff0 DR7=0000000000000400\nEFER=0000000000000d00\n",
		"FCW=037f FSW=0000 [ST=0] FTW=00 MXCSR=00001f80\n",
		"FPR6=0000000000000000 0000 FPR7=0000000000000000 0000\n",
		"XMM14=0000000000000000 0000000000000000 XMM15=0000000000000000 0000000000000000\n")
}

// TestHMPSegLine: cpu_x86_dump_seg_cache's kinds, outside long mode too.
func TestHMPSegLine(t *testing.T) {
	for _, c := range []struct {
		s       cpu.Seg
		lma, pe bool
		want    string
	}{
		{cpu.Seg{Sel: 0x8, Limit: 0xffffffff, Attr: 0xc09b}, false, true, "CS =0008 00000000 ffffffff 00cf9b00 DPL=0 CS32 [-RA]\n"},
		{cpu.Seg{Sel: 0x8, Limit: 0xffff, Attr: 0x009f}, false, true, "CS =0008 00000000 0000ffff 00009f00 DPL=0 CS16 [CRA]\n"},
		{cpu.Seg{Sel: 0x2b, Limit: 0xfffff, Attr: 0x00f7}, false, true, "CS =002b 00000000 000fffff 000ff700 DPL=3 DS16 [EWA]\n"},
		{cpu.Seg{Sel: 0x28, Base: 0x1000, Limit: 0x67, Attr: 0x008b}, false, true, "CS =0028 00001000 00000067 00008b00 DPL=0 TSS32-busy\n"},
		{cpu.Seg{Sel: 0x28, Limit: 0xffff, Attr: 0x0093}, false, false, "CS =0028 00000000 0000ffff 00009300\n"},       // real mode
		{cpu.Seg{Sel: 0x30, Limit: 0xffff, Attr: 0x0013}, true, true, "CS =0030 0000000000000000 0000ffff 00001300\n"}, // not present
	} {
		if got := segLine("CS", c.s, c.lma, c.pe, c.lma); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.s, got, c.want)
		}
	}
}

// TestHMPRecursiveTables: a PML4 whose 512 entries all point back at it
// makes a walk of 2^36 entries. info mem and info tlb print a bounded
// output and say the walk was cut; xp and x refuse an oversized dump.
func TestHMPRecursiveTables(t *testing.T) {
	m, cr3 := unitMachine(t)
	ram := m.RAM()
	for i := uint64(0); i < 512; i++ {
		binary.LittleEndian.PutUint64(ram[cr3+8*i:], cr3|uint64(paging.FlagP|paging.FlagRW))
	}
	mon := New(m, noSymbols(t))
	for _, c := range []struct {
		line, err string
		maxOut    int
	}{
		{"info mem", "recursive or corrupt page tables?", 1 << 20},
		{"info tlb", "info tlb: output cut after 65536 lines", 4 << 20},
		{"xp /100000xg 0", "xp: 100000 units of 8 bytes is more than this stub dumps at once (256K)", 0},
		{"x /300000xb $rsp", "x: 300000 units of 1 bytes is more than this stub dumps at once (256K)", 0},
	} {
		var b bytes.Buffer
		err := mon.Run(c.line, &b)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want %q", c.line, err, c.err)
		}
		if b.Len() > c.maxOut {
			t.Errorf("%s: %d bytes of output, want at most %d", c.line, b.Len(), c.maxOut)
		}
	}
	runOK(t, mon, "xp /xw 0")
}

// TestHMPTranslateIgnoresReservedBits: QEMU's debug walker
// (x86_cpu_get_phys_page_attrs_debug) checks present bits only, so a 2M
// leaf with a reserved bit set (bits 20:13), which faults for the CPU,
// still translates for gva2gpa and x.
func TestHMPTranslateIgnoresReservedBits(t *testing.T) {
	m, cr3 := unitMachine(t)
	var pdeAddr uint64
	if err := paging.Walk(m.RAM(), cr3, unitDirect, func(level int, at uint64, _ paging.PTE) {
		if level == 2 {
			pdeAddr = at
		}
	}); err != nil || pdeAddr == 0 {
		t.Fatalf("no PDE for the direct map: %v", err)
	}
	e := binary.LittleEndian.Uint64(m.RAM()[pdeAddr:])
	binary.LittleEndian.PutUint64(m.RAM()[pdeAddr:], e|1<<13)
	binary.LittleEndian.PutUint32(m.RAM()[0x1234:], 0xcafef00d)
	mon := New(m, noSymbols(t))
	if out := runOK(t, mon, "gva2gpa 0xffff888000001234"); out != "gpa: 0x1234\n" {
		t.Errorf("gva2gpa: %q", out)
	}
	if out := runOK(t, mon, "x /1xw 0xffff888000001234"); out != "ffff888000001234: 0xcafef00d\n" {
		t.Errorf("x: %q", out)
	}
	runOK(t, mon, "xp /xw 0")
}

// FuzzHMP runs the HMP commands on arbitrary arguments, without Run's
// recover in between: no input may panic.
func FuzzHMP(f *testing.F) {
	for _, s := range []string{"/8xg 0x127000", "/zz 1", "/", "/0c 0", "/99cw $rsp+8", "0xfffffffffffffff8", "/3og -1", "/i 0", "/2L $cr2-0x10", "mem", "tlb", "registers"} {
		f.Add(s)
	}
	var mon *Monitor // built once, by the first input's t
	f.Fuzz(func(t *testing.T, line string) {
		if mon == nil {
			m, _ := unitMachine(t)
			mon = New(m, noSymbols(t))
		}
		args := strings.Fields(line)
		var b bytes.Buffer
		mon.cmdXP(args, &b)
		mon.cmdX(args, &b)
		mon.cmdGVA2GPA(args, &b)
		mon.cmdInfo(args, &b)
		mon.MemoryRegionAt(uint64(len(line)) << 40)
		parseHMPFormat("/xw") // QEMU's defaults again
	})
}

// TestHMPInfoRegisters32: at the PVH entry (32-bit protected mode) QEMU's
// dump has 32-bit registers, bases and tables and 8 XMM registers (the
// layout checked against QEMU 7.2 stopped at the same entry; the values
// there come from SeaBIOS under QEMU and from our loader here).
func TestHMPInfoRegisters32(t *testing.T) {
	m, err := newTiny()
	if err != nil {
		t.Fatal(err)
	}
	out := runOK(t, New(m, noSymbols(t)), "info registers")
	if n := strings.Count(out, "\n"); n != 28 {
		t.Errorf("%d lines, want 28:\n%s", n, out)
	}
	contains(t, out, "\nCPU#0\nEAX=00000000 EBX=",
		"\nEIP=00100000 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n",
		"\nCS =0008 00000000 ffffffff 00cf9b00 DPL=0 CS32 [-RA]\n",
		"\nLDT=0000 00000000 0000ffff 00008200 DPL=0 LDT\n",
		"\nIDT=     00000000 000003ff\n",
		"\nCR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000\n",
		" DR3=0000000000000000 \nDR6=00000000ffff0ff0 DR7=0000000000000400\nEFER=0000000000000000\n",
		"\nXMM06=0000000000000000 0000000000000000 XMM07=0000000000000000 0000000000000000\n")
	if strings.Contains(out, "XMM08") || strings.Contains(out, "RAX") {
		t.Errorf("64-bit fields outside 64-bit mode:\n%s", out)
	}
}
