package kernelimg_test

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// symbolCode returns the address of the first occurrence of code inside
// the function sym of the embedded image.
func symbolCode(t *testing.T, sym string, code []byte) uint64 {
	t.Helper()
	f := openELF(t)
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != sym || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		off := s.Value - text.Addr
		if i := bytes.Index(data[off:off+s.Size], code); i >= 0 {
			return s.Value + uint64(i)
		}
	}
	t.Fatalf("no % x in %s", code, sym)
	return 0
}

func symbolAddr(t *testing.T, sym string) uint64 {
	t.Helper()
	syms, err := openELF(t).Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == sym {
			return s.Value
		}
	}
	t.Fatalf("no symbol %s", sym)
	return 0
}

// Exceptions other than the stack-overflow ones are named and fatal. gdb
// sends the kernel, stopped in run_scenario, to a faulting instruction.
func TestTrapNames(t *testing.T) {
	testtool.Require(t, qemutest.QEMU)
	gdb := testtool.Require(t, "gdb")
	kernel := kernelFile(t)
	tests := []struct {
		name  string
		pc    uint64
		lines []string
	}{
		{"invalid opcode", symbolCode(t, "ret_from_fork", []byte{0x0f, 0x0b}), []string{
			"invalid opcode: 0000 [#1]",
			"CPU: 0 PID: 0 Comm: swapper",
			qemutest.PanicPrefix + "Fatal exception",
		}},
		// Executing .bss: instruction fetch from a no-execute page, #PF error code P|I.
		{"nx page fault", symbolAddr(t, "log_buf"), []string{
			fmt.Sprintf("BUG: unable to handle kernel paging request at 0x%016x", symbolAddr(t, "log_buf")),
			"Oops: 0011 [#1]",
			qemutest.PanicPrefix + "Fatal exception",
		}},
	}
	for _, tc := range tests {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			sock := testtool.SocketPath(t)
			ctx, cancel := context.WithTimeout(context.Background(), qemutest.DefaultTimeout)
			defer cancel()
			var console bytes.Buffer
			qemu := exec.CommandContext(ctx, qemutest.QEMU, qemutest.Args(kernel, "scenario=tasks",
				"-gdb", qemutest.GDBArg(sock), "-S")...)
			qemu.Stdout = &console
			if err := qemu.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = qemu.Process.Kill() }()
			if err := qemutest.WaitSocket(ctx, sock); err != nil {
				t.Fatal(err)
			}
			out, err := exec.CommandContext(ctx, gdb, "-nx", "-batch",
				"-ex", "set confirm off",
				"-ex", "file "+kernel,
				"-ex", "target remote "+sock,
				"-ex", "break run_scenario",
				"-ex", "continue",
				"-ex", fmt.Sprintf("set $pc = %#x", tc.pc),
				"-ex", "delete",
				"-ex", "continue",
			).CombinedOutput()
			// gdb's own status is not interesting: QEMU exits under it
			// ("Remote connection closed"); its output helps on failure.
			_ = err
			done := make(chan error, 1)
			go func() { done <- qemu.Wait() }()
			select {
			case err = <-done:
			case <-time.After(qemutest.DefaultTimeout):
				t.Fatalf("qemu did not exit; console:\n%s", console.String())
			}
			var ee *exec.ExitError
			if err == nil || !errorsAs(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("qemu exit %v, want status 3 (panic); gdb:\n%s", err, out)
			}
			lines := qemutest.Lines(console.Bytes())
			for _, want := range tc.lines {
				found := false
				for _, l := range lines {
					found = found || l == want
				}
				if !found {
					t.Errorf("line %q missing from console:\n%s\ngdb:\n%s", want, console.String(), out)
				}
			}
		})
	}
}
