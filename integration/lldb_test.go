package integration

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
)

// physBytes returns n bytes of the kernel image at physical address pa
// (as the PVH loader places the PT_LOAD segments).
func physBytes(t *testing.T, pa uint64, n int) []byte {
	t.Helper()
	f, err := elf.Open(kernelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && pa >= p.Paddr && pa+uint64(n) <= p.Paddr+p.Filesz {
			b := make([]byte, n)
			if _, err := p.ReadAt(b, int64(pa-p.Paddr)); err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no loaded segment holds %#x", pa)
	return nil
}

// runLLDB runs lldb --batch with the commands and returns its output and
// the gdb-remote packet log.
func runLLDB(t *testing.T, file string, cmds ...string) (out, packets string) {
	t.Helper()
	ctx := testContext(t)
	logPath := filepath.Join(t.TempDir(), "packets.log")
	args := []string{"--no-lldbinit", "--batch", "-o", "log enable -f " + logPath + " gdb-remote packets"}
	for _, c := range cmds {
		args = append(args, "-o", c)
	}
	if file != "" {
		args = append(args, file)
	}
	cmd := exec.CommandContext(ctx, "lldb", args...)
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("lldb timed out\n%s", b)
	}
	if err != nil {
		t.Logf("lldb: %v", err)
	}
	p, _ := os.ReadFile(logPath)
	return string(b), string(p)
}

// packetTail returns the last n send/read lines of an lldb gdb-remote
// packet log, each cut to 160 bytes (the target.xml reply is long).
func packetTail(log string, n int) string {
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "send packet:") || strings.Contains(l, "read packet:") {
			if len(l) > 160 {
				l = l[:160] + "..."
			}
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lldbReg finds "     name = 0x..." in `register read` output.
func lldbReg(t *testing.T, out, name string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+`+name+` = 0x([0-9a-f]+)`).FindAllStringSubmatch(out, -1)
	if m == nil {
		t.Fatalf("lldb shows no register %s:\n%s", name, out)
	}
	v, _ := strconv.ParseUint(m[len(m)-1][1], 16, 64)
	return v
}

// TestLLDB attaches lldb 14 (gdb-remote) with the kernel as its target:
// registers, memory, a breakpoint by name, the #DF stop, a monitor
// command (`process plugin packet monitor`), a memory region from the page
// tables (qMemoryRegionInfo, which QEMU's stub does not answer) and kill.
func TestLLDB(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "lldb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, true, "--append", "scenario=overflow", "--serial", "none")
	entry := pvhEntry(t)
	out, packets := runLLDB(t, kernelPath,
		"gdb-remote "+s.lldbAddr,
		"register read rip cr0 cr3",
		"memory read -s1 -fx -c16 "+strconv.FormatUint(entry, 10),
		"breakpoint set -n do_double_fault",
		"continue",
		"register read rip rsp cr2",
		"bt 2",
		"memory region $rsp",
		"process plugin packet monitor help",
		"process plugin packet monitor stack",
		"kill")
	failf := func(format string, args ...any) {
		t.Helper()
		tail := packetTail(packets, 30)
		t.Errorf(format+"\nlldb output:\n%s\ngdb-remote packets (tail):\n%s", append(args, out, tail)...)
	}
	if !strings.Contains(out, "Process 1 stopped") {
		failf("lldb did not attach")
		return
	}
	// after is the output of the command echoed as "(lldb) marker..."
	// up to the next command.
	after := func(marker string) string {
		i := strings.Index(out, "(lldb) "+marker)
		if i < 0 {
			return ""
		}
		rest := out[i+len("(lldb) "):]
		if j := strings.Index(rest, "(lldb) "); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	if rip := lldbReg(t, after("register read rip cr0 cr3"), "rip"); rip != entry {
		failf("rip at attach %#x, want the PVH entry %#x", rip, entry)
	}
	mem := regexp.MustCompile(`(?m)^0x0*([0-9a-f]+): ((?:0x[0-9a-f]{2} ?)+)$`).FindAllStringSubmatch(after("memory read"), -1)
	var got []byte
	for _, m := range mem {
		for _, f := range strings.Fields(m[2]) {
			v, _ := strconv.ParseUint(f, 0, 8)
			got = append(got, byte(v))
		}
	}
	if want := physBytes(t, entry, 16); string(got) != string(want) {
		failf("memory at the entry % x, want the kernel's % x", got, want)
	}
	if !regexp.MustCompile(`Breakpoint 1: where = kernel.elf` + "`" + `do_double_fault`).MatchString(out) {
		failf("breakpoint by name not resolved")
	}
	if !strings.Contains(out, "stop reason = breakpoint 1.1") {
		failf("no breakpoint stop")
	}
	stopped := after("register read rip rsp cr2")
	bp := regexp.MustCompile(`Breakpoint 1: where = .*, address = 0x([0-9a-f]+)`).FindStringSubmatch(out)
	if bp != nil {
		if want, _ := strconv.ParseUint(bp[1], 16, 64); lldbReg(t, stopped, "rip") != want {
			failf("rip at the stop %#x, want the breakpoint %s", lldbReg(t, stopped, "rip"), bp[1])
		}
	}
	rsp := lldbReg(t, stopped, "rsp")
	dfs, size := kernelSymbol(t, "doublefault_stack")
	if rsp < dfs || rsp >= dfs+size {
		failf("rsp %#x not on the IST1 stack %#x..%#x", rsp, dfs, dfs+size)
	}
	if cr2 := lldbReg(t, stopped, "cr2"); !inGuardPage(cr2) {
		failf("cr2 %#x not in a stack guard page", cr2)
	}
	if !strings.Contains(after("bt 2"), "frame #0: ") || !strings.Contains(after("bt 2"), "do_double_fault") {
		failf("bt does not show do_double_fault")
	}
	// qMemoryRegionInfo from the page tables: the #DF IST stack is mapped
	// read/write, not executable (NX).
	region := regexp.MustCompile(`\[0x([0-9a-f]+)-0x([0-9a-f]+)\) (\S+)`).FindStringSubmatch(after("memory region $rsp"))
	if region == nil {
		failf("memory region $rsp: no region")
	} else {
		lo, _ := strconv.ParseUint(region[1], 16, 64)
		hi, _ := strconv.ParseUint(region[2], 16, 64)
		if rsp < lo || rsp >= hi || region[3] != "rw-" {
			failf("memory region $rsp: [%#x-%#x) %s, want a range around rsp %#x, rw-", lo, hi, region[3], rsp)
		}
	}
	checkMonitorHelp(t, after("process plugin packet monitor help"))
	// The README's lldb recipe: monitor stack at the #DF breakpoint.
	if st := after("process plugin packet monitor stack"); !strings.Contains(st, `"recurse"`) ||
		!strings.Contains(st, "cr2 in guard page  yes") {
		failf("monitor stack through lldb does not show task \"recurse\" with CR2 in its guard page:\n%s", st)
	}
	// lldb's kill sends `k` and waits for the W/X reply lldb-server gives
	// (GDBRemoteCommunicationClient::KillProcess); without one it prints
	// "failed to send the k packet" and a made-up exit status.
	if strings.Contains(out, "failed to send the k packet") {
		failf("lldb's kill got no reply to `k`")
	}
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after lldb's kill: status %d, %v", code, err)
	}
}

// TestLLDBWithoutFile attaches lldb with no target file: lldb has no
// qXfer:exec-file, so it cannot fetch the kernel itself; registers and
// memory still work.
func TestLLDBWithoutFile(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "lldb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, true, "--append", "scenario=overflow", "--serial", "none")
	out, packets := runLLDB(t, "", "gdb-remote "+s.lldbAddr, "register read rip cs", "image list", "breakpoint set -n do_double_fault", "kill")
	if !strings.Contains(out, "Process 1 stopped") {
		t.Fatalf("lldb did not attach:\n%s\n%s", out, packets)
	}
	if rip := lldbReg(t, out, "rip"); rip != pvhEntry(t) {
		t.Errorf("rip %#x, want the PVH entry", rip)
	}
	if lldbReg(t, out, "cs") == 0 {
		t.Errorf("cs is 0 at the PVH entry (want a flat 32-bit code selector)")
	}
	// Informational: whether lldb found the symbols without being told.
	loaded := regexp.MustCompile(`Breakpoint 1: where = .*do_double_fault`).MatchString(out)
	t.Logf("lldb resolved do_double_fault without a target file: %v", loaded)
	if code, err := s.wait(ctx); err != nil || code != 0 {
		t.Errorf("stub after lldb's kill: status %d, %v", code, err)
	}
}

// TestLLDBUnixSocketHint follows the stub's own advice for lldb when it
// listens on a unix socket (the "or:  lldb -o '...'" line it prints): the
// command must attach. lldb 14's gdb-remote takes only [host:]port; a
// socket needs `process connect unix-connect://PATH`, which is checked
// too.
func TestLLDBUnixSocketHint(t *testing.T) {
	t.Parallel()
	testtool.Require(t, "lldb")
	acquireHeavy(t)
	ctx := testContext(t)
	s := startStub(t, ctx, false, "--append", "scenario=overflow", "--serial", "none")
	m := regexp.MustCompile(`lldb -o '([^']+)'`).FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("the stub prints no lldb command: %s", s.stderr.String())
	}
	out, _ := runLLDB(t, "", m[1], "register read rip")
	if !strings.Contains(out, "Process 1 stopped") {
		t.Errorf("the stub's lldb hint %q does not attach:\n%s", m[1], out)
		// The form lldb does accept, to tell the two failures apart.
		out, _ = runLLDB(t, "", "process connect "+s.lldbAddr, "register read rip", "kill")
		if !strings.Contains(out, "Process 1 stopped") {
			t.Errorf("process connect %s does not attach either:\n%s", s.lldbAddr, out)
		}
		return
	}
	runLLDB(t, "", m[1], "kill")
}
