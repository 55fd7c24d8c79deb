package symelf

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/linuxtest"
	"vmapstack/internal/testtool"
	"vmapstack/kernelsym/kallsyms"
)

// TestGDBDebianKernel builds the file from Debian's kernel as the stub
// will: the symbols from its kallsyms (no vmlinux, no debug package),
// the sections from the vmlinux inside the bzImage, and loads it into
// gdb, timing the load. gdb must find functions, objects and per-CPU
// offsets by name and name addresses inside functions.
func TestGDBDebianKernel(t *testing.T) {
	gdb := testtool.Require(t, "gdb")
	vmlinux := linuxtest.RequireVmlinux(t) // kernelsym/bzimage's
	ks, _, err := kallsyms.FindInImage(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	kallsyms.SortByAddr(ks)
	sizes := kallsyms.Sizes(ks, 1<<20)
	syms := make([]Symbol, len(ks))
	for i, s := range ks {
		syms[i] = Symbol{Name: s.Name, Addr: s.Addr, Size: sizes[i], Func: s.Text(),
			Global: s.Type >= 'A' && s.Type <= 'Z'}
	}
	vf, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		t.Fatal(err)
	}
	secs := sectionsOf(vf)

	start := time.Now()
	b, err := Build(syms, secs)
	if err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	dir := t.TempDir()
	file := filepath.Join(dir, "vmlinux.syms")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}

	find := func(name string) Symbol {
		t.Helper()
		for _, s := range syms {
			if s.Name == name {
				return s
			}
		}
		t.Fatalf("no symbol %s in Debian's kallsyms", name)
		return Symbol{}
	}
	startKernel, initTask, df, percpu := find("start_kernel"), find("init_task"), find("exc_double_fault"), find("current_task")
	if percpu.Addr >= 1<<32 {
		t.Fatalf("current_task at %#x: not a per-CPU offset (CONFIG_KALLSYMS_ABSOLUTE_PERCPU)", percpu.Addr)
	}
	cmds := []string{
		fmt.Sprintf("info symbol %#x", startKernel.Addr+5),
		"info address start_kernel",
		"info address init_task",
		"info address current_task",
		"break exc_double_fault",
		fmt.Sprintf("info symbol %#x", initTask.Addr+8),
	}
	want := []string{
		"start_kernel + 5 in section .init.text",
		fmt.Sprintf("Symbol \"start_kernel\" is at %#x in a file compiled without debugging.", startKernel.Addr),
		fmt.Sprintf("Symbol \"init_task\" is at %#x in a file compiled without debugging.", initTask.Addr),
		fmt.Sprintf("Symbol \"current_task\" is at %#x in a file compiled without debugging.", percpu.Addr),
		fmt.Sprintf("Breakpoint 1 at %#x", df.Addr),
		"init_task + 8 in section .data",
	}
	script := filepath.Join(dir, "cmds.gdb")
	if err := os.WriteFile(script, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// gdb's own start, then the same with the file: the difference is
	// the load (gdb reads the minimal symbols when the file is given).
	timeGDB := func(args ...string) (time.Duration, []byte) {
		t.Helper()
		start := time.Now()
		out, err := exec.Command(gdb, append([]string{"-batch", "-nx", "-ex", "set print demangle off"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gdb: %v\n%s", err, out)
		}
		return time.Since(start), out
	}
	bare, _ := timeGDB()
	loaded, _ := timeGDB("-ex", "file "+file)
	_, out := timeGDB("-ex", "file "+file, "-x", script)
	t.Logf("%d symbols (%d functions), %d sections: a %d-byte file (%.1f MiB) built in %v; gdb -batch: %v bare, %v loading it",
		len(syms), countFuncs(syms), len(secs), len(b), float64(len(b))/(1<<20), built.Round(time.Millisecond),
		bare.Round(time.Millisecond), loaded.Round(time.Millisecond))

	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("gdb printed %d lines for %d commands:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("%s: gdb printed %q, want %q", cmds[i], got[i], want[i])
		}
	}
}

func countFuncs(syms []Symbol) int {
	n := 0
	for _, s := range syms {
		if s.Func {
			n++
		}
	}
	return n
}
