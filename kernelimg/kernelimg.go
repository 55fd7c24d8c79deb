// Package kernelimg holds the vmapstack mini kernel: a small x86-64 kernel
// in C and GNU as (sources in this directory, built by `make -C kernelimg`)
// whose tasks run on vmapped stacks with guard pages, as Linux's
// CONFIG_VMAP_STACK. See README.md for its scenarios.
package kernelimg

import _ "embed"

// ELF is kernel.elf: an ELF64 image linked at 0xffffffff80100000, loaded
// at physical 1 MiB, with a Xen PHYS32_ENTRY note (PVH boot) and full
// DWARF. The same bytes boot under `qemu-system-x86_64 -kernel` and in our
// machine. Treat it as read-only.
//
//go:embed kernel.elf
var ELF []byte
