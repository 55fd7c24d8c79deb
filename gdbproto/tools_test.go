package gdbproto

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vmapstack/internal/testtool"
)

// Checks with real gdb and lldb against the fake target dressed as an
// x86-64 machine (gdb's own amd64 register set: core + sse). They are quick
// protocol checks, not the integration tests (those run against the real
// machine). They take a fraction of a second and run wherever the tool is
// installed (always in CI, where VMAPSTACK_REQUIRE_TOOLS=1).

type x86Fake struct {
	*fakeTarget
	names []string
}

func newX86Fake(t *testing.T) *x86Fake {
	f := newFake()
	var names []string
	var sizes []int
	var core, sse strings.Builder
	add := func(b *strings.Builder, name string, bits int, typ string) {
		fmt.Fprintf(b, "<reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"/>\n", name, bits, typ, len(names))
		names = append(names, name)
		sizes = append(sizes, bits/8)
	}
	for _, r := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"} {
		typ := "int64"
		if r == "rbp" || r == "rsp" {
			typ = "data_ptr"
		}
		add(&core, r, 64, typ)
	}
	add(&core, "rip", 64, "code_ptr")
	add(&core, "eflags", 32, "int32")
	for _, r := range []string{"cs", "ss", "ds", "es", "fs", "gs"} {
		add(&core, r, 32, "int32")
	}
	for i := 0; i < 8; i++ {
		add(&core, fmt.Sprintf("st%d", i), 80, "i387_ext")
	}
	for _, r := range []string{"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"} {
		add(&core, r, 32, "int")
	}
	for i := 0; i < 16; i++ {
		add(&sse, fmt.Sprintf("xmm%d", i), 128, "uint128")
	}
	add(&sse, "mxcsr", 32, "int")
	f.sizes = sizes
	f.regs = nil
	for _, n := range sizes {
		f.regs = append(f.regs, make([]byte, n))
	}
	f.pcReg = 16
	f.setPC(0x1000)
	xml := "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n" +
		"<feature name=\"org.gnu.gdb.i386.core\">\n" + core.String() + "</feature>\n" +
		"<feature name=\"org.gnu.gdb.i386.sse\">\n" + sse.String() + "</feature>\n</target>\n"
	f.xml = map[string][]byte{"target.xml": []byte(xml)}
	// A tiny ELF with symbols, for gdb to load through vFile.
	dir := t.TempDir()
	src := filepath.Join(dir, "tiny.s")
	os.WriteFile(src, []byte(".globl _start\n.text\n_start:\nnop\nnop\nhlt\n"), 0o644)
	elf := filepath.Join(dir, "tiny.elf")
	if out, err := exec.Command("gcc", "-nostdlib", "-static", "-Wl,-Ttext=0x1000", "-o", elf, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	data, err := os.ReadFile(elf)
	if err != nil {
		t.Fatal(err)
	}
	f.execPath, f.execData = "/virtual/tiny.elf", data
	return &x86Fake{fakeTarget: f, names: names}
}

func (x *x86Fake) ExpeditedRegisters() []int { return []int{6, 7, 16} }

func (x *x86Fake) RegisterInfo() []RegisterInfo {
	var out []RegisterInfo
	off := 0
	for i, n := range x.sizes {
		ri := RegisterInfo{Name: x.names[i], BitSize: 8 * n, Offset: off, Encoding: "uint", Format: "hex", Set: "General Purpose Registers", EHFrame: -1, DWARF: -1}
		switch x.names[i] {
		case "rip":
			ri.Generic = "pc"
		case "rsp":
			ri.Generic = "sp"
		case "rbp":
			ri.Generic = "fp"
		}
		out = append(out, ri)
		off += n
	}
	return out
}

func TestRealGDB(t *testing.T) {
	gdb := testtool.Require(t, "gdb")
	testtool.Require(t, "gcc")
	x := newX86Fake(t)
	x.mem[0x10] = 0x90
	var log strings.Builder
	_, addr, done := startServer(t, x, WithLogf(func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }))
	cmd := exec.Command(gdb, "-nx", "-batch",
		"-ex", "set pagination off",
		"-ex", "target remote "+addr,
		"-ex", "info registers rip",
		"-ex", "x/4xb 0x1000",
		"-ex", "set var *(unsigned char *)0x1001 = 0x41",
		"-ex", "x/2xb 0x1000",
		"-ex", "break *0x1010",
		"-ex", "continue",
		"-ex", "stepi",
		"-ex", "info registers rip",
		"-ex", "monitor help",
		"-ex", "info threads",
		"-ex", "print $_siginfo",
		"-ex", "kill",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("gdb output:\n%s", out)
	if err != nil {
		t.Logf("gdb exit: %v", err)
	}
	for _, want := range []string{
		"Reading symbols from target:/virtual/tiny.elf",
		"rip            0x1000",
		"0x1000 <_start>:\t0x00\t0x01\t0x02\t0x03",
		"0x1000 <_start>:\t0x00\t0x41",
		"Breakpoint 1, 0x0000000000001010",
		"rip            0x1011",
		"help  this text",
		"cpu 0 [halted]",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("gdb output lacks %q", want)
		}
	}
	if err := <-done; err != ErrKilled {
		t.Errorf("Serve returned %v after gdb's kill", err)
	}
	// The log line says how the session ended, and no Go zero value.
	if !strings.Contains(log.String(), "session ended: killed\n") || strings.Contains(log.String(), "<nil>") {
		t.Errorf("server log %q", log.String())
	}
}

func TestRealLLDB(t *testing.T) {
	lldb := testtool.Require(t, "lldb")
	testtool.Require(t, "gcc")
	x := newX86Fake(t)
	_, addr, _ := startServer(t, x)
	pktLog := filepath.Join(t.TempDir(), "packets.log")
	cmd := exec.Command(lldb, "--batch", "--no-lldbinit",
		"-o", "log enable -f "+pktLog+" gdb-remote packets",
		"-o", "gdb-remote "+addr,
		"-o", "register read rip",
		"-o", "register read rsp",
		"-o", "memory read -c 4 -f x 0x1000",
		"-o", "process plugin packet monitor help",
		"-o", "stepi",
		"-o", "register read rip",
		"-o", "detach",
	)
	out, err := cmd.CombinedOutput()
	t.Logf("lldb output:\n%s", out)
	if log, err := os.ReadFile(pktLog); err == nil {
		t.Logf("lldb packet log:\n%s", log)
	}
	if err != nil {
		t.Logf("lldb exit: %v", err)
	}
	for _, want := range []string{
		"rip = 0x0000000000001000",
		"0x03020100",
		"help  this text",
		"rip = 0x0000000000001001",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lldb output lacks %q", want)
		}
	}
}
