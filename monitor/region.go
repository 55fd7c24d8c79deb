package monitor

import (
	"fmt"

	"vmapstack/target/paging"
	"vmapstack/target/x86"
)

// MemoryRegion is the region of the address space around an address, as
// lldb's qMemoryRegionInfo describes it: [Start, Start+Size) with the
// same permissions throughout, or, when Mapped is false, the hole up to
// the next mapped page (lldb wants the distance to the next region).
// Size 0 means "to the top of the address space" (2^64 - Start).
type MemoryRegion struct {
	Start, Size   uint64
	Mapped        bool
	Write, Exec   bool // read is implied by Mapped
	PagingEnabled bool // false: physical memory, the region is RAM or not
}

// Reply is the qMemoryRegionInfo answer body:
// "start:HEX;size:HEX;permissions:rwx;" (permissions only when mapped).
func (r MemoryRegion) Reply() string {
	s := fmt.Sprintf("start:%x;size:%x;", r.Start, r.Size)
	if r.Mapped {
		p := "r"
		if r.Write {
			p += "w"
		}
		if r.Exec {
			p += "x"
		}
		s += "permissions:" + p + ";"
	}
	return s
}

// MemoryRegionAt returns the region containing addr from the current page
// tables (lldb's qMemoryRegionInfo, which QEMU does not answer): the
// maximal run of mapped pages with the same effective write and execute
// rights (combined over all levels; execute is !XD when EFER.NXE is set),
// or the unmapped gap around addr. Non-canonical addresses lie in the gap
// between the halves. With paging off the region is guest RAM (rwx) or
// the space above it. A walk cut short (recursive tables) gives what was
// found and the walk's error.
func (mon *Monitor) MemoryRegionAt(addr uint64) (MemoryRegion, error) {
	st := mon.state()
	if st.CR0&x86.CR0PG == 0 {
		n := mon.m.MemoryBytes()
		if addr < n {
			return MemoryRegion{Start: 0, Size: n, Mapped: true, Write: true, Exec: true}, nil
		}
		return MemoryRegion{Start: n, Size: -n}, nil
	}
	nxe := st.EFER&x86.EFERNXE != 0
	const lowEnd, highStart = 1 << 47, 0xffff800000000000
	if addr >= lowEnd && addr < highStart {
		return MemoryRegion{Start: lowEnd, Size: highStart - lowEnd, PagingEnabled: true}, nil
	}
	// Merge the ranges by rights and adjacency, keeping the run that holds
	// addr, or the gap where addr falls.
	var (
		found                bool
		run                  MemoryRegion
		cur                  MemoryRegion
		has                  bool
		gapStart, nextMapped uint64
		haveNext             bool
	)
	// The gap addr lies in starts at the end of the last run below it:
	// the bottom of addr's half when there is none.
	gapStart = 0
	if addr >= highStart {
		gapStart = highStart
	}
	closeRun := func() {
		if has && !found && addr-cur.Start < cur.Size {
			run, found = cur, true
		}
		has = false
	}
	err := paging.Ranges(mon.m.RAM(), st.CR3, func(r paging.Range) {
		if r.Start <= addr && r.End > gapStart {
			gapStart = r.End
		}
		w, x := r.Writable, !(nxe && r.NX)
		if has && cur.Start+cur.Size == r.Start && cur.Write == w && cur.Exec == x {
			cur.Size += r.Size()
			return
		}
		closeRun()
		if found {
			return
		}
		if r.Start > addr {
			if !haveNext {
				nextMapped, haveNext = r.Start, true
			}
			return
		}
		cur, has = MemoryRegion{Start: r.Start, Size: r.Size(), Mapped: true, Write: w, Exec: x, PagingEnabled: true}, true
	})
	closeRun()
	if found {
		return run, err
	}
	end := uint64(0) // the top of the address space
	switch {
	case haveNext && (addr < lowEnd) == (nextMapped < lowEnd):
		end = nextMapped
	case addr < lowEnd:
		end = lowEnd
	}
	return MemoryRegion{Start: gapStart, Size: end - gapStart, PagingEnabled: true}, err
}
