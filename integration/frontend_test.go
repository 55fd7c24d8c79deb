package integration

import (
	"regexp"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// frontEndProbes is what gdb front ends written for QEMU's stub (GEF's
// "is this QEMU in system mode?" check, for one) send right after
// attaching, through real gdb: the single-step mode query, the section
// offsets, and QEMU's monitor.
var frontEndProbes = []string{
	"maint packet qqemu.sstepbits",
	"maint packet qqemu.sstep",
	"maint packet qOffsets",
	"monitor info mem",
}

// TestQEMUFrontEndDetection runs the probes against QEMU 7.2's stub and
// ours at the mini kernel's first switch_to and requires the same answers, so such
// front ends take our stub for QEMU in system mode and work unchanged.
func TestQEMUFrontEndDetection(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	testtool.Require(t, qemutest.QEMU)
	acquireHeavy(t)
	ctx := testContext(t)
	script := func(target string) []string {
		// At the first switch_to, where paging is on and monitor info
		// mem has the kernel's mappings to show.
		s := []string{"target remote " + target, "break switch_to", "continue", "delete"}
		for i, p := range frontEndProbes {
			s = append(s, "echo @PROBE "+strings.Repeat("x", i)+"\\n", p)
		}
		return append(s, "echo @PROBE END\\n", "kill")
	}
	s := startStub(t, ctx, false, "--append", "scenario=tasks", "--serial", "none")
	ours := runGDB(t, ctx, append([]string{kernelPath}, exs(script(s.gdbAddr)...)...)...)
	_, qsock := startQEMUGDB(t, ctx, "scenario=tasks")
	qemu := runGDB(t, ctx, append([]string{kernelPath}, exs(script(qsock)...)...)...)
	split := func(out string) []string {
		parts := regexp.MustCompile(`(?m)^@PROBE .*\n`).Split(out, -1)
		if len(parts) < len(frontEndProbes)+2 {
			t.Fatalf("gdb output lacks the probes' markers:\n%s", out)
		}
		// Drop gdb's "sending:" echo of maint packet, keep the reply;
		// QEMU's monitor ends lines with CR LF.
		var r []string
		for _, p := range parts[1 : len(frontEndProbes)+1] {
			p = strings.ReplaceAll(p, "\r\n", "\n")
			p = regexp.MustCompile(`(?m)^sending: .*\n`).ReplaceAllString(p, "")
			r = append(r, p)
		}
		return r
	}
	o, q := split(ours), split(qemu)
	for i, p := range frontEndProbes {
		if o[i] != q[i] {
			t.Errorf("%s:\nours: %q\nqemu: %q", p, o[i], q[i])
		} else {
			t.Logf("%s: %q, as QEMU", p, o[i])
		}
	}
	if !strings.Contains(q[0], "ENABLE=1,NOIRQ=2,NOTIMER=4") {
		t.Errorf("QEMU's qqemu.sstepbits answer %q is not the one the test expects", q[0])
	}
}
