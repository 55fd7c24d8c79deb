package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/linuxtest"
	"vmapstack/kernelsym"
)

// linuxMonitorRun is one attached session on Debian's kernel stopped at
// the #DF of overflow.ko: gdb's output, section by section, and the
// console the kernel printed after gdb let it go on.
type linuxMonitorRun struct {
	gdb      string
	sections map[string]string
	report   *linuxtest.StackOverflow
}

// runLinuxMonitor boots Debian's kernel with the overflow initramfs in
// our stub with --break-on df, attaches a bare gdb (no file), runs the
// monitor commands at the #DF stop, then continues: the kernel's own
// handler prints its BUG line and Call Trace and panics (panic=-1
// reboots, which ends the stub). What the stub said at the stop is then
// checked against what the kernel said of itself in the same run.
//
// Early: gdb attaches at the reset vector, gets the symbols of the
// kallsyms inside the bzImage (right under nokaslr), and breaks on
// exc_double_fault by name before the kernel runs. Otherwise the stub
// runs at once (--wait=false) and gdb attaches at the #DF stop, when the
// stub serves the running kernel's symbols, KASLR offset included.
func runLinuxMonitor(t *testing.T, appendLine string, early bool) *linuxMonitorRun {
	t.Helper()
	f := linuxtest.Require(t)
	o := linuxtest.RequireOverflow(t, f)
	acquireHeavy(t)
	ctx, cancel := context.WithTimeout(context.Background(), linuxOursTimeout)
	defer cancel()
	serial := filepath.Join(t.TempDir(), "com1.log")
	flags := []string{"--kernel", f.Kernel, "--initrd", o.Initrd, "--append", appendLine,
		"--memory", "256M", "--serial", serial, "--break-on", "df"}
	if !early {
		flags = append(flags, "--wait=false")
	}
	s := startStub(t, ctx, false, flags...)
	cmds := []string{"target remote " + s.gdbAddr}
	if early {
		// At the reset vector the kernel has not set anything up: the
		// monitor says what is missing instead of guessing.
		cmds = append(cmds, "echo @@ tasks at reset\\n", "monitor tasks",
			"echo @@ break\\n", "break exc_double_fault", "echo @@ continue\\n", "continue")
	} else {
		for !strings.Contains(s.stderr.String(), "with no debugger attached: #DF") {
			if s.exited() {
				t.Fatalf("stub exited before the #DF: %s", s.stderr.String())
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no #DF stop: %v (stderr: %s)", ctx.Err(), s.stderr.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	for _, c := range []string{"info symbol $pc", "x/2i $pc", "monitor stack", "monitor cr2", "monitor walk $cr2", "monitor faults 4", "monitor tasks", "monitor bt", "monitor pt", "monitor idt", "monitor tss"} {
		cmds = append(cmds, "echo @@ "+c+"\\n", c)
	}
	if early {
		// On to the breakpoint in the C handler, by name.
		cmds = append(cmds, "echo @@ to exc_double_fault\\n", "continue", "info symbol $pc")
	}
	cmds = append(cmds, "echo @@ end\\n", "continue")
	out := runGDB(t, ctx, exs(cmds...)...)
	if _, err := s.wait(ctx); err != nil {
		t.Fatalf("stub: %v\n%s", err, s.stderr.String())
	}
	console, err := os.ReadFile(serial)
	if err != nil {
		t.Fatal(err)
	}
	r := &linuxMonitorRun{gdb: out, sections: gdbSections(out)}
	if !early {
		// The stop message went to the stub's log, no debugger being there.
		r.sections["continue"] = s.stderr.String()
	}
	if r.report, err = linuxtest.ParseStackOverflow(string(console)); err != nil {
		t.Fatalf("%v; console tail:\n%s\ngdb:\n%s", err, tail(string(console), 40), out)
	}
	if problems := r.report.Check(); len(problems) > 0 {
		t.Errorf("the kernel's report: %s", strings.Join(problems, "; "))
	}
	return r
}

// gdbSections splits gdb's output at the "@@ command" lines the run
// echoed before each command.
func gdbSections(out string) map[string]string {
	secs := map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(out, "\n") {
		if c, ok := strings.CutPrefix(l, "@@ "); ok {
			name = strings.TrimSpace(c)
			continue
		}
		if name != "" {
			secs[name] += l
		}
	}
	return secs
}

// btFunctions returns the function names of `monitor bt` after the #DF
// entry and the frame it interrupted, with a recursion counted once and
// user mode left out: what Linux's Call Trace prints after its RIP line
// (StackOverflow.Functions(true)).
func btFunctions(t *testing.T, bt string) []string {
	t.Helper()
	frame := regexp.MustCompile(`^ #(\d+)(?:-#\d+)? +0x[0-9a-f]{16}  (\S+?)\+0x[0-9a-f]+/0x[0-9a-f]+`)
	var fs []string
	for _, l := range strings.Split(bt, "\n") {
		m := frame.FindStringSubmatch(l)
		if m == nil || m[1] == "0" || m[1] == "1" {
			continue
		}
		if len(fs) > 0 && fs[len(fs)-1] == m[2] {
			continue
		}
		fs = append(fs, m[2])
	}
	return fs
}

// checkLinuxMonitor checks the monitor's answers at the #DF stop against
// the kernel's own report of the overflow.
func checkLinuxMonitor(t *testing.T, r *linuxMonitorRun) {
	t.Helper()
	rep := r.report
	stack := fmt.Sprintf("0x%016x-0x%016x", rep.Begin, rep.End)
	guard := fmt.Sprintf("0x%016x-0x%016x", rep.Begin-4096, rep.Begin)
	want := map[string][]string{
		// The stop message names the task whose guard page CR2 is in.
		"continue": {"#DF: #PF (error 0x2", "could not be delivered", `the stack of task "insmod" (` + stack + `): its guard page`},
		// The bounds Linux prints in its BUG line, the task, the guard page.
		// gdb has names: the symbol file the stub built from kallsyms.
		"info symbol $pc": {"asm_exc_double_fault in section .text"},
		"x/2i $pc":        {"<asm_exc_double_fault>:", "<asm_exc_double_fault+"},
		"monitor stack": {`task               "insmod" pid 1 `, "stack              " + stack + "  16K",
			"guard page         " + guard + "  not present at PTE", "source             kernel symbols (task_struct.stack; THREAD_SIZE 16K from kallsyms"},
		// CR2 is the fault Linux reports (the push of the #PF frame).
		"monitor cr2":       {fmt.Sprintf("CR2                0x%016x", rep.Fault), `points at          guard page of task "insmod" (stack ` + stack + ")"},
		"monitor walk $cr2": {fmt.Sprintf("walk 0x%016x", rep.Fault), "not present at PTE"},
		"monitor faults 4":  {"#PF -> #DF", "not delivered  <vmapstack_recurse+"},
		"monitor tasks":     {`"swapper/0"`, `"insmod"`, `"kthreadd"`, stack},
		// Linux's regions at the kernel's own bases, the guard page named.
		"monitor pt": {"---[ direct map 0x", "---[ vmalloc 0x", "---[ vmemmap 0x", "---[ cpu_entry_area 0xfffffe0000000000 ]---",
			"---[ kernel image 0xffffffff80000000 ]---", "---[ modules 0xffffffffc0000000 ]---",
			guard + "     4K  unmapped  (guard page of task \"insmod\", stack " + stack + ")"},
		// Handlers named by kallsyms; #DF on its IST stack.
		"monitor idt": {"asm_exc_page_fault", "asm_exc_double_fault"},
		"monitor tss": {"IST1  0x", "top of the #DF stack (", "top of the NMI stack", "top of the #DB stack", "top of the #MC stack"},
		"monitor bt":  {"Call Trace (ORC; current task \"insmod\" pid 1", " <#DF>", "asm_exc_double_fault+0x0/", " <TASK>", "vmapstack_recurse+", "[overflow]", "do_one_initcall+", "entry_SYSCALL_64_after_hwframe+", "(user mode)", "end of stack"},
	}
	for sec, subs := range want {
		out, ok := r.sections[sec]
		if !ok {
			t.Errorf("no output of %q in:\n%s", sec, r.gdb)
			continue
		}
		for _, s := range subs {
			if !strings.Contains(out, s) {
				t.Errorf("%s: no %q in:\n%s", sec, s, out)
			}
		}
	}
	if l := lineContaining(r.sections["monitor tasks"], `"insmod"`); !strings.Contains(l, stack) || !strings.HasPrefix(l, "*") {
		t.Errorf("tasks: insmod's line %q: want its stack %s and the current mark", l, stack)
	}
	// The stub's unwind and the kernel's own Call Trace follow the same
	// path, function for function.
	ours, kernels := btFunctions(t, r.sections["monitor bt"]), rep.Functions(true)
	if strings.Join(ours, " ") != strings.Join(kernels, " ") {
		t.Errorf("monitor bt's functions differ from the kernel's Call Trace:\nbt:     %q\nkernel: %q\nbt output:\n%s", ours, kernels, r.sections["monitor bt"])
	}
}

func lineContaining(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestLinuxMonitorOverflow: with nokaslr.
func TestLinuxMonitorOverflow(t *testing.T) {
	r := runLinuxMonitor(t, linuxtest.OverflowAppend, true)
	checkLinuxMonitor(t, r)
	for sec, want := range map[string]string{
		"break":               "Breakpoint 1 at 0xffffffff8",
		"tasks at reset":      "no kernel symbols for tasks: Linux: vmcoreinfo: no VMCOREINFO in guest memory: the kernel has not set it up yet",
		"to exc_double_fault": "exc_double_fault in section .text",
	} {
		if !strings.Contains(r.sections[sec], want) {
			t.Errorf("%s: no %q in:\n%s", sec, want, r.sections[sec])
		}
	}
}

// TestLinuxMonitorOverflowKASLR: the same questions with the kernel's
// randomizations on, answered from the randomized bases (the stack is
// not where it is under nokaslr).
func TestLinuxMonitorOverflowKASLR(t *testing.T) {
	r := runLinuxMonitor(t, linuxtest.OverflowAppendKASLR, false)
	checkLinuxMonitor(t, r)
	if r.report.Begin == 0xffffc90000008000 {
		t.Errorf("the stack is where nokaslr puts it (%#x): was KASLR on?", r.report.Begin)
	}
}

// TestLinuxSymbolsFlag: with --symbols, gdb gets that file as the exec
// file instead of the one the stub builds. A vmlinux with DWARF is
// Debian's -dbg package (283 MB), too much for CI: the file given here
// is a symbol ELF written by kernelsym, which is what the flag needs to
// be (an ELF with a symbol table); gdb must read it under its own path.
func TestLinuxSymbolsFlag(t *testing.T) {
	f := linuxtest.Require(t)
	img, err := os.ReadFile(f.Kernel)
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := kernelsym.ForImage(img).(*kernelsym.Linux).SymbolFile()
	if err != nil {
		t.Fatal(err)
	}
	syms := filepath.Join(t.TempDir(), "vmlinux-with-symbols")
	if err := os.WriteFile(syms, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--kernel", f.Kernel, "--symbols", syms, "--append", linuxtest.OverflowAppend)
	out := runGDB(t, ctx, exs("target remote "+s.gdbAddr, "info symbol 0xffffffff81000000", "break exc_double_fault", "kill")...)
	for _, want := range []string{"Reading symbols from target:" + syms, "in section .text", "Breakpoint 1 at 0xffffffff8"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
