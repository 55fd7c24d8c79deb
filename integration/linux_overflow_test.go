package integration

import (
	"strings"
	"testing"

	"vmapstack/internal/linuxtest"
)

// The overflow boots: Debian's kernel with an initramfs whose /init
// becomes insmod and loads overflow.ko (internal/linuxtest/overflowmod),
// whose init function recurses on insmod's task stack until a write hits
// the stack's guard page. The #PF cannot be delivered on that stack, the
// CPU raises #DF on its IST stack, and Linux reports the overflow
// (handle_stack_overflow), oopses and panics; panic=-1 reboots, which
// ends QEMU (-no-reboot) and our stub (exit status 0). See
// docs/linux-boot.md, "A kernel stack overflow".

// overflowReport boots with args in QEMU, or with the command line in
// our stub, and checks what every overflow boot must show: the marker
// before insmod and no kernel problem before it, the overflow report as
// linuxtest.StackOverflow.Check wants it, Kernel Offset as the command
// line has it, and exit status 0 on the reboot that panic=-1 causes.
func overflowReport(t *testing.T, b *linuxBoot, kaslr bool) *linuxtest.StackOverflow {
	t.Helper()
	before, _, found := strings.Cut(b.console, linuxtest.OverflowInsmod+"\r\n")
	if !found {
		before, _, found = strings.Cut(b.console, linuxtest.OverflowInsmod+"\n")
	}
	if !found {
		t.Fatalf("%s: /init did not print %q (exit status %d)\nstderr: %s\nconsole tail:\n%s",
			b.machine, linuxtest.OverflowInsmod, b.status, b.stderr, tail(b.console, 40))
	}
	if p := linuxtest.Problems(before); len(p) != 0 {
		t.Errorf("%s: the kernel reported problems before insmod:\n%s", b.machine, strings.Join(p, "\n"))
	}
	r, err := linuxtest.ParseStackOverflow(b.console)
	if err != nil {
		t.Fatalf("%s: %v\nconsole tail:\n%s", b.machine, err, tail(b.console, 60))
	}
	for _, bad := range r.Check() {
		t.Errorf("%s: %s", b.machine, bad)
	}
	offset := "Kernel Offset: disabled"
	if kaslr {
		offset = "Kernel Offset: 0x"
	}
	if !strings.Contains(b.console, "] "+offset) {
		t.Errorf("%s: no %q line after the panic: the command line's KASLR setting did not take", b.machine, offset)
	}
	if b.status != 0 {
		t.Errorf("%s exited with status %d on the reboot after the panic, want 0\nstderr: %s", b.machine, b.status, b.stderr)
	}
	if b.machine == "ours" && !strings.Contains(b.stderr, "the guest reset the machine") {
		t.Errorf("stderr %q: the run did not end with the guest's reset", b.stderr)
	}
	t.Logf("%s: %s (%d frames of %s)", b.machine, r.BUG, r.Depth(), linuxtest.OverflowFunction)
	return r
}

// reliableTrace returns the Call Trace lines that are frames of the
// unwind, not the unwinder's guesses ("? name+…"): those come from stale
// words on the stack and depend on where earlier interrupts landed.
func reliableTrace(r *linuxtest.StackOverflow) []string {
	var ls []string
	for _, l := range r.TraceLines {
		if !strings.HasPrefix(l, " ? ") {
			ls = append(ls, l)
		}
	}
	return ls
}

// bootOverflow boots Debian's kernel with the overflow initramfs and
// cmdline in QEMU and in our stub, each in a subtest, and returns both
// reports (nil where a boot failed or QEMU is missing).
func bootOverflow(t *testing.T, cmdline, name string, kaslr bool) (qemu, ours *linuxtest.StackOverflow) {
	f := linuxtest.Require(t)
	o := linuxtest.RequireOverflow(t, f)
	acquireHeavy(t)
	t.Run("QEMU", func(t *testing.T) {
		b := bootLinuxQEMUArgs(t, linuxtest.QEMUArgsAppend(f.Kernel, o.Initrd, cmdline))
		saveConsole(t, "qemu-"+name+"-console.log", b)
		qemu = overflowReport(t, b, kaslr)
	})
	t.Run("ours", func(t *testing.T) {
		b := bootLinuxOursAppend(t, f.Kernel, o.Initrd, cmdline)
		saveConsole(t, "ours-"+name+"-console.log", b)
		ours = overflowReport(t, b, kaslr)
	})
	return qemu, ours
}

// TestLinuxOverflow loads overflow.ko into Debian's kernel booted with
// linuxtest.OverflowAppend (nokaslr, randomize_kstack_offset=off), in
// QEMU 7.2 and in our stub, with the same files. Each must report the
// overflow of insmod's 16 KiB task stack into the page below it, the
// Call Trace through vmapstack_recurse down to do_one_initcall, and the
// panic. And since nothing then depends on the TSC, which differs
// between the two machines, the BUG line and the Call Trace's frames
// must be the same in both, addresses and offsets included.
func TestLinuxOverflow(t *testing.T) {
	q, o := bootOverflow(t, linuxtest.OverflowAppend, "overflow", false)
	if q == nil || o == nil {
		return
	}
	if q.BUG != o.BUG {
		t.Errorf("the BUG lines differ:\nQEMU: %s\nours: %s", q.BUG, o.BUG)
	}
	if q.RIP != o.RIP {
		t.Errorf("the faulting instruction differs:\nQEMU: %s\nours: %s", q.RIP, o.RIP)
	}
	qt, ot := reliableTrace(q), reliableTrace(o)
	if strings.Join(qt, "\n") != strings.Join(ot, "\n") {
		t.Errorf("the Call Traces differ:\nQEMU (%d lines):\n%s\nours (%d lines):\n%s", len(qt), strings.Join(qt, "\n"), len(ot), strings.Join(ot, "\n"))
	}
	if len(qt) != len(q.TraceLines) || len(ot) != len(o.TraceLines) {
		t.Logf("the unwinder's guesses (\"? name\"), not compared:\nQEMU: %q\nours: %q", q.Trace, o.Trace)
	}
}

// TestLinuxOverflowKASLR is TestLinuxOverflow with the randomizations
// Debian's kernel boots with (linuxtest.OverflowAppendKASLR): the stack
// is wherever the randomized vmalloc area put it and each syscall's stack
// starts at a random offset, drawn from the TSC, so the addresses and the
// recursion's depth may differ between QEMU and ours. What must hold in
// both is the same; what is compared is the path: the Call Trace's
// functions with the recursion's frames counted once.
func TestLinuxOverflowKASLR(t *testing.T) {
	q, o := bootOverflow(t, linuxtest.OverflowAppendKASLR, "overflow-kaslr", true)
	if q == nil || o == nil {
		return
	}
	if qf, of := q.Functions(true), o.Functions(true); strings.Join(qf, " ") != strings.Join(of, " ") {
		t.Errorf("the Call Traces' functions differ:\nQEMU: %q\nours: %q", qf, of)
	}
}
