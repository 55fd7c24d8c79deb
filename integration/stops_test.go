package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
)

// TestGDBBreakOnDF: with --break-on df the machine stops when #DF is
// delivered, before the handler's first instruction, and the gdb console
// says why (docs/design.md §6: vector, error code, CR2, the faulting RIP/RSP and
// the exception that could not be delivered). The stop shows the 64-bit
// delivery of SDM Vol. 3A 6.14.4/6.14.5: RSP switched to IST1 (aligned
// down to 16 bytes), frame SS, RSP, RFLAGS, CS, RIP, error code.
func TestGDBBreakOnDF(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=overflow", "--break-on", "df", "--serial", "none")
	cmds := []string{"target remote " + s.gdbAddr, "continue"}
	cmds = append(cmds, pmark("@PC", "$pc")...)
	cmds = append(cmds, pmark("@RSP", "$rsp")...)
	cmds = append(cmds, pmark("@CR2", "$cr2")...)
	cmds = append(cmds, "echo @FRAME\\n", "x/6gx $rsp", "continue")
	out := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds...)...)...)

	if !strings.Contains(out, "Program received signal") {
		t.Fatalf("no stop at the #DF delivery:\n%s", out)
	}
	msg := regexp.MustCompile(`(?m)^.*#DF.*$`).FindString(out)
	if msg == "" {
		t.Fatalf("the gdb console does not announce the #DF:\n%s", out)
	}
	rip := regexp.MustCompile(`RIP=0x([0-9a-f]+)`).FindStringSubmatch(msg)
	rsp := regexp.MustCompile(`RSP=0x([0-9a-f]+)`).FindStringSubmatch(msg)
	if rip == nil || rsp == nil {
		t.Fatalf("announcement %q does not give the faulting RIP and RSP", msg)
	}
	faultRIP, _ := strconv.ParseUint(rip[1], 16, 64)
	faultRSP, _ := strconv.ParseUint(rsp[1], 16, 64)
	cr2 := marked(t, out, "@CR2")
	for _, want := range []string{"#PF", "CR2=0x" + strconv.FormatUint(cr2, 16)} {
		if !strings.Contains(msg, want) {
			t.Errorf("announcement %q lacks %q (docs/design.md §6: CR2 and, for #DF, the exception that could not be delivered)", msg, want)
		}
	}

	stub8, _ := kernelSymbol(t, "stub_8")
	if pc := marked(t, out, "@PC"); pc != stub8 {
		t.Errorf("stopped at %#x, want the #DF gate's handler stub_8 %#x", pc, stub8)
	}
	dfs, size := kernelSymbol(t, "doublefault_stack")
	top := (dfs + size) &^ 15
	sp := marked(t, out, "@RSP")
	if sp != top-48 {
		t.Errorf("rsp %#x at the handler, want IST1 top %#x - 48 (6 quadwords)", sp, top)
	}
	lines := regexp.MustCompile(`(?m)^0x[0-9a-f]+(?: <[^>]*>)?:\s+0x([0-9a-f]{16})\s+0x([0-9a-f]{16})$`).FindAllStringSubmatch(out[strings.Index(out, "@FRAME"):], 3)
	if len(lines) != 3 {
		t.Fatalf("x/6gx $rsp:\n%s", out)
	}
	var q []uint64
	for _, m := range lines {
		for _, h := range m[1:] {
			v, _ := strconv.ParseUint(h, 16, 64)
			q = append(q, v)
		}
	}
	want := []struct {
		name string
		v    uint64
	}{{"error code", 0}, {"RIP", faultRIP}, {"CS", 0x10}, {"RFLAGS", q[3]}, {"RSP", faultRSP}, {"SS", 0x18}}
	for i, w := range want {
		if q[i] != w.v {
			t.Errorf("#DF frame %s = %#x, want %#x", w.name, q[i], w.v)
		}
	}
	if q[3]&2 == 0 {
		t.Errorf("#DF frame RFLAGS %#x: reserved bit 1 clear", q[3])
	}
	if !inGuardPage(cr2) || faultRSP-8 != cr2 {
		t.Errorf("cr2 %#x: want the guard page address of the push below rsp %#x", cr2, faultRSP)
	}
	// Continuing, the kernel diagnoses the overflow and panics: exit 1.
	if !strings.Contains(out, "exited with code 01") {
		t.Errorf("the kernel did not exit with code 1 after the #DF:\n%s", out)
	}
	if code, err := s.wait(ctx); err != nil || code != 1 {
		t.Errorf("stub status %d, %v, want 1", code, err)
	}
}

// TestGDBTripleFault: with noist an overflow triple-faults; the stub
// stops the machine (QEMU would reset), tells gdb which deliveries failed,
// and leaves the state at the fault inspectable.
func TestGDBTripleFault(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "gdb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=overflow noist", "--serial", "none")
	cmds := []string{"target remote " + s.gdbAddr, "continue"}
	cmds = append(cmds, pmark("@PC", "$pc")...)
	cmds = append(cmds, pmark("@CR2", "$cr2")...)
	cmds = append(cmds, "bt 1", "kill")
	out := runGDB(t, ctx, append([]string{kernelPath}, exs(cmds...)...)...)
	msg := regexp.MustCompile(`(?m)^.*triple fault.*$`).FindString(out)
	if msg == "" {
		t.Fatalf("no triple-fault announcement in the gdb console:\n%s", out)
	}
	for _, w := range []string{"#PF", "#DF"} {
		if !strings.Contains(msg, w) {
			t.Errorf("announcement %q does not name %s", msg, w)
		}
	}
	rip := regexp.MustCompile(`RIP=0x([0-9a-f]+)`).FindStringSubmatch(msg)
	if rip == nil {
		t.Fatalf("announcement %q gives no RIP", msg)
	}
	if pc := marked(t, out, "@PC"); strconv.FormatUint(pc, 16) != rip[1] {
		t.Errorf("stopped at %#x, announcement says rip 0x%s", pc, rip[1])
	}
	if cr2 := marked(t, out, "@CR2"); !inGuardPage(cr2) {
		t.Errorf("cr2 %#x not in a guard page", cr2)
	}
	if !regexp.MustCompile(`(?m)^#0  .* in recurse \(`).MatchString(out) {
		t.Errorf("frame #0 is not recurse:\n%s", out)
	}
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after kill: status %d, %v", code, err)
	}
}
