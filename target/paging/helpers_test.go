package paging

import (
	"encoding/binary"
	"testing"
)

// space builds page tables in a slice of physical memory for tests.
type space struct {
	t    testing.TB
	mem  []byte
	next uint64 // next free table frame
	cr3  uint64
}

// newSpace makes size bytes of memory whose first tables start at 1 MiB;
// the PML4 is allocated at once.
func newSpace(t testing.TB, size uint64) *space {
	s := &space{t: t, mem: make([]byte, size), next: 1 << 20}
	s.cr3 = s.table()
	return s
}

func (s *space) table() uint64 {
	a := s.next
	s.next += PageSize
	if s.next > uint64(len(s.mem)) {
		s.t.Fatalf("test memory full")
	}
	return a
}

func (s *space) get(addr uint64) PTE { return PTE(binary.LittleEndian.Uint64(s.mem[addr:])) }
func (s *space) set(addr uint64, e PTE) {
	binary.LittleEndian.PutUint64(s.mem[addr:], uint64(e))
}

// mapPage maps linear to phys with a leaf at level carrying leaf flags
// (PS is added for levels 3 and 2); missing tables are created with
// upper flags. It returns the entry addresses used, indexed by level-1.
func (s *space) mapPage(linear, phys uint64, level int, leaf, upper PTE) [4]uint64 {
	err := Map(s.mem, s.cr3, linear, phys, level, leaf, upper, func() (uint64, error) { return s.table(), nil })
	if err != nil {
		s.t.Fatal(err)
	}
	var addrs [4]uint64
	if err := Walk(s.mem, s.cr3, linear, func(l int, a uint64, _ PTE) { addrs[l-1] = a }); err != nil {
		s.t.Fatal(err)
	}
	return addrs
}

// setFlags replaces the flag bits (keeping the address) of the entry at a.
func (s *space) setFlags(a uint64, flags PTE) {
	s.set(a, PTE(s.get(a).Addr())|flags)
}
