package cpu_test

import (
	"testing"
)

// TestReadLinearOutsideRAM: with paging off a linear address is physical;
// the guest reads all-ones beyond RAM, but the debugger is told there is
// no memory there (QEMU's stub answers such an m packet with an error, and
// gdb then shows "<unreadable>" rather than a made-up -1).
func TestReadLinearOutsideRAM(t *testing.T) {
	m := newAsm(t, 32, "nop", nil)
	buf := make([]byte, 8)
	if n, err := m.c.ReadLinear(ramSize-4, buf); err == nil || n != 4 {
		t.Errorf("read across the end of RAM: %d bytes, err %v; want 4 bytes and an error", n, err)
	}
	if n, err := m.c.ReadLinear(0xffffffff8012608c, buf); err == nil || n != 0 {
		t.Errorf("read far beyond RAM: %d bytes, err %v; want 0 bytes and an error", n, err)
	}
	if n, err := m.c.ReadLinear(dataAddr, buf); err != nil || n != 8 {
		t.Errorf("read inside RAM: %d bytes, err %v", n, err)
	}
}
