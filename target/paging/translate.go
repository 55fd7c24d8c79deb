package paging

import (
	"fmt"
	"strings"
)

// Access describes the access being translated.
type Access struct {
	Write bool // a write (W/R=1 in the error code)
	User  bool // a user-mode access (CPL=3, not an implicit supervisor access)
	Fetch bool // an instruction fetch
}

// Mode holds the control bits that change the walk: CR0.WP and EFER.NXE.
type Mode struct{ WP, NXE bool }

// Translation is the result of a successful Translate.
type Translation struct {
	Phys     uint64 // physical address of the byte asked for
	PageBase uint64 // linear base of the page that maps it
	PageSize uint64 // 4K, 2M or 1G
	// Effective rights, combined over all levels (SDM 4.6): Writable and
	// User are the AND of R/W and U/S, NX the OR of XD; Global is the
	// leaf's G bit.
	Writable, User, NX, Global bool
	Dirty                      bool // the leaf's D bit (after any write-back)
}

// #PF error-code bits (SDM Vol. 3A 4.7, Figure 4-12).
const (
	ErrP    = 1 << 0 // 0: not-present entry; 1: protection or reserved-bit violation
	ErrW    = 1 << 1 // the access was a write
	ErrU    = 1 << 2 // the access was a user-mode access
	ErrRSVD = 1 << 3 // a reserved bit was set in some paging-structure entry
	ErrI    = 1 << 4 // the access was an instruction fetch (only with EFER.NXE=1)
)

// Fault is a page fault raised by Translate.
type Fault struct {
	ErrorCode uint32 // #PF error code: P(0) W/R(1) U/S(2) RSVD(3) I/D(4)
	Level     int    // level whose entry stopped the walk
	Entry     PTE
}

// Error describes the fault, e.g. "page fault (error code 0x2: W) at
// level 1: entry - RW - - - - - -".
func (f *Fault) Error() string {
	return fmt.Sprintf("page fault (error code %#x: %s) at level %d: entry %#x [%s]",
		f.ErrorCode, DecodeErrorCode(f.ErrorCode), f.Level, uint64(f.Entry), f.Entry)
}

// DecodeErrorCode names the set bits of a #PF error code ("P W U RSVD I"
// subset), or "not-present read" style words when none is set.
func DecodeErrorCode(code uint32) string {
	var w []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{ErrP, "P"}, {ErrW, "W"}, {ErrU, "U"}, {ErrRSVD, "RSVD"}, {ErrI, "I"}} {
		if code&b.bit != 0 {
			w = append(w, b.name)
		}
	}
	if len(w) == 0 {
		return "-"
	}
	return strings.Join(w, " ")
}

// Translate walks the tables at cr3 for linear, checks acc against the
// combined rights (SDM 4.6), and when setAD is true sets A in every
// entry used and D in the leaf for writes (SDM 4.8), as the CPU does.
// It never caches anything: the CPU's TLB sits in front of it.
//
// Only bits 47:0 of linear select entries; the caller checks canonical
// form (#GP/#SS) first. A/D bits are written only when the access
// succeeds, so a faulting access leaves the tables untouched (the SDM
// allows A to be set on upper levels of a faulting walk, but does not
// require it; not doing so keeps faults free of side effects).
//
// A paging-structure entry outside mem reads as all ones, as a read of a
// floating bus does on a PC: bits above MAXPHYADDR are then set and the
// access faults with RSVD=1 (and P=1), a guest-visible #PF rather than an
// emulator error.
func Translate(mem []byte, cr3, linear uint64, acc Access, mode Mode, setAD bool) (Translation, *Fault) {
	var (
		code uint32
		// Effective rights accumulate over the levels (SDM 4.6.1).
		rw, us, nx = true, true, false
		addrs      [4]uint64 // entry addresses, by level-1
		entries    [4]PTE
		fault      *Fault
		tr         Translation
	)
	if acc.Write {
		code |= ErrW
	}
	if acc.User {
		code |= ErrU
	}
	// I/D is reported for fetches only when NXE=1 (or SMEP, which we do
	// not have) with PAE/4-level paging (SDM 4.7).
	if acc.Fetch && mode.NXE {
		code |= ErrI
	}
	leafLevel := 0
	walkRange(mem, cr3, linear, linear, func(s step) action {
		e := s.entry
		if !e.Present() {
			fault = &Fault{ErrorCode: code, Level: s.level, Entry: e}
			return stop
		}
		if uint64(e)&reservedMask(s.level, e, mode.NXE) != 0 {
			fault = &Fault{ErrorCode: code | ErrP | ErrRSVD, Level: s.level, Entry: e}
			return stop
		}
		addrs[s.level-1], entries[s.level-1] = s.entryAddr, e
		rw = rw && e.Writable()
		us = us && e.User()
		nx = nx || e.NX()
		if isLeaf(s.level, e) {
			leafLevel = s.level
			return stop
		}
		return descend
	})
	if fault != nil {
		return Translation{}, fault
	}
	leaf := entries[leafLevel-1]
	// Access rights (SDM 4.6.1). Supervisor accesses to user pages are
	// allowed (no SMEP/SMAP); supervisor writes to read-only pages fault
	// only with CR0.WP=1; NX matters only with EFER.NXE=1 (else XD is a
	// reserved bit and faulted above).
	violation := (acc.User && !us) ||
		(acc.Write && !rw && (acc.User || mode.WP)) ||
		(acc.Fetch && nx && mode.NXE)
	if violation {
		return Translation{}, &Fault{ErrorCode: code | ErrP, Level: leafLevel, Entry: leaf}
	}
	if setAD {
		// SDM 4.8: A in every entry used, D in the leaf on a write. Write
		// only the entries that change.
		for l := 4; l >= leafLevel; l-- {
			e := entries[l-1] | bitA
			if l == leafLevel && acc.Write {
				e |= bitD
			}
			if e != entries[l-1] {
				entries[l-1] = e
				writeEntry(mem, addrs[l-1], e)
			}
		}
		leaf = entries[leafLevel-1]
	}
	size := uint64(1) << levelShift(leafLevel)
	lin := canonical(linear & (1<<LinearAddrBits - 1))
	tr = Translation{
		Phys:     leaf.HugeAddr(leafLevel) | lin&(size-1),
		PageBase: lin &^ (size - 1),
		PageSize: size,
		Writable: rw,
		User:     us,
		NX:       nx,
		Global:   leaf.Global(),
		Dirty:    leaf.Dirty(),
	}
	return tr, nil
}
