package monitor

import "testing"

// TestMemoryRegionAt checks lldb's qMemoryRegionInfo answers on the unit
// machine's address space: runs merged by rights, the gaps between them
// (a guard page, the hole below the first mapping, the non-canonical
// hole, the space above the last mapping), and paging off.
func TestMemoryRegionAt(t *testing.T) {
	m, _ := unitMachine(t)
	mon := New(m, noSymbols(t))
	for _, c := range []struct {
		addr uint64
		want string
	}{
		{0x0, "start:0;size:40000000;"},                                               // below the 1G user page
		{0x40000123, "start:40000000;size:40000000;permissions:rx;"},                  // 1G, read-only, no XD
		{0x80000000, "start:80000000;size:7fff80000000;"},                             // up to the top of the low half
		{0x0000900000000000, "start:800000000000;size:ffff000000000000;"},             // non-canonical
		{0xffff800000000000, "start:ffff800000000000;size:88000000000;"},              // up to the direct map
		{unitDirect + 0x3fffff, "start:ffff888000000000;size:400000;permissions:rw;"}, // 2M pages, NX
		{unitStack1 - 8, "start:ffff888000400000;size:407fffc04000;"},                 // from the direct map up to the stack, guard page included
		{unitStack1 + 0x3ff8, "start:ffffc90000004000;size:4000;permissions:rw;"},
		{unitStack1 + 0x4000, "start:ffffc90000008000;size:4000;"}, // between the two stacks
		{unitText + 0x1000, "start:ffffffff80100000;size:2000;permissions:rx;"},
		{unitText + 0x2000, "start:ffffffff80102000;size:7fefe000;"}, // to 2^64
	} {
		r, err := mon.MemoryRegionAt(c.addr)
		if err != nil {
			t.Errorf("%#x: %v", c.addr, err)
		}
		if got := r.Reply(); got != c.want {
			t.Errorf("%#x: %s, want %s", c.addr, got, c.want)
		}
	}

	tiny, err := newTiny()
	if err != nil {
		t.Fatal(err)
	}
	off := New(tiny, noSymbols(t))
	for addr, want := range map[uint64]string{
		0x1000:   "start:0;size:400000;permissions:rwx;",
		0x400000: "start:400000;size:ffffffffffc00000;",
	} {
		r, _ := off.MemoryRegionAt(addr)
		if got := r.Reply(); got != want {
			t.Errorf("paging off, %#x: %s, want %s", addr, got, want)
		}
	}
}
