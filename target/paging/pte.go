package paging

import "strings"

// PageSize is the size of the smallest page (SDM Vol. 3A 4.5).
const PageSize = 4096

// MaxPhysAddr is MAXPHYADDR, the physical-address width the emulated CPU
// reports in CPUID.80000008H:EAX[7:0]. It is 40 bits, what QEMU's qemu64
// model reports (phys-bits 40), so the same kernel sees the same reserved
// bits under QEMU and here. Entry bits M..51 are reserved (SDM 4.5.4).
const MaxPhysAddr = 40

// LinearAddrBits is the linear-address width of 4-level paging
// (CPUID.80000008H:EAX[15:8]).
const LinearAddrBits = 48

// Sizes of the pages a leaf at level 3 (PDPTE) and 2 (PDE) maps.
const (
	PageSize2M = 1 << 21
	PageSize1G = 1 << 30
)

// Entry bits (SDM Vol. 3A Tables 4-14 .. 4-20).
const (
	bitP   = 1 << 0
	bitRW  = 1 << 1
	bitUS  = 1 << 2
	bitPWT = 1 << 3
	bitPCD = 1 << 4
	bitA   = 1 << 5
	bitD   = 1 << 6
	bitPS  = 1 << 7
	bitG   = 1 << 8
	bitNX  = 1 << 63

	addrMask = 0x000f_ffff_ffff_f000 // bits 51:12
	// physHighMask is bits 51:MAXPHYADDR, reserved in every entry.
	physHighMask = addrMask &^ (1<<MaxPhysAddr - 1)
)

// Exported names of the entry bits, for code that builds tables (the
// loader, tests).
const (
	FlagP   PTE = bitP
	FlagRW  PTE = bitRW
	FlagUS  PTE = bitUS
	FlagPWT PTE = bitPWT
	FlagPCD PTE = bitPCD
	FlagA   PTE = bitA
	FlagD   PTE = bitD
	FlagPS  PTE = bitPS
	FlagG   PTE = bitG
	FlagNX  PTE = bitNX
)

// PTE is one 64-bit paging-structure entry at any level.
type PTE uint64

func (e PTE) Present() bool      { return e&bitP != 0 }
func (e PTE) Writable() bool     { return e&bitRW != 0 }
func (e PTE) User() bool         { return e&bitUS != 0 }
func (e PTE) WriteThrough() bool { return e&bitPWT != 0 }
func (e PTE) CacheDisable() bool { return e&bitPCD != 0 }
func (e PTE) Accessed() bool     { return e&bitA != 0 }
func (e PTE) Dirty() bool        { return e&bitD != 0 }

// Huge reports the PS bit (bit 7). In a PTE (level 1) that bit is PAT.
func (e PTE) Huge() bool   { return e&bitPS != 0 }
func (e PTE) Global() bool { return e&bitG != 0 }
func (e PTE) NX() bool     { return e&bitNX != 0 }

// Addr is bits 51:12: the next table's address, or a 4K page's frame.
func (e PTE) Addr() uint64 { return uint64(e) & addrMask }

// HugeAddr is the frame of a page mapped by a leaf at level: bits 51:30
// for a 1G page (level 3), 51:21 for a 2M page (level 2), and Addr for a
// 4K page. Bit 12 of a huge leaf is PAT, not address (SDM Table 4-16/18).
func (e PTE) HugeAddr(level int) uint64 {
	switch level {
	case 3:
		return uint64(e) & addrMask &^ (PageSize1G - 1)
	case 2:
		return uint64(e) & addrMask &^ (PageSize2M - 1)
	}
	return e.Addr()
}

// String lists the flags as words, "-" for each clear bit, in the order
// "P RW US A D PS G NX" (e.g. "P RW - A - - G NX").
func (e PTE) String() string {
	var b strings.Builder
	flags := [...]struct {
		on   bool
		name string
	}{
		{e.Present(), "P"}, {e.Writable(), "RW"}, {e.User(), "US"},
		{e.Accessed(), "A"}, {e.Dirty(), "D"}, {e.Huge(), "PS"},
		{e.Global(), "G"}, {e.NX(), "NX"},
	}
	for i, f := range flags {
		if i > 0 {
			b.WriteByte(' ')
		}
		if f.on {
			b.WriteString(f.name)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// levelShift is the number of linear-address bits below the index of a
// table at level (12 for a PT, 39 for the PML4).
func levelShift(level int) uint { return uint(12 + 9*(level-1)) }

// isLeaf tells whether a present entry at level maps a page rather than
// pointing at a table. PS in a PML4E is reserved, not a 512G page: the
// walker follows it as a table and Translate faults on it.
func isLeaf(level int, e PTE) bool {
	return level == 1 || (level <= 3 && e.Huge())
}

// reservedMask is the set of bits that must be zero in a present entry at
// level (SDM Vol. 3A 4.5.4, Tables 4-14 .. 4-20).
func reservedMask(level int, e PTE, nxe bool) uint64 {
	m := uint64(physHighMask)
	switch {
	case level == 4:
		m |= bitPS
	case level == 3 && e.Huge():
		m |= 0x3fffe000 // bits 29:13
	case level == 2 && e.Huge():
		m |= 0x1fe000 // bits 20:13
	}
	if !nxe {
		m |= bitNX // XD is reserved when IA32_EFER.NXE = 0 (SDM 4.5.4)
	}
	return m
}

// canonical sign-extends a 48-bit linear address.
func canonical(a uint64) uint64 {
	return uint64(int64(a<<16) >> 16)
}
