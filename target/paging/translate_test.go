package paging

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

const (
	upperRW        = FlagP | FlagRW | FlagUS // permissive intermediate entries
	testLin uint64 = 0xffffc90000004123      // a vmalloc address
)

func TestTranslatePageSizes(t *testing.T) {
	tests := []struct {
		name   string
		level  int
		linear uint64
		frame  uint64
		want   uint64
	}{
		{"4K", 1, 0xffffc90000004123, 0x0000_0000_0020_3000, 0x203123},
		{"4K low half", 1, 0x0000_0000_0040_0fff, 0x0000_0000_0030_0000, 0x300fff},
		{"2M", 2, 0xffff888000123456, 0x0000_0000_0040_0000, 0x523456},
		{"1G", 3, 0xffff8880_3fff_fff8, 0x0000_0000_4000_0000, 0x7fff_fff8},
		{"4K at top of space", 1, 0xffff_ffff_ffff_f00f, 0x5000, 0x500f},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpace(t, 4<<20)
			s.mapPage(tc.linear, tc.frame, tc.level, FlagP|FlagRW|FlagG, upperRW)
			tr, f := Translate(s.mem, s.cr3, tc.linear, Access{}, Mode{WP: true, NXE: true}, false)
			if f != nil {
				t.Fatalf("fault %v", f)
			}
			size := uint64(1) << levelShift(tc.level)
			if tr.Phys != tc.want || tr.PageSize != size || tr.PageBase != tc.linear&^(size-1) {
				t.Errorf("got phys %#x size %#x base %#x, want %#x %#x %#x",
					tr.Phys, tr.PageSize, tr.PageBase, tc.want, size, tc.linear&^(size-1))
			}
			if !tr.Writable || tr.User || tr.NX || !tr.Global || tr.Dirty {
				t.Errorf("rights %+v", tr)
			}
		})
	}
}

// TestTranslateRights checks every combination of R/W and U/S at all four
// levels, XD at the leaf or an upper level, each access kind, and CR0.WP
// and EFER.NXE, against the rules of SDM 4.6 stated access by access.
func TestTranslateRights(t *testing.T) {
	accesses := []Access{
		{}, {Write: true}, {Fetch: true},
		{User: true}, {User: true, Write: true}, {User: true, Fetch: true},
	}
	n := 0
	for bits := 0; bits < 1<<8; bits++ { // RW and US per level
		for nxAt := 0; nxAt <= 4; nxAt++ { // 0: no XD; else level with XD set
			for _, mode := range []Mode{{}, {WP: true}, {NXE: true}, {WP: true, NXE: true}} {
				s := newSpace(t, 2<<20+6*PageSize)
				addrs := s.mapPage(testLin, 0x3000, 1, FlagP, FlagP)
				allRW, allUS, anyNX := true, true, false
				for l := 1; l <= 4; l++ {
					f := FlagP
					if bits>>(2*(l-1))&1 != 0 {
						f |= FlagRW
					} else {
						allRW = false
					}
					if bits>>(2*(l-1)+1)&1 != 0 {
						f |= FlagUS
					} else {
						allUS = false
					}
					if nxAt == l {
						f |= FlagNX
						anyNX = true
					}
					s.setFlags(addrs[l-1], f)
				}
				for _, acc := range accesses {
					n++
					tr, f := Translate(s.mem, s.cr3, testLin, acc, mode, false)
					var want uint32
					if acc.Write {
						want |= ErrW
					}
					if acc.User {
						want |= ErrU
					}
					if acc.Fetch && mode.NXE {
						want |= ErrI
					}
					var ok bool
					switch {
					case anyNX && !mode.NXE:
						// XD is a reserved bit with NXE=0 (SDM 4.5.4).
						want |= ErrP | ErrRSVD
					case acc.User && !allUS:
						want |= ErrP // user access to a supervisor page
					case acc.User && acc.Write && !allRW:
						want |= ErrP
					case !acc.User && acc.Write && !allRW && mode.WP:
						want |= ErrP // supervisor write to read-only with WP=1
					case acc.Fetch && anyNX:
						want |= ErrP
					default:
						ok = true
					}
					name := fmt.Sprintf("bits=%08b nx@%d mode=%+v acc=%+v", bits, nxAt, mode, acc)
					if ok {
						if f != nil {
							t.Fatalf("%s: unexpected fault %v", name, f)
						}
						if tr.Phys != 0x3123 || tr.Writable != allRW || tr.User != allUS || tr.NX != anyNX {
							t.Fatalf("%s: translation %+v", name, tr)
						}
						continue
					}
					if f == nil {
						t.Fatalf("%s: no fault, want error code %#x", name, want)
					}
					if f.ErrorCode != want {
						t.Fatalf("%s: error code %#x (%s), want %#x (%s)", name,
							f.ErrorCode, DecodeErrorCode(f.ErrorCode), want, DecodeErrorCode(want))
					}
				}
			}
		}
	}
	if n != 256*5*4*6 {
		t.Fatalf("ran %d cases", n)
	}
}

func TestTranslateNotPresent(t *testing.T) {
	for level := 4; level >= 1; level-- {
		for _, acc := range []Access{{}, {Write: true}, {User: true}, {Fetch: true}, {User: true, Write: true}} {
			for _, nxe := range []bool{false, true} {
				s := newSpace(t, 2<<20)
				addrs := s.mapPage(testLin, 0x3000, 1, FlagP|FlagRW|FlagUS, upperRW)
				// Clear P but keep other bits, reserved ones included: a
				// not-present entry is not checked further (SDM 4.7).
				s.set(addrs[level-1], s.get(addrs[level-1])&^FlagP|PTE(1)<<51|FlagNX)
				before := bytes.Clone(s.mem)
				_, f := Translate(s.mem, s.cr3, testLin, acc, Mode{WP: true, NXE: nxe}, true)
				var want uint32
				if acc.Write {
					want |= ErrW
				}
				if acc.User {
					want |= ErrU
				}
				if acc.Fetch && nxe {
					want |= ErrI
				}
				if f == nil || f.ErrorCode != want || f.Level != level || f.Entry != s.get(addrs[level-1]) {
					t.Errorf("level %d acc %+v nxe %v: fault %+v, want code %#x at level %d", level, acc, nxe, f, want, level)
				}
				if !bytes.Equal(before, s.mem) {
					t.Errorf("level %d: a faulting walk changed memory", level)
				}
			}
		}
	}
}

func TestTranslateReserved(t *testing.T) {
	tests := []struct {
		name  string
		level int // leaf level of the mapping
		at    int // level whose entry gets the bits
		bits  PTE
		nxe   bool
		fault bool
	}{
		{"PS in PML4E", 1, 4, FlagPS, true, true},
		{"bit MAXPHYADDR in PML4E", 1, 4, 1 << MaxPhysAddr, true, true},
		{"bit 51 in PDPTE", 1, 3, 1 << 51, true, true},
		{"bit 51 in PTE", 1, 1, 1 << 51, true, true},
		{"bit MAXPHYADDR-1 in PTE is address", 1, 1, 1 << (MaxPhysAddr - 1), true, false},
		{"bits 62:52 ignored", 1, 1, 0x7ff << 52, true, false},
		{"XD with NXE=0 in PDE", 1, 2, FlagNX, false, true},
		{"XD with NXE=1 in PDE", 1, 2, FlagNX, true, false},
		{"2M page bit 13", 2, 2, 1 << 13, true, true},
		{"2M page bit 20", 2, 2, 1 << 20, true, true},
		{"2M page bit 12 is PAT", 2, 2, 1 << 12, true, false},
		{"1G page bit 13", 3, 3, 1 << 13, true, true},
		{"1G page bit 29", 3, 3, 1 << 29, true, true},
		{"1G page bit 12 is PAT", 3, 3, 1 << 12, true, false},
		{"4K PTE bit 7 is PAT", 1, 1, 1 << 7, true, false},
		{"ignored bits 11:9 and 6 in PML4E", 1, 4, 0xe40, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpace(t, 2<<20)
			addrs := s.mapPage(testLin&^(1<<levelShift(tc.level)-1), 0, tc.level, FlagP|FlagRW, FlagP|FlagRW)
			s.set(addrs[tc.at-1], s.get(addrs[tc.at-1])|tc.bits)
			for _, acc := range []Access{{}, {Write: true}, {Fetch: true}} {
				before := bytes.Clone(s.mem)
				_, f := Translate(s.mem, s.cr3, testLin, acc, Mode{WP: true, NXE: tc.nxe}, true)
				if !tc.fault && acc.Fetch && tc.bits&FlagNX != 0 {
					// XD with NXE=1 is a right, not a reserved bit.
					if f == nil || f.ErrorCode != ErrP|ErrI {
						t.Fatalf("fetch from XD page: fault %v, want P I", f)
					}
					continue
				}
				if !tc.fault {
					if f != nil {
						t.Fatalf("acc %+v: unexpected fault %v", acc, f)
					}
					continue
				}
				want := uint32(ErrP | ErrRSVD)
				if acc.Write {
					want |= ErrW
				}
				if acc.Fetch && tc.nxe {
					want |= ErrI
				}
				if f == nil || f.ErrorCode != want || f.Level != tc.at {
					t.Fatalf("acc %+v: fault %v, want code %#x at level %d", acc, f, want, tc.at)
				}
				if !bytes.Equal(before, s.mem) {
					t.Fatalf("faulting walk changed memory")
				}
			}
		})
	}
}

func TestTranslateAccessedDirty(t *testing.T) {
	tests := []struct {
		name     string
		level    int
		acc      Access
		setAD    bool
		wantA    bool
		wantD    bool
		readOnly bool // leaf R/W=0, WP=1: the write faults
	}{
		{"read 4K", 1, Access{}, true, true, false, false},
		{"write 4K", 1, Access{Write: true}, true, true, true, false},
		{"fetch 2M", 2, Access{Fetch: true}, true, true, false, false},
		{"write 2M", 2, Access{Write: true}, true, true, true, false},
		{"write 1G", 3, Access{Write: true}, true, true, true, false},
		{"write without setAD", 1, Access{Write: true}, false, false, false, false},
		{"faulting write", 1, Access{Write: true}, true, false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpace(t, 2<<20)
			leaf := FlagP | FlagRW
			if tc.readOnly {
				leaf = FlagP
			}
			lin := testLin &^ (1<<levelShift(tc.level) - 1)
			addrs := s.mapPage(lin, 0, tc.level, leaf, upperRW)
			tr, f := Translate(s.mem, s.cr3, lin, tc.acc, Mode{WP: true, NXE: true}, tc.setAD)
			if (f != nil) != tc.readOnly {
				t.Fatalf("fault %v", f)
			}
			if f == nil && tr.Dirty != tc.wantD {
				t.Errorf("Translation.Dirty %v, want %v", tr.Dirty, tc.wantD)
			}
			for l := 4; l >= tc.level; l-- {
				e := s.get(addrs[l-1])
				if e.Accessed() != tc.wantA {
					t.Errorf("level %d A=%v, want %v", l, e.Accessed(), tc.wantA)
				}
				wantD := tc.wantD && l == tc.level
				if e.Dirty() != wantD {
					t.Errorf("level %d D=%v, want %v", l, e.Dirty(), wantD)
				}
			}
			// After a successful access, a read changes nothing more.
			if f == nil {
				before := bytes.Clone(s.mem)
				if _, f := Translate(s.mem, s.cr3, lin, Access{}, Mode{WP: true, NXE: true}, tc.setAD); f != nil || !bytes.Equal(before, s.mem) {
					t.Errorf("a repeated read faulted (%v) or rewrote entries", f)
				}
			}
		})
	}
}

func TestTranslateTableOutsideMemory(t *testing.T) {
	s := newSpace(t, 2<<20)
	addrs := s.mapPage(testLin, 0x3000, 1, FlagP|FlagRW, upperRW)
	pdpte := s.get(addrs[2])
	s.set(addrs[2], PTE(0x7000_0000)|upperRW) // PDPTE points past the end
	_, f := Translate(s.mem, s.cr3, testLin, Access{Write: true}, Mode{WP: true, NXE: true}, true)
	if f == nil || f.ErrorCode != ErrP|ErrRSVD|ErrW || f.Level != 2 {
		t.Fatalf("fault %v, want RSVD at level 2", f)
	}
	// CR3 itself outside memory.
	_, f = Translate(s.mem, 1<<39, testLin, Access{}, Mode{}, true)
	if f == nil || f.ErrorCode != ErrP|ErrRSVD || f.Level != 4 {
		t.Fatalf("fault %v, want RSVD at level 4", f)
	}
	// Table straddling the end of memory: the entry itself is cut.
	s.set(addrs[2], pdpte)
	_, f = Translate(s.mem[:addrs[0]+4], s.cr3, testLin, Access{}, Mode{}, false)
	if f == nil || f.Level != 1 || f.ErrorCode&ErrRSVD == 0 {
		t.Fatalf("fault %v, want RSVD at level 1", f)
	}
}

func TestFaultError(t *testing.T) {
	f := &Fault{ErrorCode: ErrP | ErrW | ErrU, Level: 1, Entry: FlagP | FlagUS}
	got := f.Error()
	for _, w := range []string{"0x7", "P W U", "level 1", "P - US - - - - -"} {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
	if DecodeErrorCode(0) != "-" || DecodeErrorCode(ErrRSVD|ErrI|ErrP) != "P RSVD I" {
		t.Errorf("DecodeErrorCode: %q %q", DecodeErrorCode(0), DecodeErrorCode(ErrRSVD|ErrI|ErrP))
	}
}

func TestPTEAccessors(t *testing.T) {
	e := PTE(0x8000_0012_3456_7000) | FlagP | FlagRW | FlagA | FlagD | FlagPS | FlagG | PTE(1)<<12
	if e.Addr() != 0x12_3456_7000|1<<12 {
		t.Errorf("Addr %#x", e.Addr())
	}
	if e.HugeAddr(2) != 0x12_3440_0000 || e.HugeAddr(3) != 0x12_0000_0000 || e.HugeAddr(1) != e.Addr() {
		t.Errorf("HugeAddr %#x %#x", e.HugeAddr(2), e.HugeAddr(3))
	}
	if got := e.String(); got != "P RW - A D PS G NX" {
		t.Errorf("String %q", got)
	}
	if got := PTE(0).String(); got != "- - - - - - - -" {
		t.Errorf("String %q", got)
	}
	checks := []struct {
		name string
		got  bool
		want bool
	}{
		{"Present", e.Present(), true}, {"Writable", e.Writable(), true}, {"User", e.User(), false},
		{"WriteThrough", (e | FlagPWT).WriteThrough(), true}, {"CacheDisable", e.CacheDisable(), false},
		{"Accessed", e.Accessed(), true}, {"Dirty", e.Dirty(), true}, {"Huge", e.Huge(), true},
		{"Global", e.Global(), true}, {"NX", e.NX(), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v", c.name, c.got)
		}
	}
}

func BenchmarkTranslate(b *testing.B) {
	s := newSpace(b, 4<<20)
	s.mapPage(testLin, 0x3000, 1, FlagP|FlagRW|FlagA|FlagD, upperRW|FlagA)
	mode := Mode{WP: true, NXE: true}
	b.Run("4K-read", func(b *testing.B) {
		for b.Loop() {
			if _, f := Translate(s.mem, s.cr3, testLin, Access{}, mode, true); f != nil {
				b.Fatal(f)
			}
		}
	})
	b.Run("4K-write-setAD", func(b *testing.B) {
		for b.Loop() {
			if _, f := Translate(s.mem, s.cr3, testLin, Access{Write: true}, mode, true); f != nil {
				b.Fatal(f)
			}
		}
	})
	s.mapPage(0xffff888000000000, 0, 2, FlagP|FlagRW|FlagA|FlagD, upperRW|FlagA)
	b.Run("2M-read", func(b *testing.B) {
		for b.Loop() {
			if _, f := Translate(s.mem, s.cr3, 0xffff888000001000, Access{}, mode, true); f != nil {
				b.Fatal(f)
			}
		}
	})
}

func TestMapErrors(t *testing.T) {
	s := newSpace(t, 2<<20)
	alloc := func() (uint64, error) { return s.table(), nil }
	s.mapPage(0xffff888000000000, 0, 2, FlagP|FlagRW, upperRW)
	tests := []struct {
		name   string
		linear uint64
		phys   uint64
		level  int
		alloc  func() (uint64, error)
		want   string
	}{
		{"bad level", 0x1000, 0, 4, alloc, "level 4"},
		{"misaligned 2M", 0x200000, 0x1000, 2, alloc, "not aligned"},
		{"leaf in the way", 0xffff888000001000, 0x1000, 1, alloc, "leaf is in the way"},
		{"alloc fails", 0x1000, 0x1000, 1, func() (uint64, error) { return 0, fmt.Errorf("no memory") }, "no memory"},
		{"table outside memory", 0x1000, 0x1000, 1, func() (uint64, error) { return 1 << 32, nil }, "outside memory"},
	}
	for _, tc := range tests {
		err := Map(s.mem, s.cr3, tc.linear, tc.phys, tc.level, FlagP, upperRW, tc.alloc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}
