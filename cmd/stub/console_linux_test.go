package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"vmapstack/internal/testtool"
)

// openPTY returns the two ends of a new pseudo-terminal (Linux's ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestConsoleTerminalQuit: on a terminal, --serial stdio puts it in raw
// mode, Ctrl-a x ends a guest that would run for ever with status 0, and
// the terminal's mode is restored.
func TestConsoleTerminalQuit(t *testing.T) {
	master, slave := openPTY(t)
	before, err := term.GetState(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	kernel := filepath.Join(t.TempDir(), "spin.elf")
	if err := os.WriteFile(kernel, testtool.PVHKernel([]byte{0xeb, 0xfe}), 0o644); err != nil { // jmp $
		t.Fatal(err)
	}
	o, err := parseArgs([]string{"--listen", "none", "--kernel", kernel}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net only
	defer cancel()
	if _, err := master.Write([]byte{0x01, 'x'}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(ctx, o, stdio{in: slave, out: &out, err: &errb})
	if ctx.Err() != nil {
		t.Fatal("Ctrl-a x did not end the run")
	}
	if code != 0 || !strings.Contains(errb.String(), "terminated (Ctrl-a x)") || !strings.Contains(errb.String(), "Ctrl-a x quits") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	after, err := term.GetState(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Error("the terminal's mode was not restored")
	}
}

// TestConsoleInputTerminalModes: raw input (no line editing, no echo, no
// signals from Ctrl-C) but output processing kept ("\n" returns the
// carriage, as with QEMU), and the original mode back on restore.
func TestConsoleInputTerminalModes(t *testing.T) {
	_, slave := openPTY(t)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	_, restore, err := consoleInput(slave, &errb, func() {})
	if err != nil {
		t.Fatal(err)
	}
	during, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if during.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("lflag %#x: still canonical, echoing or generating signals", during.Lflag)
	}
	if during.Oflag&(unix.OPOST|unix.ONLCR) != unix.OPOST|unix.ONLCR {
		t.Errorf("oflag %#x: output processing turned off", during.Oflag)
	}
	restore()
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Error("restore did not bring the terminal's mode back")
	}
}
