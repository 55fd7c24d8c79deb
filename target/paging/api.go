// Package paging implements x86-64 4-level paging (Intel SDM Vol. 3A ch. 4)
// over a slice of physical memory: the page-table entry type, one walker,
// and the operations built on it (translation with access checks and
// accessed/dirty write-back for the CPU; side-effect-free walks and
// ptdump-style range listings for the debugger).
//
// This file is the contract used by package cpu and the monitor; the
// implementation is in the other files.
package paging

// The exported API:
//
//	type PTE uint64
//	    Methods: Present, Writable, User, WriteThrough, CacheDisable,
//	    Accessed, Dirty, Huge (PS), Global, NX() bool; Addr() uint64 (bits
//	    51:12 of a table pointer or 4K page), HugeAddr(level) uint64, and
//	    String() ("P RW US A D PS G NX" as words, "-" for clear bits).
//	const PageSize = 4096; levels are numbered 4 (PML4) .. 1 (PT).
//
//	type Access struct { Write, User, Fetch bool }
//	type Mode struct { WP, NXE bool } // CR0.WP and EFER.NXE
//
//	type Translation struct {
//	    Phys     uint64 // physical address of the byte asked for
//	    PageBase uint64 // linear base of the page that maps it
//	    PageSize uint64 // 4K, 2M or 1G
//	    Writable, User, NX, Global bool // effective rights, combined over all levels
//	    Dirty bool // the leaf's D bit (after any write-back)
//	}
//
//	type Fault struct {
//	    ErrorCode uint32 // #PF error code: P(0) W/R(1) U/S(2) RSVD(3) I/D(4)
//	    Level     int    // level whose entry stopped the walk
//	    Entry     PTE
//	}
//	func (f *Fault) Error() string
//
//	// Translate walks the tables at cr3 for linear, checks acc against the
//	// combined rights (SDM 4.6), and when setAD is true sets A in every
//	// entry used and D in the leaf for writes (SDM 4.8), as the CPU does.
//	// It never caches anything: the CPU's TLB sits in front of it.
//	func Translate(mem []byte, cr3, linear uint64, acc Access, mode Mode, setAD bool) (Translation, *Fault)
//
//	// Walk visits the entries a translation of linear reads, top level
//	// first, stopping at a not-present entry or the leaf. A table outside
//	// mem ends the walk with an error naming the level and address.
//	func Walk(mem []byte, cr3, linear uint64, visit func(level int, entryAddr uint64, e PTE)) error
//
//	// Ranges calls fn for every maximal run of linear addresses mapped
//	// with the same effective rights and contiguous physical memory, in
//	// address order (canonical form), ptdump style; holes are the gaps
//	// between runs.
//	type Range struct { Start, End uint64 (exclusive); Phys uint64; Level int (leaf level); Writable, User, NX, Global bool }
//	func Ranges(mem []byte, cr3 uint64, fn func(Range)) error
