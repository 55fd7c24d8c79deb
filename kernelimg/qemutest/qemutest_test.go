package qemutest

import (
	"strings"
	"testing"
)

const overflowConsole = `vmapstack mini kernel
Command line: scenario=overflow
scenario: overflow
task 1 "recurse": stack 0xffffc90000004000..0xffffc90000007fff
overflow: recursing until the stack runs into its guard page
BUG: stack guard page was hit at 0xffffc90000003ff8 (stack is 0xffffc90000004000..0xffffc90000007fff)
kernel stack overflow (double-fault)
CPU: 0 PID: 1 Comm: recurse
RIP: 0010:0xffffffff801021fe RSP: 0018:0xffffc90000004000
CR2: 0xffffc90000003ff8
Kernel panic - not syncing: kernel stack overflow (double-fault)
---[ end Kernel panic - not syncing: kernel stack overflow (double-fault) ]---
`

func TestParseBug(t *testing.T) {
	tests := []struct {
		name    string
		console string
		ok      bool
		want    Bug
		checkOK bool
		parseOK bool
	}{
		{"overflow", overflowConsole, true, Bug{0xffffc90000003ff8, 0xffffc90000004000, 0xffffc90000007fff}, true, true},
		{"none", "vmapstack mini kernel\n", false, Bug{}, true, true},
		{"above bottom", "BUG: stack guard page was hit at 0xffffc90000004008 (stack is 0xffffc90000004000..0xffffc90000007fff)\n",
			true, Bug{0xffffc90000004008, 0xffffc90000004000, 0xffffc90000007fff}, false, true},
		{"two pages below", "BUG: stack guard page was hit at 0xffffc90000002ff8 (stack is 0xffffc90000004000..0xffffc90000007fff)\n",
			true, Bug{0xffffc90000002ff8, 0xffffc90000004000, 0xffffc90000007fff}, false, true},
		{"wrong top", "BUG: stack guard page was hit at 0xffffc90000003ff8 (stack is 0xffffc90000004000..0xffffc90000008fff)\n",
			true, Bug{0xffffc90000003ff8, 0xffffc90000004000, 0xffffc90000008fff}, false, true},
		{"malformed", "BUG: stack guard page was hit at 0x3ff8 (stack is 0x4000..0x7fff)\n", false, Bug{}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, ok, err := ParseBug([]byte(tc.console))
			if (err == nil) != tc.parseOK {
				t.Fatalf("err = %v, want ok %v", err, tc.parseOK)
			}
			if ok != tc.ok || b != tc.want {
				t.Fatalf("ParseBug = %+v, %v; want %+v, %v", b, ok, tc.want, tc.ok)
			}
			if ok {
				if err := b.Check(); (err == nil) != tc.checkOK {
					t.Errorf("Check() = %v, want ok %v", err, tc.checkOK)
				}
			}
		})
	}
}

func TestParseRegsAndStacks(t *testing.T) {
	r, ok, err := ParseRegs([]byte(overflowConsole))
	if err != nil || !ok {
		t.Fatalf("ParseRegs: %v %v", ok, err)
	}
	want := Regs{CS: 0x10, SS: 0x18, RIP: 0xffffffff801021fe, RSP: 0xffffc90000004000, CR2: 0xffffc90000003ff8}
	if r != want {
		t.Errorf("ParseRegs = %+v, want %+v", r, want)
	}
	if _, ok, err := ParseRegs([]byte("CR2: 0xffffc90000003ff8\n")); ok || err == nil {
		t.Errorf("half a dump: ok %v err %v, want an error", ok, err)
	}
	stacks, err := ParseStacks([]byte(overflowConsole))
	if err != nil || len(stacks) != 1 {
		t.Fatalf("ParseStacks = %v, %v", stacks, err)
	}
	s := stacks[0]
	if s.PID != 1 || s.Comm != "recurse" || s.Bottom != 0xffffc90000004000 || s.Top != 0xffffc90000007fff {
		t.Errorf("stack = %+v", s)
	}
	for _, a := range []struct {
		addr uint64
		in   bool
	}{{0xffffc90000003ff8, true}, {0xffffc90000003000, true}, {0xffffc90000002fff, false}, {0xffffc90000004000, false}} {
		if s.InGuard(a.addr) != a.in {
			t.Errorf("InGuard(%#x) = %v", a.addr, !a.in)
		}
	}
	if _, err := ParseStacks([]byte(`task 1 "x": stack 0xffffc90000004000..0xffffc90000004fff` + "\n")); err == nil {
		t.Error("a 4 KiB stack was accepted")
	}
}

// An excerpt of a real `-d int,cpu_reset` log (overflow noist), register
// dumps shortened.
const intLog = `check_exception old: 0xffffffff new 0xe
     0: v=0e e=0002 i=0 cpl=0 IP=0010:ffffffff801021fe pc=ffffffff801021fe SP=0018:ffffc90000004000 CR2=ffffc90000003ff8
RAX=000000000000003d RBX=00000000000003fd RCX=ffffc90000007e01 RDX=00000000000000c5
check_exception old: 0xe new 0xe
     1: v=08 e=0000 i=0 cpl=0 IP=0010:ffffffff801021fe pc=ffffffff801021fe SP=0018:ffffc90000004000 env->regs[R_EAX]=000000000000003d
RAX=000000000000003d RBX=00000000000003fd RCX=ffffc90000007e01 RDX=00000000000000c5
check_exception old: 0x8 new 0xe
Triple fault
`

func TestParseIntLog(t *testing.T) {
	recs := ParseIntLog(intLog)
	want := []string{
		"check_exception old: 0xffffffff new 0xe",
		"v=0e e=0002 i=0 cpl=0 IP=0010:ffffffff801021fe SP=0018:ffffc90000004000 CR2=ffffc90000003ff8",
		"check_exception old: 0xe new 0xe",
		"v=08 e=0000 i=0 cpl=0 IP=0010:ffffffff801021fe SP=0018:ffffc90000004000 EAX=000000000000003d",
		"check_exception old: 0x8 new 0xe",
		"Triple fault",
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %v", len(recs), len(want), recs)
	}
	for i := range want {
		if recs[i].String() != want[i] {
			t.Errorf("record %d = %q, want %q", i, recs[i].String(), want[i])
		}
	}
	if recs[0].Old != -1 || recs[1].Count != 0 || recs[3].Count != 1 {
		t.Errorf("old %d counts %d %d", recs[0].Old, recs[1].Count, recs[3].Count)
	}
	pf, df, err := FindDoubleFault(recs)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Vector != 14 || pf.CR2 != 0xffffc90000003ff8 || df.Vector != 8 {
		t.Errorf("FindDoubleFault = %v / %v", pf, df)
	}

	// A #DF not caused by a #PF during #PF delivery is rejected.
	bad := strings.Replace(intLog, "check_exception old: 0xe new 0xe", "check_exception old: 0xd new 0xd", 1)
	if _, _, err := FindDoubleFault(ParseIntLog(bad)); err == nil {
		t.Error("FindDoubleFault accepted a #GP-#GP double fault")
	}
	if _, _, err := FindDoubleFault(ParseIntLog("")); err == nil {
		t.Error("FindDoubleFault accepted an empty log")
	}
}

func TestCheckCase(t *testing.T) {
	c := Case{Name: "overflow", ExitCode: 1, Overflow: LineOverflowDF, MustContain: []string{
		"scenario: overflow", LineOverflowDF, PanicPrefix + LineOverflowDF}}
	ok := &Result{Console: []byte(overflowConsole), Status: 3, DebugExit: true, Code: 1}
	if err := CheckCase(c, ok); err != nil {
		t.Errorf("good run rejected: %v", err)
	}
	tests := []struct {
		name string
		c    Case
		r    *Result
	}{
		{"clean exit", c, &Result{Console: []byte(overflowConsole), Status: 1, DebugExit: true, Code: 0}},
		{"triple", c, &Result{Console: []byte(overflowConsole), Status: 0}},
		{"order", Case{Name: "o", ExitCode: 1, Overflow: LineOverflowDF, MustContain: []string{LineOverflowDF, "scenario: overflow"}}, ok},
		{"unexpected bug", Case{Name: "o", ExitCode: 1}, ok},
		{"missing bug", Case{Name: "o", ExitCode: 1, Overflow: LineOverflowDF},
			&Result{Console: []byte("x\n"), Status: 3, DebugExit: true, Code: 1}},
		{"cr2 in guard", Case{Name: "o", ExitCode: 1, Overflow: LineOverflowDF, DoubleFault: true}, ok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckCase(tc.c, tc.r); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestCasesAreConsistent(t *testing.T) {
	names := map[string]bool{}
	for _, c := range Cases {
		if names[c.Name] {
			t.Errorf("duplicate case %s", c.Name)
		}
		names[c.Name] = true
		if want := strings.ReplaceAll(strings.TrimPrefix(c.Append, "scenario="), " ", "_"); c.Name != want && c.Name != "unknown" {
			t.Errorf("case %s: name does not follow its command line %q", c.Name, c.Append)
		}
		if c.Triple && (c.ExitCode != 0 || c.Overflow != "") {
			t.Errorf("case %s: a triple fault has no exit code or diagnosis", c.Name)
		}
		if (c.Overflow != "" || c.DoubleFault) && c.ExitCode != 1 {
			t.Errorf("case %s: a diagnosed fault must panic (exit 1)", c.Name)
		}
	}
	for _, n := range []string{"tasks", "overflow", "overflow-pf", "irq-overflow", "lazy-pgd", "lazy-pgd_nosync",
		"lazy-pgd_noprobe", "overflow_noist", "bench"} {
		if !names[n] {
			t.Errorf("no case %s", n)
		}
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args("k.elf", "scenario=overflow", "-S"), " ")
	want := "-display none -no-reboot -serial stdio -monitor none -device isa-debug-exit -kernel k.elf -append scenario=overflow -S"
	if got != want {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if l := Lines([]byte("a\r\nb\n")); len(l) != 2 || l[0] != "a" || l[1] != "b" {
		t.Errorf("Lines = %q", l)
	}
}
