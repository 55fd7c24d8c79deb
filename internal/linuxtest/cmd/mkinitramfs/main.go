// Command mkinitramfs fetches Debian's cloud kernel and busybox-static
// (internal/debian: apt-get download into the cache) and writes the
// workload initramfs of the Linux boot tests. It prints shell assignments
// a script can eval:
//
//	KERNEL=/…/boot/vmlinuz-6.1.0-57-cloud-amd64
//	INITRD=/…/initrd.img
//	SHELL_INITRD=/…/initrd-….img                 the interactive shell's initramfs
//	RELEASE=6.1.0-57-cloud-amd64
//	APPEND='console=ttyS0 acpi=off panic=-1'
//	QEMU_ARGS=('-nographic' '-no-reboot' …)     linuxtest.QEMUArgs, a bash array
//	STUB_ARGS=('--listen' 'none' …)             linuxtest.StubArgs with -serial's file
//
// Both live in the Debian cache (internal/debian.CacheDir); -o copies the
// initramfs elsewhere.
//
// With -overflow DIR it also builds the stack-overflow test module
// (internal/linuxtest/overflowmod) in DIR/overflowmod against
// /usr/src/linux-headers-<release>, which must be the kernel's package
// version (apt-get install linux-headers-cloud-amd64), writes the overflow
// initramfs into DIR, and prints the same for that boot:
//
//	OVERFLOW_KO=/…/overflowmod/overflow.ko
//	OVERFLOW_INITRD=/…/initrd-….img
//	OVERFLOW_APPEND='… no_hash_pointers nokaslr randomize_kstack_offset=off'
//	OVERFLOW_QEMU_ARGS=(…)
//	OVERFLOW_STUB_ARGS=(…)
//
// Usage: go run ./internal/linuxtest/cmd/mkinitramfs [-o initrd.img] [-overflow DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vmapstack/internal/linuxtest"
)

func main() {
	out := flag.String("o", "", "also copy the initramfs to this file (default: print its path in the cache)")
	serial := flag.String("serial", "com1.log", "the file STUB_ARGS sends COM1 to")
	overflow := flag.String("overflow", "", "also build overflow.ko and the overflow initramfs in this directory")
	flag.Parse()
	if err := run(*out, *serial, *overflow); err != nil {
		fmt.Fprintf(os.Stderr, "mkinitramfs: %v\n", err)
		os.Exit(1)
	}
}

func run(out, serial, overflow string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f, err := linuxtest.Prepare(ctx, "")
	if err != nil {
		return err
	}
	initrd := f.Initrd
	if out != "" {
		img, err := os.ReadFile(f.Initrd)
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, img, 0o644); err != nil {
			return err
		}
		if initrd, err = filepath.Abs(out); err != nil {
			return err
		}
	}
	fmt.Printf("KERNEL=%s\nINITRD=%s\nSHELL_INITRD=%s\nRELEASE=%s\n", quote(f.Kernel), quote(initrd), quote(f.ShellInitrd), quote(f.Release))
	fmt.Printf("APPEND=%s\n", quote(linuxtest.Append))
	fmt.Printf("QEMU_ARGS=(%s)\n", quoteAll(linuxtest.QEMUArgs(f.Kernel, initrd)))
	fmt.Printf("STUB_ARGS=(%s)\n", quoteAll(linuxtest.StubArgs(f.Kernel, initrd, serial)))
	if overflow == "" {
		return nil
	}
	if overflow, err = filepath.Abs(overflow); err != nil {
		return err
	}
	if err := os.MkdirAll(overflow, 0o755); err != nil {
		return err
	}
	o, err := linuxtest.PrepareOverflow(ctx, f, overflow)
	if err != nil {
		return err
	}
	fmt.Printf("OVERFLOW_KO=%s\nOVERFLOW_INITRD=%s\n", quote(o.Module), quote(o.Initrd))
	fmt.Printf("OVERFLOW_APPEND=%s\n", quote(linuxtest.OverflowAppend))
	fmt.Printf("OVERFLOW_QEMU_ARGS=(%s)\n", quoteAll(linuxtest.QEMUArgsAppend(f.Kernel, o.Initrd, linuxtest.OverflowAppend)))
	fmt.Printf("OVERFLOW_STUB_ARGS=(%s)\n", quoteAll(linuxtest.StubArgsAppend(f.Kernel, o.Initrd, serial, linuxtest.OverflowAppend)))
	return nil
}

// quote quotes s for bash.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quote(a)
	}
	return strings.Join(q, " ")
}
