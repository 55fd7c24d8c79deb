package linuxtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"vmapstack/internal/debian"
	"vmapstack/internal/testtool"
)

// RTCBase is the date our machine's CMOS clock starts at
// (target/devices: 2025-01-01 00:00:00 UTC plus virtual time). QEMU is
// given the same with -rtc so that its log and ours carry the same date,
// and two QEMU runs the same one.
const RTCBase = "2025-01-01T00:00:00"

// QEMUArgs returns qemu-system-x86_64's arguments to boot kernel with
// initrd as the tests and the benchmark do:
//
//   - -nographic: COM1 on stdout, no display (the monitor is multiplexed
//     on stdio too; the tests give QEMU no stdin);
//   - -no-reboot: the workload's reboot -f (and panic=-1) exits QEMU with
//     status 0, as our stub exits on a guest reset;
//   - -icount shift=0,sleep=off: QEMU's clock counts instructions, one
//     nanosecond each, as ours does, and skips idle time; the boot is then
//     deterministic: two runs print the same console log byte for byte,
//     printk timestamps included (without it the log lines of asynchronous
//     initcalls move and the TSC calibration follows the host). It costs
//     about 30% of TCG's speed (3.6 s instead of 2.8 s on the CI machine);
//   - -rtc base=RTCBase,clock=vm: the CMOS clock our machine has.
func QEMUArgs(kernel, initrd string) []string {
	return QEMUArgsAppend(kernel, initrd, Append)
}

// QEMUArgsAppend is QEMUArgs with the kernel command line cmdline.
func QEMUArgsAppend(kernel, initrd, cmdline string) []string {
	return []string{
		"-nographic", "-no-reboot", "-m", strconv.Itoa(MemoryMiB),
		"-kernel", kernel, "-initrd", initrd, "-append", cmdline,
		"-icount", "shift=0,sleep=off",
		"-rtc", "base=" + RTCBase + ",clock=vm",
	}
}

// StubArgs returns cmd/stub's arguments for the same boot (docs/design.md §5),
// with COM1 written to the file serial.
func StubArgs(kernel, initrd, serial string) []string {
	return StubArgsAppend(kernel, initrd, serial, Append)
}

// StubArgsAppend is StubArgs with the kernel command line cmdline.
func StubArgsAppend(kernel, initrd, serial, cmdline string) []string {
	return []string{
		"--listen", "none",
		"--kernel", kernel, "--initrd", initrd, "--append", cmdline,
		"--memory", strconv.Itoa(MemoryMiB) + "M",
		"--serial", serial,
	}
}

// Files are the kernel and the initramfs images of the boots.
type Files struct {
	Kernel        string // Debian's bzImage
	Release       string // its uname -r
	KernelVersion string // its package's version, e.g. 6.1.192-3
	Busybox       string // Debian's static busybox
	Initrd        string // the workload initramfs (gzipped newc)
	ShellInitrd   string // the interactive one (ShellInitramfs)
}

// Prepare fetches Debian's packages into the cache dir (debian.CacheDir
// when empty) and writes the initramfs images there too.
func Prepare(ctx context.Context, dir string) (*Files, error) {
	if dir == "" {
		var err error
		if dir, err = debian.CacheDir(); err != nil {
			return nil, err
		}
	}
	l, err := (&debian.Cache{Dir: dir}).FetchLinux(ctx)
	if err != nil {
		return nil, err
	}
	bb, err := os.ReadFile(l.Busybox)
	if err != nil {
		return nil, fmt.Errorf("linuxtest: %w", err)
	}
	f := &Files{Kernel: l.Kernel, Release: l.Release, KernelVersion: l.KernelPackage.Version, Busybox: l.Busybox}
	if f.Initrd, err = writeImage(dir, bb, Initramfs); err != nil {
		return nil, err
	}
	if f.ShellInitrd, err = writeImage(dir, bb, ShellInitramfs); err != nil {
		return nil, err
	}
	return f, nil
}

// writeImage writes build(busybox) into dir, named by its content's hash
// so that it is written once and shared by concurrent users.
func writeImage(dir string, busybox []byte, build func([]byte) ([]byte, error)) (string, error) {
	img, err := build(busybox)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(img)
	path := filepath.Join(dir, "initrd-"+hex.EncodeToString(sum[:8])+".img")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, ".initrd-")
	if err != nil {
		return "", fmt.Errorf("linuxtest: initrd: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(img); err != nil {
		tmp.Close()
		return "", fmt.Errorf("linuxtest: initrd: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("linuxtest: initrd: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("linuxtest: initrd: %w", err)
	}
	return path, nil
}

var prepared struct {
	sync.Mutex
	files *Files
}

// Require returns the boot files for a test, fetching them on first use
// in the process. Without apt-get or dpkg-deb, or when apt cannot fetch
// (no package lists, no network), the test skips, or fails under
// VMAPSTACK_REQUIRE_TOOLS=1 as testtool.Require does.
func Require(t testing.TB) *Files {
	t.Helper()
	testtool.Require(t, "apt-get")
	testtool.Require(t, "dpkg-deb")
	prepared.Lock()
	defer prepared.Unlock()
	if prepared.files != nil {
		return prepared.files
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f, err := Prepare(ctx, "")
	if errors.Is(err, debian.ErrUnavailable) {
		testtool.Unavailable(t, "Debian's kernel and busybox: %v", err)
	}
	if err != nil {
		t.Fatalf("Debian's kernel and busybox: %v", err)
	}
	prepared.files = f
	return f
}
