package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmapstack/internal/linuxtest"
)

// linuxOursTimeout bounds one boot in our stub. The boot and workload
// are about 1.5 billion instructions (QEMU -icount: ~1.6 s of virtual
// time at one instruction per nanosecond); the interpreter's speed sets
// the wall time. It must stay well inside .ci/run's `go test -timeout
// 20m`, which bounds the whole integration package.
const linuxOursTimeout = 10 * time.Minute

// bootLinuxOurs boots the files in our stub with --listen none, COM1 to
// a file, as linuxtest.StubArgs says.
func bootLinuxOurs(t *testing.T, f *linuxtest.Files) *linuxBoot {
	t.Helper()
	return bootLinuxOursKernel(t, f.Kernel, f.Initrd)
}

// bootLinuxOursKernel boots kernel (a bzImage or a PVH vmlinux) with the
// initrd in our stub.
func bootLinuxOursKernel(t *testing.T, kernel, initrd string) *linuxBoot {
	t.Helper()
	return bootLinuxOursAppend(t, kernel, initrd, linuxtest.Append)
}

// bootLinuxOursAppend is bootLinuxOursKernel with the kernel command
// line cmdline.
func bootLinuxOursAppend(t *testing.T, kernel, initrd, cmdline string) *linuxBoot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), linuxOursTimeout)
	defer cancel()
	serial := filepath.Join(t.TempDir(), "com1.log")
	start := time.Now()
	p := startProc(t, ctx, stubBin, linuxtest.StubArgsAppend(kernel, initrd, serial, cmdline)...)
	status, err := p.wait(ctx)
	console, rerr := os.ReadFile(serial)
	if err != nil {
		saveConsole(t, "ours-console.log", &linuxBoot{machine: "ours", console: string(console)})
		t.Fatalf("stub: %v\nconsole tail:\n%s", err, tail(string(console), 40))
	}
	if rerr != nil {
		t.Fatalf("stub wrote no console file: %v (exit status %d, stderr: %s)", rerr, status, p.stderr.String())
	}
	t.Logf("our boot to reboot: %.1fs (wall time, for information; scripts/bench/linux-boot.sh measures)", time.Since(start).Seconds())
	return newLinuxBoot("ours", string(console), p.stderr.String(), status)
}

// TestLinuxOursMatchesQEMU boots Debian's kernel with the workload in QEMU
// 7.2 and in our stub, with the same files and command line, and requires
// the same: the workload's output byte for byte, the kernel log line for
// line except the documented linuxtest.AllowedDifferences, no problems,
// and exit status 0 on the reboot.
func TestLinuxOursMatchesQEMU(t *testing.T) {
	f := linuxtest.Require(t)
	acquireHeavy(t)
	q := referenceLinuxQEMU(t, f)
	checkLinuxBoot(t, q, f.Release)
	o := bootLinuxOurs(t, f)
	saveConsole(t, "ours-console.log", o)
	checkLinuxBoot(t, o, f.Release)
	if !o.complete || !q.complete {
		return
	}

	if ow, qw := strings.Join(o.workload, "\n"), strings.Join(q.workload, "\n"); ow != qw {
		for i := 0; i < max(len(o.workload), len(q.workload)); i++ {
			var ol, ql string
			if i < len(o.workload) {
				ol = o.workload[i]
			}
			if i < len(q.workload) {
				ql = q.workload[i]
			}
			if ol != ql {
				t.Errorf("workload line %d: ours %q, QEMU %q", i+1, ol, ql)
			}
		}
	}

	onlyQEMU, onlyOurs := linuxtest.CompareKernelLogs(q.dmesg, o.dmesg)
	if len(onlyQEMU)+len(onlyOurs) > 0 {
		t.Errorf("kernel logs differ beyond the allowed list (linuxtest.AllowedDifferences):\nonly in QEMU's (%d):\n  %s\nonly in ours (%d):\n  %s\nallowed:\n%s",
			len(onlyQEMU), strings.Join(onlyQEMU, "\n  "), len(onlyOurs), strings.Join(onlyOurs, "\n  "), linuxtest.DescribeAllowed())
	}
}

// TestLinuxOursShellStdin types a command into the busybox shell of a
// Debian kernel boot in our stub through --serial stdio with piped stdin
// (docs/design.md §5), as TestLinuxQEMUShellStdin does in QEMU.
func TestLinuxOursShellStdin(t *testing.T) {
	f := linuxtest.Require(t)
	acquireHeavy(t)
	console, status := typeIntoShell(t, "ours", linuxOursTimeout, stubBin, linuxtest.StubArgs(f.Kernel, f.ShellInitrd, "stdio")...)
	if p := linuxtest.Problems(console); len(p) != 0 {
		t.Errorf("ours: the kernel reported problems:\n%s", strings.Join(p, "\n"))
	}
	if status != 0 {
		t.Errorf("our stub exited with status %d on reboot -f, want 0", status)
	}
}

// TestLinuxOursPVH boots the same kernel uncompressed, as the vmlinux
// inside Debian's bzImage (it carries a PVH note: CONFIG_PVH), through PVH
// with the initrd as the PVH module, and requires the same workload
// results and a clean reboot.
func TestLinuxOursPVH(t *testing.T) {
	f := linuxtest.Require(t)
	vmlinux := filepath.Join(t.TempDir(), "vmlinux")
	if err := os.WriteFile(vmlinux, linuxtest.RequireVmlinux(t), 0o644); err != nil {
		t.Fatal(err)
	}
	acquireHeavy(t)
	o := bootLinuxOursKernel(t, vmlinux, f.Initrd)
	saveConsole(t, "ours-pvh-console.log", o)
	checkLinuxBoot(t, o, f.Release)
	if !strings.Contains(o.stderr, "the guest reset the machine") {
		t.Errorf("stderr %q: the run did not end with the guest's reset", o.stderr)
	}
}
