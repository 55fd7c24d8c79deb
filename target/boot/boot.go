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
	"vmapstack/target/x86"
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

// FirmwareMSRs are the MSRs the firmware leaves programmed when it hands
// over to a kernel: under QEMU that is SeaBIOS (which runs before both the
// Linux setup code and the PVH option ROM), and the kernel reads them back
// (Linux prints its PAT line only when the MTRRs are enabled). SeaBIOS'
// mtrr_setup: fixed ranges write-back below 640 KiB, uncached for the VGA
// window, write-protect for the ROM area, variable range 0 uncached from
// its PCI window start (0xe0000000 on the pc machine) to 4 GiB, MTRRs
// enabled with write-back as the default type. physBits is the CPU's
// physical address width (CPUID 80000008h).
func FirmwareMSRs(ramSize uint64, physBits uint) map[uint32]uint64 {
	const wb, wp = 0x0606060606060606, 0x0505050505050505
	const pciStart = 0xe0000000
	m := map[uint32]uint64{
		x86.MSRMTRRFix64K:      0,
		x86.MSRMTRRFix16K80000: 0,
		x86.MSRMTRRFix16KA0000: 0, // the VGA window: uncached
	}
	// SeaBIOS marks each fixed range whose end RAM covers; with any RAM
	// size this machine accepts, that is all of them.
	if ramSize >= 0x80000 {
		m[x86.MSRMTRRFix64K] = wb
	}
	if ramSize >= 0xa0000 {
		m[x86.MSRMTRRFix16K80000] = wb
	}
	for j := uint32(0); j < 8; j++ {
		m[x86.MSRMTRRFix4KC0000+j] = 0
		if ramSize >= 0x100000 {
			m[x86.MSRMTRRFix4KC0000+j] = wp
		}
	}
	for i := uint32(0); i < 16; i++ {
		m[x86.MSRMTRRPhysBase0+i] = 0
	}
	mask := uint64(1)<<physBits - 1
	size := uint64(1)<<32 - pciStart
	m[x86.MSRMTRRPhysBase0] = pciStart             // type 0: uncached
	m[x86.MSRMTRRPhysBase0+1] = -size&mask | 0x800 // the mask of a size-aligned range, valid
	m[x86.MSRMTRRDefType] = 0xc06                  // MTRRs and fixed ranges enabled, default write-back
	return m
}
