package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"vmapstack/target/x86"
)

// SYSCALL and SYSRET, the fast system call pair of long mode (SDM Vol. 2B
// SYSCALL, SYSRET; AMD APM Vol. 2 6.1.1). The selectors come from
// IA32_STAR, the entry point from IA32_LSTAR, the RFLAGS mask from
// IA32_FMASK; the descriptor caches are loaded with fixed flat values, not
// from the GDT, which is what makes them fast and why the OS must lay its
// GDT out to match.

// Fixed descriptor attributes SYSCALL and SYSRET load (in Seg.Attr's
// layout: type, S, DPL, P in bits 0-7; L, D/B, G in 12-15).
const (
	attrCode64DPL0 = 0xa09b // execute/read accessed, DPL 0, L=1, G=1
	attrData32DPL0 = 0xc093 // read/write accessed, DPL 0, B=1, G=1
	attrCode64DPL3 = 0xa0fb // execute/read accessed, DPL 3, L=1, G=1
	attrCode32DPL3 = 0xc0fb // execute/read accessed, DPL 3, D=1, G=1
	attrData32DPL3 = 0xc0f3 // read/write accessed, DPL 3, B=1, G=1
)

func (c *CPU) execSyscall(in *inst) {
	switch x86asm.Op(in.op) {
	case x86asm.SYSCALL:
		c.syscall()
	case x86asm.SYSRET:
		c.sysret(in.osize == 8)
	}
}

// syscall: in long mode (64-bit or compatibility mode) with EFER.SCE,
// RCX gets the return address, R11 RFLAGS, RFLAGS is masked with
// IA32_FMASK (and RF cleared), CS and SS get STAR[47:32] and +8 at CPL 0,
// and RIP IA32_LSTAR (compatibility mode would use CSTAR). SYSCALL outside
// long mode (AMD's legacy form) is not modelled: #UD, which Linux never
// meets.
func (c *CPU) syscall() {
	if c.efer&x86.EFERSCE == 0 || c.efer&x86.EFERLMA == 0 {
		c.raise(x86.VecUD)
	}
	star := c.msrs[x86.MSRSTAR]
	target := c.msrs[x86.MSRLSTAR]
	if c.mode != 64 {
		target = c.msrs[x86.MSRCSTAR]
	}
	rflags := c.rflags()
	c.gpr[RCX] = c.next
	c.gpr[R11] = rflags
	c.setRflags(rflags &^ c.msrs[x86.MSRSFMASK] &^ x86.FlagRF)
	sel := uint16(star >> 32)
	c.seg[CS] = Seg{Sel: sel &^ 3, Limit: 0xffffffff, Attr: attrCode64DPL0}
	c.seg[SS] = Seg{Sel: sel&^3 + 8, Limit: 0xffffffff, Attr: attrData32DPL0}
	c.updateMode()
	c.next = target
}

// sysret returns to CPL 3: RIP from RCX (ECX for the 32-bit form), RFLAGS
// from R11 (RF and VM cleared, bit 1 set), CS from STAR[63:48] (+16 for
// the 64-bit form) and SS from STAR[63:48]+8, both with RPL 3. #UD without
// EFER.SCE or outside long mode, #GP(0) at CPL > 0 or when returning to a
// non-canonical RIP (Intel raises that #GP at CPL 0, on the kernel stack;
// qemu64 is an AMD model, but Linux never returns to a non-canonical RCX
// through SYSRET, so either choice is invisible to it).
func (c *CPU) sysret(rex64 bool) {
	if c.efer&x86.EFERSCE == 0 || c.efer&x86.EFERLMA == 0 || c.mode != 64 {
		c.raise(x86.VecUD)
	}
	c.privileged()
	target := c.gpr[RCX]
	if rex64 && !canonical(target) {
		c.raiseErr(x86.VecGP, 0)
	}
	star := c.msrs[x86.MSRSTAR]
	sel := uint16(star >> 48)
	if rex64 {
		c.seg[CS] = Seg{Sel: sel + 16 | 3, Limit: 0xffffffff, Attr: attrCode64DPL3}
	} else {
		c.seg[CS] = Seg{Sel: sel | 3, Limit: 0xffffffff, Attr: attrCode32DPL3}
		target = uint64(uint32(target))
	}
	c.seg[SS] = Seg{Sel: sel + 8 | 3, Limit: 0xffffffff, Attr: attrData32DPL3}
	c.setRflags(c.gpr[R11]&^(x86.FlagRF|x86.FlagVM) | 2)
	c.updateMode()
	c.next = target
}
