package paging

import "fmt"

// Map installs a leaf at level (1: 4K, 2: 2M, 3: 1G) mapping linear to
// phys in the tables at cr3, for tests and tools (the guest builds its
// own tables). Missing tables are taken from alloc, which returns the
// physical address of a zeroed, 4K-aligned frame inside mem, and entered
// with the flags upper; leaf gets PS added at levels 3 and 2. A present
// leaf in the way is an error; an existing leaf slot is overwritten.
func Map(mem []byte, cr3, linear, phys uint64, level int, leaf, upper PTE, alloc func() (uint64, error)) error {
	if level < 1 || level > 3 {
		return fmt.Errorf("map %#x: level %d is not 1, 2 or 3", linear, level)
	}
	size := uint64(1) << levelShift(level)
	if phys&(size-1) != 0 {
		return fmt.Errorf("map %#x: physical address %#x is not aligned to %#x", linear, phys, size)
	}
	table := cr3 & addrMask
	for l := 4; l > level; l-- {
		a := table + (linear>>levelShift(l)&511)*8
		e, ok := readEntry(mem, a)
		if !ok {
			return fmt.Errorf("map %#x: level %d table at %#x is outside memory", linear, l, table)
		}
		if !e.Present() {
			t, err := alloc()
			if err != nil {
				return fmt.Errorf("map %#x: allocate level %d table: %w", linear, l-1, err)
			}
			e = PTE(t&addrMask) | upper | FlagP
			writeEntry(mem, a, e)
		} else if isLeaf(l, e) {
			return fmt.Errorf("map %#x: a level %d leaf is in the way", linear, l)
		}
		table = e.Addr()
	}
	a := table + (linear>>levelShift(level)&511)*8
	if _, ok := readEntry(mem, a); !ok {
		return fmt.Errorf("map %#x: level %d table at %#x is outside memory", linear, level, table)
	}
	if level > 1 {
		leaf |= FlagPS
	}
	writeEntry(mem, a, PTE(phys)|leaf)
	return nil
}
