package paging

import (
	"encoding/binary"
	"fmt"
)

// The one table walker, after gVisor's pkg/ring0/pagetables: it iterates
// over a range of linear addresses table by table (never page by page) and
// hands every entry it reads to an operation-specific visit function,
// which decides whether to descend, skip or stop. Translate, Walk and
// Ranges are visitors.

// step is one entry read by the walker.
type step struct {
	level     int
	entryAddr uint64 // physical address of the entry
	entry     PTE
	linear    uint64 // canonical linear base of the region the entry covers
	// inMem is false when the entry lies outside physical memory; entry is
	// then all ones, what a read of a floating bus returns.
	inMem bool
}

type action uint8

const (
	descend action = iota // follow a present non-leaf entry, then go on
	skip                  // do not follow this entry, go on with the next
	stop                  // end the walk
)

// readEntry reads the 8-byte entry at addr.
func readEntry(mem []byte, addr uint64) (PTE, bool) {
	if addr > uint64(len(mem)) || uint64(len(mem))-addr < 8 {
		return ^PTE(0), false
	}
	return PTE(binary.LittleEndian.Uint64(mem[addr:])), true
}

// writeEntry stores e at addr, which readEntry has already accepted.
func writeEntry(mem []byte, addr uint64, e PTE) {
	binary.LittleEndian.PutUint64(mem[addr:], uint64(e))
}

// walkRange visits the entries that map the 48-bit linear range
// [first, last] (inclusive, bits 47:0 only), in address order, starting
// from the PML4 at cr3. It reports whether a visitor stopped it.
func walkRange(mem []byte, cr3, first, last uint64, visit func(s step) action) bool {
	return walkTable(mem, cr3&addrMask, 4, first&(1<<LinearAddrBits-1), last&(1<<LinearAddrBits-1), visit)
}

func walkTable(mem []byte, table uint64, level int, first, last uint64, visit func(s step) action) bool {
	shift := levelShift(level)
	size := uint64(1) << shift
	for a := first; ; {
		base := a &^ (size - 1)
		entryAddr := table + (a>>shift&511)*8
		e, ok := readEntry(mem, entryAddr)
		switch visit(step{level: level, entryAddr: entryAddr, entry: e, linear: canonical(base), inMem: ok}) {
		case stop:
			return true
		case descend:
			if ok && e.Present() && !isLeaf(level, e) {
				if walkTable(mem, e.Addr(), level-1, a, min(last, base+size-1), visit) {
					return true
				}
			}
		}
		next := base + size
		if next > last {
			return false
		}
		a = next
	}
}

// Walk visits the entries a translation of linear reads, top level
// first, stopping at a not-present entry or the leaf. A table outside
// mem ends the walk with an error naming the level and address.
//
// Walk checks no rights and reserved bits and changes nothing: it shows
// what the tables say (a PS bit in a PML4E, reserved there, is followed
// as a table pointer).
func Walk(mem []byte, cr3, linear uint64, visit func(level int, entryAddr uint64, e PTE)) error {
	var err error
	walkRange(mem, cr3, linear, linear, func(s step) action {
		if !s.inMem {
			err = fmt.Errorf("walk %#x: level %d table entry at %#x is outside physical memory (%#x bytes)",
				canonical(linear&(1<<LinearAddrBits-1)), s.level, s.entryAddr, len(mem))
			return stop
		}
		visit(s.level, s.entryAddr, s.entry)
		if !s.entry.Present() || isLeaf(s.level, s.entry) {
			return stop
		}
		return descend
	})
	return err
}
