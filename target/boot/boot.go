// Package boot is the contract between the machine and its kernel
// loaders: what a loader is given (the kernel file, an initrd, the command
// line), what it leaves behind (guest RAM filled in, the CPU state at the
// kernel's entry point, a description for messages and the monitor), and
// how the machine picks one: by probing the file, as QEMU's -kernel does.
//
// Each boot protocol is a package of its own: target/pvh (an ELF with a Xen
// PHYS32_ENTRY note, the mini kernel's and an uncompressed vmlinux's) and
// target/linuxboot (a bzImage such as Debian's /boot/vmlinuz-*, through the
// x86 Linux boot protocol).
package boot

import (
	"fmt"

	"vmapstack/target/cpu"
)

// Files is what the user named on the command line.
type Files struct {
	Kernel     []byte
	KernelName string // the path, for messages
	Initrd     []byte // nil: no initrd
	InitrdName string
	Cmdline    string
}

// Range is a half-open range of physical addresses [Start, End).
type Range struct {
	Start, End uint64
}

// Image describes a kernel a loader put in RAM.
type Image struct {
	Protocol string  // e.g. "PVH", "Linux boot protocol 2.15"
	Entry    uint64  // physical address of the first instruction
	Loaded   []Range // the kernel's physical ranges, sorted
	Initrd   Range   // where the initrd is (zero: none)
	Cmdline  uint64  // physical address of the NUL-terminated command line
	// EntryState turns the CPU state after INIT into the state the
	// protocol promises at the entry point.
	EntryState func(cpu.State) cpu.State
}

// A Loader is one boot protocol.
type Loader interface {
	// Name says which protocol it is, for messages.
	Name() string
	// Probe reports whether kernel is in this loader's format. It looks
	// only at magic numbers: Load does the full validation.
	Probe(kernel []byte) bool
	// Load writes the kernel, the initrd and the boot data into ram. It
	// never panics on malformed input; its errors name the file.
	Load(ram []byte, f Files) (*Image, error)
}

// Load probes the kernel with each loader in order and loads it with the
// first that recognises it.
func Load(ram []byte, f Files, loaders ...Loader) (*Image, error) {
	for _, l := range loaders {
		if l.Probe(f.Kernel) {
			return l.Load(ram, f)
		}
	}
	names := ""
	for i, l := range loaders {
		if i > 0 {
			names += " or "
		}
		names += l.Name()
	}
	return nil, fmt.Errorf("%s: not a kernel this machine can boot (want %s)", f.KernelName, names)
}

// Limits every loader shares: the guest's RAM sits below 4 GiB, as on
// QEMU's pc machine with up to 3.5 GiB (above that QEMU splits RAM around
// the PCI hole, which we do not model).
const MaxMemory = 0xe0000000
