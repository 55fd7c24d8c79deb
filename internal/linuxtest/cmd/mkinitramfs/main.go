// Command mkinitramfs fetches Debian's cloud kernel and busybox-static
// (internal/debian: apt-get download into the cache) and writes the
// workload initramfs of the Linux boot tests. It prints shell assignments
// a script can eval:
//
//	KERNEL=/…/boot/vmlinuz-6.1.0-57-cloud-amd64
//	INITRD=/…/initrd.img
//	RELEASE=6.1.0-57-cloud-amd64
//	APPEND='console=ttyS0 acpi=off panic=-1'
//
// Both live in the Debian cache (internal/debian.CacheDir); -o copies the
// initramfs elsewhere.
//
// Usage: go run ./internal/linuxtest/cmd/mkinitramfs [-o initrd.img]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"vmapstack/internal/linuxtest"
)

func main() {
	out := flag.String("o", "", "also copy the initramfs to this file (default: print its path in the cache)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintf(os.Stderr, "mkinitramfs: %v\n", err)
		os.Exit(1)
	}
}

func run(out string) error {
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
	fmt.Printf("KERNEL=%s\nINITRD=%s\nRELEASE=%s\nAPPEND='%s'\n", f.Kernel, initrd, f.Release, linuxtest.Append)
	return nil
}
