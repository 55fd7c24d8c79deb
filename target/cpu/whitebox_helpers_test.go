package cpu

import (
	"encoding/binary"
	"testing"

	"vmapstack/target/x86"
)

// A small long-mode machine for white-box tests: 4 MiB of RAM identity
// mapped with 4K pages (PT0/PT1 contiguous at 0x4000, so the PTE of page n
// is at 0x4000+8n), a flat 64-bit GDT, code at 0x100000.
const (
	wbRAM      = 4 << 20
	wbPML4     = 0x1000
	wbPT       = 0x4000
	wbGDT      = 0x6000
	wbCode     = 0x100000
	wbData     = 0x200000
	wbStackTop = 0x80000
)

type nullBus struct{}

func (nullBus) In(port uint16, size int) uint32     { return 0xffffffff }
func (nullBus) Out(port uint16, size int, v uint32) {}

func le64(b []byte, off uint64, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

func newWB(t testing.TB, code []byte) (*CPU, []byte) {
	t.Helper()
	ram := make([]byte, wbRAM)
	le64(ram, wbPML4, 0x2000|7)
	le64(ram, 0x2000, 0x3000|7)
	le64(ram, 0x3000, 0x4000|7)
	le64(ram, 0x3008, 0x5000|7)
	for n := uint64(1); n < 1024; n++ {
		le64(ram, wbPT+8*n, n<<12|7)
	}
	le64(ram, wbGDT+8, 0x00af9b000000ffff)  // 64-bit code
	le64(ram, wbGDT+16, 0x00cf93000000ffff) // data
	copy(ram[wbCode:], code)
	c := New(ram, nullBus{}, nil)
	c.native.hot = 2 // blocks made on a head's second run, as the tests expect
	s := c.State()
	s.GDTR = DTR{Base: wbGDT, Limit: 0x17}
	s.Seg[CS] = Seg{Sel: 8, Limit: 0xffffffff, Attr: 0xa09b}
	for _, r := range []int{DS, ES, SS, FS, GS} {
		s.Seg[r] = Seg{Sel: 0x10, Limit: 0xffffffff, Attr: 0xc093}
	}
	s.CR0 = x86.CR0PE | x86.CR0PG | x86.CR0WP | x86.CR0ET
	s.CR4 = x86.CR4PAE | x86.CR4PGE
	s.CR3 = wbPML4
	s.EFER = x86.EFERLME | x86.EFERLMA | x86.EFERNXE
	s.RIP = wbCode
	s.GPR[RSP] = wbStackTop
	s.RFLAGS = 2
	c.SetState(&s)
	return c, ram
}

// catch runs f and returns the fault it raised, if any.
func catch(f func()) (flt *fault) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if flt, ok = r.(*fault); !ok {
				panic(r)
			}
		}
	}()
	f()
	return nil
}
