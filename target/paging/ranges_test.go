package paging

import (
	"strings"
	"testing"
)

func TestWalk(t *testing.T) {
	type visit struct {
		level int
		addr  uint64
	}
	tests := []struct {
		name      string
		level     int // leaf level mapped
		clearAt   int // 0: none; else clear P at this level
		wantLevel []int
	}{
		{"4K", 1, 0, []int{4, 3, 2, 1}},
		{"2M", 2, 0, []int{4, 3, 2}},
		{"1G", 3, 0, []int{4, 3}},
		{"PML4E not present", 1, 4, []int{4}},
		{"PDE not present", 1, 2, []int{4, 3, 2}},
		{"PTE not present", 1, 1, []int{4, 3, 2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpace(t, 2<<20)
			lin := testLin &^ (1<<levelShift(tc.level) - 1)
			addrs := s.mapPage(lin, 0x4000_0000, tc.level, FlagP|FlagRW, upperRW)
			if tc.clearAt != 0 {
				s.set(addrs[tc.clearAt-1], s.get(addrs[tc.clearAt-1])&^FlagP)
			}
			before := string(s.mem)
			var got []visit
			err := Walk(s.mem, s.cr3, lin, func(level int, entryAddr uint64, e PTE) {
				got = append(got, visit{level, entryAddr})
				if e != s.get(entryAddr) {
					t.Errorf("level %d: entry %#x, memory has %#x", level, e, s.get(entryAddr))
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.wantLevel) {
				t.Fatalf("visited %v, want levels %v", got, tc.wantLevel)
			}
			for i, v := range got {
				if v.level != tc.wantLevel[i] || v.addr != addrs[v.level-1] {
					t.Errorf("visit %d: %+v, want level %d at %#x", i, v, tc.wantLevel[i], addrs[tc.wantLevel[i]-1])
				}
			}
			if string(s.mem) != before {
				t.Errorf("Walk changed memory")
			}
		})
	}
}

func TestWalkOutsideMemory(t *testing.T) {
	s := newSpace(t, 2<<20)
	addrs := s.mapPage(testLin, 0x3000, 1, FlagP, FlagP)
	s.set(addrs[1], PTE(0x8000_0000)|FlagP) // PDE points at a PT past the end
	var levels []int
	err := Walk(s.mem, s.cr3, testLin, func(level int, _ uint64, _ PTE) { levels = append(levels, level) })
	if err == nil || !strings.Contains(err.Error(), "level 1") || !strings.Contains(err.Error(), "0x80000") {
		t.Fatalf("err %v, want one naming level 1 and the address", err)
	}
	if len(levels) != 3 {
		t.Errorf("visited levels %v, want 4 3 2", levels)
	}
}

// collect returns the ranges of s.
func collect(t *testing.T, s *space) []Range {
	t.Helper()
	var rs []Range
	if err := Ranges(s.mem, s.cr3, func(r Range) { rs = append(rs, r) }); err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRanges(t *testing.T) {
	const (
		vmalloc   uint64 = 0xffffc90000000000
		directMap uint64 = 0xffff888000000000
		kernel    uint64 = 0xffffffff80000000
	)
	rwnx := FlagP | FlagRW | FlagNX | FlagG
	tests := []struct {
		name  string
		build func(s *space)
		want  []Range
	}{
		{
			name: "two 16K stacks with guard pages",
			build: func(s *space) {
				// Stack 1 at vmalloc+0x4000..0x8000, guard at +0x3000;
				// stack 2 at +0x9000..0xd000, guard at +0x8000.
				for i := uint64(0); i < 4; i++ {
					s.mapPage(vmalloc+0x4000+i*PageSize, 0x10_0000+i*PageSize, 1, rwnx, upperRW)
					s.mapPage(vmalloc+0x9000+i*PageSize, 0x20_0000+i*PageSize, 1, rwnx, upperRW)
				}
			},
			want: []Range{
				{Start: vmalloc + 0x4000, End: vmalloc + 0x8000, Phys: 0x10_0000, Level: 1, Writable: true, NX: true, Global: true},
				{Start: vmalloc + 0x9000, End: vmalloc + 0xd000, Phys: 0x20_0000, Level: 1, Writable: true, NX: true, Global: true},
			},
		},
		{
			name: "contiguous linear, discontiguous physical",
			build: func(s *space) {
				s.mapPage(vmalloc, 0x5000, 1, rwnx, upperRW)
				s.mapPage(vmalloc+PageSize, 0x7000, 1, rwnx, upperRW)
			},
			want: []Range{
				{Start: vmalloc, End: vmalloc + 0x1000, Phys: 0x5000, Level: 1, Writable: true, NX: true, Global: true},
				{Start: vmalloc + 0x1000, End: vmalloc + 0x2000, Phys: 0x7000, Level: 1, Writable: true, NX: true, Global: true},
			},
		},
		{
			name: "rights change splits, upper-level rights combine",
			build: func(s *space) {
				s.mapPage(kernel, 0x1000_0000, 2, FlagP|FlagRW|FlagUS, FlagP|FlagUS) // RO via PDPTE
				s.mapPage(kernel+PageSize2M, 0x1020_0000, 2, FlagP|FlagRW|FlagUS, FlagP|FlagUS)
				s.mapPage(kernel+2*PageSize2M, 0x1040_0000, 2, FlagP|FlagNX, FlagP)
			},
			want: []Range{
				{Start: kernel, End: kernel + 2*PageSize2M, Phys: 0x1000_0000, Level: 2, User: true},
				{Start: kernel + 2*PageSize2M, End: kernel + 3*PageSize2M, Phys: 0x1040_0000, Level: 2, NX: true},
			},
		},
		{
			name: "levels do not merge",
			build: func(s *space) {
				s.mapPage(directMap, 0, 2, rwnx, upperRW)
				for i := uint64(0); i < 512; i++ {
					s.mapPage(directMap+PageSize2M+i*PageSize, PageSize2M+i*PageSize, 1, rwnx, upperRW)
				}
			},
			want: []Range{
				{Start: directMap, End: directMap + PageSize2M, Phys: 0, Level: 2, Writable: true, NX: true, Global: true},
				{Start: directMap + PageSize2M, End: directMap + 2*PageSize2M, Phys: PageSize2M, Level: 1, Writable: true, NX: true, Global: true},
			},
		},
		{
			name: "canonical hole is not merged across, order is canonical",
			build: func(s *space) {
				s.mapPage(0xffff800000000000, 0x4000_0000, 3, rwnx, upperRW)
				s.mapPage(0x00007fffc0000000, 0, 3, rwnx, upperRW)
			},
			want: []Range{
				{Start: 0x00007fffc0000000, End: 0x0000800000000000, Phys: 0, Level: 3, Writable: true, NX: true, Global: true},
				{Start: 0xffff800000000000, End: 0xffff800040000000, Phys: 0x4000_0000, Level: 3, Writable: true, NX: true, Global: true},
			},
		},
		{
			name: "top of the address space ends at 0",
			build: func(s *space) {
				s.mapPage(0xffffffffffe00000, 0x20_0000, 2, FlagP, upperRW)
			},
			want: []Range{
				{Start: 0xffffffffffe00000, End: 0, Phys: 0x20_0000, Level: 2},
			},
		},
		{
			name:  "empty",
			build: func(*space) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpace(t, 8<<20)
			tc.build(s)
			got := collect(t, s)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d ranges %+v, want %+v", len(got), got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("range %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			// Every range translates as it says.
			for _, r := range got {
				for _, a := range []uint64{r.Start, r.End - 1} {
					tr, f := Translate(s.mem, s.cr3, a, Access{}, Mode{NXE: true}, false)
					if f != nil || tr.Phys != r.Phys+(a-r.Start) {
						t.Errorf("%#x: translate %+v %v, range %+v", a, tr, f, r)
					}
				}
			}
		})
	}
}

// TestRangesDirectMap maps 128 MiB with 4K pages and checks it comes out
// as one range, with a hole where one page is unmapped.
func TestRangesDirectMap(t *testing.T) {
	const base uint64 = 0xffff888000000000
	s := newSpace(t, 4<<20)
	for p := uint64(0); p < 128<<20; p += PageSize {
		s.mapPage(base+p, p, 1, FlagP|FlagRW|FlagNX, upperRW)
	}
	got := collect(t, s)
	want := Range{Start: base, End: base + 128<<20, Level: 1, Writable: true, NX: true}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	addrs := s.mapPage(base+0x10000, 0x10000, 1, 0, upperRW) // unmap one page
	if s.get(addrs[0]).Present() {
		t.Fatal("page still present")
	}
	got = collect(t, s)
	if len(got) != 2 || got[0].End != base+0x10000 || got[1].Start != base+0x11000 || got[1].Phys != 0x11000 {
		t.Fatalf("got %+v", got)
	}
}

func TestRangesOutsideMemory(t *testing.T) {
	s := newSpace(t, 2<<20)
	s.mapPage(0xffff888000000000, 0, 2, FlagP|FlagRW, upperRW)
	addrs := s.mapPage(0xffffc90000000000, 0x1000, 1, FlagP|FlagRW, upperRW)
	s.set(addrs[1], PTE(0x9000_0000)|upperRW) // PT outside memory
	s.mapPage(0xffffffff80000000, 0x20_0000, 2, FlagP, upperRW)
	var got []Range
	err := Ranges(s.mem, s.cr3, func(r Range) { got = append(got, r) })
	if err == nil || !strings.Contains(err.Error(), "0x90000000") {
		t.Errorf("err %v, want one naming the table", err)
	}
	if len(got) != 2 || got[0].Start != 0xffff888000000000 || got[1].Start != 0xffffffff80000000 {
		t.Errorf("got %+v, want the two good mappings", got)
	}
}

func BenchmarkRangesDirectMap4K(b *testing.B) {
	s := newSpace(b, 4<<20)
	for p := uint64(0); p < 128<<20; p += PageSize {
		s.mapPage(0xffff888000000000+p, p, 1, FlagP|FlagRW|FlagNX, upperRW)
	}
	for b.Loop() {
		n := 0
		if err := Ranges(s.mem, s.cr3, func(Range) { n++ }); err != nil || n != 1 {
			b.Fatal(err, n)
		}
	}
}

// TestRangesRecursive points every PML4 entry back at the PML4: the
// listing must stop with an error instead of visiting 2^36 entries.
func TestRangesRecursive(t *testing.T) {
	s := newSpace(t, 2<<20)
	for i := uint64(0); i < 512; i++ {
		s.set(s.cr3+i*8, PTE(s.cr3)|FlagP|FlagRW)
	}
	n := 0
	err := ranges(s.mem, s.cr3, func(Range) { n++ }, 64)
	if err == nil || !strings.Contains(err.Error(), "after 64 tables") {
		t.Fatalf("err %v", err)
	}
	if n == 0 || n > 64*512 {
		t.Errorf("%d ranges before stopping", n)
	}
}
