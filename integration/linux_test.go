package integration

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vmapstack/internal/linuxtest"
	"vmapstack/internal/testtool"
	"vmapstack/kernelimg/qemutest"
)

// linuxQEMUTimeout bounds one QEMU boot of Debian's kernel with the
// workload: about 4 s of TCG on an idle CI machine, the rest is headroom
// for a loaded one.
const linuxQEMUTimeout = 3 * time.Minute

// linuxBoot is what one boot of Debian's kernel with the workload
// initramfs produced.
type linuxBoot struct {
	machine  string // "QEMU" or "ours", for messages
	console  string // everything written to COM1 (QEMU: also SeaBIOS's output)
	stderr   string
	status   int
	workload []string // the lines between the workload markers
	dmesg    []string // the kernel log the workload dumped, normalised
	complete bool     // both blocks were found
}

// newLinuxBoot parses a finished boot's console.
func newLinuxBoot(machine, console, stderr string, status int) *linuxBoot {
	b := &linuxBoot{machine: machine, console: console, stderr: stderr, status: status}
	var ok1, ok2 bool
	b.workload, ok1 = linuxtest.Block(console, linuxtest.WorkloadBegin, linuxtest.WorkloadEnd)
	var raw []string
	raw, ok2 = linuxtest.Block(console, linuxtest.DmesgBegin, linuxtest.DmesgEnd)
	b.dmesg = linuxtest.NormalizeKernelLog(strings.Join(raw, "\n"))
	b.complete = ok1 && ok2
	return b
}

// tail returns the last n lines of s, for failure messages.
func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// saveConsole writes a boot's console to $VMAPSTACK_LINUX_LOGS/NAME when
// that variable names a directory, so that a failed comparison can be
// read in full.
func saveConsole(t *testing.T, name string, b *linuxBoot) {
	t.Helper()
	dir := os.Getenv("VMAPSTACK_LINUX_LOGS")
	if dir == "" {
		return
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.console), 0o644); err != nil {
		t.Errorf("save %s console: %v", b.machine, err)
		return
	}
	t.Logf("%s console written to %s", b.machine, p)
}

// qemuReference is the first QEMU boot of the process, which both Linux
// tests compare with (QEMU's boots are identical: TestLinuxQEMUWorkload).
var qemuReference struct {
	sync.Mutex
	boot *linuxBoot
}

// referenceLinuxQEMU returns the process's first QEMU boot of f, booting
// it now if no test has yet.
func referenceLinuxQEMU(t *testing.T, f *linuxtest.Files) *linuxBoot {
	t.Helper()
	qemuReference.Lock()
	defer qemuReference.Unlock()
	if qemuReference.boot == nil {
		qemuReference.boot = bootLinuxQEMU(t, f)
		saveConsole(t, "qemu-console.log", qemuReference.boot)
	}
	return qemuReference.boot
}

// bootLinuxQEMU boots the files in QEMU 7.2 as linuxtest.QEMUArgs says.
func bootLinuxQEMU(t *testing.T, f *linuxtest.Files) *linuxBoot {
	t.Helper()
	return bootLinuxQEMUArgs(t, linuxtest.QEMUArgs(f.Kernel, f.Initrd))
}

// bootLinuxQEMUArgs runs QEMU 7.2 with args (linuxtest.QEMUArgs or
// linuxtest.QEMUArgsAppend) to its end.
func bootLinuxQEMUArgs(t *testing.T, args []string) *linuxBoot {
	t.Helper()
	testtool.Require(t, qemutest.QEMU)
	ctx, cancel := context.WithTimeout(context.Background(), linuxQEMUTimeout)
	defer cancel()
	// COM1 to a file, not -nographic's stdout: stdout is a pipe, which
	// QEMU writes without blocking, and a reader the loaded host does not
	// schedule in time fills it; QEMU then holds the UART busy, the
	// guest's console driver spins on it, and under -icount that spin
	// moves the printk timestamps. A file never pushes back.
	console := filepath.Join(t.TempDir(), "com1.log")
	args, ok := serialToFile(args, console)
	if !ok {
		t.Fatalf("QEMU's arguments have no -nographic to redirect: %q", args)
	}
	start := time.Now()
	p := startProc(t, ctx, qemutest.QEMU, args...)
	status, err := p.wait(ctx)
	out, rerr := os.ReadFile(console)
	if err != nil {
		t.Fatalf("QEMU: %v\nconsole tail:\n%s", err, tail(string(out), 40))
	}
	if rerr != nil {
		t.Fatalf("QEMU's console: %v", rerr)
	}
	t.Logf("QEMU boot to reboot: %.1fs (wall time, for information; scripts/bench/linux-boot.sh measures)", time.Since(start).Seconds())
	return newLinuxBoot("QEMU", string(out), p.stderr.String(), status)
}

// serialToFile turns linuxtest.QEMUArgs's -nographic (COM1 and the
// monitor on stdio) into no display, no monitor and COM1 written to path;
// ok is false if args have no -nographic.
func serialToFile(args []string, path string) (out []string, ok bool) {
	out = make([]string, 0, len(args)+5)
	for _, a := range args {
		if a == "-nographic" {
			out = append(out, "-display", "none", "-monitor", "none", "-serial", "file:"+path)
			ok = true
			continue
		}
		out = append(out, a)
	}
	return out, ok
}

// checkLinuxBoot asserts what every boot must show: the workload's block
// with every line as Expected computes it, the kernel log dumped, no
// oops, warning, panic or crashed program anywhere, and exit status 0 on
// the workload's reboot.
func checkLinuxBoot(t *testing.T, b *linuxBoot, release string) {
	t.Helper()
	if !b.complete {
		t.Fatalf("%s: the workload's output or kernel log is missing (exit status %d)\nstderr: %s\nconsole tail:\n%s",
			b.machine, b.status, b.stderr, tail(b.console, 60))
	}
	for _, d := range linuxtest.CheckWorkload(b.workload, release) {
		t.Errorf("%s workload: %s", b.machine, d)
	}
	if p := linuxtest.Problems(b.console); len(p) != 0 {
		t.Errorf("%s: the kernel reported problems:\n%s", b.machine, strings.Join(p, "\n"))
	}
	if b.status != 0 {
		t.Errorf("%s exited with status %d on the workload's reboot, want 0\nstderr: %s", b.machine, b.status, b.stderr)
	}
	if len(b.dmesg) < 100 || !strings.HasPrefix(b.dmesg[0], "Linux version "+release+" ") {
		t.Errorf("%s: the kernel log (%d lines) does not start with Linux version %s", b.machine, len(b.dmesg), release)
	}
}

// TestLinuxQEMUWorkload boots Debian's stock cloud kernel with the
// workload initramfs in QEMU 7.2 and checks the workload's every result
// against values computed in Go. It is the reference half of
// TestLinuxOursMatchesQEMU (linux_ours_test.go), which can only ask ours
// for the same output if QEMU's does not change from run to run: so it
// boots twice and wants the same console byte for byte, kernel log and
// its timestamps included (the instruction clock makes it so, on a
// loaded host too).
func TestLinuxQEMUWorkload(t *testing.T) {
	f := linuxtest.Require(t)
	acquireHeavy(t)
	b := referenceLinuxQEMU(t, f)
	checkLinuxBoot(t, b, f.Release)
	if again := bootLinuxQEMU(t, f); again.console != b.console {
		ls1, ls2 := strings.Split(b.console, "\n"), strings.Split(again.console, "\n")
		for i := 0; i < max(len(ls1), len(ls2)); i++ {
			if i >= len(ls1) || i >= len(ls2) || ls1[i] != ls2[i] {
				t.Errorf("two QEMU boots differ from console line %d on:\nfirst:  %q\nsecond: %q",
					i+1, strings.Join(ls1[i:min(i+3, len(ls1))], "\n"), strings.Join(ls2[i:min(i+3, len(ls2))], "\n"))
				break
			}
		}
	}
	// Every allowed difference is a line QEMU prints; one it no longer
	// prints means the list has gone stale with a new kernel or QEMU.
	for _, a := range linuxtest.AllowedDifferences {
		found := false
		for _, l := range b.dmesg {
			if a.Pattern.MatchString(l) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("allowed difference %s matches no line of QEMU's kernel log: remove or update it", a.Pattern)
		}
	}
}

// shellCommand is what the interactive tests type, and shellAnswer the
// line it must print: shell arithmetic and a forked program's output.
const (
	shellCommand = `echo "typed: $((6 * 7)) $(uname -m)"`
	shellAnswer  = "typed: 42 x86_64"
)

// typeIntoShell runs bin with args (a boot of linuxtest.ShellInitramfs
// with COM1 on stdin and stdout), waits for the shell, types shellCommand
// and then reboot -f, and returns the console and the exit status.
func typeIntoShell(t *testing.T, machine string, timeout time.Duration, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr testtool.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", machine, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	// waitFor waits until the console has a line equal to line.
	waitFor := func(line string) {
		t.Helper()
		for {
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.TrimRight(l, "\r") == line {
					return
				}
			}
			select {
			case err := <-done:
				t.Fatalf("%s exited (%v) before printing %q\nstderr: %s\nconsole tail:\n%s", machine, err, line, stderr.String(), tail(out.String(), 30))
			case <-ctx.Done():
				t.Fatalf("%s did not print %q: %v\nconsole tail:\n%s", machine, line, ctx.Err(), tail(out.String(), 30))
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	waitFor(linuxtest.ShellReady)
	if _, err := io.WriteString(stdin, shellCommand+"\n"); err != nil {
		t.Fatalf("type into %s: %v", machine, err)
	}
	waitFor(shellAnswer)
	if _, err := io.WriteString(stdin, "reboot -f\n"); err != nil {
		t.Fatalf("type into %s: %v", machine, err)
	}
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		t.Fatalf("%s did not exit after reboot -f: %v\nconsole tail:\n%s", machine, ctx.Err(), tail(out.String(), 30))
	}
	status := 0
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		status = ee.ExitCode()
	case werr != nil:
		t.Fatalf("%s: %v", machine, werr)
	}
	return out.String(), status
}

// TestLinuxQEMUShellStdin types a command into the busybox shell of a
// Debian kernel boot through COM1 in QEMU, as a user at the console would:
// the command runs, and reboot -f ends QEMU with status 0.
func TestLinuxQEMUShellStdin(t *testing.T) {
	f := linuxtest.Require(t)
	testtool.Require(t, qemutest.QEMU)
	acquireHeavy(t)
	console, status := typeIntoShell(t, "QEMU", linuxQEMUTimeout, qemutest.QEMU, linuxtest.QEMUArgs(f.Kernel, f.ShellInitrd)...)
	if p := linuxtest.Problems(console); len(p) != 0 {
		t.Errorf("QEMU: the kernel reported problems:\n%s", strings.Join(p, "\n"))
	}
	if status != 0 {
		t.Errorf("QEMU exited with status %d on reboot -f, want 0", status)
	}
}
