package symelf

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg"
)

// sectionsOf is an ELF file's allocated sections of some size whose
// addresses are in the kernel half (a vmlinux's .data..percpu is linked
// at 0: per-CPU offsets are not addresses, and their symbols are left to
// SHN_ABS).
func sectionsOf(f *elf.File) []Section {
	var secs []Section
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Size > 0 && s.Addr >= 1<<63 {
			secs = append(secs, Section{Name: s.Name, Addr: s.Addr, Size: s.Size, Exec: s.Flags&elf.SHF_EXECINSTR != 0})
		}
	}
	return secs
}

// symbolsOf is an ELF file's function and object symbols.
func symbolsOf(t *testing.T, f *elf.File) []Symbol {
	t.Helper()
	es, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var syms []Symbol
	for _, s := range es {
		typ := elf.ST_TYPE(s.Info)
		if s.Name == "" || (typ != elf.STT_FUNC && typ != elf.STT_OBJECT) {
			continue
		}
		syms = append(syms, Symbol{Name: s.Name, Addr: s.Value, Size: s.Size,
			Func: typ == elf.STT_FUNC, Global: elf.ST_BIND(s.Info) != elf.STB_LOCAL})
	}
	return syms
}

// TestGDBLiveTarget gives gdb the mini kernel's symbols in a Build file
// and connects it to the stub running that kernel: gdb stops at a
// breakpoint set by name, names where it stopped, and reads the code
// and data from the target, not zeros from the file, also with
// trust-readonly-sections on (which reads read-only sections from the
// file: Build makes none).
func TestGDBLiveTarget(t *testing.T) {
	if testtool.Short() {
		t.Skip("short mode (testtool.Short: off under VMAPSTACK_REQUIRE_TOOLS=1): builds and runs the stub")
	}
	gdb := testtool.Require(t, "gdb")
	kf, err := elf.NewFile(bytes.NewReader(kernelimg.ELF))
	if err != nil {
		t.Fatal(err)
	}
	syms, secs := symbolsOf(t, kf), sectionsOf(kf)
	b, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	var fn, obj Symbol
	for _, s := range syms {
		switch s.Name {
		case "do_double_fault":
			fn = s
		case "current_task":
			obj = s
		}
	}
	code := make([]byte, 8)
	if _, err := kf.Section(".text").ReadAt(code, int64(fn.Addr-kf.Section(".text").Addr)); err != nil {
		t.Fatal(err)
	}
	hexBytes := func(b []byte) string {
		var s []string
		for _, c := range b {
			s = append(s, fmt.Sprintf("0x%02x", c))
		}
		return strings.Join(s, "\t")
	}

	dir := t.TempDir()
	stub, err := testtool.BuildStub(dir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "kernel.syms")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sock := filepath.Join(dir, "s")
	cmd := exec.CommandContext(ctx, stub, "--listen", "unix:"+sock, "--append", "scenario=overflow", "--serial", "none")
	var stderr testtool.SyncBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for !strings.Contains(stderr.String(), "waiting for a debugger on") {
		if ctx.Err() != nil {
			t.Fatalf("stub did not listen: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	out, err := exec.CommandContext(ctx, gdb, "-batch", "-nx",
		"-ex", "set exec-file-mismatch off", // the stub offers kernel.elf as its exec-file; keep ours
		"-ex", "file "+file,
		"-ex", "target remote "+sock,
		"-ex", "break do_double_fault",
		"-ex", "continue",
		"-ex", "info symbol $pc",
		"-ex", "x/8xb $pc",
		"-ex", "x/1i $pc",
		"-ex", "output/x *(unsigned long *)&current_task != 0",
		"-ex", "echo \\n",
		"-ex", "set trust-readonly-sections on",
		"-ex", "x/8xb do_double_fault",
		"-ex", "kill",
	).CombinedOutput()
	got := string(out)
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, got)
	}
	code8 := fmt.Sprintf("<do_double_fault>:\t%s", hexBytes(code))
	for _, want := range []string{
		fmt.Sprintf("Breakpoint 1 at %#x", fn.Addr),
		fmt.Sprintf("Breakpoint 1, %#x in do_double_fault ()", fn.Addr),
		"do_double_fault in section .text",
		code8,
		fmt.Sprintf("=> %#x <do_double_fault>:\tpush", fn.Addr),
		"0x1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("gdb's output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, code8) != 2 {
		t.Errorf("with trust-readonly-sections on, gdb did not read the code from the target:\n%s", got)
	}
	if obj.Addr == 0 {
		t.Error("no current_task in the mini kernel's symbols")
	}
}
