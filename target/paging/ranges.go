package paging

import "fmt"

// Range is a maximal run of linear addresses [Start, End) mapped by leaves
// of the same level, with the same effective rights, onto contiguous
// physical memory starting at Phys.
type Range struct {
	// Canonical linear addresses, End exclusive. A run that reaches the
	// top of the address space has End 0 (Size still works modulo 2^64).
	Start, End uint64
	Phys       uint64
	Level      int // leaf level: 3 (1G pages), 2 (2M) or 1 (4K)
	// Effective rights combined over all levels as in Translate (NX is the
	// OR of the XD bits whatever EFER.NXE says); Global is the leaf's G.
	Writable, User, NX, Global bool
}

// Size is End-Start.
func (r Range) Size() uint64 { return r.End - r.Start }

// Ranges calls fn for every maximal run of linear addresses mapped
// with the same effective rights and contiguous physical memory, in
// address order (canonical form), ptdump style; holes are the gaps
// between runs.
//
// Runs are merged only between leaves of the same level, as Linux's
// ptdump does, so Level is meaningful. The walk follows tables, not
// addresses: its cost is the number of present tables times 512. It does
// not check reserved bits (they depend on EFER.NXE, and a dump should
// show what the tables say); Translate does. A table outside mem is
// skipped and reported in the returned error after the whole space has
// been listed; the first such table is named.
//
// Tables that point back up the tree (a recursive slot) or garbage taken
// for tables could make the walk visit up to 2^36 entries; it stops with
// an error after MaxRangeTables tables.
func Ranges(mem []byte, cr3 uint64, fn func(Range)) error {
	return ranges(mem, cr3, fn, MaxRangeTables)
}

// MaxRangeTables bounds the tables Ranges descends into: 65536 tables map
// 128 GiB with 4K pages, far more than the machine has, and take about a
// tenth of a second to list.
const MaxRangeTables = 1 << 16

func ranges(mem []byte, cr3 uint64, fn func(Range), maxTables int) error {
	var (
		err    error
		tables int
		cur    Range
		has    bool
		// Rights accumulated down the current path, by level-1; index 4
		// is the neutral element above the PML4.
		rw = [5]bool{4: true}
		us = [5]bool{4: true}
		nx [5]bool
	)
	flush := func() {
		if has {
			fn(cur)
			has = false
		}
	}
	walkRange(mem, cr3, 0, 1<<LinearAddrBits-1, func(s step) action {
		if !s.inMem {
			if err == nil {
				err = fmt.Errorf("ranges: level %d table entry at %#x (for %#x) is outside physical memory (%#x bytes)",
					s.level, s.entryAddr, s.linear, len(mem))
			}
			flush()
			return skip
		}
		e := s.entry
		if !e.Present() {
			flush()
			return skip
		}
		i := s.level - 1
		rw[i] = rw[i+1] && e.Writable()
		us[i] = us[i+1] && e.User()
		nx[i] = nx[i+1] || e.NX()
		if !isLeaf(s.level, e) {
			if tables++; tables > maxTables {
				flush()
				err = fmt.Errorf("ranges: stopped at %#x after %d tables (recursive or corrupt page tables?)", s.linear, maxTables)
				return stop
			}
			return descend
		}
		size := uint64(1) << levelShift(s.level)
		r := Range{
			Start: s.linear, End: s.linear + size,
			Phys: e.HugeAddr(s.level), Level: s.level,
			Writable: rw[i], User: us[i], NX: nx[i], Global: e.Global(),
		}
		if has && cur.End == r.Start && cur.Phys+(cur.End-cur.Start) == r.Phys &&
			cur.Level == r.Level && cur.Writable == r.Writable && cur.User == r.User &&
			cur.NX == r.NX && cur.Global == r.Global {
			cur.End = r.End
			return skip
		}
		flush()
		cur, has = r, true
		return skip
	})
	flush()
	return err
}
