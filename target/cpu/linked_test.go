package cpu

import (
	"encoding/binary"
	"math/rand"
	"testing"
)

type asmb []byte

func (a asmb) movRAX(v uint64) asmb {
	a = append(a, 0x48, 0xb8)
	return binary.LittleEndian.AppendUint64(a, v)
}
func (a asmb) movRCX(v uint64) asmb {
	a = append(a, 0x48, 0xb9)
	return binary.LittleEndian.AppendUint64(a, v)
}
func (a asmb) movRDX(v uint64) asmb {
	a = append(a, 0x48, 0xba)
	return binary.LittleEndian.AppendUint64(a, v)
}
func (a asmb) movEBX(v uint32) asmb {
	a = append(a, 0xbb)
	return binary.LittleEndian.AppendUint32(a, v)
}
func (a asmb) storeQ(addr, v uint32) asmb {
	a = append(a, 0x48, 0xc7, 0x04, 0x25)
	a = binary.LittleEndian.AppendUint32(a, addr)
	return binary.LittleEndian.AppendUint32(a, v)
}
func (a asmb) invlpg(addr uint32) asmb {
	a = append(a, 0x0f, 0x01, 0x3c, 0x25)
	return binary.LittleEndian.AppendUint32(a, addr)
}

// Tests of the linked dispatch (runLinked) found by review: a link must
// never stand in for a translation.

// A jump whose target was linked (inst.tgt) from one linear alias of a
// code page must not be followed when the same instruction runs from
// another alias: linear 0x100000 is remapped (PTE write + INVLPG) to phys
// 0x101000, so the jump must land in phys 0x101000's code, not in the
// code linked when linear 0x100000 mapped phys 0x100000.
func TestLinkedTargetAlias(t *testing.T) {
	drv := asmb{}.
		movRAX(0x100100).movRCX(0x102100).movRDX(0x100000).
		append1(0xff, 0xe2) // jmp rdx -> 0x100000: jmp rax (links tgt 0x100100)
	c, ram := newWB(t, nil)
	copy(ram[0x102000:], drv)
	// back1 at 0x102100: remap linear 0x100000 -> phys 0x101000, run the
	// same jmp rax from the alias 0x3ff000 with the same RAX.
	back1 := asmb{}.storeQ(wbPT+8*0x100, 0x101007).invlpg(0x100000).
		movRAX(0x100100).movRCX(0x102200).movRDX(0x3ff000).append1(0xff, 0xe2)
	copy(ram[0x102100:], back1)
	ram[0x102200] = 0xf4 // hlt
	// phys 0x100000: jmp rax ; at +0x100: mov ebx,0x11 ; jmp rcx
	copy(ram[0x100000:], []byte{0xff, 0xe0})
	copy(ram[0x100100:], asmb{}.movEBX(0x11).append1(0xff, 0xe1))
	// phys 0x101000 (linear 0x100000 after the remap): +0x100: mov ebx,0x22 ; jmp rcx
	copy(ram[0x101100:], asmb{}.movEBX(0x22).append1(0xff, 0xe1))
	le64(ram, wbPT+8*1023, 0x100000|7) // linear 0x3ff000 aliases phys 0x100000
	c.rip = 0x102000
	ex := c.Run(1000)
	if got := c.gpr[RBX]; got != 0x22 {
		t.Errorf("exit %v: RBX = %#x, want 0x22 (linear 0x100100 now maps phys 0x101100)", ex.Kind, got)
	}
}

func (a asmb) append1(b ...byte) asmb { return append(a, b...) }

// Same, with linear 0x100000 made not-present: the jump must #PF.
func TestLinkedTargetAliasNotPresent(t *testing.T) {
	drv := asmb{}.movRAX(0x100100).movRCX(0x102100).movRDX(0x100000).append1(0xff, 0xe2)
	c, ram := newWB(t, nil)
	copy(ram[0x102000:], drv)
	back1 := asmb{}.storeQ(wbPT+8*0x100, 0).invlpg(0x100000).
		movRAX(0x100100).movRCX(0x102200).movRDX(0x3ff000).append1(0xff, 0xe2)
	copy(ram[0x102100:], back1)
	ram[0x102200] = 0xf4
	copy(ram[0x100000:], []byte{0xff, 0xe0})
	copy(ram[0x100100:], asmb{}.movEBX(0x11).append1(0xff, 0xe1))
	le64(ram, wbPT+8*1023, 0x100000|7)
	c.rip = 0x102000
	ex := c.Run(1000)
	ev := c.Events()
	if len(ev) == 0 || ev[0].Vector != 14 {
		t.Errorf("exit %v rip %#x rbx %#x: events %+v, want #PF at 0x100100", ex.Kind, c.rip, c.gpr[RBX], ev)
	}
}

// Real-mode REP MOVS/STOS near the 64K offset wrap, with segment bases
// and a source override, bulk vs per-iteration (watchpoint far away).
func TestRepBulkRealMode(t *testing.T) {
	r := newRand(7)
	ops := []byte{0xa4, 0xa5, 0xaa, 0xab}
	for i := 0; i < 300; i++ {
		var code []byte
		if r.Intn(2) == 0 {
			code = append(code, 0x66)
		}
		ovr := r.Intn(3)
		if ovr == 1 {
			code = append(code, 0x64) // FS:
		}
		code = append(code, 0xf3, ops[r.Intn(4)], 0xf4)
		edge := func() uint64 {
			if r.Intn(2) == 0 {
				return uint64(r.Intn(64))
			}
			return 0xffff - uint64(r.Intn(64))
		}
		si, di := edge(), edge()
		count := uint64(r.Intn(200))
		df := r.Intn(2) == 1
		bases := [3]uint64{uint64(r.Intn(0x40))<<12 + uint64(r.Intn(16))<<4, 0x50000 + uint64(r.Intn(0x100))<<4, 0x70000 + uint64(r.Intn(0x100))<<4}
		var st [2]State
		var rams [2][]byte
		for pass := 0; pass < 2; pass++ {
			ram := make([]byte, 1<<20)
			f := newRand(int64(i))
			for p := 0x40000; p < 0x90000; p++ {
				ram[p] = byte(f.Intn(256))
			}
			copy(ram[0x1000:], code)
			c := New(ram, nullBus{}, nil)
			s := c.State()
			s.Seg[CS] = Seg{Sel: 0x100, Base: 0x1000, Limit: 0xffff, Attr: 0x9b}
			s.Seg[ES] = Seg{Sel: uint16(bases[1] >> 4), Base: bases[1], Limit: 0xffff, Attr: 0x93}
			s.Seg[DS] = Seg{Sel: uint16(bases[2] >> 4), Base: bases[2], Limit: 0xffff, Attr: 0x93}
			s.Seg[FS] = Seg{Sel: uint16((bases[2] - 0x10000) >> 4), Base: bases[2] - 0x10000, Limit: 0xffff, Attr: 0x93}
			s.RIP = 0
			s.GPR[RSI], s.GPR[RDI], s.GPR[RCX] = si, di, count
			s.GPR[RAX] = 0x11223344
			s.RFLAGS = 2
			if df {
				s.RFLAGS |= 0x400
			}
			c.SetState(&s)
			if pass == 1 {
				c.AddWatchpoint(0xff000, 1, WatchWrite)
			}
			c.Run(c.Instret() + 4)
			st[pass], rams[pass] = c.State(), ram
		}
		if st[0].GPR != st[1].GPR || st[0].RIP != st[1].RIP || string(rams[0]) != string(rams[1]) {
			t.Fatalf("case %d % x si %#x di %#x cx %d df %v: bulk %x per-iteration %x", i, code, si, di, count, df, st[0].GPR[:8], st[1].GPR[:8])
		}
	}
}

func newRand(s int64) *randT { return &randT{rand.New(rand.NewSource(s))} }

type randT struct{ *rand.Rand }

// A fall-through link made across two physical pages: X (phys 0x100000)
// rewrites the PTE of its own page through an alias whose TLB slot evicts
// it (no INVLPG: either translation may be used for the next fetch), so
// the next fetch on the same linear page decodes from phys 0x101000. That
// must not become X's successor link: after the PTE is restored and
// INVLPG'd, X runs from phys 0x100000 again and must be followed by phys
// 0x100003's bytes, not phys 0x101003's.
func TestLinkedSuccessorAcrossPhysicalPages(t *testing.T) {
	c, ram := newWB(t, nil)
	le64(ram, 0x3010, 0x7000|7)                    // PD[2] -> PT at 0x7000 (linear 0x400000-0x5fffff)
	le64(ram, 0x7000+8*0x100, 0x4000|7)            // linear 0x500000 -> phys 0x4000 (the PT page); TLB slot 0x100 = L's
	copy(ram[0x100000:], []byte{0x48, 0x89, 0x3e}) // X: mov [rsi], rdi
	copy(ram[0x100003:], asmb{}.movEBX(0x11).append1(0xff, 0xe1))
	copy(ram[0x101003:], asmb{}.movEBX(0x22).append1(0xff, 0xe1))
	drv := asmb{0x48, 0xbe}                               // mov rsi, imm64
	drv = binary.LittleEndian.AppendUint64(drv, 0x500800) // PTE of L via the alias
	drv = append(drv, 0x48, 0xbf)                         // mov rdi, imm64
	drv = binary.LittleEndian.AppendUint64(drv, 0x101007)
	drv = drv.movRCX(0x102100).movRDX(0x100000).append1(0xff, 0xe2)
	copy(ram[0x102000:], drv)
	back1 := asmb{}.storeQ(wbPT+8*0x100, 0x100007).invlpg(0x100000).append1(0x48, 0xbe)
	back1 = binary.LittleEndian.AppendUint64(back1, 0x3ff800) // harmless store target
	back1 = back1.movRCX(0x102200).movRDX(0x100000).append1(0xff, 0xe2)
	copy(ram[0x102100:], back1)
	ram[0x102200] = 0xf4
	c.rip = 0x102000
	ex := c.Run(1000)
	if got := c.gpr[RBX]; got != 0x11 {
		t.Errorf("exit %v: RBX = %#x, want 0x11 (L maps phys 0x100000 after INVLPG)", ex.Kind, got)
	}
}
