package cpu

import (
	"encoding/binary"
	"math/big"
	"testing"
	"time"

	"vmapstack/target/x86"
)

func TestDecodeCacheInvalidatedByGuestWrite(t *testing.T) {
	// mov $1,%eax; hlt
	c, _ := newWB(t, []byte{0xb8, 0x01, 0, 0, 0, 0xf4})
	if ex := c.Run(100); ex.Kind != ExitHalt || c.Reg(RAX) != 1 {
		t.Fatalf("first run: exit %v rax %#x", ex.Kind, c.Reg(RAX))
	}
	pn := uint64(wbCode >> 12)
	if c.code[pn] == nil {
		t.Fatal("code page not marked as holding decoded code")
	}
	// A data write elsewhere in the page does not drop the decoded code.
	c.write(wbCode+0x800, 8, 0x1234)
	if c.code[pn] == nil {
		t.Fatal("write outside decoded bytes dropped the page")
	}
	// A guest write over the immediate does.
	c.write(wbCode+1, 1, 2)
	if c.code[pn] != nil {
		t.Fatal("write over decoded code kept the page")
	}
	c.halted = false
	c.SetRIP(wbCode)
	if ex := c.Run(200); ex.Kind != ExitHalt || c.Reg(RAX) != 2 {
		t.Fatalf("after rewrite: exit %v rax %#x, want rax 2", ex.Kind, c.Reg(RAX))
	}
}

func TestDecodeCacheInvalidatedByDebuggerWrite(t *testing.T) {
	c, _ := newWB(t, []byte{0xb8, 0x01, 0, 0, 0, 0xf4})
	c.Run(100)
	if _, err := c.WriteLinear(wbCode+1, []byte{7}); err != nil {
		t.Fatal(err)
	}
	if c.code[wbCode>>12] != nil {
		t.Fatal("WriteLinear kept decoded code")
	}
	c.halted = false
	c.SetRIP(wbCode)
	if c.Run(200); c.Reg(RAX) != 7 {
		t.Fatalf("rax %#x, want 7", c.Reg(RAX))
	}
}

func TestDecodeCacheKeyedByMode(t *testing.T) {
	// 48 ff c0 is "inc rax" in 64-bit mode but "dec eax; inc eax" in
	// 32-bit mode: the same physical bytes must be decoded per mode.
	c, _ := newWB(t, []byte{0x48, 0xff, 0xc0, 0xf4})
	c.Run(10)
	if c.Reg(RAX) != 1 {
		t.Fatalf("64-bit: rax %#x", c.Reg(RAX))
	}
	in := c.fetchAt(t, wbCode)
	if in.mode != 64 || in.len != 3 {
		t.Fatalf("cached entry mode %d len %d", in.mode, in.len)
	}
}

func (c *CPU) fetchAt(t *testing.T, rip uint64) *inst {
	t.Helper()
	old := c.rip
	c.rip = rip
	defer func() { c.rip = old }()
	return c.fetch()
}

// refFlags computes the arithmetic flags of op on size-byte operands with
// exact big-integer arithmetic, independently of the lazy evaluator: CF is
// "the unsigned result does not fit", OF "the signed result does not fit".
func refFlags(op uint8, size uint8, a, b uint64, cin bool) (res uint64, f uint64) {
	w := 8 * uint(size)
	m := sizeMask(size)
	a, b = a&m, b&m
	ci := int64(0)
	if cin && (op == lzAdc || op == lzSbb) {
		ci = 1
	}
	if op == lzNeg {
		a, b = 0, a
	}
	ua, ub := new(big.Int).SetUint64(a), new(big.Int).SetUint64(b)
	sa, sb := big.NewInt(int64(signExtend(a, size))), big.NewInt(int64(signExtend(b, size)))
	bc := big.NewInt(ci)
	var u, s *big.Int
	var af bool
	switch op {
	case lzAdd, lzAdc:
		u = new(big.Int).Add(ua, ub)
		u.Add(u, bc)
		s = new(big.Int).Add(sa, sb)
		s.Add(s, bc)
		af = (a&0xf)+(b&0xf)+uint64(ci) > 0xf
	default:
		u = new(big.Int).Sub(ua, ub)
		u.Sub(u, bc)
		s = new(big.Int).Sub(sa, sb)
		s.Sub(s, bc)
		af = a&0xf < b&0xf+uint64(ci)
	}
	umax := new(big.Int).Lsh(big.NewInt(1), w)
	smax := new(big.Int).Lsh(big.NewInt(1), w-1)
	smin := new(big.Int).Neg(smax)
	if u.Sign() < 0 || u.Cmp(umax) >= 0 {
		f |= x86.FlagCF
	}
	if s.Cmp(smin) < 0 || s.Cmp(smax) >= 0 {
		f |= x86.FlagOF
	}
	if af {
		f |= x86.FlagAF
	}
	res = new(big.Int).And(u, new(big.Int).SetUint64(m)).Uint64()
	if u.Sign() < 0 {
		res = new(big.Int).Add(u, umax).Uint64() & m
	}
	return res, f | szp(res, size)
}

func TestLazyFlagsMaterialise(t *testing.T) {
	vals := []uint64{0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x123456789abcdef0, 0xf}
	ops := []struct {
		name string
		op   uint8
	}{{"add", lzAdd}, {"adc", lzAdc}, {"sub", lzSub}, {"sbb", lzSbb}, {"neg", lzNeg}}
	c := New(make([]byte, 4096), nil, nil)
	n := 0
	for _, o := range ops {
		for _, size := range []uint8{1, 2, 4, 8} {
			m := sizeMask(size)
			for _, a := range vals {
				for _, b := range vals {
					for _, cin := range []bool{false, true} {
						res, want := refFlags(o.op, size, a, b, cin)
						a, b := a&m, b&m
						if o.op == lzNeg {
							c.setLazy(lzNeg, size, res, a, 0)
						} else {
							c.setLazy(o.op, size, res, a, b)
						}
						c.lz.cin = cin && (o.op == lzAdc || o.op == lzSbb)
						if o.op != lzAdc && o.op != lzSbb && cin {
							continue
						}
						got := c.rflags() & arithFlags
						if got != want {
							t.Fatalf("%s size %d a %#x b %#x cin %v: flags %#x, want %#x", o.name, size, a, b, cin, got, want)
						}
						// every condition code agrees with the materialised flags
						for cc := uint8(0); cc < 16; cc++ {
							lazy := c.cond(cc)
							saved := c.lz
							c.materialize()
							eager := c.cond(cc)
							c.lz = saved
							if lazy != eager {
								t.Fatalf("%s size %d a %#x b %#x: cond %d lazy %v eager %v", o.name, size, a, b, cc, lazy, eager)
							}
						}
						n++
					}
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d cases checked", n)
	}
}

func TestIncDecKeepCarry(t *testing.T) {
	c := New(make([]byte, 4096), nil, nil)
	for _, cf := range []bool{false, true} {
		c.setFlagsEager(x86.FlagCF, b2f(cf, x86.FlagCF))
		// inc of 0x7f (8-bit) overflows, sets AF, keeps CF
		c.lz = lazy{op: lzInc, size: 1, res: 0x80, a: 0x7f, b: 1, cin: cf}
		f := c.rflags()
		if (f&x86.FlagCF != 0) != cf || f&x86.FlagOF == 0 || f&x86.FlagAF == 0 || f&x86.FlagSF == 0 {
			t.Fatalf("inc cf=%v: flags %#x", cf, f)
		}
		c.lz = lazy{op: lzDec, size: 4, res: 0x7fffffff, a: 0x80000000, b: 1, cin: cf}
		f = c.rflags()
		if (f&x86.FlagCF != 0) != cf || f&x86.FlagOF == 0 || f&x86.FlagSF != 0 {
			t.Fatalf("dec cf=%v: flags %#x", cf, f)
		}
	}
}

func pte(ram []byte, page uint64) uint64 {
	off := wbPT + 8*page
	return uint64(ram[off]) | uint64(ram[off+1])<<8 | uint64(ram[off+2])<<16 | uint64(ram[off+3])<<24 |
		uint64(ram[off+4])<<32 | uint64(ram[off+5])<<40 | uint64(ram[off+6])<<48 | uint64(ram[off+7])<<56
}

func TestTLBNotPresentNotCached(t *testing.T) {
	c, ram := newWB(t, nil)
	page := uint64(0x300)
	le64(ram, wbPT+8*page, 0) // not present
	f := catch(func() { c.read(page<<12, 8) })
	if f == nil || f.vector != x86.VecPF || c.cr2 != page<<12 {
		t.Fatalf("fault %+v cr2 %#x, want #PF at %#x", f, c.cr2, page<<12)
	}
	// Map it without any flush: the failed walk must not have been cached
	// (SDM 4.10.2.3), so the access now succeeds.
	le64(ram, wbPT+8*page, 0x250000|7)
	ram[0x250000] = 0x5a
	var v uint64
	if f := catch(func() { v = c.read(page<<12, 1) }); f != nil {
		t.Fatalf("access after mapping faulted: %+v", f)
	}
	if v != 0x5a {
		t.Fatalf("read %#x, want 0x5a", v)
	}
}

func TestTLBInvlpgAndCR3Flush(t *testing.T) {
	c, ram := newWB(t, nil)
	ram[0x250000], ram[0x260000], ram[0x270000] = 1, 2, 3
	const local, global = uint64(0x310), uint64(0x311)
	le64(ram, wbPT+8*local, 0x250000|7)
	le64(ram, wbPT+8*global, 0x250000|7|1<<8) // G
	for _, p := range []uint64{local, global} {
		if v := c.read(p<<12, 1); v != 1 {
			t.Fatalf("page %#x read %d", p, v)
		}
	}
	// Remap both; the TLB still holds the old translations.
	le64(ram, wbPT+8*local, 0x260000|7)
	le64(ram, wbPT+8*global, 0x260000|7|1<<8)
	if v := c.read(local<<12, 1); v != 1 {
		t.Fatalf("stale TLB expected before a flush, read %d", v)
	}
	// A CR3 write flushes the non-global page only (CR4.PGE=1).
	c.movToCR(3, c.cr3)
	if v := c.read(local<<12, 1); v != 2 {
		t.Fatalf("non-global page after CR3 write: read %d, want 2", v)
	}
	if v := c.read(global<<12, 1); v != 1 {
		t.Fatalf("global page after CR3 write: read %d, want the cached 1", v)
	}
	// INVLPG flushes the global page too.
	c.invlpg(global << 12)
	if v := c.read(global<<12, 1); v != 2 {
		t.Fatalf("global page after INVLPG: read %d, want 2", v)
	}
	// A CR4.PGE toggle flushes everything.
	le64(ram, wbPT+8*global, 0x270000|7|1<<8)
	c.movToCR(4, c.cr4&^x86.CR4PGE)
	if v := c.read(global<<12, 1); v != 3 {
		t.Fatalf("global page after CR4.PGE change: read %d, want 3", v)
	}
}

func TestTLBWriteSetsDirtyAfterRead(t *testing.T) {
	c, ram := newWB(t, nil)
	page := uint64(0x320)
	le64(ram, wbPT+8*page, 0x250000|7) // A=0 D=0
	c.read(page<<12, 8)
	if e := pte(ram, page); e&(1<<5) == 0 || e&(1<<6) != 0 {
		t.Fatalf("after read pte %#x: want A set, D clear", e)
	}
	c.write(page<<12, 8, 1)
	if e := pte(ram, page); e&(1<<6) == 0 {
		t.Fatalf("after write through a cached clean entry pte %#x: D not set", e)
	}
}

func TestTLBPermissionsRechecked(t *testing.T) {
	c, ram := newWB(t, nil)
	page := uint64(0x330)
	le64(ram, wbPT+8*page, 0x250000|5|1<<63) // P US NX, read-only
	c.read(page<<12, 1)
	f := catch(func() { c.write(page<<12, 1, 0) })
	if f == nil || f.vector != x86.VecPF || f.code&3 != 3 {
		t.Fatalf("write to read-only page: %+v, want #PF P|W", f)
	}
	f = catch(func() { c.xlate(page<<12, accFetch) })
	if f == nil || f.vector != x86.VecPF || f.code&0x10 == 0 {
		t.Fatalf("fetch from NX page: %+v, want #PF with I/D", f)
	}
}

func TestNonCanonicalIsGP(t *testing.T) {
	c, _ := newWB(t, nil)
	f := catch(func() { c.read(0x0000800000000000, 8) })
	if f == nil || f.vector != x86.VecGP {
		t.Fatalf("non-canonical read: %+v, want #GP", f)
	}
}

func TestPageCrossingInstructionNotCachedAndFaults(t *testing.T) {
	// mov $0x11223344,%eax placed across a page boundary whose second page
	// is not present: #PF with CR2 at the second page.
	c, ram := newWB(t, nil)
	start := uint64(wbCode + 0x1000 - 2)
	copy(ram[start:], []byte{0xb8, 0x44})
	le64(ram, wbPT+8*((wbCode>>12)+1), 0)
	c.SetRIP(start)
	f := catch(func() { c.fetch() })
	if f == nil || f.vector != x86.VecPF || c.cr2 != wbCode+0x1000 || f.code&0x10 == 0 {
		t.Fatalf("fault %+v cr2 %#x, want #PF(I) at %#x", f, c.cr2, wbCode+0x1000)
	}
}

func TestSplitWriteFaultsBeforeStoring(t *testing.T) {
	c, ram := newWB(t, nil)
	lo, hi := uint64(0x340), uint64(0x341)
	le64(ram, wbPT+8*lo, 0x250000|7)
	le64(ram, wbPT+8*hi, 0) // not present
	addr := lo<<12 + 0xffc
	f := catch(func() { c.write(addr, 8, 0x1122334455667788) })
	if f == nil || f.vector != x86.VecPF || c.cr2 != hi<<12 || f.code&2 == 0 {
		t.Fatalf("fault %+v cr2 %#x, want #PF(W) at %#x", f, c.cr2, hi<<12)
	}
	for i := 0; i < 4; i++ {
		if ram[0x250ffc+i] != 0 {
			t.Fatalf("first page written before the fault: % x", ram[0x250ffc:0x251000])
		}
	}
	// Mapped: the value is split over two physical pages.
	le64(ram, wbPT+8*hi, 0x270000|7)
	c.write(addr, 8, 0x1122334455667788)
	if got := c.read(addr, 8); got != 0x1122334455667788 {
		t.Fatalf("read back %#x", got)
	}
	if ram[0x250fff] != 0x55 || ram[0x270000] != 0x44 {
		t.Fatalf("bytes at the boundary %#x %#x, want 0x55 0x44", ram[0x250fff], ram[0x270000])
	}
}

func TestBeyondRAMReadsOnesWritesIgnored(t *testing.T) {
	c, ram := newWB(t, nil)
	page := uint64(0x350)
	le64(ram, wbPT+8*page, (wbRAM+0x10000)|7) // a physical page past the end of RAM
	if v := c.read(page<<12, 4); v != 0xffffffff {
		t.Fatalf("read %#x, want all ones", v)
	}
	if f := catch(func() { c.write(page<<12, 4, 0) }); f != nil {
		t.Fatalf("write faulted: %+v", f)
	}
}

func TestHintNOPsAndLockRules(t *testing.T) {
	cases := []struct {
		name string
		code []byte
		ud   bool
	}{
		{"endbr64", []byte{0xf3, 0x0f, 0x1e, 0xfa}, false},
		{"hint-nop-0f19-modrm-disp", []byte{0x0f, 0x19, 0x44, 0x00, 0x00}, false},
		{"lock-add-mem", []byte{0xf0, 0x48, 0x01, 0x07}, false},
		{"lock-mov-mem", []byte{0xf0, 0x48, 0x89, 0x07}, true},
		{"lock-add-reg", []byte{0xf0, 0x48, 0x01, 0xc0}, true},
		{"lock-nop", []byte{0xf0, 0x90}, true},
		{"ud2", []byte{0x0f, 0x0b}, true},
		{"into-64", []byte{0xce}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ram := newWB(t, append(append([]byte{}, tc.code...), 0xf4))
			withIDT(c, ram)
			var logged []string
			c.Log = func(s string) { logged = append(logged, s) }
			c.SetReg(RDI, wbData)
			c.Run(10)
			ev := c.Events()
			if tc.ud {
				if len(ev) != 1 || ev[0].Vector != x86.VecUD || ev[0].RIP != wbCode {
					t.Fatalf("events %+v, want #UD at %#x", ev, wbCode)
				}
				return
			}
			if len(ev) != 0 || c.RIP() != wbCode+uint64(len(tc.code))+1 {
				t.Fatalf("events %+v rip %#x: want no fault and a halt after the instruction", ev, c.RIP())
			}
		})
	}
}

func TestUnimplementedInstructionLogged(t *testing.T) {
	// xgetbv is decoded by x86asm but qemu64 has no XSAVE: #UD, logged.
	c, ram := newWB(t, []byte{0x0f, 0x01, 0xd0})
	withIDT(c, ram)
	var logged []string
	c.Log = func(s string) { logged = append(logged, s) }
	c.Run(10)
	want := "cpu: xgetbv at 0x100000 (0f 01 d0) is not in the qemu64 model: #UD"
	if len(logged) != 1 || logged[0] != want {
		t.Fatalf("log %q, want [%q]", logged, want)
	}
	if ev := c.Events(); len(ev) != 1 || ev[0].Vector != x86.VecUD {
		t.Fatalf("events %+v, want one #UD", ev)
	}
}

// TestUnimplementedModelInstructionStops: an instruction qemu64 has but
// the emulator does not implement stops the machine with a line naming
// the address, the bytes and the mnemonic; the guest sees no #UD.
func TestUnimplementedModelInstructionStops(t *testing.T) {
	// SYSENTER in 32-bit protected mode (outside long mode it exists on
	// qemu64, which announces SEP; we do not implement it).
	c, ram := newWB(t, []byte{0x0f, 0x34})
	withIDT(c, ram)
	le64(ram, wbGDT+24, 0x00cf9b000000ffff) // 0x18: 32-bit code
	s := c.State()
	s.GDTR.Limit = 0x3f
	s.CR0 &^= x86.CR0PG
	s.EFER = 0
	s.Seg[CS] = Seg{Sel: 0x18, Limit: 0xffffffff, Attr: 0xc09b}
	c.SetState(&s)
	ex := c.Run(10)
	if ex.Kind != ExitInternal || ex.Err == nil || ex.Err.Error() != "cpu: at rip 0x100000: unimplemented instruction 0f 34 (sysenter)" {
		t.Fatalf("exit %+v", ex)
	}
	if ev := c.Events(); len(ev) != 0 {
		t.Fatalf("events %+v, want none", ev)
	}
}

// Running off the top of the lower canonical half: the fetch at
// 0x800000000000 is #GP(0) whatever segment the last memory operand used
// (runLinked leaves c.curSeg at the last memory form's: a stack access
// before the fetch made it #SS).
func TestNonCanonicalFetchIsGP(t *testing.T) {
	for _, prev := range [][]byte{
		{0x48, 0x8b, 0x04, 0x24, 0x90, 0x90, 0x90, 0x90}, // mov (%rsp),%rax ; nop x4
		{0x48, 0x8b, 0x04, 0x24, 0x48, 0x89, 0xc3, 0x90}, // mov (%rsp),%rax ; mov %rax,%rbx ; nop
		{0x90, 0x90, 0x90, 0x90, 0x48, 0x8b, 0x04, 0x24}, // nop x4 ; mov (%rsp),%rax
	} {
		for _, step := range []bool{false, true} {
			c, ram := newWB(t, nil)
			withIDT(c, ram)
			// Linear 0x7ffffffff000 maps phys 0x300000.
			le64(ram, wbPML4+8*255, 0xa000|7)
			le64(ram, 0xa000+8*511, 0xb000|7)
			le64(ram, 0xb000+8*511, 0xc000|7)
			le64(ram, 0xc000+8*511, 0x300000|7)
			copy(ram[0x300ff8:], prev)
			c.rip = 0x7ffffffffff8
			if step {
				for i := 0; i < 8 && len(c.Events()) == 0; i++ {
					c.Step()
				}
			} else {
				c.Run(100)
			}
			ev := c.Events()
			if len(ev) == 0 || ev[0].Vector != x86.VecGP || ev[0].RIP != 0x800000000000 {
				t.Errorf("% x (step %v): events %+v, want #GP at 0x800000000000 first", prev, step, ev)
			}
		}
	}
}

func TestNonCanonicalStackReferenceIsSS(t *testing.T) {
	cases := []struct {
		name string
		code []byte
		rsp  uint64
		rbp  uint64
		want uint8
	}{
		{"push", []byte{0x50}, 0x0000800000000008, 0, x86.VecSS},
		{"pop", []byte{0x58}, 0x0000800000000000, 0, x86.VecSS},
		{"mov-rbp-based", []byte{0x48, 0x8b, 0x45, 0x00}, wbStackTop, 0x0000800000000000, x86.VecSS},
		{"mov-rax-based", []byte{0x48, 0x8b, 0x00}, wbStackTop, 0, x86.VecGP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ram := newWB(t, tc.code)
			withIDT(c, ram)
			c.SetReg(RAX, 0x0000800000000000)
			c.SetReg(RBP, tc.rbp)
			c.SetReg(RSP, tc.rsp)
			c.Step()
			ev := c.Events()
			if len(ev) == 0 || ev[0].Vector != tc.want {
				t.Fatalf("events %+v, want vector %d first", ev, tc.want)
			}
		})
		// The same in runLinked, after a DS access: its specialised
		// forms set the segment only when they have a memory operand.
		t.Run(tc.name+"-linked", func(t *testing.T) {
			c, ram := newWB(t, append([]byte{0x48, 0x8b, 0x0f}, tc.code...)) // mov (%rdi),%rcx first
			withIDT(c, ram)
			c.SetReg(RDI, wbData)
			c.SetReg(RAX, 0x0000800000000000)
			c.SetReg(RBP, tc.rbp)
			c.SetReg(RSP, tc.rsp)
			c.Run(2)
			ev := c.Events()
			if len(ev) == 0 || ev[0].Vector != tc.want {
				t.Fatalf("events %+v, want vector %d first", ev, tc.want)
			}
		})
	}
}

func TestBreakpointsInFastLoop(t *testing.T) {
	// 1: inc %rax; nop; jmp 1b  — a breakpoint on the nop fires once per
	// iteration; one at an address sharing its low 16 bits does not.
	c, _ := newWB(t, []byte{0x48, 0xff, 0xc0, 0x90, 0xeb, 0xfa})
	c.SetBreakpoint(wbCode+3, true)
	c.SetBreakpoint(wbCode+3+0x10000, true) // same filter bit, never reached
	for i := uint64(1); i <= 3; i++ {
		ex := c.Run(1000)
		if ex.Kind != ExitBreakpoint || ex.Addr != wbCode+3 || c.RIP() != wbCode+3 {
			t.Fatalf("stop %d: exit %+v rip %#x", i, ex, c.RIP())
		}
		if c.Reg(RAX) != i || c.Instret() != 3*i-2 {
			t.Fatalf("stop %d: rax %d instret %d, want %d and %d", i, c.Reg(RAX), c.Instret(), i, 3*i-2)
		}
	}
	c.SetBreakpoint(wbCode+3, false)
	if ex := c.Run(100); ex.Kind != ExitLimit {
		t.Fatalf("after removing the breakpoint: exit %+v", ex)
	}
}

// TestMoffs64 runs MOV RAX, FS:moffs64 and MOV FS:moffs64, RAX (48 A1/A3)
// with offsets inside and beyond the 32 bits a decoded displacement
// holds (the latter kept whole: absReg), FS's base bringing each back to
// wbData.
func TestMoffs64(t *testing.T) {
	for _, off := range []uint64{0x8000000000000008, 0xffffffff80001000, 0x7ffffff0, 0x123456789a, 0xfffffffffff00000} {
		code := []byte{0x64, 0x48, 0xa1}
		code = binary.LittleEndian.AppendUint64(code, off)
		code = append(code, 0x64, 0x48, 0xa3)
		code = binary.LittleEndian.AppendUint64(code, off+8)
		code = append(code, 0xf4)
		c, ram := newWB(t, code)
		s := c.State()
		s.Seg[FS].Base = wbData - off
		c.SetState(&s)
		le64(ram, wbData, 0x1122334455667788)
		if ex := c.Run(10); ex.Kind != ExitHalt {
			t.Fatalf("off %#x: %v", off, ex)
		}
		if got := c.Reg(RAX); got != 0x1122334455667788 {
			t.Errorf("off %#x: RAX %#x", off, got)
		}
		if got := binary.LittleEndian.Uint64(ram[wbData+8:]); got != 0x1122334455667788 {
			t.Errorf("off %#x: stored %#x", off, got)
		}
	}
}

// TestStopInRegisterCode runs straight-line register code with no end:
// every page of the lower half maps one page of NOPs, so no branch and
// no memory access ever comes. A RequestStop made while Run is in it must
// still end Run (the register forms skip the stop check; the fetch at
// each page boundary makes it).
func TestStopInRegisterCode(t *testing.T) {
	c, ram := newWB(t, nil)
	const nops, pt, pd, pdpt = 0x300000, 0x7000, 0x8000, 0x9000
	for i := 0; i < pageSize; i++ {
		ram[nops+i] = 0x90
	}
	for i := uint64(0); i < 512; i++ {
		le64(ram, pt+8*i, nops|5)
		le64(ram, pd+8*i, pt|7)
		le64(ram, pdpt+8*i, pd|7)
		if i < 256 {
			le64(ram, wbPML4+8*i, pdpt|7)
		}
	}
	s := c.State()
	s.RIP = 0
	c.SetState(&s)
	// A stop that lands before Run has started ends it at once; try
	// again until one lands inside the NOPs.
	for {
		start := c.Instret()
		runUntilStopped(t, c)
		if c.Instret()-start > 2*pageSize {
			return
		}
	}
}

// runUntilStopped runs c without a limit in a goroutine and calls
// RequestStop until Run returns, which must be for the stop request.
func runUntilStopped(t *testing.T, c *CPU) {
	t.Helper()
	giveUp := time.Now().Add(time.Minute) // a safety net: without the check, Run never returns
	done := make(chan Exit)
	go func() { done <- c.Run(^uint64(0)) }()
	time.Sleep(5 * time.Millisecond)
	var ex Exit
wait:
	for {
		c.RequestStop()
		select {
		case ex = <-done:
			break wait
		case <-time.After(time.Millisecond):
			if time.Now().After(giveUp) {
				t.Fatalf("Run did not return a minute after RequestStop")
			}
		}
	}
	if ex.Kind != ExitStopRequest {
		t.Fatalf("exit %v at %#x, want a stop request", ex.Kind, c.RIP())
	}
}
